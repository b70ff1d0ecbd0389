"""A malformed registry file does not stop the pipeline; it is quarantined with its report."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.pipeline.conftest import REGISTRY_HEADER, ROOT, run_cli


def test_bad_file_is_quarantined_with_a_report_and_the_good_one_is_published(offline_run):
    quarantine = offline_run.data_dir / "quarantine"
    reports = [p for p in quarantine.glob("*.errors.txt") if "elevundersokelsen" not in p.name]  # Udir's: its own test
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


def check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "styringsdata.cli", "registry", "check", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_registry_check_command(offline_run, tmp_path):
    good = tmp_path / "ok.csv"
    good.write_text(REGISTRY_HEADER + "MED01;3203;2024;9,1;percent;measured;HR;\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(REGISTRY_HEADER + "MED01;3203;2024;140;percent;measured;HR;\n")
    ok = check(offline_run.env, good)
    assert ok.returncode == 0 and "ok.csv: OK, 1 rows; decimal separator ',' (row 2: '9,1')" in ok.stdout
    rejected = check(offline_run.env, bad)
    assert rejected.returncode == 1
    assert "bad.csv, row 2, column value: got '140'; expected a share between 0 and 100 (unit percent)" in rejected.stdout
    assert check(offline_run.env, tmp_path / "missing.csv").returncode == 2


def test_registry_check_show_prints_the_rows_the_warehouse_would_hold(offline_run, tmp_path):
    # an XLSX as Excel saves it: a percent-formatted cell, a float with all its digits, a pending figure
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(REGISTRY_HEADER.strip().split(";"))
    sheet.append(["MED01", 3203, 2024, 0.091, "percent", "Målt", "HR", None])
    sheet.append(["OKO01", 3203, 2024, 12.3456789, None, "measured", None, None])
    sheet.append(["MED02", 3203, 2024, None, None, "Tall kommer", None, None])
    sheet["D2"].number_format = "0.0%"
    book.save(tmp_path / "eksport.xlsx")
    shown = check(offline_run.env, tmp_path / "eksport.xlsx", "--show")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "eksport.xlsx: OK, 3 rows; numbers as stored in the workbook; 1 percent-formatted cell(s) multiplied by 100 "
        "to the catalogue's percent unit (rows 2)",
        "indicator  municipality  period  value       unit                          status",
        "MED01      3203          2024    9.1         percent                       measured",
        "OKO01      3203          2024    12.3456789  percent of operating revenue  measured",
        "MED02      3203          2024                scale 1-5                     pending",
    ]


HOLD_WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # read-write: what a run's dbt step holds
print("holding", flush=True)
time.sleep(600)
"""

WRITE_LOOP = """
import sys, time, duckdb
failures, deadline = [], time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        con = duckdb.connect(sys.argv[1])
        con.execute("create table if not exists beat (moment double)")
        con.execute("insert into beat values (?)", [time.time()])
        con.close()
    except Exception as exc:
        failures.append(str(exc).splitlines()[0])
    time.sleep(0.005)
print(len(failures), failures[:1], flush=True)
"""


def test_registry_check_never_touches_the_work_file_a_run_is_writing(offline_run, tmp_path):
    # was: `registry check` opened the work file read-only, so while a run held it the check died with a
    # DuckDB lock traceback and exit 1 (the code for "rejected"), and while the check held it the run failed
    good = tmp_path / "ok.csv"
    good.write_text(REGISTRY_HEADER + "MED01;3203;2024;9,1;percent;measured;HR;\n")
    work = offline_run.data_dir / "work.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, str(work)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        during = check(offline_run.env, good)
    finally:
        holder.kill()
        holder.wait()
    assert during.returncode == 0 and "ok.csv: OK, 1 rows" in during.stdout, during.stderr
    # a writer opening and closing the work file over and over, as a run's steps do, never fails meanwhile
    scratch = tmp_path / "work.duckdb"
    shutil.copy(work, scratch)
    env = {**offline_run.env, "STYRINGSDATA_WORK_DB": str(scratch)}
    writer = subprocess.Popen([sys.executable, "-c", WRITE_LOOP, str(scratch), "8"], stdout=subprocess.PIPE,
                              text=True)
    codes = []
    while writer.poll() is None:
        codes.append(check(env, good).returncode)
    failures = writer.stdout.read()
    assert failures.startswith("0 "), failures
    assert codes and set(codes) == {0}


