"""Statuses are written once, in dbt_project/seeds/value_statuses.csv: the gate checks the marts against that
list, and every other place that names a status (the registry file's words, the reports' labels, the dbt models'
narrower lists) names only statuses of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from styringsdata.paths import DBT_PROJECT_DIR
from styringsdata.vocabulary import indicator_statuses


def test_the_gate_allows_exactly_the_seeds_statuses():
    import duckdb
    import great_expectations.expectations as gxe

    from styringsdata.quality.gate import GateConfig, build_checks

    statuses = indicator_statuses()
    assert list(statuses) == ["measured", "suppressed", "not_measured", "pending", "under_development",
                              "not_computable", "series_break", "not_delivered", "source_error"]
    checks = build_checks(duckdb.connect(), GateConfig.load(), "3203")  # no raw tables: the marts' checks
    (check,) = [c for c in checks if c.name == "fct_status_allowed"]
    (expectation,) = check.expectations(gxe)
    assert list(expectation.value_set) == list(statuses)
    assert all(s in check.description for s in statuses)


def test_every_status_named_elsewhere_is_one_of_the_seed():
    from styringsdata.reporting.macro_report import STATUS_NO
    from styringsdata.reporting.report import STATUS_COLOURS, STATUS_LABELS, STATUS_ORDER
    from styringsdata.sources.registry import STATUSES

    known = set(indicator_statuses())
    assert set(STATUSES.values()) <= known
    assert set(STATUS_ORDER) | set(STATUS_LABELS) | set(STATUS_COLOURS) <= known
    assert set(STATUS_NO) <= known


def _accepted_status_lists(models_dir: Path) -> dict[str, list[str]]:
    found = {}
    for path in models_dir.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for column in model.get("columns", []):
                if column["name"] != "status":
                    continue
                for test in column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        found[model["name"]] = test["accepted_values"]["arguments"]["values"]
    return found


def test_the_indicator_models_status_lists_are_subsets_of_the_seed():
    lists = _accepted_status_lists(DBT_PROJECT_DIR / "models")
    indicator_models = {"stg_registry__values", "int_indicator_values_computed"}
    assert indicator_models <= set(lists), sorted(lists)
    for name in indicator_models:
        assert set(lists[name]) <= set(indicator_statuses()), name
    assert "fct_indicator_values" not in lists, "the marts' statuses are the gate's rule (fct_status_allowed)"


# -- routes and evidence grades: seed vocabulary ---------------------------------------------------------------

def _seed(name: str) -> list[dict[str, str]]:
    import csv

    with (DBT_PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_routes_and_grades_are_the_seeds_in_python():
    from styringsdata.sources import ssb
    from styringsdata.sources.catalogue import ROUTES
    from styringsdata.sources import doctor
    from styringsdata.sources.doctor import RAISED_WHEN_OK
    from styringsdata.vocabulary import evidence_grades, indicator_routes, key_figure_routes, vocabulary

    assert indicator_routes() == ("ssb", "fhi", "miljodirektoratet", "kommune_nm", "udir", "registry")
    assert key_figure_routes() == ("table", "asss_formula", "source unknown")
    assert evidence_grades() == ("A", "B", "C", "live", "-")
    assert ROUTES == indicator_routes()
    assert ssb.KEY_FIGURE_ROUTES == key_figure_routes() and ssb.GRADES == doctor.GRADES == evidence_grades()
    assert set(ssb.UNCONFIRMED_GRADES) | set(RAISED_WHEN_OK) <= set(evidence_grades())
    assert all(vocabulary("evidence_grade").values())


def test_every_route_and_grade_written_in_a_seed_or_configuration_is_in_the_vocabulary():
    from styringsdata.sources.fhi import load_fhi_specs
    from styringsdata.sources.ssb import load_table_specs
    from styringsdata.sources.udir import SERIES
    from styringsdata.vocabulary import evidence_grades, indicator_routes, key_figure_routes

    specs = load_table_specs()
    assert {s.evidence.grade for s in specs.series()} | {w.grade for w in specs.without_known_table} \
        | {i.grade for i in load_fhi_specs().indicators} | {s.grade for s in SERIES} <= set(evidence_grades())
    assert {w.route for w in specs.without_known_table} | {s.route for s in SERIES} <= set(
        key_figure_routes() + indicator_routes())
    assert {r["route"] for r in _seed("catalogue_indicators")} <= set(indicator_routes())
    assert {r["route"] for r in _seed("kostra_key_figures")} <= set(key_figure_routes())
    assert {r["evidence_grade"] for r in _seed("kostra_key_figures") + _seed("ssb_series")} <= set(evidence_grades())


def test_dbt_tests_routes_and_grades_against_the_seed_not_a_list_of_their_own():
    """No accepted_values list of routes or grades in the dbt YAML: the seeds they come from have an in_vocabulary
    test each (the marts copy them from there, so a second test on the mart would repeat the rule)."""
    tested: dict[tuple[str, str], str] = {}
    for path in DBT_PROJECT_DIR.rglob("*.yml"):
        if "target" in path.relative_to(DBT_PROJECT_DIR).parts or "dbt_packages" in path.parts:
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        nodes = [n for key in ("models", "seeds") if isinstance(document.get(key), list) for n in document[key]]
        for node in nodes:
            for column in node.get("columns", []):
                for test in column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        values = set(test["accepted_values"]["arguments"]["values"])
                        assert not values & {"asss_formula", "source unknown", "kommune_nm", "live"} or \
                            values == {"live", "published", "illustrative"} or \
                            values == {"kostra_series", "asss_formula"} or \
                            values == {"indicator_route", "key_figure_route", "evidence_grade"}, (path, node["name"])
                    if isinstance(test, dict) and "in_vocabulary" in test:
                        tested[(node["name"], column["name"])] = test["in_vocabulary"]["arguments"]["kind"]
    assert tested == {
        ("kostra_key_figures", "route"): "key_figure_route",
        ("kostra_key_figures", "evidence_grade"): "evidence_grade",
        ("ssb_series", "evidence_grade"): "evidence_grade",
        ("catalogue_indicators", "route"): "indicator_route",
    }


def test_a_grade_outside_the_vocabulary_is_refused_naming_where(tmp_path):
    from styringsdata.sources.fhi import FhiError, load_fhi_specs
    from styringsdata.sources.fhi import SPECS_PATH as FHI_SPECS
    from styringsdata.sources.ssb import TABLE_SPECS_PATH, SsbError, load_table_specs

    fhi = yaml.safe_load(FHI_SPECS.read_text(encoding="utf-8"))
    fhi["tables"][0]["evidence"]["grade"] = "D"
    (tmp_path / "fhi.yaml").write_text(yaml.safe_dump(fhi, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FhiError, match=r"fhi.yaml: tables\[0\] \(\w+\): evidence grade must be one of A, B, C, live, "
                                       r"- \(seed vocabulary\), got 'D'"):
        load_fhi_specs(tmp_path / "fhi.yaml")

    ssb = yaml.safe_load(TABLE_SPECS_PATH.read_text(encoding="utf-8"))
    ssb["without_known_table"][0]["grade"] = "b"
    (tmp_path / "ssb.yaml").write_text(yaml.safe_dump(ssb, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SsbError, match=r"ssb.yaml: without_known_table \w+: evidence grade must be one of A, B, C, "
                                       r"live, - \(seed vocabulary\), got 'b'"):
        load_table_specs(tmp_path / "ssb.yaml")
