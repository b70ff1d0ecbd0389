"""The recipe in docs/sources.md, "Adding a table or an indicator", followed on a copy of the project.

OKO04 (vedlikehold per m² i formålsbygg) has a route but no known SSB table today. The recipe's one edit adds
a table for it to src/styringsdata/sources/ssb_tables.yaml and takes OKO04 off `without_known_table`; `make snapshots` writes
everything that follows (the fake source's answers, the dbt seeds and sources, the catalogue); one offline run
publishes OKO04 from the new table. Nothing else is edited, and the test says which files changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from tools.derive import derived_files

ROOT = Path(__file__).resolve().parents[2]

TABLE_ENTRY = '''
  - id: "12905"
    name: building_maintenance
    title: "Formålsbygg: vedlikehold (K)"
    kind: kostra
    measure_kind: rate
    region_variable: KOKkommuneregion0000
    series:
      - measure: maintenance_per_m2
        key_figure: KSAM10
        label: "Vedlikeholdsutgifter per kvadratmeter"
        select: {ContentsCode: KOSvedlikeholdpe0000}
        evidence: {grade: "-", cite: "the README's recipe, followed by tests/pipeline/test_add_a_table.py"}
'''


def project_copy(target: Path) -> Path:
    """The working tree as a fresh clone would have it (tracked and new files, nothing ignored)."""
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for name in names:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def fingerprints(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and not p.relative_to(root).as_posix().startswith(("data/", "dbt_project/target/", "dbt_project/logs/"))}


def follow_the_recipe(project: Path) -> None:
    config = project / "src" / "styringsdata" / "sources" / "ssb_tables.yaml"
    text = config.read_text(encoding="utf-8")
    # 1. the table, at the end of `tables` (before the next top-level key)
    end_of_tables = text.index("\n# Measures dbt computes")
    text = text[:end_of_tables] + TABLE_ENTRY + text[end_of_tables:]
    # 2. its figure is no longer without a known table (OKO04's route under `indicators` stays as it is)
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("  - {indicator: OKO04, key_figure: KSAM10,")]
    assert len(kept) == len(lines) - 1
    config.write_text("".join(kept), encoding="utf-8")


def run(project: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], cwd=project, env=env, capture_output=True, text=True,
                            timeout=1200)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def test_adding_a_table_is_one_configuration_entry_and_make_snapshots(tmp_path):
    project = project_copy(tmp_path / "project")
    before = fingerprints(project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    # the copy's own package, not this checkout's editable install (a path entry, which PYTHONPATH comes before)
    env.update({"STYRINGSDATA_DATA_DIR": str(tmp_path / "data"), "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": str(project / "src")})

    follow_the_recipe(project)
    run(project, "-m", "snapshots.build", env=env)  # = make snapshots
    run(project, "-m", "styringsdata.cli", "run", env=env)  # = make run

    after = fingerprints(project)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    derived = {p.as_posix() for p in derived_files(project)}
    recorded = {p for p in changed if p.startswith("snapshots/data.ssb.no/")}
    assert recorded and all(p.startswith("snapshots/data.ssb.no/api/pxwebapi/v2/tables/12905/") for p in recorded)
    assert changed - recorded - derived == {"src/styringsdata/sources/ssb_tables.yaml"}, "the recipe edits exactly one file"
    print(f"\nfiles the recipe changed: 1 edited by hand, {len(changed & derived)} derived, "
          f"{len(recorded)} recorded answers: {sorted(changed - recorded)}")

    warehouse = duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True)
    try:
        published = warehouse.execute(
            "select year, value, status, source_table from fct_indicator_values "
            "where indicator_id = 'OKO04' and municipality_code = '3203' order by year").fetchall()
        catalogue = warehouse.execute(
            "select route, source_table, formula from indicator_catalogue where indicator_id = 'OKO04'").fetchone()
        key_figure = warehouse.execute(
            "select status, source_table from kostra_comparison where key_figure_id = 'KSAM10' "
            "and region_code = '3203' and year = 2022").fetchone()
    finally:
        warehouse.close()
    work = duckdb.connect(str(tmp_path / "data" / "work.duckdb"), read_only=True)
    try:
        fetched = dict(work.execute(
            """select cast(year(period_end) as integer), value from raw.ssb_12905
               where "KOKkommuneregion0000" = '3025' and "ContentsCode" = 'KOSvedlikeholdpe0000'""").fetchall())
    finally:
        work.close()

    measured = {year: (value, table) for year, value, status, table in published if status == "measured"}
    assert set(measured) >= {2020, 2021, 2022, 2023}, published  # Asker's code 3025 in those years
    for year in (2020, 2021, 2022, 2023):
        value, table = measured[year]
        assert table == "12905" and value == fetched[year], (year, value, fetched.get(year))
    assert catalogue[0] == "ssb" and catalogue[1] == "12905" and catalogue[2].startswith("1 * (maintenance_per_m2)")
    assert key_figure == ("measured", "12905")
