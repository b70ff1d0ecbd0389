from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from snapshots.fakes.fake_fhi import FakeFhi, FakeFhiDimension, FakeFhiTable
from styringsdata.sources.fhi import (FhiClient, FhiError, FhiIndicator, FhiSpecs, candidates_by_title, load_fhi_specs,
                           modified_since, plan_requests, refresh_table)
from styringsdata.sources.jsonstat import decode
from styringsdata.raw.landing import LandingZone
from styringsdata.raw.raw_store import load_fhi_vintage
from styringsdata.sources.transport import HttpError, Response, SourceMode, Transport
from tests.ingestion.fakes import FakeClock, ScriptedSender, fhi_specs, fhi_vaccination_table

SPECS = fhi_specs()


def fake(modified: str = "2026-05-04", **kwargs) -> FakeFhi:
    return FakeFhi("nokkel", [fhi_vaccination_table(modified, **kwargs)])


def client(sender) -> FhiClient:
    return FhiClient(Transport(SourceMode.LIVE, sender=sender, clock=FakeClock()))


def test_the_request_filters_every_dimension_from_the_tables_own_dimension_answer():
    server = fake()
    dims, _ = client(server).dimensions("nokkel", "173")
    bodies, pins, dropped = plan_requests(SPECS.tables[0], dims, SPECS)
    assert len(bodies) == 1 and pins == {"HEL01": {"MEASURE_TYPE": "RATE"}} and dropped == ()
    assert bodies[0]["dimensions"] == [
        {"code": "GEO", "filter": "item", "values": ["3203", "0"]},
        {"code": "AAR", "filter": "item", "values": ["2021_2021", "2022_2022"]},  # what the table has, no more
        {"code": "MEASURE_TYPE", "filter": "item", "values": ["RATE"]},
    ]
    assert bodies[0]["response"] == {"format": "json-stat2", "maxRowCount": 50000}


def test_historical_codes_the_table_lacks_are_left_out_and_named():
    specs = fhi_specs(geo=("3203", "0220", "0627", "0"))
    dims, _ = client(fake()).dimensions("nokkel", "173")
    bodies, _, dropped = plan_requests(specs.tables[0], dims, specs)
    assert bodies[0]["dimensions"][0]["values"] == ["3203", "0220", "0"] and dropped == ("0627",)


def kpr_table() -> FakeFhiTable:
    """370's shape: a diagnosis group, age and sex besides GEO, AAR and MEASURE_TYPE."""
    return FakeFhiTable("370", "KPR_1", "2026-05-04", "2026-05-04T10:15:31+00:00", [
        FakeFhiDimension("GEO", "Geografi", [("3203", "Asker"), ("0", "Hele landet")]),
        FakeFhiDimension("AAR", "År", [("2023_2023", "2023"), ("2024_2024", "2024")]),
        FakeFhiDimension("KJONN", "Kjønn", [("0", "samlet"), ("1", "menn"), ("2", "kvinner")]),
        FakeFhiDimension("ALDER", "Alder", [("0_74", "0-74"), ("0_120", "alle")]),
        FakeFhiDimension("KODEGRUPPE", "Diagnose", [("L01_L29ogL70_L71ogL82_L99", "L"), ("P01_P29ogP70_P99", "P")]),
        FakeFhiDimension("MEASURE_TYPE", "Måltall", [("TELLER", "antall"), ("RATE", "per 1000")]),
    ], lambda combo: 300.0 if combo["KODEGRUPPE"].startswith("L") else 150.0)


def kpr_specs(pin_l: dict, pin_p: dict | None = None, max_rows: int = 50_000) -> FhiSpecs:
    indicators = [FhiIndicator("HEL03", "370", "RATE", "KPR_1", pin_l, "A", "test")]
    if pin_p is not None:
        indicators.append(FhiIndicator("HEL07", "370", "RATE", "KPR_1", pin_p, "A", "test"))
    return FhiSpecs("nokkel", ("3203", "0"), 2023, 2024, tuple(indicators), max_rows)


