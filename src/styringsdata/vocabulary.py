"""The domain's closed vocabularies, read from the dbt seeds that define them, so that dbt, the gate, the
reports, the source configurations and the tests share one list (issue 24: each fact lives once): statuses in
seed value_statuses; routes and evidence grades in seed vocabulary (dbt tests them with `in_vocabulary`)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from styringsdata.paths import DBT_PROJECT_DIR

STATUSES_SEED = DBT_PROJECT_DIR / "seeds" / "value_statuses.csv"


@cache
def indicator_statuses(path: Path = STATUSES_SEED) -> dict[str, str]:
    """Every status a row of fct_indicator_values may carry, in the seed's order, with what it means."""
    return {status: meaning for status, (applies_to, meaning) in value_statuses(path).items()
            if "indicators" in applies_to}


@cache
def value_statuses(path: Path = STATUSES_SEED) -> dict[str, tuple[str, str]]:
    """Every status of an indicator or key figure: what it applies to and what it means, in the seed's order."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != {"status", "applies_to", "meaning"}:
        raise ValueError(f"{path}: expected the columns status,applies_to,meaning")
    statuses = {row["status"]: (row["applies_to"], row["meaning"]) for row in rows}
    if len(statuses) != len(rows) or not all(statuses):
        raise ValueError(f"{path}: each status once, none empty")
    return statuses


VOCABULARY_SEED = DBT_PROJECT_DIR / "seeds" / "vocabulary.csv"
KINDS = ("indicator_route", "key_figure_route", "evidence_grade")


@cache
def vocabulary(kind: str, path: Path = VOCABULARY_SEED) -> dict[str, str]:
    """The codes of one kind in seed vocabulary (routes, evidence grades), in the seed's order, with what each means."""
    if kind not in KINDS:
        raise ValueError(f"{path}: no kind {kind!r}; the kinds are {', '.join(KINDS)}")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or list(rows[0]) != ["kind", "code", "meaning"]:
        raise ValueError(f"{path}: expected the columns kind,code,meaning")
    codes: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        if row["kind"] not in KINDS or not row["code"] or not row["meaning"]:
            raise ValueError(f"{path}, row {line}: kind must be one of {', '.join(KINDS)}, code and meaning "
                             f"not empty; got {row}")
        if row["kind"] == kind:
            if row["code"] in codes:
                raise ValueError(f"{path}, row {line}: {kind} {row['code']!r} twice")
            codes[row["code"]] = row["meaning"]
    return codes


def indicator_routes() -> tuple[str, ...]:
    """How an indicator reaches the warehouse (the catalogue's `route`)."""
    return tuple(vocabulary("indicator_route"))


def key_figure_routes() -> tuple[str, ...]:
    """How a KOSTRA key figure is got (seed kostra_key_figures' `route`)."""
    return tuple(vocabulary("key_figure_route"))


def evidence_grades() -> tuple[str, ...]:
    """How sure a configured series' table and codes are: seen, half seen, candidate, confirmed live, not seen."""
    return tuple(vocabulary("evidence_grade"))


def unknown_code(kind: str, code: str) -> str | None:
    """None when `code` is one of `kind` in seed vocabulary; else what is wrong, for an error that names where."""
    codes = vocabulary(kind)
    return None if code in codes else (
        f"{kind.replace('_', ' ')} must be one of {', '.join(codes)} (seed vocabulary), got {code!r}")
