"""Issue 22: every drop zone behaves the same way, and no implausible file is used.

Each test is a row of the issue's table, reproduced on the code before the shared drop zone
(src/styringsdata/sources/drop_zone.py) and passing after it. Files are modelled on what Excel writes:
"CSV (semikolondelt)" in Windows-1252 with CRLF and decimal commas, and XLSX saved through openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from functools import partial
from pathlib import Path

import duckdb
import openpyxl
import pytest

from styringsdata.raw.landing import LandingZone
from styringsdata.raw.raw_store import load_registry_vintage
from styringsdata.runs import precheck
from styringsdata.sources import expense_need_index, klass, kommune_nm, municipal_deflator, udir
from styringsdata.sources.drop_zone import candidates, landed_vintages, listing
from styringsdata.sources.file_contract import refresh
from styringsdata.sources.registry import (IndicatorRule, land_seed_files, load_reference, parse_landed,
                                           process_inbox)

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_DEFLATOR = ROOT / "snapshots" / "municipal_deflator" / "kommunal_deflator.csv"
DEFLATOR_HEADER = "year;deflator_percent;estimate;published;origin;source;citation"
INDEX_HEADER = "year;municipality_code;municipality_name;need_area;need_index;origin;source;citation"
REGISTRY_HEADER = "indicator_id;municipality_code;period;value;unit;status;source;comment"
UDIR_HEADER = "indicator_id;Skoleaarnavn;Kommunekode;Kommune;Trinnnavn;Score;AndelMobbet;AntallBesvart"
MEMBERS = frozenset({"0301", "4601", "5001", "1103", "3201", "4204", "3107", "1108", "5501", "3301", "3203", "3205"})
NAMES = {"3203": frozenset({"Asker (2024-)"}), "3201": frozenset({"Bærum (2024-)"}), "0301": frozenset({"Oslo"}),
         "0628": frozenset({"Hurum"})}
# KLASS 131's changes as the pipeline fetches them (bundled answer to /classifications/131/changes?from=2018-01-01)
KLASS_CHANGES = ROOT / "snapshots" / "data.ssb.no" / "api" / "klass" / "v1" / "classifications" / "131" / "changes"


def bundled_klass_changes() -> list:
    import json

    [answer] = sorted(KLASS_CHANGES.glob("GET-*.json"))
    body = json.loads(answer.read_text(encoding="utf-8"))["response"]["body"]
    return klass.parse_changes(body.encode() if isinstance(body, str) else json.dumps(body).encode())


REGISTRY = load_reference(
    [IndicatorRule("OKO01", "registry", "percent"), IndicatorRule("MED01", "registry", "percent"),
     IndicatorRule("UTD02", "udir", "percent"), IndicatorRule("UTD03", "udir", "percent"),
     IndicatorRule("UTD04", "udir", "score 1-5")],
    {"3203", "3201", "0301"}, {"0628": ("3203",), "3025": ("3203",)}, max_bytes=100_000,
    names=NAMES, retired_on={"0628": dt.date(2020, 1, 1), "3025": dt.date(2024, 1, 1)},
    started_on=klass.code_validity(bundled_klass_changes()).started_on,
    predecessors=klass.code_validity(bundled_klass_changes()).predecessors)


def excel_csv(header: str, *rows: str) -> bytes:
    """What Excel's "CSV (semikolondelt)" writes on Norwegian Windows: cp1252, CRLF."""
    return ("\r\n".join([header, *rows]) + "\r\n").encode("cp1252")


