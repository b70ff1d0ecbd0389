"""`make test` lints first, and the linters' rule sets catch what they are there for (they are not vacuous)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_make_test_runs_ruff_mypy_and_sqlfluff_before_pytest():
    plan = subprocess.run(["make", "-n", "--no-print-directory", "test", f"BIN={BIN}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    steps = [next(i for i, line in enumerate(plan) if f"{BIN}/{tool}" in line)
             for tool in ("ruff check", "mypy", "sqlfluff lint", "pytest")]
    assert steps == sorted(steps), plan
    assert "dbt_project/models" in plan[steps[2]] and "dbt_project/tests" in plan[steps[2]]


def test_mypy_checks_the_package_and_finds_a_type_error(tmp_path):
    """The configuration type-checks src/styringsdata; a module without an override gets every check."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["files"] == ["src/styringsdata"] and "ignore_errors" not in config
    assert "disable_error_code" not in config and "ignore_missing_imports" not in config  # no blanket ignore
    module = tmp_path / "module.py"
    module.write_text("import duckdb\n\n\ndef count(con: duckdb.DuckDBPyConnection) -> int:\n"
                      "    return con.execute('select 1').fetchone()[0] + 'x'\n", encoding="utf-8")
    result = subprocess.run([str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"),
                             "--cache-dir", str(tmp_path / "cache"), str(module)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[index]" in result.stdout, result.stdout


def test_ruff_finds_an_unused_import_and_a_loop_closure(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import os\n\n\ndef f(items):\n    return [lambda: item for item in items]\n", encoding="utf-8")
    result = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                             "--output-format", "concise", str(module)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert {line.split(": ")[1].split(" ")[0] for line in result.stdout.splitlines() if ": " in line} == {
        "F401", "B023"}, result.stdout


def test_sqlfluff_finds_an_unused_cte_an_uppercase_keyword_and_trailing_space(tmp_path):
    """The project's rule set (.sqlfluff) on a small model; the Jinja templater stands in for dbt's here, which
    would compile the whole project (a minute) to lint one file."""
    model = tmp_path / "model.sql"
    model.write_text("with unused as (select 1 as x)\n\nSELECT a, b from t \n", encoding="utf-8")
    result = subprocess.run([str(BIN / "sqlfluff"), "lint", "--config", str(ROOT / ".sqlfluff"), "--templater", "jinja",
                             "--nocolor", str(model)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    codes = {line.split("|")[2].strip() for line in result.stdout.splitlines() if line.startswith("L:")}
    assert codes == {"ST03", "CP01", "LT01"}, result.stdout


def test_no_module_of_the_package_is_exempt_from_a_check():
    """Issue 24: mypy is clean without per-module `disable_error_code` overrides; the one exemption left is the
    missing-import check for the libraries that ship no types. Every `type: ignore` names its code and why."""
    import re
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    overrides = config.get("overrides", [])
    assert [o for o in overrides if set(o) - {"module", "ignore_missing_imports"}] == []
    exempt = {m for o in overrides for m in ([o["module"]] if isinstance(o["module"], str) else o["module"])}
    assert exempt <= {"pyarrow", "pyarrow.*", "pandas", "pandas.*"}
    bare = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "src").rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if "type: ignore" in line and not re.search(r"type: ignore\[[a-z-, ]+\]\s+#\s*\S", line)]
    assert bare == []
