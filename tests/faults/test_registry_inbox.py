"""Faults in the registry inbox (issue 11): files still being written, temporary names, files that make
the reader raise, corrections processed together, an earlier file dropped again to revert a figure.

Every path that takes files from the inbox (CLI run, schedules, sensors, UI-launched runs) goes through
`process_inbox`, so these tests exercise it directly; `pipeline/test_registry_drop_zone.py` checks the
same orders end to end in the published marts.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from styringsdata.sources import registry
from styringsdata.raw.landing import LandingZone
from styringsdata.raw.raw_store import load_registry_vintage
from styringsdata.sources.registry import IndicatorRule, land_seed_files, load_reference, parse_landed, process_inbox
from tests.ingestion.test_registry import excel_csv, workbook

REFERENCE = load_reference(
    [IndicatorRule("OKO01", "registry", "percent"), IndicatorRule("MED01", "registry", "percent")],
    municipalities={"3203", "3201"}, retired={}, max_bytes=100_000)
HEADER = "indicator_id;municipality_code;period;value;unit;status;source;comment\r\n"


def row(value: str, year: int = 2023, comment: str = "") -> list[str]:
    return ["MED01", "3203", str(year), value, "percent", "measured", "HR", comment]


def age(path: Path, seconds: float) -> None:
    """As if the file had been written `seconds` ago."""
    moment = time.time() - seconds
    os.utime(path, (moment, moment))


def later(seconds: float = 120) -> float:
    """A look this much later: a test can set a file's modification time back, but not its change time (ctime),
    which the settle rule also reads (sources/drop_zone.py), so a test that wants a settled file looks later."""
    return time.time() + seconds


def drop(inbox: Path, name: str, data: bytes, seconds_ago: float = 120) -> Path:
    path = inbox / name
    path.write_bytes(data)
    age(path, seconds_ago)
    return path


@pytest.fixture
def zone(tmp_path):
    inbox, quarantine = tmp_path / "inbox", tmp_path / "quarantine"
    inbox.mkdir()
    return inbox, quarantine, LandingZone(tmp_path / "landing")


def load_all(landing: LandingZone, path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    for table in sorted(p.name for p in (landing.root / "registry").iterdir()):
        for vintage in landing.vintages("registry", table):
            directory = landing.vintage_dir("registry", table, vintage)
            manifest, rows = parse_landed(directory, REFERENCE)
            load_registry_vintage(con, directory, rows, manifest)
    return con


def current(con) -> list[tuple]:
    """What int_registry__values_latest publishes: per figure, the row of the greatest vintage."""
    return con.execute("""select indicator_id, municipality_code, period, value, _file from raw.registry_values
                          qualify row_number() over (partition by indicator_id, municipality_code, period
                                                     order by _vintage desc, _row desc) = 1
                          order by all""").fetchall()


# -- half-written files and temporary names --------------------------------------------------------

def test_a_file_still_being_copied_is_not_loaded_and_stays_in_the_inbox(zone):
    inbox, quarantine, landing = zone
    whole = excel_csv([row("8,9", 2020), row("9,1", 2021), row("9,4", 2022), row("9,0", 2023)])
    half = whole[: whole.index(b"9,4")]  # the copy has written 2 of 4 rows (and part of the third)
    (inbox / "sykefravaer.csv").write_bytes(half)  # written just now
    result = process_inbox(inbox, quarantine, landing, REFERENCE)
    assert result.accepted == [] and result.rejected == []
    assert [name for name, _ in result.skipped] == ["sykefravaer.csv"]
    assert "modified" in result.skipped[0][1] and "settle" in result.skipped[0][1]
    assert (inbox / "sykefravaer.csv").read_bytes() == half and not (landing.root / "registry").exists()
    # the copy finishes; once the file has settled it loads whole
    (inbox / "sykefravaer.csv").write_bytes(whole)
    age(inbox / "sykefravaer.csv", 31)
    result = process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    assert [name for name, _ in result.accepted] == ["sykefravaer.csv"] and list(inbox.iterdir()) == []
    assert len(parse_landed(result.accepted[0][1], REFERENCE)[1]) == 4


def test_a_file_that_grows_while_it_is_read_is_left_for_the_next_run(zone, monkeypatch):
    inbox, quarantine, landing = zone
    rows = [row("8,9", 2020), row("9,1", 2021)]
    path = drop(inbox, "sykefravaer.csv", excel_csv(rows))  # an old modification time: looks settled
    original = Path.read_bytes

    def read_while_the_writer_appends(self: Path) -> bytes:
        data = original(self)
        if self.name == "sykefravaer.csv":
            with open(self, "ab") as writer:  # the copy goes on while we read
                writer.write(";".join(row("9,4", 2022)).encode() + b"\r\n")
            age(self, 120)
        return data

    monkeypatch.setattr(Path, "read_bytes", read_while_the_writer_appends)
    result = process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    monkeypatch.undo()
    assert result.accepted == [] and result.rejected == []
    assert result.skipped == [("sykefravaer.csv", "its size or modification time changed while it was read; "
                                                  "it is read again on the next run")]
    assert path.exists() and not (landing.root / "registry").exists()


@pytest.mark.parametrize("name", ["~$sykefravaer.xlsx", "sykefravaer.csv.tmp", "sykefravaer.xlsx.part",
                                  ".~lock.sykefravaer.csv#", ".sykefravaer.csv.swp"])
def test_temporary_names_are_left_alone(zone, name):
    inbox, quarantine, landing = zone
    # Excel's owner file next to an open workbook: 165 bytes, the user's name, not a workbook
    junk = drop(inbox, name, b"\x0bKari Nordmann" + b"\x00" * 150)
    good = drop(inbox, "sykefravaer.csv", excel_csv([row("8,9")]))
    result = process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    assert [n for n, _ in result.accepted] == ["sykefravaer.csv"] and result.rejected == []
    assert junk.exists() and not good.exists() and not quarantine.exists()


def test_the_settle_rule_is_one_function_shared_by_sensor_and_runs(zone):
    inbox, _, _ = zone
    drop(inbox, "ferdig.csv", b"x", seconds_ago=40)
    drop(inbox, "ny.csv", b"x", seconds_ago=-30)  # still written 30 s from now
    drop(inbox, "~$ferdig.xlsx", b"x", seconds_ago=40)
    ready, waiting = registry.inbox_candidates(inbox, settle_seconds=30, now=later(40))
    assert [p.name for p in ready] == ["ferdig.csv"]
    assert [name for name, _ in waiting] == ["ny.csv"]


# -- whatever goes wrong reading one file -------------------------------------------------------------

def broken_xlsx() -> bytes:
    """An XLSX whose sheet XML is cut off (a sync client that stopped mid-file): the XML parser raises."""
    data = workbook([["MED01", "3203", 2023, 8.9, "percent", "measured", "HR", None]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            target.writestr(item, body[: len(body) // 2] if item.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def test_an_xlsx_that_makes_the_parser_raise_is_quarantined_and_the_run_goes_on(zone):
    # raised xml.etree.ElementTree.ParseError out of the registry step: the file stayed, every run failed
    inbox, quarantine, landing = zone
    drop(inbox, "a_broken.xlsx", broken_xlsx())
    drop(inbox, "b_good.csv", excel_csv([row("8,9")]))
    result = process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    assert [n for n, _ in result.rejected] == ["a_broken.xlsx"] and [n for n, _ in result.accepted] == ["b_good.csv"]
    report = result.rejected[0][1].read_text(encoding="utf-8")
    assert report.startswith("a_broken.xlsx: REJECTED")
    assert "a_broken.xlsx: cannot be read (ParseError: unclosed token" in report
    assert list(inbox.iterdir()) == []


def test_any_exception_while_reading_quarantines_that_file_only(zone, monkeypatch):
    inbox, quarantine, landing = zone
    drop(inbox, "a.csv", excel_csv([row("8,9", 2021)]))
    drop(inbox, "b.csv", excel_csv([row("9,1", 2022)]))
    original = registry.read_cells

    def read_cells(data: bytes, name: str):
        if name == "a.csv":
            raise MemoryError("simulated")
        return original(data, name)

    monkeypatch.setattr(registry, "read_cells", read_cells)
    result = process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    assert [n for n, _ in result.rejected] == ["a.csv"] and [n for n, _ in result.accepted] == ["b.csv"]
    assert "a.csv: cannot be read (MemoryError: simulated)" in result.rejected[0][1].read_text()
    [kept] = [p for p in quarantine.iterdir() if p.name.endswith("-a.csv")]
    assert kept.read_bytes() == excel_csv([row("8,9", 2021)])


# -- a file leaves the inbox only once its vintage is on disk --------------------------------------------

def test_the_inbox_file_is_removed_only_after_its_vintage_is_fsynced(zone, monkeypatch):
    inbox, quarantine, landing = zone
    drop(inbox, "sykefravaer.csv", excel_csv([row("8,9")]))
    events: list[str] = []
    real_fsync, real_unlink = os.fsync, Path.unlink

    def fsync(fd: int) -> None:
        events.append("fsync " + os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        events.append(f"unlink {self}")
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Path, "unlink", unlink)
    [(_, vintage)] = process_inbox(inbox, quarantine, landing, REFERENCE, now=later()).accepted
    monkeypatch.undo()
    removed = events.index(f"unlink {inbox / 'sykefravaer.csv'}")
    synced = [e.split(" ", 1)[1] for e in events[:removed] if e.startswith("fsync ")]
    for path in [*vintage.iterdir(), vintage, vintage.parent]:
        assert str(path) in synced, (path, events)


def test_a_failure_to_land_leaves_the_file_in_the_inbox(zone, monkeypatch):
    inbox, quarantine, landing = zone
    path = drop(inbox, "sykefravaer.csv", excel_csv([row("8,9")]))

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    monkeypatch.undo()
    assert path.exists() and not quarantine.exists()  # not the file's fault: it waits for the next run


# -- the order of corrections -----------------------------------------------------------------------------

def adversarial_pair() -> tuple[bytes, bytes]:
    """An original and its correction whose content digests sort the wrong way round (original first)."""
    correction = excel_csv([row("9,4", comment="rettet")])
    for n in range(1000):
        original = excel_csv([row("8,9", comment=f"første utkast {n}")])
        if hashlib.sha256(original).hexdigest()[:12] > hashlib.sha256(correction).hexdigest()[:12]:
            return original, correction
    raise AssertionError("no pair found")


def test_a_correction_processed_in_the_same_second_as_its_original_wins(zone, tmp_path, monkeypatch):
    # was decided by the sha256 in the vintage name: the older figure won
    inbox, quarantine, landing = zone
    original, correction = adversarial_pair()
    # names in the opposite order too: the modification time decides, then the name
    drop(inbox, "sykefravaer_2023.csv", original, seconds_ago=300)
    drop(inbox, "rettet_sykefravaer_2023.csv", correction, seconds_ago=60)
    monkeypatch.setattr(registry, "utc_now", lambda: "2025-03-01T10:00:00Z", raising=False)  # the same second
    result = process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    con = load_all(landing, tmp_path / "work.duckdb")
    assert current(con) == [("MED01", "3203", 2023, 9.4, "rettet_sykefravaer_2023.csv")]
    assert [n for n, _ in result.accepted] == ["sykefravaer_2023.csv", "rettet_sykefravaer_2023.csv"]


def test_files_with_the_same_modification_time_are_ordered_by_name(zone, tmp_path):
    inbox, quarantine, landing = zone
    a, b = drop(inbox, "a.csv", excel_csv([row("8,9")])), drop(inbox, "b.csv", excel_csv([row("9,4")]))
    os.utime(b, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns))
    process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    assert current(load_all(landing, tmp_path / "work.duckdb")) == [("MED01", "3203", 2023, 9.4, "b.csv")]


def test_dropping_an_earlier_file_again_makes_its_figures_current(zone, tmp_path):
    # was silently discarded as "already landed"
    inbox, quarantine, landing = zone
    first = excel_csv([row("8,9")])
    drop(inbox, "sykefravaer.csv", first, seconds_ago=3600)
    process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    drop(inbox, "sykefravaer_rettet.csv", excel_csv([row("9,4")]), seconds_ago=1800)
    process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    # the clerk copies the first file back (Windows keeps its old modification time)
    drop(inbox, "sykefravaer.csv", first, seconds_ago=3600)
    again = process_inbox(inbox, quarantine, landing, REFERENCE, now=later())
    assert [n for n, _ in again.accepted] == ["sykefravaer.csv"] and again.already_landed == []
    assert len(landing.vintages("registry", "sykefravaer")) == 2
    assert current(load_all(landing, tmp_path / "work.duckdb")) == [("MED01", "3203", 2023, 8.9, "sykefravaer.csv")]


def test_the_bundled_files_land_once_however_many_runs(tmp_path):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "handlingsprogram.csv").write_bytes(excel_csv([row("8,9", 2022)]))
    landing = LandingZone(tmp_path / "landing")
    for _ in range(3):
        land_seed_files(seed, landing, REFERENCE)
    assert len(landing.vintages("registry", "handlingsprogram")) == 1


@pytest.mark.parametrize("value", ["abc", "-5", "nan", "inf", ""])
def test_a_settle_time_that_is_not_a_number_of_seconds_is_refused_naming_the_variable(value):
    from styringsdata.settings import Settings

    with pytest.raises(ValueError, match=rf"STYRINGSDATA_REGISTRY_SETTLE_SECONDS='{value}': expected a number of "
                                         r"seconds, 0 or more \(e\.g\. 30\)"):
        Settings.from_env({"STYRINGSDATA_REGISTRY_SETTLE_SECONDS": value})
    assert Settings.from_env({}).registry_settle_seconds == 30
    assert Settings.from_env({"STYRINGSDATA_REGISTRY_SETTLE_SECONDS": "0"}).registry_settle_seconds == 0
