"""Change detection at the sources' cost: one SSB listing for every table, one FHI listing, and a conditional
request before the Miljødirektoratet workbook is downloaded (issue 17).

Live mode throughout: the transport's real retry and rate-limit path, answered either by the bundled snapshots
(replayed, with the source's clock at the snapshot's recorded time) or by the in-process fakes, whose world
clock the tests move.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.parse
from pathlib import Path

import pytest

from styringsdata.sources import miljodirektoratet
from tests.fakes.fake_ssb import FakeSsb
from styringsdata.sources.fhi import FhiClient, load_fhi_specs, modified_since
from styringsdata.sources.fhi import refresh_table as refresh_fhi_table
from styringsdata.raw.landing import LandingZone
from styringsdata.sources.ssb import (CHECK_STATE, MAX_PAST_DAYS, SsbClient, TableSpecs, check_ssb, load_table_specs,
                           past_days_for, read_check_state, refresh_table, table_spec)
from styringsdata.sources.transport import Request, SnapshotStore, SourceMode, Transport
from snapshots.build import FileHost
from tests.ingestion.fakes import FakeClock, small_table

SNAPSHOTS = Path(__file__).resolve().parents[2] / "snapshots"
LISTING = "https://data.ssb.no/api/pxwebapi/v2/tables"
T0 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.timezone.utc)  # after small_table's updated (2026-03-15)


class WorldClock:
    """The time in a fake world: SSB's listing and our transport read the same clock."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def kind(request: Request) -> str:
    parsed = urllib.parse.urlsplit(request.url)
    if parsed.netloc == "data.ssb.no":
        if "/codelists/" in parsed.path:
            return "ssb codelist"
        return "ssb " + ("listing" if parsed.path.endswith("/tables") else parsed.path.rsplit("/", 1)[-1])
    if parsed.netloc == "statistikk-data.fhi.no":
        return "fhi " + parsed.path.rsplit("/", 1)[-1]
    return f"{parsed.netloc} {request.method} " + ("conditional" if request.conditions() else "plain")


# -- the bundled snapshots, replayed through a live transport ---------------------------------------

def replayed_live() -> tuple[Transport, list[tuple[str, int]]]:
    """A LIVE transport whose every answer comes from the bundled snapshots, SSB's clock standing where they
    were recorded: what `bench/bench_requests.py` measures."""
    store = SnapshotStore(SNAPSHOTS)
    asked: list[tuple[str, int]] = []

    def sender(request: Request, timeout: float):
        response = store.load(request)
        asked.append((kind(request), response.status))
        return response

    recorded = store.recorded_at("data.ssb.no")
    assert recorded is not None
    return Transport(SourceMode.LIVE, sender=sender, clock=FakeClock(), wall_clock=lambda: recorded), asked


def refresh_sources(transport: Transport, landing: LandingZone) -> miljodirektoratet.EmissionsRefresh:
    """What the SSB, FHI and Miljødirektoratet assets call in one run."""
    ssb_specs, fhi_specs = load_table_specs(), load_fhi_specs()
    client = SsbClient(transport)
    check = check_ssb(client, landing, [t.table_id for t in ssb_specs.tables])
    for spec in ssb_specs.tables:
        refresh_table(client, landing, ssb_specs, spec, check)
    fhi = FhiClient(transport)
    modified, _ = fhi.modified_tables(fhi_specs.source_id, modified_since(landing, fhi_specs))
    for table in fhi_specs.tables:
        refresh_fhi_table(fhi, landing, fhi_specs, table, modified)
    return miljodirektoratet.refresh(transport, landing)


