"""Check, and fill in, the `data_type` of every mart column against the types a built work file has.

    python tools/mart_contract_types.py                 # report; exit 1 when a type is missing or differs
    python tools/mart_contract_types.py --write         # add the missing `data_type:` lines (never changes one)

The marts' dbt contracts are enforced (dbt_project.yml), so dbt refuses to build a mart whose YAML lacks a column's
data_type or whose SQL yields another type. A new mart (or a new column) cannot be built until its types are
written; so a mart the work file does not have is typed from its compiled SQL instead
(`cd dbt_project && dbt compile -s <mart>` writes it to target/compiled, on a work file whose upstream models are
built), asked of DuckDB with DESCRIBE. Review the diff: a type that differs is reported, never rewritten here,
because that is what the contract exists to stop. Types are written lowercase, as DuckDB names them (varchar,
bigint, integer, double, boolean, date, timestamp).

This is a tool run on a checkout (like tools/derive.py): it reads the repository it sits in.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
MARTS_DIR = ROOT / "dbt_project" / "models" / "marts"
MARTS_SCHEMA = "marts"
COMPILED_DIR = ROOT / "dbt_project" / "target" / "compiled" / "styringsdata" / "models" / "marts"
NAME_LINE = re.compile(r"^(?P<indent> *)- name: *(?P<name>[A-Za-z0-9_]+) *$")


@dataclass(frozen=True)
class Finding:
    yaml_file: Path
    model: str
    column: str
    problem: str

    def __str__(self) -> str:
        return f"{self.yaml_file.relative_to(ROOT)}: {self.model}.{self.column}: {self.problem}"


def built_types(work_db: Path, compiled_dir: Path | None = None) -> dict[str, dict[str, str]]:
    """{mart: {column: type}} as DuckDB reports them, lowercase: the built marts, and for a mart not built, the
    result of its compiled SQL in compiled_dir (when there)."""
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position", [MARTS_SCHEMA]).fetchall()
        types: dict[str, dict[str, str]] = {}
        for table, column, data_type in rows:
            types.setdefault(table, {})[column] = data_type.lower()
        for compiled in sorted(compiled_dir.glob("*.sql")) if compiled_dir and compiled_dir.is_dir() else []:
            if compiled.stem not in types:
                described = con.execute(f"describe ({compiled.read_text(encoding='utf-8')})").fetchall()
                types[compiled.stem] = {row[0]: row[1].lower() for row in described}
    finally:
        con.close()
    return types


def check_file(yaml_file: Path, types: dict[str, dict[str, str]]) -> tuple[list[Finding], dict[tuple[str, str], str]]:
    """Findings for one YAML file, and the (model, column) -> type lines it lacks that can be added."""
    spec = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
    findings: list[Finding] = []
    missing: dict[tuple[str, str], str] = {}
    for model in spec.get("models") or []:
        name = model["name"]
        built = types.get(name)
        if built is None:
            findings.append(Finding(yaml_file, name, "*", "neither built in the work file nor compiled "
                                    f"(cd dbt_project && dbt compile -s {name})"))
            continue
        declared = {c["name"]: c for c in model.get("columns") or []}
        for column in built.keys() - declared.keys():
            findings.append(Finding(yaml_file, name, column, f"built ({built[column]}) but not in the YAML"))
        for column, spec_column in declared.items():
            if column not in built:
                findings.append(Finding(yaml_file, name, column, "in the YAML but not built"))
            elif "data_type" not in spec_column:
                missing[(name, column)] = built[column]
                findings.append(Finding(yaml_file, name, column, f"no data_type (built: {built[column]})"))
            elif str(spec_column["data_type"]).lower() != built[column]:
                findings.append(Finding(yaml_file, name, column,
                                        f"data_type {spec_column['data_type']} but built as {built[column]}"))
    return findings, missing


def with_types_added(text: str, missing: dict[tuple[str, str], str]) -> str:
    """The YAML text with `data_type: <type>` inserted under each listed column's `- name:` line."""
    out: list[str] = []
    section, model = None, None
    for line in text.splitlines(keepends=True):
        out.append(line)
        if re.match(r"^[A-Za-z_]+:", line):
            section = line.split(":", 1)[0]
            continue
        match = NAME_LINE.match(line)
        if section != "models" or not match:
            continue
        indent = len(match["indent"])
        if indent == 2:
            model = match["name"]
        elif model is not None and (model, match["name"]) in missing:
            out.append(" " * (indent + 2) + f"data_type: {missing[(model, match['name'])]}\n")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-db", type=Path, default=ROOT / "data" / "work.duckdb",
                        help="a work file with the marts built (default: data/work.duckdb)")
    parser.add_argument("--write", action="store_true", help="add the missing data_type lines")
    args = parser.parse_args(argv)
    if not args.work_db.exists():
        parser.error(f"{args.work_db} does not exist: run `styringsdata run` (or dbt build) first")
    types = built_types(args.work_db, COMPILED_DIR)
    unresolved: list[Finding] = []
    for yaml_file in sorted(MARTS_DIR.glob("*.yml")):
        findings, missing = check_file(yaml_file, types)
        if args.write and missing:
            yaml_file.write_text(with_types_added(yaml_file.read_text(encoding="utf-8"), missing), encoding="utf-8")
            print(f"{yaml_file.relative_to(ROOT)}: added {len(missing)} data_type line(s)")
            findings, _ = check_file(yaml_file, types)
        unresolved += findings
    for finding in unresolved:
        print(finding)
    return 1 if unresolved else 0


if __name__ == "__main__":
    sys.exit(main())
