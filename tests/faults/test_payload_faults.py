"""Answers that arrive whole at the HTTP level but cannot be used: truncated or invalid JSON, a
JSON-stat whose sizes do not match its values, a series code that disappeared from the metadata,
a new dimension, an unknown municipality code.

For each: a clear error naming table, URL or file, and what is wrong; nothing half-landed or
loaded; the vintage we had stays in landing and raw; what the source sent is kept for diagnosis;
and, where the source heals, the next run recovers by itself.
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from snapshots.fakes.fake_fhi import FakeFhi
from snapshots.fakes.fake_ssb import FakeDimension
from styringsdata.sources.fhi import FhiClient, FhiError, refresh_table as refresh_fhi
from styringsdata.raw.landing import REJECTED, LandingZone
from styringsdata.raw.raw_store import RawLoadError, load_fhi_vintage, load_ssb_vintage
from styringsdata.sources.ssb import table_spec, SsbError, TableSpecs, refresh_table
from styringsdata.sources.transport import Response, SourceMode, Transport
from tests.faults.sources import SSB_DATA_URL, FaultySender, cut, mutate_json, next_table, ssb_world
from tests.ingestion.fakes import FakeClock, fhi_specs, fhi_vaccination_table

TRUNCATED = cut(0.6)
NOT_JSON = lambda r: Response(200, b"<!DOCTYPE html><html><body>Vedlikehold</body></html>", r.headers, r.url)  # noqa: E731
INVALID_JSON = lambda r: Response(200, r.body.replace(b'"value":', b'"value"', 1), r.headers, r.url)  # noqa: E731
EMPTY = lambda r: Response(200, b"", r.headers, r.url)  # noqa: E731
SIZES_OFF = mutate_json(lambda d: d.update(value=d["value"][:-1]))
SIZE_TOO_BIG = mutate_json(lambda d: d["size"].__setitem__(0, d["size"][0] + 1))
STATUS_OUTSIDE = mutate_json(lambda d: d.update(status={"999": ":"}))

BAD_DATA = {
    "truncated body": (TRUNCATED, r"truncated JSON: .* at line 1"),
    "HTML instead of JSON": (NOT_JSON, r"HTML/XML instead of JSON \(starts b'<!DOCTYPE html><html>"),
    "empty body": (EMPTY, r"empty answer, no JSON at all"),
    "invalid JSON": (INVALID_JSON, r"invalid JSON: Expecting ':' delimiter"),
    "values fewer than sizes": (SIZES_OFF, r"product of size \[3, 1, 1, 3\] is 9 but value has 8 cells"),
    "size larger than categories": (SIZE_TOO_BIG, r"dimension 'Region' has 3 categories but size says 4"),
    "status outside the cube": (STATUS_OUTSIDE, r"status key '999' is outside 0..8"),
}


@pytest.mark.parametrize("fault", list(BAD_DATA))
def test_an_unusable_ssb_data_answer_is_not_landed_and_is_kept_aside(tmp_path, fault):
    damage, message = BAD_DATA[fault]
    world = ssb_world(tmp_path)
    before = world.raw_state()
    client, sender, _ = world.client({"/data": [damage]})
    with pytest.raises(SsbError, match=rf"table 99999: data request 1 of 1 answered something we cannot use: "
                                       rf"{SSB_DATA_URL}\?lang=no.*: {message}.*Nothing was landed or loaded") as err:
        world.refresh(client)
    # Not a vintage: a vintage named from an unchanged `updated` would never be fetched again.
    assert world.landing.vintages("ssb", "99999") == [world.first_vintage]
    assert world.incomplete_dirs() == [] and world.raw_state() == before
    # What SSB sent is kept, byte for byte, with the reason and the request.
    [kept] = list((world.landing.table_dir("ssb", "99999") / REJECTED).iterdir())
    assert str(kept) in str(err.value)
    report = json.loads((kept / "rejected.json").read_text())
    assert re.search(message, report["reason"])
    entry = next(p for p in report["payloads"] if p["file"] == "data-001.json")
    assert entry["url"] == SSB_DATA_URL and entry["body"]["selection"][0]["variableCode"] == "Region"
    assert (kept / "data-001.json").read_bytes() == sender.answered[-1].body
    assert {p["file"] for p in report["payloads"]} == {"metadata.json", "data-001.json"}
    # The next run, SSB answering properly again, lands and loads the vintage.
    healthy, _, _ = world.client()
    result = world.refresh(healthy)
    assert result.changed and load_ssb_vintage(world.con, result.landing_path).rows == 9


def test_invalid_json_in_table_info_or_metadata_names_the_url(tmp_path):
    world = ssb_world(tmp_path)
    for suffix, what in (("/tables/99999", "table 99999 info"), ("/metadata", "table 99999 metadata")):
        client, _, _ = world.client({suffix: [TRUNCATED]})
        with pytest.raises(SsbError, match=rf"{what}: https://data.ssb.no/api/pxwebapi/v2/tables/99999\S* did not "
                                           r"answer JSON .*first bytes"):
            world.refresh(client)
    assert world.landing.vintages("ssb", "99999") == [world.first_vintage]


def test_a_series_code_that_disappeared_from_the_metadata_stops_the_table_before_any_data_request(tmp_path):
    world = ssb_world(tmp_path)
    before = world.raw_state()
    renamed = next_table()
    renamed.dimension("ContentsCode").categories = [("Personer1", "Personer (ny definisjon)")]
    renamed.dimension("ContentsCode").units = {"Personer1": {"base": "personer", "decimals": 0}}
    client, sender, _ = world.client(table=renamed)
    with pytest.raises(SsbError, match=r"table 99999, variable ContentsCode: code 'Personer' does not exist in the "
                                       r"table's metadata"):
        world.refresh(client)
    assert [r.url for r in sender.calls if r.url == SSB_DATA_URL] == []
    assert world.landing.vintages("ssb", "99999") == [world.first_vintage] and world.raw_state() == before


def test_a_new_dimension_that_cannot_be_eliminated_names_the_variable(tmp_path):
    world = ssb_world(tmp_path)
    before = world.raw_state()
    changed = next_table()
    changed.dimensions.insert(1, FakeDimension("Kjonn", "kjønn", [("1", "Menn"), ("2", "Kvinner")]))
    client, _, _ = world.client(table=changed)
    with pytest.raises(SsbError, match=r"table 99999: dimension Kjonn \(kjønn\) cannot be eliminated and "
                                       r"ssb_tables.yaml selects no code for it"):
        world.refresh(client)
    assert world.landing.vintages("ssb", "99999") == [world.first_vintage] and world.raw_state() == before


def test_a_new_dimension_in_the_data_is_landed_but_not_loaded(tmp_path):
    # The selection asks for it, the landing keeps the answer; raw refuses the new shape.
    world = ssb_world(tmp_path)
    before = world.raw_state()
    changed = next_table()
    changed.dimensions.insert(1, FakeDimension("Kjonn", "kjønn", [("0", "Begge kjønn")], elimination=True))
    client, _, _ = world.client(table=changed)
    spec = table_spec("99999", "test_table", "Test", "statbank", "Region",
                     {"ContentsCode": ("Personer",), "Alder": ("15-74",), "Kjonn": ("0",)})
    result = world.refresh(client, spec)
    with pytest.raises(RawLoadError, match=rf"{result.landing_path}: raw.ssb_99999 has columns .* new dimension\(s\) "
                                           r"\['Kjonn'\]. The source changed shape"):
        load_ssb_vintage(world.con, result.landing_path)
    assert world.raw_state() == before
    assert (result.landing_path / "data-001.json").is_file()  # the raw answer is kept for the decision


def test_municipality_codes_a_table_does_not_carry_are_skipped_and_recorded(tmp_path):
    # 0220 (Asker before 2020) and an unknown 9999 are not in this table: the request goes on without
    # them, the manifest names them, and nothing is invented for them.
    world = ssb_world(tmp_path)
    spec = table_spec("99999", "t", "T", "statbank", "Region", {"ContentsCode": ("Personer",), "Alder": ("15-74",)})
    specs = TableSpecs((spec,), ("0001", "0220", "9999"), (), (), 2020, 2022)
    client, sender, _ = world.client()
    result = refresh_table(client, world.landing, specs, spec)
    assert result.dropped_codes == {"Region": ("0220", "9999")}
    manifest = json.loads((result.landing_path / "manifest.json").read_text())
    assert manifest["dropped_codes"] == {"Region": ["0220", "9999"]}
    assert "valueCodes[Region]=0001&" in next(r for r in sender.calls if r.url == SSB_DATA_URL).full_url()


# -- FHI -----------------------------------------------------------------------------------------

FHI_SPECS = fhi_specs()
FHI_DATA_URL = "https://statistikk-data.fhi.no/api/open/v1/nokkel/Table/173/data"


def fhi_fake(updated: str = "2026-05-04T10:15:31.4470513+00:00", value: float = 96.0) -> FakeFhi:
    return FakeFhi("nokkel", [fhi_vaccination_table(updated[:10], updated, cells=lambda combo: value)])


def fhi_client(sender) -> FhiClient:
    return FhiClient(Transport(SourceMode.LIVE, sender=sender, clock=FakeClock()))


@pytest.fixture
def fhi_world(tmp_path):
    landing = LandingZone(tmp_path / "landing")
    first = refresh_fhi(fhi_client(fhi_fake()), landing, FHI_SPECS, FHI_SPECS.tables[0], None)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    load_fhi_vintage(con, first.landing_path)
    return landing, con, first


def fhi_raw(con):
    return con.execute("select * exclude (_landing_path) from raw.fhi_values order by all").fetchall()


@pytest.mark.parametrize("damage, message", [(TRUNCATED, "truncated JSON"), (NOT_JSON, "HTML/XML instead of JSON"),
                                             (SIZES_OFF, r"product of size \[2, 2, 1\] is 4 but value has 3")],
                         ids=["truncated body", "HTML instead of JSON", "values fewer than sizes"])
def test_an_unusable_fhi_answer_is_not_landed_and_is_kept_aside(fhi_world, damage, message):
    landing, con, first = fhi_world
    before = fhi_raw(con)
    newer = fhi_fake("2026-09-01T08:00:00+00:00", 50.0)
    with pytest.raises(FhiError, match=rf"FHI table 173 \(HEL01\): the data answer cannot be used: {FHI_DATA_URL}: "
                                       rf"{message}.*Nothing was landed or loaded"):
        refresh_fhi(fhi_client(FaultySender(newer, {"/data": [damage]})), landing, FHI_SPECS, FHI_SPECS.tables[0],
                    {"173"})
    assert landing.vintages("fhi", "173") == [first.vintage] and fhi_raw(con) == before
    assert len(list((landing.table_dir("fhi", "173") / REJECTED).iterdir())) == 1
    again = refresh_fhi(fhi_client(newer), landing, FHI_SPECS, FHI_SPECS.tables[0], {"173"})
    assert again.changed and load_fhi_vintage(con, again.landing_path).rows == 4


def test_a_new_fhi_dimension_is_landed_but_refused_by_the_loader(fhi_world):
    landing, con, first = fhi_world
    before = fhi_raw(con)

    def add_dimension(document):
        document["id"].insert(2, "UTDANN")
        document["size"].insert(2, 1)
        document["dimension"]["UTDANN"] = {"label": "Utdanning", "category": {"index": ["0"], "label": {"0": "Alle"}}}

    sender = FaultySender(fhi_fake("2026-09-01T08:00:00+00:00", 50.0), {"/data": [mutate_json(add_dimension)]})
    result = refresh_fhi(fhi_client(sender), landing, FHI_SPECS, FHI_SPECS.tables[0], {"173"})
    with pytest.raises(RawLoadError, match=r"FHI table 173 has dimension\(s\) \['UTDANN'\] that HEL01's pins do not "
                                           r"cover; a new dimension needs a decision"):
        load_fhi_vintage(con, result.landing_path)
    assert fhi_raw(con) == before


def test_a_fhi_answer_without_a_required_dimension_names_the_ones_it_has(fhi_world):
    landing, con, first = fhi_world

    def drop_measure(document):
        i = document["id"].index("MEASURE_TYPE")
        document["id"].pop(i)
        document["size"].pop(i)
        document["dimension"].pop("MEASURE_TYPE")

    sender = FaultySender(fhi_fake("2026-09-01T08:00:00+00:00"), {"/data": [mutate_json(drop_measure)]})
    with pytest.raises(FhiError, match=r"no dimension 'MEASURE_TYPE'; the dataset has \['GEO', 'AAR'\]"):
        refresh_fhi(fhi_client(sender), landing, FHI_SPECS, FHI_SPECS.tables[0], {"173"})
    assert landing.vintages("fhi", "173") == [first.vintage]