def test_a_no_op_live_refresh_asks_one_ssb_listing_one_fhi_listing_and_downloads_no_workbook(tmp_path):
    landing = LandingZone(tmp_path / "landing")
    transport, asked = replayed_live()
    first = refresh_sources(transport, landing)
    tables = len(load_table_specs().tables)
    assert first.changed and first.downloaded
    assert sum(1 for k, _ in asked if k == "ssb metadata") == tables
    # a first fetch asks nothing before the metadata: neither a listing nor table info (13470's code list, which it
    # selects NACE2007 through, comes with its metadata)
    assert not [k for k, _ in asked if k.startswith("ssb") and k not in ("ssb metadata", "ssb codelist", "ssb data")]
    assert sum(1 for k, _ in asked if k == "ssb codelist") == 1

    asked.clear()
    second = refresh_sources(transport, landing)
    ssb = [k for k, _ in asked if k.startswith("ssb")]
    fhi = [k for k, _ in asked if k.startswith("fhi")]
    workbook = [(k, status) for k, status in asked if k.startswith("www.miljodirektoratet.no")]
    assert ssb == ["ssb listing"]  # one call for all tables, instead of one table-info call each
    assert fhi == ["fhi table"]  # table?modifiedAfter=
    assert workbook == [("www.miljodirektoratet.no GET conditional", 304)]  # asked, not downloaded
    assert not second.changed and not second.downloaded and second.vintage == first.vintage
    assert "304" in second.how


# -- SSB: the fake, with a clock that moves ---------------------------------------------------------

SPECS = TableSpecs(tuple(table_spec(t, f"t{t}", "Test", "statbank", "Region",
                                    {"ContentsCode": ("Personer",), "Alder": ("15-74",)}) for t in ("11111", "22222")),
                   ("0001", "0002", "0003"), (), (), 2020, 2022)


def ssb_world(tmp_path, **fake_options):
    clock = WorldClock(T0)
    fake = FakeSsb([small_table("11111"), small_table("22222")], now=clock, **fake_options)
    transport = Transport(SourceMode.LIVE, sender=fake, clock=FakeClock(), wall_clock=clock)
    return SsbClient(transport), fake, clock, LandingZone(tmp_path / "landing")


def refresh_all(client: SsbClient, landing: LandingZone):
    check = check_ssb(client, landing, [t.table_id for t in SPECS.tables])
    return check, {t.table_id: refresh_table(client, landing, SPECS, t, check) for t in SPECS.tables}


def paths(fake: FakeSsb, since: int) -> list[str]:
    return [r.url.removeprefix(LISTING) or "(listing)" for r in fake.log[since:]]


def test_a_table_updated_upstream_is_found_by_the_one_listing_and_fetched(tmp_path):
    client, fake, clock, landing = ssb_world(tmp_path, unrelated_per_day=25)
    _, first = refresh_all(client, landing)
    assert all(r.changed for r in first.values())

    clock.now = T0 + dt.timedelta(hours=30)  # SSB publishes a revised 22222 the next morning
    fake.tables["22222"].updated = "2026-03-21T07:00:00Z"
    clock.now = T0 + dt.timedelta(days=2)
    before = len(fake.log)
    check, second = refresh_all(client, landing)
    assert paths(fake, before) == ["(listing)", "/22222/metadata", "/22222/data"]
    (listing,) = fake.listing_requests()
    assert dict(listing.params)["pastDays"] == "3"  # two days since the last check, and a day for SSB's index
    assert check.method == "listing" and check.calls == 1 and set(check.changed) == {"22222"}
    assert not second["11111"].changed and second["11111"].vintage == first["11111"].vintage
    assert second["22222"].changed and second["22222"].vintage == "2026-03-21T070000Z"
    manifest = json.loads((second["22222"].landing_path / "manifest.json").read_text())
    assert manifest["source_updated"] == "2026-03-21T07:00:00Z"  # from the metadata: no table-info call
    assert manifest["change_check"] == "SSB's updated moved (listing GET /tables?pastDays=3)"

    # nothing new since: one listing, reaching back to this check only
    clock.now += dt.timedelta(hours=1)
    before = len(fake.log)
    _, third = refresh_all(client, landing)
    assert paths(fake, before) == ["(listing)"] and not any(r.changed for r in third.values())
    assert dict(fake.listing_requests()[-1].params)["pastDays"] == "2"


def test_a_table_found_changed_stays_changed_until_it_lands(tmp_path):
    client, fake, clock, landing = ssb_world(tmp_path)
    refresh_all(client, landing)
    fake.tables["11111"].updated = "2026-03-21T07:00:00Z"
    clock.now = T0 + dt.timedelta(days=1)
    assert set(check_ssb(client, landing, ["11111", "22222"]).changed) == {"11111"}  # the sensor's check
    # Weeks later its run has still not landed it; the listing no longer reaches 21 March, the check still knows.
    clock.now = T0 + dt.timedelta(days=20)
    check = check_ssb(client, landing, ["11111", "22222"])
    assert check.method == "listing" and check.changed == {"11111": "2026-03-21T07:00:00Z"}
    assert read_check_state(landing)["11111"].updated == "2026-03-21T07:00:00Z"


