"""The domain's closed vocabularies, read from the dbt seeds that define them, so that dbt, the gate, the
reports and the tests share one list (issue 24: each fact lives once)."""

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
