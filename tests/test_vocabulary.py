"""Statuses are written once, in dbt_project/seeds/value_statuses.csv: the gate checks the marts against that
list, and every other place that names a status (the registry file's words, the reports' labels, the dbt models'
narrower lists) names only statuses of it."""

from __future__ import annotations

from pathlib import Path

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
