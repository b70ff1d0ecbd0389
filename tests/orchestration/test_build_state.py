"""When a run may skip dbt, the gate and publish: only when it would publish what is already published."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.lib import build_state
from orchestration.lib.build_state import BuildState, decide, project_fingerprint

TODAY = dt.date(2027, 3, 15)
FP = "abc"
UNCHANGED = [("raw/ssb_12143", False), ("raw/registry_values", False)]


def published_today(**changes) -> BuildState:
    return BuildState(**{"fingerprint": FP, "built_on": TODAY.isoformat(), "run_id": "r1", "published": True,
                         **changes})


def decision(state=published_today(), sources=UNCHANGED, **overrides):
    args = dict(fingerprint=FP, today=TODAY, sources=sources, marts_exist=True, warehouse_exists=True, forced=False)
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
    ("yesterday's build", {"state": published_today(built_on="2027-03-14")}, "against today"),
])
def test_rebuilds_when(why, kwargs, reason):
    result = decision(**kwargs)
    assert result.rebuild and reason in result.reason, why


def test_state_is_saved_and_marked_published_only_for_its_own_run(tmp_path):
    path = tmp_path / "work.build.json"
    assert build_state.load(path) is None
    build_state.save(path, published_today(published=False, run_id="r2"))
    build_state.mark_published(path, "some-other-run")
    assert not build_state.load(path).published
    build_state.mark_published(path, "r2")
    assert build_state.load(path).published
    path.write_text("{not json")
    with pytest.raises(ValueError, match="delete it to force a rebuild"):
        build_state.load(path)


def test_fingerprint_follows_models_and_gate_configuration(tmp_path):
    for folder in ("dbt_project/models", "dbt_project/seeds", "dbt_project/macros", "dbt_project/tests",
                   "expectations"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "dbt_project/dbt_project.yml").write_text("name: x\n")
    (tmp_path / "dbt_project/models/m.sql").write_text("select 1")
    (tmp_path / "expectations/gate.yaml").write_text("year_on_year_jump_pct: 50\n")
    first = project_fingerprint(tmp_path)
    assert project_fingerprint(tmp_path) == first
    (tmp_path / "expectations/gate.yaml").write_text("year_on_year_jump_pct: 40\n")
    assert project_fingerprint(tmp_path) != first