def test_a_dimension_left_unpinned_is_refused_before_any_data_request(tmp_path):
    server = FakeFhi("nokkel", [kpr_table()])
    specs = kpr_specs({"ALDER": "0_74", "KJONN": "0"})  # KODEGRUPPE forgotten
    with pytest.raises(FhiError, match=r"FHI table 370 \(HEL03\): dimension KODEGRUPPE is not selected; FHI refuses "
                                       r"a request that leaves a dimension out.*L01_L29ogL70_L71ogL82_L99"):
        refresh_table(client(server), LandingZone(tmp_path), specs, specs.tables[0], None)
    assert not [r for r in server.log if r.url.endswith("/data")]


def test_a_pinned_code_the_table_lacks_is_refused_naming_the_codes_it_has(tmp_path):
    server = FakeFhi("nokkel", [kpr_table()])
    specs = kpr_specs({"ALDER": "15_24", "KJONN": "0", "KODEGRUPPE": "P01_P29ogP70_P99"})
    with pytest.raises(FhiError, match=r"ALDER has no code '15_24' \(it has 0_74, 0_120\)"):
        refresh_table(client(server), LandingZone(tmp_path), specs, specs.tables[0], None)


def test_two_indicators_of_one_table_share_one_request_and_load_apart(tmp_path):
    server = FakeFhi("nokkel", [kpr_table()])
    specs = kpr_specs({"ALDER": "0_74", "KJONN": "0", "KODEGRUPPE": "L01_L29ogL70_L71ogL82_L99"},
                      {"ALDER": "0_74", "KJONN": "0", "KODEGRUPPE": "P01_P29ogP70_P99"})
    result = refresh_table(client(server), LandingZone(tmp_path), specs, specs.tables[0], None)
    assert result.data_requests == 1
    con = duckdb.connect()
    load_fhi_vintage(con, result.landing_path)
    rows = con.execute("select indicator_id, dimensions, min(value), count(*) from raw.fhi_values "
                       "group by all order by 1").fetchall()
    assert rows == [("HEL03", "ALDER=0_74;KJONN=0;KODEGRUPPE=L01_L29ogL70_L71ogL82_L99", 300.0, 4),
                    ("HEL07", "ALDER=0_74;KJONN=0;KODEGRUPPE=P01_P29ogP70_P99", 150.0, 4)]


def test_requests_are_split_under_the_row_cap_and_the_server_would_refuse_more(tmp_path):
    server = FakeFhi("nokkel", [kpr_table()])
    pins = {"ALDER": "0_74", "KJONN": "0", "KODEGRUPPE": "L01_L29ogL70_L71ogL82_L99"}
    whole = kpr_specs(pins, max_rows=3)
    body = {"dimensions": [{"code": "GEO", "filter": "item", "values": ["3203", "0"]},
                           {"code": "AAR", "filter": "item", "values": ["2023_2023", "2024_2024"]},
                           {"code": "KJONN", "filter": "item", "values": ["0"]},
                           {"code": "ALDER", "filter": "item", "values": ["0_74"]},
                           {"code": "KODEGRUPPE", "filter": "item", "values": ["L01_L29ogL70_L71ogL82_L99"]},
                           {"code": "MEASURE_TYPE", "filter": "item", "values": ["RATE"]}],
            "response": {"format": "json-stat2", "maxRowCount": 3}}
    with pytest.raises(HttpError, match="more than maxRowCount 3"):
        client(server).data("nokkel", "370", body)  # 4 rows in one request: FHI says no
    result = refresh_table(client(server), LandingZone(tmp_path), whole, whole.tables[0], None)
    assert result.data_requests == 2
    con = duckdb.connect()
    assert load_fhi_vintage(con, result.landing_path).rows == 4