def test_registry_check_that_cannot_read_now_says_so_with_its_own_exit_code(offline_run, tmp_path):
    good = tmp_path / "ok.csv"
    good.write_text(REGISTRY_HEADER + "MED01;3203;2024;9,1;percent;measured;HR;\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "registry_reference.json").write_text('{"municipalities": ["32')  # a reference cut off mid-write
    env = {**offline_run.env, "STYRINGSDATA_DATA_DIR": str(data)}
    result = check(env, good)
    assert result.returncode == 75 and result.stdout == ""
    assert f"cannot read {data / 'registry_reference.json'} now (JSONDecodeError" in result.stderr
    assert "try again" in result.stderr and "Traceback" not in result.stderr
    (data / "registry_reference.json").unlink()
    never_ran = check(env, good)
    assert never_ran.returncode == 2 and "run `styringsdata run` once" in never_ran.stderr


# -- the order of corrections, end to end ---------------------------------------------------------------

def excel_export(value: str, comment: str) -> bytes:
    """A one-figure extract as Norwegian Excel's "CSV (semikolondelt)" writes it: ';', CRLF, Windows-1252."""
    return (REGISTRY_HEADER + f"MED01;3203;2024;{value};percent;Målt;HR;{comment}\n").replace(
        "\n", "\r\n").encode("cp1252")


def published(data_dir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_correction_wins_over_its_original_and_dropping_the_original_again_reverts(offline_run, tmp_path):
    # was: processed in the same second, the order came from the sha256 in the vintage name: the older
    # figure won and `revisions` showed the change backwards; the re-dropped original was discarded
    data_dir = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, data_dir)
    # settled at once: the drop zone's settle rule also looks at the change time, which no copy can set back
    env = {**offline_run.env, "STYRINGSDATA_DATA_DIR": str(data_dir), "STYRINGSDATA_REGISTRY_SETTLE_SECONDS": "0"}
    inbox = data_dir / "inbox" / "registry"
    correction = excel_export("9,4", "rettet")
    original = next(o for o in (excel_export("8,9", f"utkast {n}") for n in range(1000))
                    if hashlib.sha256(o).hexdigest()[:12] > hashlib.sha256(correction).hexdigest()[:12])
    now = time.time()
    # by name the original would come last; its modification time is older
    for name, data, age in (("sykefravaer_2024.csv", original, 600), ("rettet_2024.csv", correction, 120)):
        (inbox / name).write_bytes(data)
        os.utime(inbox / name, (now - age, now - age))
    first = run_cli(env)
    assert first.returncode == 0, first.stderr[-3000:]
    figure = ("select value, source_table from fct_indicator_values "
              "where indicator_id = 'MED01' and municipality_code = '3203' and year = 2024")
    changes = ("select old_value, new_value, old_vintage < new_vintage from revisions where source = 'registry' "
               "and series = 'MED01' and region_code = '3203' and year = 2024 order by new_vintage")
    assert published(data_dir, figure) == [(9.4, "rettet_2024.csv")]
    assert published(data_dir, changes) == [(8.9, 9.4, True)]
    # the clerk copies the original back (Windows keeps its old modification time): its figure is current again
    (inbox / "sykefravaer_2024.csv").write_bytes(original)
    os.utime(inbox / "sykefravaer_2024.csv", (now - 600, now - 600))
    second = run_cli(env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert list(inbox.iterdir()) == []
    assert published(data_dir, figure) == [(8.9, "sykefravaer_2024.csv")]
    assert published(data_dir, changes) == [(8.9, 9.4, True), (9.4, 8.9, True)]