def test_every_page_of_the_listing_is_read_and_too_many_pages_fall_back_to_table_info(tmp_path, caplog):
    client, fake, clock, landing = ssb_world(tmp_path, unrelated_per_day=5)
    refresh_all(client, landing)
    fake.tables["11111"].updated = "2026-03-20T10:00:00Z"
    clock.now = T0 + dt.timedelta(hours=3)
    listing = client.updated_tables(2, page_size=2)
    assert listing.complete and listing.calls == listing.pages > 2
    assert listing.updated["11111"] == "2026-03-20T10:00:00Z" and "22222" not in listing.updated

    # 5 tables a day for 2 days and ours is 6 pages of 2: more calls than asking the 2 tables one by one.
    with caplog.at_level(logging.INFO, logger="styringsdata.sources.ssb"):
        check = check_ssb(client, landing, ["11111", "22222"], page_size=2)
    assert check.method == "table info" and set(check.changed) == {"11111"}
    assert check.calls == 3  # the first page, then two table-info calls
    assert "runs to" in check.how and "more calls than the 2 table-info calls" in caplog.text


def test_an_unknown_or_too_old_last_check_asks_table_by_table_and_says_why(tmp_path, caplog):
    client, fake, clock, landing = ssb_world(tmp_path)
    refresh_all(client, landing)
    clock.now = T0 + dt.timedelta(days=MAX_PAST_DAYS + 1)
    before = len(fake.log)
    with caplog.at_level(logging.INFO, logger="styringsdata.sources.ssb"):
        check = check_ssb(client, landing, ["11111", "22222"])
    assert paths(fake, before) == ["/11111", "/22222"] and check.method == "table info"
    assert f"longer ago than the {MAX_PAST_DAYS} days a listing is asked for" in caplog.text
    # what the table info said is kept: the next check is one listing again
    clock.now += dt.timedelta(hours=1)
    assert check_ssb(client, landing, ["11111", "22222"]).method == "listing"

    (landing.root / "ssb" / CHECK_STATE).unlink()  # a landing zone from before change checks were kept
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="styringsdata.sources.ssb"):
        assert check_ssb(client, landing, ["11111", "22222"]).method == "table info"
    assert "2 landed table(s) have no earlier check" in caplog.text


def test_a_replayed_snapshot_that_does_not_say_when_it_was_recorded_asks_table_by_table(tmp_path):
    snapshots = tmp_path / "snapshots"
    clock = WorldClock(T0)
    fake = FakeSsb([small_table("11111")], now=clock)
    recorder = Transport(SourceMode.RECORD, snapshots, sender=fake, wall_clock=clock)
    specs = TableSpecs(SPECS.tables[:1], SPECS.municipalities, (), (), 2020, 2022)
    landing = LandingZone(tmp_path / "recording")
    refresh_table(SsbClient(recorder), landing, specs, specs.tables[0], check_ssb(SsbClient(recorder), landing, ["11111"]))
    SsbClient(recorder).table_info("11111")
    assert json.loads((snapshots / "data.ssb.no" / "recorded_at.json").read_text()) == {"recorded_at": "2026-03-20T09:00:00Z"}
    (snapshots / "data.ssb.no" / "recorded_at.json").unlink()

    replay = SsbClient(Transport(SourceMode.REPLAY, snapshots))
    landing = LandingZone(tmp_path / "landing")
    refresh_table(replay, landing, specs, specs.tables[0], check_ssb(replay, landing, ["11111"]))
    check = check_ssb(replay, landing, ["11111"])
    assert check.method == "table info" and "has no recorded_at.json" in check.how and not check.changed


def test_past_days_cover_the_time_since_the_last_check_and_a_day_of_index_lag():
    assert past_days_for(dt.timedelta(0)) == 1
    assert past_days_for(dt.timedelta(minutes=5)) == 2
    assert past_days_for(dt.timedelta(days=1)) == 2
    assert past_days_for(dt.timedelta(days=1, seconds=1)) == 3


# -- Miljødirektoratet ------------------------------------------------------------------------------

