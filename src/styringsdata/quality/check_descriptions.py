"""What each dbt test checks, in words, for the description of its Dagster asset check.

dagster-dbt takes a check's description from the test's `description:` in YAML, which generic tests rarely have;
the UI then showed a bare test name. The words are made from the test's own definition in the manifest (the
generic test and its arguments, or a singular test's leading comment), so they cannot drift from what it runs.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

# The project's own generic tests (dbt_project/macros/test_*.sql)
OWN_TESTS = {
    "no_value_without_measured_status": "a row whose status is not measured (suppressed, missing, pending ...) has "
                                        "no value, never 0",
    "measured_has_a_value": "a row whose status is measured has a value",
}


def _columns(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(kwargs.get("combination_of_columns") or [])


def _model(node: Mapping[str, Any]) -> str:
    attached = node.get("attached_node") or ""
    return attached.rsplit(".", 1)[-1] if attached else "the model"


def _leading_comment(sql: str) -> str:
    """The comment a singular test starts with (`-- ...` lines or a `{#- ... -#}` block)."""
    block = re.match(r"\s*\{#-?\s*(.*?)\s*-?#\}", sql, re.S)
    if block:
        return " ".join(block.group(1).split())
    lines = []
    for line in sql.lstrip().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)


def dbt_test_description(node: Mapping[str, Any]) -> str:
    """One sentence a data engineer can act on: what must hold, on which table and column, and where it is written."""
    where = node.get("original_file_path", "")
    own = (node.get("description") or "").strip()
    if own:
        return f"{own} (dbt test in {where})"
    metadata = node.get("test_metadata") or {}
    name, kwargs = metadata.get("name"), metadata.get("kwargs") or {}
    model, column = _model(node), kwargs.get("column_name") or node.get("column_name")
    if name is None:  # a singular test: its SQL returns the rows that break the rule
        what = _leading_comment(node.get("raw_code", "")) or f"the query in {where} returns no rows"
        return f"{what} (dbt singular test {where}; failing rows are what its query returns)"
    if name == "not_null":
        what = f"{column} of {model} is never null"
    elif name == "unique":
        what = f"{column} of {model} is unique: no two rows share a value"
    elif name == "accepted_values":
        what = f"{column} of {model} takes only the values {', '.join(map(str, kwargs.get('values', [])))}"
    elif name == "relationships":
        target = re.sub(r"^ref\('([^']+)'\)$", r"\1", str(kwargs.get("to", "")))
        what = (f"every {column} of {model} exists as {kwargs.get('field')} in {target} "
                "(no orphan keys)")
    elif name == "unique_combination_of_columns":
        what = f"one row per {_columns(kwargs)} in {model} (the model's grain)"
    elif name in OWN_TESTS:
        what = f"{model}: " + OWN_TESTS[name].format(**kwargs)
    else:
        arguments = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "model")
        what = f"{model} passes the dbt test {name}({arguments})"
    return f"{what} (dbt test {name}, {where}); fails on any row that breaks it."
