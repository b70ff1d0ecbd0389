from __future__ import annotations

import pytest

from ingestion.fake_fhi import FakeFhi, FakeFhiTable
from ingestion.fhi import FhiClient, FhiError, FhiSpecs, FhiTable, build_request, modified_since, refresh_table
from ingestion.jsonstat import decode
from ingestion.landing import LandingZone
from ingestion.transport import HttpError, Response, SourceMode, Transport
from tests.ingestion.fakes import FakeClock, ScriptedSender

SPECS = FhiSpecs("nokkel", ("3203", "0"), 2019, 2022, (FhiTable("HEL01", "1003", "ANDEL", "Meslinger"),))


def fake(modified: str = "2026-05-04") -> FakeFhi:
    table = FakeFhiTable("1003", "Meslinger", modified, "2026-05-04T10:15:31.4470513+00:00",
                         [("3203", "Asker"), ("0", "Hele landet")], [2021, 2022], [("ANDEL", "andel")],
                         lambda geo, year, m: None if year == 2022 and geo == "0" else 96.0 + (year - 2021))
    return FakeFhi("nokkel", [table])


def client(sender) -> FhiClient:
    return FhiClient(Transport(SourceMode.LIVE, sender=sender, clock=FakeClock()))


def test_query_is_narrowed_to_our_geography_years_and_measure():
    body = build_request(fake()._query(fake().tables["1003"]), SPECS, SPECS.tables[0])
    dims = {d["code"]: d for d in body["dimensions"]}
    assert dims["GEO"] == {"code": "GEO", "filter": "item", "values": ["3203", "0"]}
    assert dims["AAR"]["filter"] == "all" and dims["MEASURE_TYPE"]["values"] == ["ANDEL"]
    assert body["response"] == {"format": "json-stat2", "maxRowCount": 50000}


def test_first_fetch_then_modified_after_skips_unchanged_tables(tmp_path):
    server = fake()
    fhi = client(server)
    landing = LandingZone(tmp_path)
    modified, _ = fhi.modified_tables("nokkel", modified_since(landing, SPECS))
    first = refresh_table(fhi, landing, SPECS, SPECS.tables[0], modified)
    assert first.changed
    dataset = decode((first.landing_path / "data-001.json").read_bytes())
    assert dataset.dimension("AAR").categories == ("2021_2021", "2022_2022")  # FHI's array index and years
    since = modified_since(landing, SPECS)
    assert str(since) == "2026-05-04"
    calls = len(server.log)
    modified, _ = fhi.modified_tables("nokkel", since)
    again = refresh_table(fhi, landing, SPECS, SPECS.tables[0], modified)
    assert not again.changed and len(server.log) - calls == 1  # the listing only
    assert server.log[-1].params == (("modifiedAfter", "2026-05-04"),)


def test_a_table_modified_later_is_fetched_again(tmp_path):
    landing = LandingZone(tmp_path)
    refresh_table(client(fake()), landing, SPECS, SPECS.tables[0], None)
    newer = fake(modified="2026-09-01")
    newer.tables["1003"].cells = lambda geo, year, m: 50.0
    newer.tables["1003"].updated = "2026-09-01T08:00:00+00:00"
    fhi = client(newer)
    modified, _ = fhi.modified_tables("nokkel", modified_since(landing, SPECS))
    assert modified == {"1003"}
    result = refresh_table(fhi, landing, SPECS, SPECS.tables[0], modified)
    assert result.changed and len(landing.vintages("fhi", "1003")) == 2


def test_errors_are_clear():
    sender = ScriptedSender([Response(200, b"<html>maintenance</html>", {})])
    with pytest.raises(FhiError, match="did not answer JSON"):
        client(sender).modified_tables("nokkel", None)
    with pytest.raises(HttpError, match="HTTP 404"):
        client(fake()).query("nokkel", "4242")
