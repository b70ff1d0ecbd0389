"""A bad setting stops the command at start: exit 2, one line naming the variable and the expected form."""

from __future__ import annotations

import pytest

from tests.faults.runs import cli, pipeline_env

BAD = [
    ("STYRINGSDATA_HTTP_TIMEOUT", "-1", "expected a number of seconds greater than 0"),
    ("STYRINGSDATA_HTTP_TIMEOUT", "abc", "expected a number of seconds greater than 0"),
    ("STYRINGSDATA_HTTP_TIMEOUT", "nan", "expected a number of seconds greater than 0"),
    ("STYRINGSDATA_REGISTRY_MAX_BYTES", "20MB", "expected a whole number of bytes greater than 0"),
    ("STYRINGSDATA_REGISTRY_MAX_BYTES", "-5", "expected a whole number of bytes greater than 0"),
    ("STYRINGSDATA_SSB_REQUESTS_PER_MINUTE", "0", "expected a whole number >= 1"),
    ("STYRINGSDATA_SMTP_TIMEOUT", "soon", "expected a number of seconds greater than 0"),
    ("STYRINGSDATA_SMTP_PORT", "70000", "expected a port number from 1 to 65535"),
    ("STYRINGSDATA_RUN_LOCK_WAIT", "-3", "expected a number of seconds, 0 or more"),
    ("STYRINGSDATA_REBUILD", "yes", "expected on or off"),
    ("STYRINGSDATA_SOURCE_MODE", "offline", "expected replay, live or record"),
]


@pytest.mark.parametrize("variable, value, expected", BAD, ids=[f"{v}={x}" for v, x, _ in BAD])
def test_a_bad_setting_is_named_with_its_expected_form(tmp_path, variable, value, expected):
    env = pipeline_env(tmp_path / "data", **{variable: value})
    if variable.startswith("STYRINGSDATA_SMTP_"):
        env.update(STYRINGSDATA_SMTP_HOST="127.0.0.1", STYRINGSDATA_MAIL_TO="a@example.org")

    result = cli(env, "report", timeout=120)

    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line == f"styringsdata: {variable}={value!r}: {expected}" or \
        line.startswith(f"styringsdata: {variable}={value!r}: {expected}"), line
    assert not (tmp_path / "data").exists()


def test_a_run_with_a_bad_setting_does_not_start(tmp_path):
    result = cli(pipeline_env(tmp_path / "data", STYRINGSDATA_HTTP_TIMEOUT="-1"), "run", timeout=900)

    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        "styringsdata: STYRINGSDATA_HTTP_TIMEOUT='-1': expected a number of seconds greater than 0 (e.g. 60)"]
    assert not (tmp_path / "data").exists()