def workbook() -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = miljodirektoratet.SHEET
    sheet.append(list(miljodirektoratet.COLUMNS))
    sheet.append(["Akershus", 3203, "Asker", 2022, "Veitrafikk", "Personbiler  ", "CO2", 3352.02])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URL = miljodirektoratet.DOWNLOAD_URL


def test_the_workbook_is_not_downloaded_again_when_the_servers_validators_say_unchanged(tmp_path):
    host = FileHost(URL, workbook(), XLSX)
    transport = Transport(SourceMode.LIVE, sender=host, clock=FakeClock())
    landing = LandingZone(tmp_path)
    first = miljodirektoratet.refresh(transport, landing)
    assert first.changed and host.downloads() == 1
    manifest = json.loads((first.landing_path / "manifest.json").read_text())
    assert manifest["validators"] == {"etag": host.etag, "last-modified": host.last_modified}

    second = miljodirektoratet.refresh(transport, landing)
    assert host.downloads() == 1 and host.answered[-1] == ("GET", 304, 0)
    assert not second.changed and not second.downloaded and second.vintage == first.vintage

    # Miljødirektoratet publishes a new workbook: the validators no longer match, it is downloaded
    import io
    import zipfile

    changed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook())) as source, zipfile.ZipFile(changed, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename) + (b" " if info.filename.endswith(".xml") else b""))
    host.body = changed.getvalue()
    third = miljodirektoratet.refresh(transport, landing)
    assert third.changed and third.downloaded and host.downloads() == 2


def test_a_server_without_validators_is_downloaded_and_compared_by_hash_as_before(tmp_path):
    host = FileHost(URL, workbook(), XLSX, validators=False)
    transport = Transport(SourceMode.LIVE, sender=host, clock=FakeClock())
    landing = LandingZone(tmp_path)
    first = miljodirektoratet.refresh(transport, landing)
    second = miljodirektoratet.refresh(transport, landing)
    assert host.downloads() == 2 and not second.changed and second.vintage == first.vintage
    assert "the server sends no ETag or Last-Modified, so every refresh downloads" in second.how


def test_validators_learned_after_a_vintage_landed_spare_the_next_download(tmp_path):
    landing = LandingZone(tmp_path)
    plain = FileHost(URL, workbook(), XLSX, validators=False)
    first = miljodirektoratet.refresh(Transport(SourceMode.LIVE, sender=plain, clock=FakeClock()), landing)
    host = FileHost(URL, workbook(), XLSX)  # the server starts sending validators for the same file
    transport = Transport(SourceMode.LIVE, sender=host, clock=FakeClock())
    assert not miljodirektoratet.refresh(transport, landing).changed and host.downloads() == 1
    assert json.loads((first.landing_path / "validators.json").read_text())["etag"] == host.etag
    assert not miljodirektoratet.refresh(transport, landing).downloaded and host.downloads() == 1


@pytest.mark.parametrize("answer, message", [
    (b'{"language": "no", "tables": [{"id": "11111"', r"did not answer JSON"),
    (b'{"language": "no"}', r"expected 'tables' \(a list\) and 'page' \(an object\)"),
    (b'{"tables": [{"id": "11111"}], "page": {"totalPages": 1}}', r"tables\[0\] has no 'id' and 'updated'"),
])
def test_a_listing_that_cannot_be_read_stops_the_check_naming_the_url_and_lands_nothing(tmp_path, answer, message):
    from styringsdata.sources.ssb import SsbError
    from styringsdata.sources.transport import Response

    client, fake, clock, landing = ssb_world(tmp_path)
    refresh_all(client, landing)
    state = (landing.root / "ssb" / CHECK_STATE).read_text()
    clock.now += dt.timedelta(hours=1)

    def broken(request, timeout):
        if request.url == LISTING:
            return Response(200, answer, {"content-type": "application/json"})
        return fake(request, timeout)

    client.transport.sender = broken
    with pytest.raises(SsbError, match=rf"{LISTING}\?lang=no&pastDays=2\S*.*{message}"):
        check_ssb(client, landing, ["11111", "22222"])
    assert (landing.root / "ssb" / CHECK_STATE).read_text() == state  # nothing recorded as seen
    assert sorted(p.name for p in (landing.root / "ssb").iterdir()) == ["11111", "22222", CHECK_STATE]
