"""A malformed registry file does not stop the pipeline; it is quarantined with its report."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from tests.pipeline.conftest import REGISTRY_HEADER, ROOT


def test_bad_file_is_quarantined_with_a_report_and_the_good_one_is_published(offline_run):
    quarantine = offline_run.data_dir / "quarantine"
    reports = list(quarantine.glob("*.errors.txt"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert "bad_extract.csv: REJECTED" in text
    assert "bad_extract.csv, row 3, column municipality_code: got '3025'; expected a current municipality code; " \
           "3025 is retired, use 3203" in text
    assert "bad_extract.csv, row 3, column value: got 'abc'" in text
    assert any(p.name.endswith("-bad_extract.csv") for p in quarantine.iterdir())
    assert list((offline_run.data_dir / "inbox" / "registry").iterdir()) == []
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select value, source_table from fct_indicator_values "
                           "where indicator_id = 'MED01' and municipality_code = '3203' and year = 2023").fetchall()
        published = con.execute("select count(*) from fct_indicator_values where route = 'registry' "
                                "and source_table = 'bad_extract.csv'").fetchone()[0]
    finally:
        con.close()
    assert rows == [(8.9, "sykefravaer_2023.csv")]
    assert published == 0  # nothing of the rejected file, not even its valid first row


def test_registry_check_command(offline_run, tmp_path):
    good = tmp_path / "ok.csv"
    good.write_text(REGISTRY_HEADER + "MED01;3203;2024;9,1;percent;measured;HR;\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(REGISTRY_HEADER + "MED01;3203;2024;140;percent;measured;HR;\n")
    run = lambda f: subprocess.run([sys.executable, "-m", "orchestration.cli", "registry", "check", str(f)],
                                   cwd=ROOT, env=offline_run.env, capture_output=True, text=True)
    ok = run(good)
    assert ok.returncode == 0 and "ok.csv: OK, 1 rows" in ok.stdout
    rejected = run(bad)
    assert rejected.returncode == 1
    assert "bad.csv, row 2, column value: got '140'; expected a share between 0 and 100 (unit percent)" in rejected.stdout
