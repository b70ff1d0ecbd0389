from __future__ import annotations

import json

import duckdb
import pytest

from snapshots.fakes.fake_ssb import FakeSsb
from styringsdata.raw.landing import LandingError, LandingZone, Payload, vintage_from_updated
from styringsdata.raw.raw_store import RawLoadError, load_ssb_vintage
from styringsdata.sources.ssb import table_spec, SsbClient, TableSpecs, refresh_table
from styringsdata.sources.transport import SourceMode, Transport
from tests.ingestion.fakes import FakeClock, small_table

SPEC = table_spec("99999", "test_table", "Test", "statbank", "Region", {"ContentsCode": ("Personer",),
                                                                         "Alder": ("15-74",)})
SPECS = TableSpecs((SPEC,), ("0001", "0002", "0220"), (), (), 2020, 2022)


def setup(tmp_path, table=None):
    fake = FakeSsb([table or small_table()])
    client = SsbClient(Transport(SourceMode.LIVE, sender=fake, clock=FakeClock()))
    return client, fake, LandingZone(tmp_path / "landing")


def test_vintage_name_from_updated():
    assert vintage_from_updated("2025-06-15T06:00:00Z") == "2025-06-15T060000Z"
    assert vintage_from_updated("2022-12-20T11:44:58.7706326+00:00") == "2022-12-20T114458Z"


def test_refresh_lands_payloads_with_manifest_then_skips_unchanged(tmp_path):
    client, fake, landing = setup(tmp_path)
    first = refresh_table(client, landing, SPECS, SPEC)
    assert first.changed and first.data_requests == 1
    assert first.dropped_codes == {"Region": ("0220",)}
    manifest = json.loads((first.landing_path / "manifest.json").read_text())
    assert manifest["source_updated"] == "2026-03-15T07:00:00Z"
    # no table-info call before a first fetch: the metadata carries `updated`, which names the vintage
    assert {p["file"] for p in manifest["payloads"]} == {"metadata.json", "data-001.json"}
    assert manifest["label"] == "99999: Test table" and (manifest["first_period"], manifest["last_period"]) == \
        ("2020", "2022")
    assert manifest["change_check"] == "first fetch (no vintage landed)"
    assert [r.url.rsplit("/", 1)[-1] for r in fake.log] == ["metadata", "data"]
    assert all(len(p["sha256"]) == 64 and p["url"].startswith("https://data.ssb.no/") for p in manifest["payloads"])
    calls_before = len(fake.log)
    second = refresh_table(client, landing, SPECS, SPEC)
    assert not second.changed and second.vintage == first.vintage
    # on its own (no run-wide check), a table asks its table info: one call, no metadata, no data
    assert [r.url for r in fake.log[calls_before:]] == ["https://data.ssb.no/api/pxwebapi/v2/tables/99999"]


def test_raw_load_has_provenance_keeps_status_and_is_idempotent(tmp_path):
    client, _, landing = setup(tmp_path)
    result = refresh_table(client, landing, SPECS, SPEC)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    loaded = load_ssb_vintage(con, result.landing_path)
    assert loaded.rows == 2 * 3 and not loaded.already_loaded
    again = load_ssb_vintage(con, result.landing_path)
    assert again.already_loaded
    rows = con.execute(
        'select "Region", "Tid", value, status, _vintage, _source_updated from raw.ssb_99999 order by all').fetchall()
    assert len(rows) == 6
    suppressed = [r for r in rows if r[0] == "0002" and r[1] == "2021"]
    assert suppressed[0][2] is None and suppressed[0][3] == ":"  # suppressed is never zero
    assert {r[4] for r in rows} == {"2026-03-15T070000Z"}
    assert str(rows[0][5]) == "2026-03-15 07:00:00"
    units = con.execute("select unit_base from raw.ssb_categories where dimension = 'ContentsCode'").fetchall()
    assert units == [("personer",)]


def test_a_new_dimension_in_a_later_vintage_is_refused(tmp_path):
    client, _, landing = setup(tmp_path)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    load_ssb_vintage(con, refresh_table(client, landing, SPECS, SPEC).landing_path)
    changed = small_table()
    changed.updated = "2026-06-15T06:00:00Z"
    from snapshots.fakes.fake_ssb import FakeDimension

    changed.dimensions.insert(1, FakeDimension("Kjonn", "kjønn", [("0", "Begge")], elimination=False))
    client2, _, _ = setup(tmp_path, changed)
    spec = table_spec("99999", "test_table", "Test", "statbank", "Region",
                     {"ContentsCode": ("Personer",), "Alder": ("15-74",), "Kjonn": ("0",)})
    result = refresh_table(client2, landing, SPECS, spec)
    with pytest.raises(RawLoadError, match=r"new dimension\(s\) \['Kjonn'\]"):
        load_ssb_vintage(con, result.landing_path)
    # the earlier vintage is untouched
    assert con.execute("select count(*) from raw.ssb_99999").fetchone()[0] == 6


def test_landing_refuses_unsafe_names(tmp_path):
    landing = LandingZone(tmp_path)
    with pytest.raises(LandingError, match="not a safe identifier"):
        landing.vintage_dir("ssb", "../etc", "v1")
    payload = Payload("x'; drop table", "u", "GET", (), None, b"{}", "2026-01-01T00:00:00Z")
    with pytest.raises(LandingError):
        landing.write_vintage("ssb", "12143", "v1", [payload], source_updated=None)


def test_altered_landing_file_is_detected(tmp_path):
    client, _, landing = setup(tmp_path)
    result = refresh_table(client, landing, SPECS, SPEC)
    (result.landing_path / "data-001.json").write_text("{}")
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    with pytest.raises(LandingError, match="sha256 differs"):
        load_ssb_vintage(con, result.landing_path)
