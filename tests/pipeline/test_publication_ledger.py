"""Every target holds the approved publication (issue 22, item 1): what a hostile user did to a published data
directory, and what the next `styringsdata run` makes of it (src/styringsdata/publishing/ledger.py).

Each test works on a copy of the offline run's published data directory and runs the CLI as a user does. Each
ends as the issue asks: `styringsdata status` says every target matches, and the next pre-check says "current".
The PostgreSQL rows are in tests/warehouse/test_ledger_postgres.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.orchestration.test_mail import PASSWORD, smtp_server  # noqa: F401 (fixture)
from tests.pipeline.conftest import ROOT

CLI = [sys.executable, "-m", "styringsdata.cli"]


def env_for(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    return {**env, "STYRINGSDATA_DATA_DIR": str(data), "STYRINGSDATA_SOURCE_MODE": "replay", **extra}


def cli(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = cli(env, "run", *args)
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    return result


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def repaired(result: subprocess.CompletedProcess, label: str) -> str:
    """The run's one line about a target it repaired (republished, written again, grants restored), or ''."""
    for line in result.stdout.splitlines():
        if line.startswith(f"styringsdata: target: {label}") and any(
                word in line for word in ("republished from the approved build", "written again", "restored")):
            return line
    return ""


def ends_current(env: dict[str, str]) -> None:
    """The issue's ending: every target matches the ledger, and the next pre-check says so without the job."""
    status = cli(env, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "every target holds the approved publication" in status.stdout, status.stdout
    again = cli(env, "run")
    assert again.returncode == 0, again.stdout + again.stderr[-3000:]
    (line,) = again.stdout.splitlines()
    assert "nothing new at SSB" in line and "is current on every target" in line, line


@pytest.fixture
def data(offline_run, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, copy, symlinks=True)
    return copy


def test_a_deleted_parquet_file_is_republished_without_dbt(data):
    env = env_for(data)
    missing = data / "parquet" / "revisions.parquet"
    missing.unlink()

    result = run(env)

    assert "revisions.parquet is missing; the whole job runs" in result.stdout, result.stdout
    assert missing.is_file()
    assert repaired(result, "Parquet set") and "revisions.parquet is missing" in repaired(result, "Parquet set"), \
        result.stdout
    assert "dbt build, gate and publish skipped" in (data / "logs").joinpath(
        sorted(p.name for p in (data / "logs").iterdir())[-1]).read_text(errors="replace")
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(f"select count(*) from '{missing}'").fetchone() == \
            con.execute("select count(*) from revisions").fetchone()
    ends_current(env)


def test_bytes_corrupted_in_the_middle_of_the_warehouse_are_repaired(data):
    env = env_for(data)
    warehouse = data / "warehouse.duckdb"
    good = sha(warehouse)
    size = warehouse.stat().st_size
    with open(warehouse, "r+b") as handle:  # the header stays intact: only a checksum catches this
        handle.seek(size // 2)
        handle.write(os.urandom(4096))
    assert sha(warehouse) != good

    result = run(env)

    assert "warehouse.duckdb has other content" in result.stdout, result.stdout
    assert repaired(result, "DuckDB file"), result.stdout
    assert sha(warehouse) == good
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from kostra_comparison").fetchone()[0] > 0
    ends_current(env)


def test_an_earlier_warehouse_copied_over_the_current_one_is_replaced(data, tmp_path):
    from styringsdata.publishing.publish import build_publication, marts_from_manifest

    env = env_for(data)
    warehouse = data / "warehouse.duckdb"
    good = sha(warehouse)
    # An earlier publication of the same marts (a day older), copied over the live file as `cp` does it: in place.
    earlier = tmp_path / "warehouse.previous.duckdb"
    marts = marts_from_manifest(ROOT / "dbt_project" / "target" / "manifest.json")
    build_publication(data / "work.duckdb", earlier, marts, "2026-01-01T06:00:00")
    shutil.copyfile(earlier, warehouse)

    result = run(env)

    assert repaired(result, "DuckDB file"), result.stdout
    assert sha(warehouse) == good
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert str(con.execute("select max(published_at) from _publication").fetchone()[0]) != "2026-01-01 06:00:00"
    ends_current(env)


def test_a_run_with_postgres_unreachable_is_a_partial_publication(data):
    """PostgreSQL switched on but down (nothing listens on the port): the DuckDB file and Parquet keep the
    publication and PostgreSQL is marked behind. That run exited 0, as if every target held it; it is a partial
    publication, exit 6, and its summary names the target."""
    from styringsdata.cli import EXIT_PARTIAL

    env = env_for(data, STYRINGSDATA_POSTGRES_URL="postgresql://styringsdata@127.0.0.1:1/warehouse",
                  STYRINGSDATA_POSTGRES_SWAP_WAIT="3")
    parquet = sha(data / "parquet" / "fct_indicator_values.parquet")

    result = cli(env, "run")

    assert result.returncode == EXIT_PARTIAL == 6, result.stdout + result.stderr[-3000:]
    assert "PostgreSQL is behind: cannot connect to PostgreSQL at user=styringsdata dbname=warehouse host=127.0.0.1 port=1" \
        in result.stdout, result.stdout
    assert re.search(r"targets: NOT every target holds publication \S+: .*PostgreSQL", result.stdout), result.stdout
    assert sha(data / "parquet" / "fct_indicator_values.parquet") == parquet
    status = cli(env, "status")
    assert status.returncode == 1 and "behind" in status.stdout, status.stdout
    again = cli(env, "run")  # a partial run is not remembered: the next run tries PostgreSQL again
    assert again.returncode == EXIT_PARTIAL and "the whole job runs" in again.stdout.splitlines()[0], again.stdout


def test_a_new_number_format_rewrites_the_report_of_the_current_publication(data):
    env = env_for(data, STYRINGSDATA_NUMBER_FORMAT="no")
    reports = data / "reports"
    before = {p.name: sha(p) for p in reports.glob("quality-report_*.md")}

    result = run(env)

    assert repaired(result, "report for data-team"), result.stdout
    after = {p.name: sha(p) for p in reports.glob("quality-report_*.md")}
    assert after.keys() == before.keys() and after != before  # the same publication's report, written again
    (markdown,) = [reports / name for name in after if after[name] != before[name]]
    assert re.search(r"\d,\d", markdown.read_text(encoding="utf-8"))  # a decimal comma: Norwegian style
    ends_current(env)


def test_mail_switched_on_sends_each_audience_the_report_of_the_current_publication(data, smtp_server):  # noqa: F811
    inbox, port = smtp_server()
    env = env_for(data, STYRINGSDATA_SMTP_HOST="127.0.0.1", STYRINGSDATA_SMTP_PORT=str(port),
                  STYRINGSDATA_SMTP_SECURITY="none", STYRINGSDATA_SMTP_USER="macro", STYRINGSDATA_SMTP_PASSWORD=PASSWORD,
                  STYRINGSDATA_MAIL_FROM="styringsdata@asker.kommune.no",
                  STYRINGSDATA_MAIL_TO_DATA_TEAM="okonomi@asker.kommune.no",
                  STYRINGSDATA_MAIL_TO_MAKROGRUPPEN="makrogruppen@baerum.kommune.no", STYRINGSDATA_SMTP_TIMEOUT="5")

    result = run(env)

    assert repaired(result, "report for data-team"), result.stdout
    assert repaired(result, "report for makrogruppen"), result.stdout
    recipients = sorted(r for envelope in inbox.envelopes for r in envelope.rcpt_tos)
    assert recipients == ["makrogruppen@baerum.kommune.no", "okonomi@asker.kommune.no"], recipients
    status = cli(env, "status")
    assert status.stdout.count("[mailed]") == 2, status.stdout
    ends_current(env)
    assert len(inbox.envelopes) == 2  # and nothing was sent twice
