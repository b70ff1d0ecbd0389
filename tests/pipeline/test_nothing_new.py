"""`styringsdata run` with nothing new upstream answers without starting Dagster; anything that could change
what the job does runs the whole job (src/styringsdata/runs/precheck.py).

Each test works on a copy of the offline run's published data directory (copies keep sizes and modification
times, so the copy is exactly as the run left it); the verdict tests call the pre-check in this process, the
run tests start `styringsdata run` as a user does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from styringsdata.sources.ssb import load_table_specs
from styringsdata.runs import build_state, precheck
from styringsdata.runs.recovery import start_run
from styringsdata.settings import Settings
from tests.faults.test_work_file_rebuild import TABLE, revised_snapshots
from tests.pipeline.conftest import REGISTRY_HEADER, ROOT
from tests.pipeline.test_offline_run import fingerprint


@pytest.fixture
def published(offline_run, tmp_path) -> Settings:
    """The settings of a copy of the published data directory; the tests change the environment freely."""
    data = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, data, symlinks=True)
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("STYRINGSDATA_"):
            del os.environ[name]
    os.environ.update(STYRINGSDATA_DATA_DIR=str(data), STYRINGSDATA_SOURCE_MODE="replay")
    try:
        yield Settings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def built_on(settings: Settings) -> dt.date:
    return dt.date.fromisoformat(build_state.load(settings.build_state_path).built_on)


def verdict(settings: Settings, *, forced: bool = False, root: Path = ROOT,
            today: dt.date | None = None) -> precheck.Verdict:
    # "today" is the day the marts were built, so a test running across midnight is not told to rebuild
    return precheck.answer(settings, forced=forced, root=root, today=today or built_on(settings))


def settings_now() -> Settings:
    return Settings.from_env()


def test_a_published_directory_with_nothing_new_is_answered_without_the_job(published):
    answer = verdict(published)
    assert answer.skip, answer.line
    tables = len({spec.table_id for spec in load_table_specs().tables})
    assert f"nothing new at SSB ({tables} tables, 1 call(s)), KLASS" in answer.line
    assert "FHI (4 tables), Miljødirektoratet (304 Not Modified), the inboxes" in answer.line
    assert "is current on every target (duckdb, parquet, report data-team, report makrogruppen)" in answer.line
    assert "--force" in answer.line
    assert precheck.record_path(published).is_file()


# -- every condition below must run the whole job, and leave no record that could skip the next run ----------

def _state(settings: Settings, **changes) -> None:
    path = settings.build_state_path
    state = json.loads(path.read_text())
    state.update(changes)
    path.write_text(json.dumps(state))


def _drop(folder: Path, name: str, text: str, age: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    then = time.time() - age
    os.utime(folder / name, (then, then))


def _overwrite_keeping_stat(path: Path) -> None:
    stat = path.stat()
    path.write_bytes(b"\0" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _new_vintage(settings: Settings) -> None:
    table = settings.landing_dir / "kommune_nm" / "kommune_nm_2019_2022"
    (vintage,) = list(table.iterdir())
    shutil.copytree(vintage, table / "20991231T000000Z-000000000000")


CONDITIONS = {
    # pending publication (issue 11's recovery: what a stopped or failed run leaves in work.build.json)
    "build not finished": (lambda s: _state(s, built=False), "pending publication: the build of run"),
    "build not published": (lambda s: _state(s, published=False), "was not published"),
    "publication not reported": (lambda s: _state(s, reported=False), "has no report yet"),
    "build state corrupt": (lambda s: s.build_state_path.write_text("{not json"), "not a build state"),
    "built yesterday": (lambda s: _state(s, built_on="2000-01-01"), "the marts were built on 2000-01-01"),
    # a run started since (CLI, UI, schedule, sensor: all start through start_run) and did not succeed
    "a run started and failed": (lambda s: start_run(s, "a run that fails", logging.getLogger("test")).__exit__(
        None, None, None), "no successful `styringsdata run` is recorded"),
    "record unreadable": (lambda s: precheck.record_path(s).write_text("{"), "cannot be read"),
    "record of another shape": (lambda s: precheck.record_path(s).write_text(json.dumps(
        {**json.loads(precheck.record_path(s).read_text()), "settings": []})), "the pre-check failed"),
    # changed settings
    "home municipality": (lambda s: os.environ.update(STYRINGSDATA_HOME_MUNICIPALITY="3201"),
                          "the settings changed since the last run: STYRINGSDATA_HOME_MUNICIPALITY"),
    "as-of date": (lambda s: os.environ.update(STYRINGSDATA_AS_OF_DATE="2025-06-15"),
                   "the settings changed since the last run: STYRINGSDATA_AS_OF_DATE"),
    "mail recipients": (lambda s: os.environ.update(STYRINGSDATA_SMTP_HOST="smtp.example.org",
                                                    STYRINGSDATA_MAIL_TO="makro@example.org"),
                        "STYRINGSDATA_MAIL"),
    # the published file and what the run left
    # the publication targets, verified against the ledger (src/styringsdata/publishing/ledger.py)
    "published warehouse missing": (lambda s: s.warehouse.unlink(), "DuckDB file"),
    "published warehouse corrupt": (lambda s: _overwrite_keeping_stat(s.warehouse), "warehouse.duckdb has other content"),
    "parquet file missing": (lambda s: (s.parquet_dir / "fct_indicator_values.parquet").unlink(),
                             "fct_indicator_values.parquet is missing"),
    "parquet file corrupt": (lambda s: _overwrite_keeping_stat(s.parquet_dir / "revisions.parquet"),
                             "revisions.parquet has other content"),
    "report removed": (lambda s: [p.unlink() for p in s.reports_dir.glob("quality-report_*.md")],
                       "report for data-team"),
    "ledger unreadable": (lambda s: (s.data_dir / "publication" / "ledger.json").write_text("{"), "cannot be read"),
    "approved publication never recorded": (lambda s: (s.data_dir / "publication" / "ledger.json").unlink(),
                                            "no approved publication is recorded yet"),
    "work file missing": (lambda s: s.work_db.unlink(), "work file"),
    "work file written since": (lambda s: os.utime(s.work_db), "work file"),
    "work file with a write-ahead log": (lambda s: s.work_db.with_name(s.work_db.name + ".wal").write_bytes(b"x"),
                                         "write-ahead log"),
    "landing zone changed": (_new_vintage, "the landing zone"),
    # inboxes
    "registry file ready": (lambda s: _drop(s.registry_inbox, "sykefravaer.csv", REGISTRY_HEADER, 3600),
                            "1 file(s) in the registry inbox (sykefravaer.csv)"),
    "registry file still being copied": (lambda s: _drop(s.registry_inbox, "ny.csv", REGISTRY_HEADER, 0),
                                         "1 file(s) in the registry inbox (ny.csv)"),
    "Kommune-NM file": (lambda s: _drop(s.data_dir / "inbox" / "kommune_nm", "knm_2023.csv", "x;y\n", 3600),
                        "1 file(s) in the kommune_nm inbox (knm_2023.csv)"),
    "deflator file": (lambda s: _drop(s.data_dir / "inbox" / "municipal_deflator", "deflator.csv", "x\n", 3600),
                      "file(s) in"),
    "Udir export": (lambda s: _drop(s.udir_inbox_dir, "elevundersokelsen.csv", "x;y\n", 3600),
                    "1 file(s) in the Udir inbox (elevundersokelsen.csv)"),
}


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_the_whole_job_runs_when(condition, published):
    change, reason = CONDITIONS[condition]
    today = built_on(published)
    change(published)
    answer = verdict(settings_now(), today=today)
    assert not answer.skip, answer.line
    assert reason in answer.line and "the whole job runs" in answer.line, answer.line
    assert not precheck.record_path(published).exists()  # a job that then fails early cannot leave it valid


@pytest.mark.parametrize("how", ["--force", "STYRINGSDATA_REBUILD=on"])
def test_a_full_run_can_be_forced(how, published):
    if how == "--force":
        answer = verdict(published, forced=True)
    else:
        os.environ["STYRINGSDATA_REBUILD"] = "on"
        answer = verdict(settings_now())
    assert not answer.skip and how in answer.line, answer.line


def _project_copy(target: Path) -> Path:
    for name in precheck.CODE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "target", "logs"))
        elif source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.mark.parametrize("edited, reason", [
    ("dbt_project/models/marts/fct_indicator_values.sql", "the dbt project or the quality gate changed"),
    ("dbt_project/seeds/catalogue_indicators.csv", "the dbt project or the quality gate changed"),
    ("src/styringsdata/quality/gate.yaml", "the dbt project or the quality gate changed"),
    ("src/styringsdata/sources/ssb_tables.yaml", "the code, the configuration or a bundled file changed"),
    ("src/styringsdata/defs/publish.py", "the code, the configuration or a bundled file changed"),
])
def test_changed_code_models_or_configuration_run_the_whole_job(edited, reason, published, tmp_path):
    root = _project_copy(tmp_path / "project")
    assert verdict(published, root=root).skip  # the copy itself is the same project
    with open(root / edited, "a", encoding="utf-8") as handle:
        handle.write("\n")
    answer = verdict(published, root=root)
    assert not answer.skip and reason in answer.line, answer.line


@pytest.mark.parametrize("bundled", ["kommune_nm/kommune_nm_2019_2022.csv",
                                     "udir/handlingsprogram_2024_2027_elevundersokelsen.csv"])
def test_a_changed_bundled_file_runs_the_whole_job(bundled, published, tmp_path):
    snapshots = tmp_path / "snapshots"
    shutil.copytree(ROOT / "snapshots", snapshots)
    os.environ["STYRINGSDATA_SNAPSHOT_DIR"] = str(snapshots)
    assert verdict(settings_now()).skip  # the same answers and bundled files from elsewhere
    with open(snapshots / bundled, "a", encoding="utf-8") as handle:
        handle.write("\n")
    answer = verdict(settings_now())
    assert not answer.skip and "a bundled file changed" in answer.line, answer.line


@pytest.mark.parametrize("source, removed", [
    ("SSB", "data.ssb.no/api/pxwebapi"),
    ("KLASS", "data.ssb.no/api/klass"),
    ("FHI", "statistikk-data.fhi.no"),
    ("Miljødirektoratet", "www.miljodirektoratet.no/sharepoint"),
])
def test_a_source_that_cannot_answer_runs_the_whole_job(source, removed, published, tmp_path):
    snapshots = tmp_path / "snapshots"
    shutil.copytree(ROOT / "snapshots", snapshots)
    shutil.rmtree(snapshots / removed)
    os.environ["STYRINGSDATA_SNAPSHOT_DIR"] = str(snapshots)
    answer = verdict(settings_now())
    assert not answer.skip and f"{source} did not answer the change check" in answer.line, answer.line
    assert "no recorded response" in answer.line, answer.line


def test_a_table_updated_upstream_is_found(published, tmp_path):
    os.environ["STYRINGSDATA_SNAPSHOT_DIR"] = str(revised_snapshots(tmp_path / "snapshots"))
    answer = verdict(settings_now())
    assert not answer.skip, answer.line
    assert f"SSB: 1 table(s) updated or never landed ({TABLE})" in answer.line, answer.line


# -- as a user runs it ----------------------------------------------------------------------------------------

def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}  # DAGSTER_HOME: the suite's temporary one
    return {**env, "STYRINGSDATA_DATA_DIR": str(data), "STYRINGSDATA_SOURCE_MODE": "replay", **extra}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "styringsdata.cli", "run", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)


def _imported(result: subprocess.CompletedProcess) -> set[str]:
    return {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()
            if line.startswith("import time:")}


def test_a_second_run_with_nothing_new_says_so_in_one_line_without_starting_dagster(offline_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, data, symlinks=True)
    before = fingerprint(type(offline_run)(data, offline_run.env, offline_run.first))
    result = _run(_env(data))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    (line,) = result.stdout.splitlines()
    assert line.startswith("styringsdata: nothing new at SSB") and "is current" in line, line
    imported = _imported(result)
    assert "styringsdata" in imported  # the import log is there, so the next line can fail
    assert not imported & {"dagster", "dagster_dbt", "dbt", "duckdb", "great_expectations"}, imported
    after = fingerprint(type(offline_run)(data, offline_run.env, offline_run.first))
    assert after == before


def test_a_table_updated_upstream_runs_the_job_which_publishes_it_and_the_next_run_is_answered(offline_run,
                                                                                               tmp_path):
    data = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, data, symlinks=True)
    env = _env(data, STYRINGSDATA_SNAPSHOT_DIR=str(revised_snapshots(tmp_path / "snapshots")))
    published_before = (data / "warehouse.duckdb").stat().st_mtime_ns

    result = _run(env)

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert f"pre-check: SSB: 1 table(s) updated or never landed ({TABLE}); the whole job runs" in result.stdout
    assert "dagster" in _imported(result)
    assert len(list((data / "landing" / "ssb" / TABLE).iterdir())) == 2
    assert (data / "warehouse.duckdb").stat().st_mtime_ns != published_before
    again = _run(env)
    assert again.returncode == 0 and "nothing new at SSB" in again.stdout, again.stdout + again.stderr[-3000:]
    assert "dagster" not in _imported(again)