def test_suppressed_k_in_value_and_rolling_periods_load_as_status_and_bounds(tmp_path):
    def cells(combo):
        return "k" if combo["GEO"] == "0220" else 83.0

    server = FakeFhi("nokkel", [fhi_vaccination_table(cells=cells, periods=("2016_2018", "2017_2019"))])
    specs = fhi_specs(geo=("3203", "0220"), first=2018, last=2019)
    result = refresh_table(client(server), LandingZone(tmp_path), specs, specs.tables[0], None)
    con = duckdb.connect()
    load_fhi_vintage(con, result.landing_path)
    rows = con.execute('select "GEO", "AAR", value, status, period_start, period_end from raw.fhi_values '
                       'order by 1, 2').fetchall()
    assert rows == [("0220", "2016_2018", None, "k", dt.date(2016, 1, 1), dt.date(2018, 12, 31)),
                    ("0220", "2017_2019", None, "k", dt.date(2017, 1, 1), dt.date(2019, 12, 31)),
                    ("3203", "2016_2018", 83.0, None, dt.date(2016, 1, 1), dt.date(2018, 12, 31)),
                    ("3203", "2017_2019", 83.0, None, dt.date(2017, 1, 1), dt.date(2019, 12, 31))]


def test_first_fetch_then_modified_after_skips_unchanged_tables(tmp_path):
    server = fake()
    fhi = client(server)
    landing = LandingZone(tmp_path)
    modified, _ = fhi.modified_tables("nokkel", modified_since(landing, SPECS))
    first = refresh_table(fhi, landing, SPECS, SPECS.tables[0], modified)
    assert first.changed
    dataset = decode((first.landing_path / "data-001.json").read_bytes())  # BOM first, as FHI sends it
    assert dataset.dimension("AAR").categories == ("2021_2021", "2022_2022")
    assert json.loads((first.landing_path / "manifest.json").read_text())["origin"] == "live"
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
    newer = FakeFhi("nokkel", [fhi_vaccination_table("2026-09-01", "2026-09-01T08:00:00+00:00",
                                                     cells=lambda combo: 50.0)])
    fhi = client(newer)
    modified, _ = fhi.modified_tables("nokkel", modified_since(landing, SPECS))
    assert modified == {"173"}
    result = refresh_table(fhi, landing, SPECS, SPECS.tables[0], modified)
    assert result.changed and len(landing.vintages("fhi", "173")) == 2


def test_errors_are_clear():
    sender = ScriptedSender([Response(200, b"<html>maintenance</html>", {})])
    with pytest.raises(FhiError, match="did not answer JSON"):
        client(sender).modified_tables("nokkel", None)
    with pytest.raises(HttpError, match="HTTP 404"):
        client(fake()).dimensions("nokkel", "4242")


def test_candidates_for_an_indicator_without_a_table_come_from_the_table_list_by_title():
    listed = [{"tableId": 601, "title": "Drikkevannsforsyning, andel tilknyttet"},
              {"tableId": 602, "title": "Drikkevann, hygienisk kvalitet (E. coli)"},
              {"tableId": 173, "title": "Vaksinasjonsdekning"}]
    assert candidates_by_title(listed, "drikkevann e coli") == ["602 'Drikkevann, hygienisk kvalitet (E. coli)'",
                                                                "601 'Drikkevannsforsyning, andel tilknyttet'"]
    assert candidates_by_title(listed, "hoftebrudd") == []


def test_the_configuration_names_real_tables_with_rate_and_evidence():
    specs = load_fhi_specs()
    by_id = {i.indicator_id: i for i in specs.indicators}
    assert {i: by_id[i].table_id for i in ("HEL03", "HEL07", "UTD10", "UTD16", "HEL01")} == {
        "HEL03": "370", "HEL07": "370", "UTD10": "360", "UTD16": "809", "HEL01": "173"}
    assert {i.measure for i in specs.indicators if i.table_id} == {"RATE"}
    assert {i.indicator_id for i in specs.without_table} == {"BYS06", "BYS16", "HEL02", "HEL09"}
    assert all(i.look_for for i in specs.without_table) and all(i.cite for i in specs.indicators)
    assert "0220" in specs.geo and "3203" in specs.geo  # historical codes asked for, harmonised in dbt
