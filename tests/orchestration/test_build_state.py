"""When a run may skip dbt, the gate and publish: only when it would publish what is already published."""

from __future__ import annotations

import datetime as dt

import pytest

from styringsdata.runs import build_state
from styringsdata.runs.build_state import BuildState, decide, project_fingerprint

TODAY = dt.date(2027, 3, 15)
FP = "abc"
UNCHANGED = [("raw/ssb_12143", False), ("raw/registry_values", False)]
RAW = {"ssb_12143": ["2026-06-15T060000Z"], "registry_values": ["20261201T101010Z-abc"]}


def published_today(**changes) -> BuildState:
    return BuildState(**{"fingerprint": FP, "built_on": TODAY.isoformat(), "run_id": "r1", "published": True,
                         "raw": RAW, "published_by": "r1", **changes})


PUBLISHED_TODAY = published_today()


def decision(state=PUBLISHED_TODAY, sources=UNCHANGED, **overrides):
    args = dict(fingerprint=FP, today=TODAY, sources=sources, marts_exist=True, warehouse_exists=True, forced=False,
                raw=RAW)
    return decide(state, **{**args, **overrides})


def test_skips_only_when_nothing_changed_and_todays_build_is_published():
    assert not decision().rebuild


@pytest.mark.parametrize("why, kwargs, reason", [
    ("new raw data", {"sources": [("raw/ssb_12143", True), ("raw/registry_values", False)]}, "raw/ssb_12143"),
    ("a source that does not say", {"sources": [("raw/ssb_12143", None)]}, "raw/ssb_12143"),
    ("no source in the run", {"sources": []}, "asked for directly"),
    ("forced", {"forced": True}, "STYRINGSDATA_REBUILD"),
    ("first run", {"state": None}, "no earlier build"),
    ("marts gone", {"marts_exist": False}, "no earlier build"),
    ("no publication", {"warehouse_exists": False}, "no earlier build"),
    ("project changed", {"fingerprint": "other"}, "changed since the last build"),
    ("held back", {"state": published_today(published=False)}, "was not published"),
    ("raw loaded by a run that never built it",
     {"raw": {**RAW, "ssb_12143": ["2026-06-15T060000Z", "2026-06-16T060000Z"]}},
     "pending publication: an earlier run loaded data it did not build and publish: raw.ssb_12143 "
     "(2026-06-16T060000Z)"),
    ("a vintage gone from raw (a new work file)", {"raw": {**RAW, "ssb_12143": []}}, "raw.ssb_12143 (lost"),
    ("a build that never finished", {"state": published_today(built=False, published=False)}, "did not finish"),
    ("a state from before raw was recorded", {"state": published_today(raw={})}, "did not record what raw held"),
    ("raw not inspected", {"raw": None}, "raw not inspected"),
    ("yesterday's build", {"state": published_today(built_on="2027-03-14")}, "against today"),
])
def test_rebuilds_when(why, kwargs, reason):
    result = decision(**kwargs)
    assert result.rebuild and reason in result.reason, why


def test_a_build_goes_from_started_to_reported_and_remembers_what_is_pending(tmp_path):
    path = tmp_path / "work.build.json"
    assert build_state.load(path) is None
    build_state.build_started(path, run_id="r2", fingerprint=FP, today=TODAY, raw=RAW)
    started = build_state.load(path)
    assert not started.built and not started.published and started.raw == RAW
    build_state.mark_published(path, "r2")  # a publish of an unfinished build records nothing
    assert not build_state.load(path).published
    build_state.build_finished(path, "some-other-run")
    assert not build_state.load(path).built
    build_state.build_finished(path, "r2")
    build_state.mark_published(path, "r3", "2027-03-15T08:00:00+00:00")  # e.g. audit_and_publish
    published = build_state.load(path)
    assert published.published and published.published_by == "r3" and not published.reported
    assert build_state.unreported_publication(published)
    build_state.mark_reported(path, "r2")  # not the run that published
    assert build_state.unreported_publication(build_state.load(path))
    build_state.mark_reported(path, "r3")
    assert not build_state.unreported_publication(build_state.load(path))
    path.write_text("{not json")
    with pytest.raises(ValueError, match="delete it to force a rebuild"):
        build_state.load(path)


def test_fingerprint_follows_models_and_gate_configuration(tmp_path):
    for folder in ("dbt_project/models", "dbt_project/seeds", "dbt_project/macros", "dbt_project/tests",
                   "src/styringsdata/quality"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "dbt_project/dbt_project.yml").write_text("name: x\n")
    (tmp_path / "dbt_project/models/m.sql").write_text("select 1")
    (tmp_path / "src/styringsdata/quality/gate.yaml").write_text("year_on_year_jump_pct: 50\n")
    first = project_fingerprint(tmp_path)
    assert project_fingerprint(tmp_path) == first
    (tmp_path / "src/styringsdata/quality/gate.yaml").write_text("year_on_year_jump_pct: 40\n")
    assert project_fingerprint(tmp_path) != first


def test_a_source_that_only_failed_is_a_reason_to_rebuild_but_not_new_data():
    """Issue 21: the dbt stage line said "new data in raw from raw/miljodirektoratet_emissions" when the workbook
    had failed: the marts are rebuilt to say so, but no data came."""
    why = decision(sources=[("raw/ssb_12143", True), ("raw/miljodirektoratet_emissions", build_state.OUTCOME_CHANGED)])
    assert why.rebuild
    assert why.reason.startswith("new data in raw from raw/ssb_12143;"), why.reason
    assert "miljodirektoratet" not in why.reason.split(";")[0]
    assert "failed, or answered again: raw/miljodirektoratet_emissions" in why.reason, why.reason
    only = decision(sources=[("raw/miljodirektoratet_emissions", build_state.OUTCOME_CHANGED)])
    assert only.rebuild and "new data" not in only.reason, only.reason
