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


def test_a_bad_duration_stops_the_command_with_one_line_not_a_traceback(tmp_path):
    # Issue 22 item 6: both gave a Python traceback (a second `_seconds` in settings.py raised a bare ValueError).
    for variable, value in (("STYRINGSDATA_REGISTRY_SETTLE_SECONDS", "-5"), ("STYRINGSDATA_POSTGRES_SWAP_WAIT", "inf")):
        result = cli(pipeline_env(tmp_path / "data", **{variable: value}), "report", timeout=120)

        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"styringsdata: {variable}={value!r}: expected a number of seconds"), line


# Every variable a user can set, by what its value may be. A setting added to Settings and not here fails
# test_every_setting_refuses_a_value_of_the_wrong_form: decide which it is.
FREE_TEXT = {  # any text is a value (a host name, a login, a password, a sender)
    "STYRINGSDATA_SMTP_HOST", "STYRINGSDATA_SMTP_USER", "STYRINGSDATA_SMTP_PASSWORD", "STYRINGSDATA_MAIL_FROM",
}
EMPTY_MEANS_UNSET = {  # documented with the default "(unset)" or a derived default
    *FREE_TEXT, "STYRINGSDATA_MAIL_TO_DATA_TEAM", "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN", "STYRINGSDATA_MAIL_TO",
    "STYRINGSDATA_SMTP_CA_FILE", "STYRINGSDATA_POSTGRES_URL", "STYRINGSDATA_SMTP_PORT",
    # <data>/…
    "STYRINGSDATA_WORK_DB", "STYRINGSDATA_WAREHOUSE", "STYRINGSDATA_REGISTRY_INBOX", "STYRINGSDATA_UDIR_INBOX",
    "STYRINGSDATA_QUARANTINE",
    "STYRINGSDATA_SSB_TABLES",  # the bundled configuration
}
ALL_VARIABLES = {
    "STYRINGSDATA_DATA_DIR", "STYRINGSDATA_SOURCE_MODE", "STYRINGSDATA_SNAPSHOT_DIR", "STYRINGSDATA_WORK_DB",
    "STYRINGSDATA_WAREHOUSE", "STYRINGSDATA_HOME_MUNICIPALITY", "STYRINGSDATA_SSB_TABLES",
    "STYRINGSDATA_SSB_REQUESTS_PER_MINUTE",
    "STYRINGSDATA_HTTP_TIMEOUT", "STYRINGSDATA_REGISTRY_INBOX", "STYRINGSDATA_UDIR_INBOX", "STYRINGSDATA_QUARANTINE",
    "STYRINGSDATA_REGISTRY_SEED", "STYRINGSDATA_REGISTRY_MAX_BYTES", "STYRINGSDATA_REGISTRY_SETTLE_SECONDS",
    "STYRINGSDATA_AUTOMATION", "STYRINGSDATA_RUN_LOCK_WAIT", "DAGSTER_HOME", "STYRINGSDATA_REBUILD",
    "STYRINGSDATA_SMTP_HOST", "STYRINGSDATA_SMTP_PORT", "STYRINGSDATA_SMTP_SECURITY", "STYRINGSDATA_SMTP_USER",
    "STYRINGSDATA_SMTP_PASSWORD", "STYRINGSDATA_MAIL_FROM", "STYRINGSDATA_MAIL_TO_DATA_TEAM",
    "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN", "STYRINGSDATA_MAIL_TO", "STYRINGSDATA_NUMBER_FORMAT",
    "STYRINGSDATA_SMTP_CA_FILE", "STYRINGSDATA_SMTP_TIMEOUT", "STYRINGSDATA_POSTGRES_URL",
    "STYRINGSDATA_POSTGRES_SCHEMA", "STYRINGSDATA_POSTGRES_READER_ROLE", "STYRINGSDATA_POSTGRES_SWAP_WAIT",
}
# Values that are right for these settings; the form check must let them through.
RIGHT = {
    ("STYRINGSDATA_DATA_DIR", "abc"), ("STYRINGSDATA_DATA_DIR", "-5"), ("STYRINGSDATA_DATA_DIR", "inf"),
    ("STYRINGSDATA_SNAPSHOT_DIR", "abc"), ("STYRINGSDATA_SNAPSHOT_DIR", "-5"), ("STYRINGSDATA_SNAPSHOT_DIR", "inf"),
    ("STYRINGSDATA_WORK_DB", "abc"), ("STYRINGSDATA_WORK_DB", "-5"), ("STYRINGSDATA_WORK_DB", "inf"),
    ("STYRINGSDATA_WAREHOUSE", "abc"), ("STYRINGSDATA_WAREHOUSE", "-5"), ("STYRINGSDATA_WAREHOUSE", "inf"),
    ("STYRINGSDATA_REGISTRY_INBOX", "abc"), ("STYRINGSDATA_REGISTRY_INBOX", "-5"), ("STYRINGSDATA_REGISTRY_INBOX", "inf"),
    ("STYRINGSDATA_UDIR_INBOX", "abc"), ("STYRINGSDATA_UDIR_INBOX", "-5"), ("STYRINGSDATA_UDIR_INBOX", "inf"),
    ("STYRINGSDATA_QUARANTINE", "abc"), ("STYRINGSDATA_QUARANTINE", "-5"), ("STYRINGSDATA_QUARANTINE", "inf"),
    ("STYRINGSDATA_REGISTRY_SEED", "abc"), ("STYRINGSDATA_REGISTRY_SEED", "-5"), ("STYRINGSDATA_REGISTRY_SEED", "inf"),
    ("DAGSTER_HOME", "abc"), ("DAGSTER_HOME", "-5"), ("DAGSTER_HOME", "inf"),
    ("STYRINGSDATA_POSTGRES_SCHEMA", "abc"), ("STYRINGSDATA_POSTGRES_READER_ROLE", "abc"),
    ("STYRINGSDATA_POSTGRES_SCHEMA", "inf"), ("STYRINGSDATA_POSTGRES_READER_ROLE", "inf"),
}
WRONG = ["abc", "-5", "inf", ""]


def test_every_setting_is_classified_here():
    from styringsdata.settings import Settings, variables

    assert set(variables(Settings)) == ALL_VARIABLES


@pytest.mark.parametrize("variable", sorted(ALL_VARIABLES))
def test_every_setting_refuses_a_value_of_the_wrong_form(tmp_path, variable):
    from styringsdata.settings import Settings, SettingsError

    for value in WRONG:
        env = {"STYRINGSDATA_DATA_DIR": str(tmp_path / "data"), variable: value}
        if variable.startswith(("STYRINGSDATA_SMTP_", "STYRINGSDATA_MAIL_")):  # checked with mail switched on
            env.setdefault("STYRINGSDATA_SMTP_HOST", "smtp.example.org")
            other = "STYRINGSDATA_MAIL_TO_DATA_TEAM" if variable == "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN" else \
                "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN"
            env.setdefault(other, "makro@example.org")
        if (variable, value) in RIGHT or variable in FREE_TEXT or (value == "" and variable in EMPTY_MEANS_UNSET):
            Settings.from_env(env)
            continue
        with pytest.raises(SettingsError) as caught:
            Settings.from_env(env)
        message = str(caught.value)
        assert "\n" not in message, message
        assert message.startswith(f"{variable}={value!r}: expected "), message
