"""Issue 22: the pre-check's record is made with the settings of the run it follows, whatever ran before in the
same process.

`precheck.remember` used what the last `precheck.answer` of the process had computed (a module-level dict). A
process that asked the pre-check about one data directory and then recorded a run on another (the test suite:
test_nothing_new's in-process pre-checks, then the PostgreSQL ledger tests' `published_to_postgres`) recorded the
first one's settings, and the next `styringsdata run` said "the settings changed since the last run:
STYRINGSDATA_POSTGRES_SCHEMA, STYRINGSDATA_POSTGRES_SWAP_WAIT, STYRINGSDATA_POSTGRES_URL" and ran the whole job
before its own check of the targets.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from styringsdata.runs import build_state, precheck
from styringsdata.settings import Settings


def settings_for(data: Path, **extra: str) -> Settings:
    return Settings.from_env({"STYRINGSDATA_DATA_DIR": str(data), "STYRINGSDATA_SOURCE_MODE": "replay", **extra})


def published(settings: Settings) -> None:
    """What a successful run leaves for `remember`: a build built, published and reported, and the warehouse."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    build_state.save(settings.build_state_path, build_state.BuildState(
        fingerprint="f", built_on=dt.date.today().isoformat(), run_id="run-b", published=True))
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create table _publication as select timestamp '2026-12-07 05:36:39' as published_at")


def test_remember_records_the_settings_it_is_given_not_an_earlier_precheck(tmp_path):
    other = settings_for(tmp_path / "other")
    ours = settings_for(tmp_path / "data", STYRINGSDATA_POSTGRES_URL="postgresql://styringsdata@127.0.0.1:5432/wh",
                        STYRINGSDATA_POSTGRES_SCHEMA="ledger_dropped", STYRINGSDATA_POSTGRES_SWAP_WAIT="3")
    assert not precheck.answer(other, forced=False).skip  # a pre-check of another data directory, in this process
    published(ours)

    precheck.remember(ours)

    record = json.loads(precheck.record_path(ours).read_text(encoding="utf-8"))
    assert record["settings"] == precheck.settings_digests(ours)
    changed = precheck._settings_changed(record, precheck.settings_digests(ours))
    assert changed is None, changed


def test_remember_keeps_what_the_job_was_made_with(tmp_path):
    """Settings or code changed while the job ran: the record names what the job was made with, so the next
    pre-check sees the change."""
    ours = settings_for(tmp_path / "data")
    verdict = precheck.answer(ours, forced=False)
    published(ours)
    made_with = {**verdict.made_with, "code": "before-the-pull"}

    precheck.remember(ours, made_with)

    record = json.loads(precheck.record_path(ours).read_text(encoding="utf-8"))
    assert record["code"] == "before-the-pull" and record["settings"] == verdict.made_with["settings"]