def excel_xlsx(header: str, *rows: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in [header, *rows]:
        sheet.append([float(c.replace(",", ".")) if c.replace(",", "").isdigit() and "," in c else c
                      for c in line.split(";")])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def drop(folder: Path, name: str, data: bytes, mtime: float | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def deflator_series(years: range, published: str = "2024-10") -> list[str]:
    return [f"{y};{'3,1' if y % 2 else '4,3'};NB{str(y + 1)[2:]};{min(f'{y - 1}-10', published)};published;"
            f"Prop. 1 S;https://www.regjeringen.no/" for y in years]


def deflator_refresh(tmp_path: Path, con, bundled: Path | None = None, settle: float = 0, now: float | None = None):
    municipal_deflator.ensure_table(con)
    return refresh(con, LandingZone(tmp_path / "landing"), municipal_deflator.SOURCE, municipal_deflator.validate,
                   bundled=bundled or tmp_path / "no_bundled", inbox=tmp_path / "inbox" / "municipal_deflator",
                   quarantine=tmp_path / "quarantine", load_vintage=municipal_deflator.load_vintage,
                   settle_seconds=settle, now=now, plausible=municipal_deflator.plausibility())


def deflator_in_use(con) -> list[tuple]:
    """What int_asss__deflator_in_use publishes: the rows of the greatest vintage."""
    return con.execute(f"""select year, deflator_percent, _file from {municipal_deflator.TABLE}
                           where _vintage = (select max(_vintage) from {municipal_deflator.TABLE})
                           order by year, published""").fetchall()


# -- item 3: one drop zone ---------------------------------------------------------------------------

def test_two_deflator_files_landed_in_one_run_newest_by_modification_time_wins_never_by_digest(tmp_path):
    """Row: two deflator files in the same run got the same-second vintage and the older won by digest order."""
    inbox = tmp_path / "inbox" / "municipal_deflator"
    now = time.time()
    years = range(2019, 2026)
    older = excel_csv(DEFLATOR_HEADER, *deflator_series(years))
    newer = excel_csv(DEFLATOR_HEADER, *[r.replace(";4,3;", ";4,4;") for r in deflator_series(years)])
    # names chosen so that name order and digest order both put the older file last
    drop(inbox, "b_deflator_nb25.csv", older, now - 600)
    drop(inbox, "a_deflator_rnb25.csv", newer, now - 300)
    con = duckdb.connect()
    result = deflator_refresh(tmp_path, con)
    assert [n for n, _ in result.inbox.accepted] == ["b_deflator_nb25.csv", "a_deflator_rnb25.csv"]
    assert {f for _, _, f in deflator_in_use(con)} == {"a_deflator_rnb25.csv"}
    assert (2020, 4.4, "a_deflator_rnb25.csv") in deflator_in_use(con)


def test_an_earlier_udir_export_dropped_again_is_current_again(tmp_path):
    """Row: an earlier Udir export dropped again under the same name was deleted with no message."""
    inbox, landing, con = tmp_path / "inbox", LandingZone(tmp_path / "landing"), duckdb.connect()
    first = excel_csv(UDIR_HEADER, "UTD04;2022-23;3025;Asker;7. og 10. trinn;4,2;;1830")
    second = excel_csv(UDIR_HEADER, "UTD04;2022-23;3025;Asker;7. og 10. trinn;3,9;;1830")

    def run(data: bytes):
        drop(inbox, "elevundersokelsen.csv", data)
        return refresh(con, landing, udir.SOURCE, partial(udir.validate, reference=REGISTRY), bundled=tmp_path / "b",
                       inbox=inbox, quarantine=tmp_path / "q", load_vintage=udir.load_vintage, settle_seconds=0,
                       plausible=udir.plausibility(REGISTRY))

    run(first)
    run(second)
    restored = run(first)
    assert [n for n, _ in restored.inbox.accepted] == ["elevundersokelsen.csv"], restored.inbox
    assert con.execute(f"""select value from {udir.TABLE} qualify row_number() over (
                           partition by indicator_id, municipality_code, year order by _vintage desc) = 1"""
                       ).fetchall() == [(4.2,)]


def test_a_copy_that_kept_its_old_modification_time_waits_while_it_is_written(tmp_path):
    """Row: `cp -p` / Explorer over SMB, stalled halfway: 4 of 6 rows loaded and the rest lost."""
    inbox, landing = tmp_path / "inbox", LandingZone(tmp_path / "landing")
    rows = [f"OKO01;3203;{y};{14 + y % 10},2;percent;measured;Regnskap;" for y in range(2018, 2024)]
    whole = excel_csv(REGISTRY_HEADER, *rows)
    half = excel_csv(REGISTRY_HEADER, *rows[:4])
    last_year = time.time() - 365 * 86400
    path = drop(inbox, "okonomi.csv", half, last_year)  # the copy has written 4 rows, and stalls
    result = process_inbox(inbox, tmp_path / "q", landing, REGISTRY, settle_seconds=30)
    assert result.accepted == [] and [n for n, _ in result.skipped] == ["okonomi.csv"]
    assert "settle" in result.skipped[0][1] and path.read_bytes() == half
    path.write_bytes(whole)  # the copy finishes and sets the old modification time again
    os.utime(path, (last_year, last_year))
    later = process_inbox(inbox, tmp_path / "q", landing, REGISTRY, settle_seconds=30, now=time.time() + 31)
    [(_, vintage)] = later.accepted
    assert len(parse_landed(vintage, REGISTRY)[1]) == 6


@pytest.mark.parametrize("junk", ["~$elevundersokelsen.xlsx", "eksport.csv.part", ".~lock.eksport.csv#", "arkiv/"])
def test_lock_files_and_subfolders_are_ignored_by_every_drop_zone_and_the_precheck(tmp_path, junk):
    """Row: an Excel lock file or a subfolder in the Udir inbox made the pre-check run the whole job forever."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    if junk.endswith("/"):
        (inbox / junk.rstrip("/")).mkdir()
        (inbox / junk.rstrip("/") / "gammel.csv").write_bytes(b"x")
    else:
        drop(inbox, junk, b"\x0bKari Nordmann" + b"\x00" * 150)
    assert listing(inbox) == [] and candidates(inbox, 0) == ([], [])
    settings = type("S", (), {"registry_inbox": tmp_path / "none", "udir_inbox_dir": inbox,
                              "data_dir": tmp_path / "data"})()
    assert precheck._inboxes(settings) is None
    result = kommune_nm.take_inbox(inbox, tmp_path / "q", LandingZone(tmp_path / "landing"), settle_seconds=0)
    assert result == type(result)([], [], [], []) and not (tmp_path / "q").exists()


def test_a_new_bundled_registry_release_lands_only_what_it_changes(tmp_path):
    """Row: a new bundled release changing one figure reverted the municipality's later correction."""
    seed, inbox, landing = tmp_path / "seed", tmp_path / "inbox", LandingZone(tmp_path / "landing")
    release = ["OKO01;3203;2022;14,8;percent;measured;Handlingsprogram 2024-2027;",
               "MED01;3203;2022;7,1;percent;measured;Handlingsprogram 2024-2027;"]
    drop(seed, "handlingsprogram.csv", excel_csv(REGISTRY_HEADER, *release))
    land_seed_files(seed, landing, REGISTRY)
    drop(inbox, "rettelse.csv", excel_csv(REGISTRY_HEADER, "OKO01;3203;2022;15,2;percent;measured;Regnskap;rettet"))
    process_inbox(inbox, tmp_path / "q", landing, REGISTRY, settle_seconds=0)
    drop(seed, "handlingsprogram.csv", excel_csv(REGISTRY_HEADER, release[0],
                                                 "MED01;3203;2022;7,3;percent;measured;Handlingsprogram 2024-2027;"))
    land_seed_files(seed, landing, REGISTRY)
    land_seed_files(seed, landing, REGISTRY)  # lands once
    con = duckdb.connect()
    for vintage in landed_vintages(landing, "registry"):
        manifest, rows = parse_landed(vintage, REGISTRY)
        load_registry_vintage(con, vintage, rows, manifest)
    current = con.execute("""select indicator_id, value from raw.registry_values qualify row_number() over (
                              partition by indicator_id, municipality_code, period order by _vintage desc) = 1
                              order by 1""").fetchall()
    assert current == [("MED01", 7.3), ("OKO01", 15.2)]
    assert len(landed_vintages(landing, "registry")) == 3


BUNDLED_KOMMUNE_NM = ROOT / "snapshots" / "kommune_nm" / "kommune_nm_2019_2022.csv"


def test_a_kommune_nm_release_that_changes_no_figure_is_nothing_new(tmp_path):
    """The bundled ranking saved again by Excel (CSV (semikolondelt): Windows-1252, CRLF), every figure the same:
    the release lands as a delta without rows, which failed to load ("no data rows") and stopped the source."""
    from styringsdata.raw.raw_store import load_landed_kommune_nm

    bundled, landing, con = tmp_path / "kommune_nm", LandingZone(tmp_path / "landing"), duckdb.connect()
    release = BUNDLED_KOMMUNE_NM.read_bytes()
    drop(bundled, BUNDLED_KOMMUNE_NM.name, release)
    kommune_nm.land_files(bundled, landing)
    first = load_landed_kommune_nm(con, landing, kommune_nm.validate)
    assert sum(r.rows for r in first) == release.count(b"\n") - 1
    before = con.execute("select * from raw.kommune_nm_ranks order by all").fetchall()
    drop(bundled, BUNDLED_KOMMUNE_NM.name, release.decode("utf-8").replace("\n", "\r\n").encode("cp1252"))

    kommune_nm.land_files(bundled, landing)
    again = load_landed_kommune_nm(con, landing, kommune_nm.validate)

    assert len(landed_vintages(landing, kommune_nm.SOURCE)) == 2  # landed once, as a release of its own
    assert again and all(r.already_loaded and r.rows == 0 for r in again), again  # nothing new upstream
    assert con.execute("select * from raw.kommune_nm_ranks order by all").fetchall() == before
    assert all(r.already_loaded for r in load_landed_kommune_nm(con, landing, kommune_nm.validate))
    # dropped in the inbox as well, the same bytes as the newest release: nothing new either
    drop(tmp_path / "inbox", BUNDLED_KOMMUNE_NM.name, release.decode("utf-8").replace("\n", "\r\n").encode("cp1252"))
    taken = kommune_nm.take_inbox(tmp_path / "inbox", tmp_path / "q", landing, settle_seconds=0)
    assert taken.rejected == [] and taken.skipped == []
    assert all(r.already_loaded or r.rows == len(before) for r in load_landed_kommune_nm(con, landing,
                                                                                          kommune_nm.validate))


def test_a_registry_release_that_changes_no_figure_is_nothing_new(tmp_path):
    """The same for the bundled registry file: a release without a changed figure is no new vintage to load."""
    seed, landing, con = tmp_path / "seed", LandingZone(tmp_path / "landing"), duckdb.connect()
    release = ["OKO01;3203;2022;14,8;percent;measured;Handlingsprogram 2024-2027;"]
    drop(seed, "handlingsprogram.csv", excel_csv(REGISTRY_HEADER, *release))
    land_seed_files(seed, landing, REGISTRY)
    drop(seed, "handlingsprogram.csv", excel_csv(REGISTRY_HEADER, *release).replace(b"\r\n", b"\n"))
    land_seed_files(seed, landing, REGISTRY)
    results = []
    for vintage in landed_vintages(landing, "registry"):
        manifest, rows = parse_landed(vintage, REGISTRY)
        results.append(load_registry_vintage(con, vintage, rows, manifest))
    assert [(r.rows, r.already_loaded) for r in results] == [(1, False), (0, True)]


def test_a_deflator_file_cut_short_while_copied_waits_and_is_never_the_whole_series(tmp_path):
    """Row: a deflator copy cut at a row boundary (2019-2022) was accepted as the whole series; no settle time."""
    con = duckdb.connect()
    deflator_refresh(tmp_path, con, bundled=BUNDLED_DEFLATOR.parent)
    before = deflator_in_use(con)
    whole = BUNDLED_DEFLATOR.read_bytes().replace(b";4,0;illustrative;2024-10", b";4,1;illustrative;2024-10")
    lines = whole.split(b"\n")
    cut = b"\n".join(line for line in lines if not line.startswith((b"2023", b"2024", b"2025"))) + b"\n"
    drop(tmp_path / "inbox" / "municipal_deflator", "kommunal_deflator.csv", cut, time.time() - 3600)
    waiting = deflator_refresh(tmp_path, con, settle=30)
    assert [n for n, _ in waiting.inbox.skipped] == ["kommunal_deflator.csv"] and deflator_in_use(con) == before
    # the copy stalls for good: once it has settled, the short file is rejected, never the series
    rejected = deflator_refresh(tmp_path, con, settle=30, now=time.time() + 60)
    [(_, report)] = rejected.inbox.rejected
    assert "every year of the series in use (2019-2025, from kommunal_deflator.csv)" in report.read_text()
    assert "lacks 2023, 2024, 2025" in report.read_text() and deflator_in_use(con) == before


# -- item 4: plausibility before use ------------------------------------------------------------------

def index_refresh(tmp_path: Path, data: bytes, name: str = "gront_hefte_2023.csv"):
    con = duckdb.connect()
    expense_need_index.ensure_table(con)
    reference = expense_need_index.NeedIndexReference(frozenset({"grunnskole", "samlet"}),
                                                      frozenset(MEMBERS | {"1818"}), {}, members=MEMBERS,
                                                      names=NAMES)
    drop(tmp_path / "inbox", name, data)
    result = refresh(con, LandingZone(tmp_path / "landing"), expense_need_index.SOURCE,
                     partial(expense_need_index.validate, reference=reference), bundled=tmp_path / "b",
                     inbox=tmp_path / "inbox", quarantine=tmp_path / "q", load_vintage=expense_need_index.load_vintage,
                     settle_seconds=0, plausible=expense_need_index.plausibility(reference))
    return result, con


def test_an_expense_need_file_with_one_ratio_among_indices_is_rejected_naming_the_row(tmp_path):
    """Row: `1,0421` among values like `98,5`: Asker's need-adjusted KOPP02 2023 went from 1 217 to 113 041."""
    data = excel_csv(INDEX_HEADER,
                     "2023;0301;Oslo;grunnskole;98,5;published;Grønt hefte 2023, tabell C-k;https://www.regjeringen.no/",
                     "2023;3203;Asker;grunnskole;1,0421;published;Grønt hefte 2023, tabell C-k;https://www.regjeringen.no/",
                     "2023;3201;Bærum;grunnskole;1000000;published;Grønt hefte 2023, tabell C-k;https://www.regjeringen.no/",
                     "2023;3201;Asker;samlet;101,2;published;Grønt hefte 2023, tabell C-k;https://www.regjeringen.no/")
    result, con = index_refresh(tmp_path, data)
    [(_, report)] = result.inbox.rejected
    text = report.read_text()
    assert "REJECTED, 3 problem(s)" in text, text
    assert ("row 3, column need_index: got '1.0421'; expected an index around 100 (national average = 100), between "
            "50 and 200 for an ASSS member (1,0421 is Grønt hefte's ratio: write 104,21)") in text
    assert "row 4, column need_index: got '1e+06'" in text
    assert "row 5, column municipality_name: got 'Asker'; expected the name of 3201 (Bærum (2024-))" in text
    assert con.execute(f"select count(*) from {expense_need_index.TABLE}").fetchone() == (0,)


def test_an_xlsx_expense_need_file_with_plausible_indices_and_names_is_accepted(tmp_path):
    data = excel_xlsx(INDEX_HEADER, "2023;3203;Asker;grunnskole;104,21;published;Grønt hefte 2023;https://x",
                      "2023;1818;Herøy (Nordland);grunnskole;160,5;published;Grønt hefte 2023;https://x")
    result, con = index_refresh(tmp_path, data, "gront_hefte_2023.xlsx")
    assert result.inbox.rejected == [] and con.execute(
        f"select municipality_code, need_index from {expense_need_index.TABLE} order by 1").fetchall() == [
        ("1818", 160.5), ("3203", 104.21)]


def test_a_deflator_published_in_the_future_or_out_of_range_is_rejected(tmp_path):
    """Row: a deflator 'published' in 2031 was accepted."""
    rows = deflator_series(range(2019, 2026))
    rows[-1] = rows[-1].replace(";2024-10;", ";2031-10;")
    rows[0] = rows[0].replace(";3,1;", ";21,0;", 1).replace(";4,3;", ";21,0;", 1)
    drop(tmp_path / "inbox" / "municipal_deflator", "deflator.csv", excel_csv(DEFLATOR_HEADER, *rows))
    result = deflator_refresh(tmp_path, duckdb.connect())
    text = result.inbox.rejected[0][1].read_text()
    assert "row 2, column deflator_percent: got '21,0'; expected the growth in percent between -20 and 20" in text
    month = dt.date.today().strftime("%Y-%m")
    assert f"row 8, column published: got '2031-10'; expected a month that has come ({month} or earlier)" in text


def test_a_one_year_deflator_file_does_not_replace_the_series(tmp_path):
    """Row: a one-year deflator file replaced the whole series."""
    con = duckdb.connect()
    deflator_refresh(tmp_path, con, bundled=BUNDLED_DEFLATOR.parent)
    before = deflator_in_use(con)
    drop(tmp_path / "inbox" / "municipal_deflator", "deflator_2025.csv",
         excel_csv(DEFLATOR_HEADER, "2025;4,1;NB25;2024-10;published;Prop. 1 S (2024-2025);https://x"))
    result = deflator_refresh(tmp_path, con)
    [(_, report)] = result.inbox.rejected
    assert "lacks 2019, 2020, 2021, 2022, 2023, 2024" in report.read_text() and deflator_in_use(con) == before


@pytest.mark.parametrize("row, expected", [
    ("UTD04;2023-24;0628;Hurum;7. og 10. trinn;4,1;;310",
     "row 2, column Kommunekode: got '0628'; expected a municipality code valid in 2023-24: 0628 ceased on "
     "2020-01-01 (use 3203)"),
    ("UTD02;2023-24;3203;Asker;10. trinn;;7,6;910",
     "row 2, column Trinnnavn: got '10. trinn'; expected 7. trinn: UTD02 is measured on 7. trinn"),
    ("UTD02;2023-24;3203;Asker;7. trinn;;0,076;910",
     "row 2, column AndelMobbet: got '0,076'; expected a share in percent, the catalogue's unit 'percent' of UTD02"),
])
def test_an_implausible_udir_row_rejects_the_file(tmp_path, row, expected):
    """Row: code 0628 (Hurum) for 2023-24, a 10th-grade row for a 7th-grade indicator, a share 0,076: accepted."""
    inbox = tmp_path / "inbox"
    drop(inbox, "eus.csv", excel_csv(UDIR_HEADER, row))
    con = duckdb.connect()
    result = refresh(con, LandingZone(tmp_path / "landing"), udir.SOURCE, partial(udir.validate, reference=REGISTRY),
                     bundled=tmp_path / "b", inbox=inbox, quarantine=tmp_path / "q", load_vintage=udir.load_vintage,
                     settle_seconds=0, plausible=udir.plausibility(REGISTRY))
    [(_, report)] = result.inbox.rejected
    assert expected in report.read_text(), report.read_text()


def udir_refresh(tmp_path: Path, *rows: str):
    drop(tmp_path / "inbox", "eus.csv", excel_csv(UDIR_HEADER, *rows))
    return refresh(duckdb.connect(), LandingZone(tmp_path / "landing"), udir.SOURCE,
                   partial(udir.validate, reference=REGISTRY), bundled=tmp_path / "b", inbox=tmp_path / "inbox",
                   quarantine=tmp_path / "q", load_vintage=udir.load_vintage, settle_seconds=0,
                   plausible=udir.plausibility(REGISTRY))


def test_klass_says_when_each_code_began_and_ceased():
    """From KLASS 131's changes: a code that first appears as a new code began then; one that was an old code
    before (Stavanger 1103 -> 1103 in 2020) existed already."""
    validity = klass.code_validity(bundled_klass_changes())
    assert validity.started_on["3203"] == dt.date(2024, 1, 1) and validity.started_on["3025"] == dt.date(2020, 1, 1)
    assert validity.ceased_on["3025"] == dt.date(2024, 1, 1) and validity.ceased_on["0628"] == dt.date(2020, 1, 1)
    assert "0628" not in validity.started_on  # older than the changes KLASS was asked for
    assert "1103" not in validity.started_on and "1103" not in validity.ceased_on  # kept its number


def test_the_runs_reference_knows_when_each_code_began(tmp_path):
    """The reference a run checks Udir files against reads KLASS's changes from raw, as the run loaded them."""
    from styringsdata.raw.raw_store import ensure_schema
    from styringsdata.sources.catalogue import registry_reference

    con = duckdb.connect()
    ensure_schema(con)
    changes = bundled_klass_changes()
    con.executemany("insert into raw.klass_municipality_changes values (?, ?, ?, ?, ?, 'v1', now(), '')",
                    [(c.old_code, c.old_name, c.new_code, c.new_name, c.change_occurred) for c in changes])
    con.executemany("insert into raw.klass_municipality_lineage values (?, ?, ?, ?, ?, ?, 'v1', now())",
                    [(r.from_code, r.from_name, r.to_code, r.to_name, r.changed_on, r.successor_count)
                     for r in klass.build_lineage(changes)])
    con.execute("insert into raw.ssb_categories values ('12367', 'v1', 'KOKkommuneregion0000', '3203', 'Asker', "
                "1, null, null)")
    reference = registry_reference(con, ROOT / "dbt_project" / "seeds" / "catalogue_indicators.csv")
    assert reference.started_on["3203"] == dt.date(2024, 1, 1) and reference.predecessors["3203"] == ("3025",)
    assert reference.retired_on["0628"] == dt.date(2020, 1, 1) and reference.retired_on["3025"] == dt.date(2024, 1, 1)


@pytest.mark.parametrize("school_year", ["2022-23", "2023-24"])
def test_a_code_used_before_it_existed_rejects_the_udir_file(tmp_path, school_year):
    """3203 is Asker's code from 1 January 2024; a school year belongs to the calendar year it starts in (the
    autumn term, when Elevundersøkelsen is answered), as for 0628 after 2019, so 2023-24 is still 3025's."""
    result = udir_refresh(tmp_path, f"UTD04;{school_year};3203;Asker;7. og 10. trinn;4,1;;1830")
    [(_, report)] = result.inbox.rejected
    assert (f"row 2, column Kommunekode: got '3203'; expected a municipality code valid in {school_year}: 3203 "
            "began on 2024-01-01 (before it: 3025)") in report.read_text(), report.read_text()


def test_a_code_from_the_school_year_it_began_is_accepted(tmp_path):
    result = udir_refresh(tmp_path, "UTD04;2024-25;3203;Asker;7. og 10. trinn;4,1;;1830")
    assert result.inbox.rejected == [] and [n for n, _ in result.inbox.accepted] == ["eus.csv"]


def test_a_former_code_in_a_year_it_was_valid_is_still_accepted(tmp_path):
    drop(tmp_path / "inbox", "eus.csv", excel_csv(UDIR_HEADER, "UTD04;2019-20;0628;Hurum;7. og 10. trinn;4,1;;310",
                                                  "UTD03;2023-24;3025;Asker;10. trinn;;6,1;900"))
    result = refresh(duckdb.connect(), LandingZone(tmp_path / "landing"), udir.SOURCE,
                     partial(udir.validate, reference=REGISTRY), bundled=tmp_path / "b", inbox=tmp_path / "inbox",
                     quarantine=tmp_path / "q", load_vintage=udir.load_vintage, settle_seconds=0,
                     plausible=udir.plausibility(REGISTRY))
    assert result.inbox.rejected == [] and [n for n, _ in result.inbox.accepted] == ["eus.csv"]


# -- item 5: text from files is inert in every report format ----------------------------------------

def test_a_hostile_file_name_is_text_in_the_markdown_report_and_its_mail():
    """Row: a registry file named `x<img src=x onerror=alert(7)>.csv`: HTML escaped it, the mailed Markdown not."""
    from styringsdata.reporting.report import _md_escape, _md_table

    name = "x<img src=x onerror=alert(7)>.csv"
    table = _md_table([{"file": name, "comment": "[klikk](http://x) | **viktig**"}], ["file", "comment"])
    import re

    # every active character escaped: no reader turns the name into an element, a link or emphasis
    assert not re.search(r"(?<!\\)[<>\[\]*]", table.split("\n", 2)[2]), table
    assert _md_escape(name) == r"x\<img src=x onerror=alert(7)\>.csv"
    assert table.count(" | ") == 1 + 1  # the cell's own bar is escaped: still two columns
