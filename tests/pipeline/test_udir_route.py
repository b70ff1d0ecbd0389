"""The Udir file route end to end: an export dropped in data/inbox/udir reaches fct_indicator_values on today's
municipality codes with origin `live`; a bad export is quarantined whole with a report naming file, row and column,
and nothing of it is published. The bundled Handlingsprogram figures arrive as `published`."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from tests.pipeline.conftest import ROOT


def values(run, where: str) -> list[tuple]:
    con = duckdb.connect(str(run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select indicator_id, municipality_code, year, value, status, status_symbol, period, origin, "
                           "route, source, source_table from fct_indicator_values where " + where
                           + " order by indicator_id, municipality_code, year").fetchall()
    finally:
        con.close()


def test_a_good_udir_export_reaches_the_marts_on_todays_codes(offline_run):
    got = values(offline_run, "source_table = 'elevundersokelsen_2023.csv'")
    assert got == [
        ("UTD02", "3201", 2023, 5.9, "measured", None, "2023-24", "live", "udir", "Udir", "elevundersokelsen_2023.csv"),
        ("UTD03", "3201", 2022, None, "suppressed", "*", "2022-23", None, "udir", "Udir", "elevundersokelsen_2023.csv"),
        ("UTD04", "3203", 2023, 4.3, "measured", None, "2023-24", "live", "udir", "Udir", "elevundersokelsen_2023.csv"),
    ]


def test_the_bundled_handlingsprogram_figures_arrive_as_published(offline_run):
    got = values(offline_run, "indicator_id = 'UTD02' and municipality_code = '3203' and year between 2020 and 2022")
    assert [(r[2], r[3], r[6], r[7]) for r in got] == [
        (2020, 7.8, "2020-21", "published"), (2021, 6.9, "2021-22", "published"), (2022, 7.6, "2022-23", "published")]


def test_a_bad_udir_export_is_quarantined_whole_with_file_row_and_column(offline_run):
    quarantine = offline_run.data_dir / "quarantine"
    [report] = [p for p in quarantine.glob("*.errors.txt") if "elevundersokelsen_feil" in p.name]
    text = report.read_text(encoding="utf-8")
    assert "elevundersokelsen_feil.csv: REJECTED, 1 problem(s); nothing from this file was loaded" in text
    assert "elevundersokelsen_feil.csv, row 3, column antallbesvart: got 'abc'; expected a whole number of " \
           "respondents" in text
    assert any(p.name.endswith("-elevundersokelsen_feil.csv") for p in quarantine.iterdir())
    assert list((offline_run.data_dir / "inbox" / "udir").iterdir()) == []
    assert values(offline_run, "source_table = 'elevundersokelsen_feil.csv'") == []  # not even its good first row


def test_udir_check_command(offline_run, tmp_path):
    good = tmp_path / "eus.csv"
    good.write_text("indicator_id;Skoleaarnavn;Kommunekode;Score\nUTD08;2024-25;3203;3,7\n", encoding="utf-8")
    bad = tmp_path / "eus_bad.csv"
    bad.write_text("indicator_id;Skoleaarnavn;Kommunekode;Score\nUTD08;2024-25;3203;7\n", encoding="utf-8")

    def check(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "styringsdata.cli", "udir", "check", *map(str, args)],
                              cwd=ROOT, env=offline_run.env, capture_output=True, text=True, timeout=120)

    ok = check(good, "--show")
    assert ok.returncode == 0 and "eus.csv: OK, 1 rows" in ok.stdout and "UTD08      3203" in ok.stdout
    rejected = check(bad)
    assert rejected.returncode == 1
    assert "eus_bad.csv, row 2, column Score: got '7'; expected a score between 1 and 5 (unit scale 1-5 of UTD08)" \
        in rejected.stdout
    assert check(tmp_path / "missing.csv").returncode == 2
