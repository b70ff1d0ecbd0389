from __future__ import annotations

import math

import pytest

from snapshots.fakes.fake_ssb import FakeSsb
from styringsdata.sources.ssb import (
    DataRequest,
    SsbClient,
    SsbError,
    dedupe,
    minimum_requests,
    split_selection,
)
from styringsdata.sources.transport import HttpError, SourceMode, Transport
from tests.ingestion.fakes import FakeClock, small_table


def client_for(*tables, **kwargs) -> tuple[SsbClient, FakeSsb]:
    fake = FakeSsb(list(tables))
    transport = Transport(SourceMode.LIVE, sender=fake, clock=FakeClock())
    return SsbClient(transport, **kwargs), fake


def selection(*sizes: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((f"V{i}", tuple(f"c{j}" for j in range(n))) for i, n in enumerate(sizes))


@pytest.mark.parametrize(
    "sizes",
    [(10, 10), (400, 2, 1000), (357, 30, 1, 20), (800_001,), (1000, 1000), (357, 3, 5, 25), (7, 11, 13, 17, 19)],
)
def test_split_uses_the_minimum_number_of_requests_and_covers_every_cell(sizes):
    sel = selection(*sizes)
    chunks = split_selection(sel, 800_000)
    assert len(chunks) == minimum_requests(sel)
    assert all(math.prod(len(c) for _, c in chunk) <= 800_000 for chunk in chunks)
    covered = sum(math.prod(len(c) for _, c in chunk) for chunk in chunks)
    assert covered == math.prod(sizes)


def test_split_with_small_limit_matches_minimum():
    sel = selection(6, 5, 4)  # 120 cells, limit 25 -> at least 5 requests
    assert len(split_selection(sel, 25)) == 5 == minimum_requests(sel, 25)


def test_dedupe_keeps_order():
    assert dedupe(["3203", "0301", "3203"]) == ("3203", "0301")


def test_table_info_and_metadata_order_categories_by_index():
    client, _ = client_for(small_table())
    assert client.table_info("99999").updated == "2026-03-15T07:00:00Z"
    metadata = client.metadata("99999")
    assert [v.code for v in metadata.variables] == ["Region", "Alder", "ContentsCode", "Tid"]
    assert metadata.variable("Region").values == ("0001", "0002", "0003")  # shuffled object index, sorted by position
    assert metadata.variable("Tid").is_time


def test_unknown_code_is_an_error_naming_table_variable_and_code():
    client, fake = client_for(small_table())
    metadata = client.metadata("99999")
    with pytest.raises(SsbError, match=r"table 99999, variable ContentsCode: code 'Personer2' does not exist"):
        client.resolve_selection(metadata, strict={"ContentsCode": ["Personer2"]})
    assert fake.data_requests() == []


def test_unknown_variable_is_an_error_listing_the_known_ones():
    client, _ = client_for(small_table())
    with pytest.raises(SsbError, match=r"variable 'Kjonn' does not exist \(the table has: Region, Alder"):
        client.resolve_selection(client.metadata("99999"), strict={"Kjonn": ["0"]})


def test_lenient_codes_missing_from_the_table_are_dropped_and_reported():
    client, _ = client_for(small_table())
    sel, dropped = client.resolve_selection(
        client.metadata("99999"),
        strict={"ContentsCode": ["Personer"]},
        lenient={"Region": ["0001", "0220"], "Tid": ["2021", "2030"]},
    )
    assert dict(sel)["Region"] == ("0001",)
    assert dropped == {"Region": ("0220",), "Tid": ("2030",)}


def test_mandatory_variable_without_selection_is_an_error():
    client, _ = client_for(small_table())
    with pytest.raises(SsbError, match="dimension Tid cannot be eliminated"):
        client.resolve_selection(client.metadata("99999"), strict={"ContentsCode": ["Personer"]})


def test_plus_codes_reach_the_server_intact():
    client, fake = client_for(small_table())
    request = client.plan("99999", [("Alder", ["105+"]), ("ContentsCode", ["Personer"]), ("Tid", ["2020"])])[0]
    assert request.method == "GET"
    body = client.fetch(request).json()
    assert list(body["dimension"]["Alder"]["category"]["index"]) == ["105+"]
    assert "105%2B" in fake.data_requests()[0].full_url()


def test_literal_plus_would_be_rejected_by_ssb():
    # What happens without %2B: the server reads a space and answers "Non-existent value".
    client, fake = client_for(small_table())
    from styringsdata.sources.transport import Request

    raw = Request("GET", f"{client.base_url}/tables/99999/data", (("valueCodes[Alder]", "105 "),
                  ("valueCodes[ContentsCode]", "Personer"), ("valueCodes[Tid]", "2020")))
    assert fake(raw, 1).status == 400


def test_long_selection_goes_by_post_and_short_by_get():
    table = small_table(regions=400)
    client, fake = client_for(table)
    codes = [f"{i:04d}" for i in range(1, 401)]
    short = client.plan("99999", [("Region", codes[:5]), ("ContentsCode", ["Personer"]), ("Tid", ["2020"])])
    long = client.plan("99999", [("Region", codes), ("ContentsCode", ["Personer"]), ("Tid", ["2020"])])
    assert [r.method for r in short] == ["GET"]
    assert [r.method for r in long] == ["POST"]
    body = client.fetch(long[0]).json()
    assert body["size"] == [400, 1, 1, 1]  # Alder eliminated: its total
    # The fake, like SSB, answers a GET that long with 404.
    as_get = DataRequest("99999", long[0].selection, "GET")
    with pytest.raises(HttpError, match="HTTP 404"):
        client.fetch(as_get)


def test_split_requests_respect_the_server_cell_limit():
    table = small_table(regions=50, years=4)
    fake = FakeSsb([table], max_cells=60)
    client = SsbClient(Transport(SourceMode.LIVE, sender=fake, clock=FakeClock()), max_cells=60)
    plan = client.plan("99999", [("Region", [f"{i:04d}" for i in range(1, 51)]), ("ContentsCode", ["Personer"]),
                                 ("Tid", ["2020", "2021", "2022", "2023"])])
    assert len(plan) == minimum_requests([("Region", range(50)), ("Tid", range(4))], 60) == 4
    for request in plan:
        assert client.fetch(request).status == 200


def test_duplicate_codes_would_give_ssb_500_so_the_plan_removes_them():
    client, fake = client_for(small_table())
    request = client.plan("99999", [("Region", ["0001", "0001"]), ("ContentsCode", ["Personer"]), ("Tid", ["2020"])])[0]
    assert dict(request.selection)["Region"] == ("0001",)
    assert client.fetch(request).status == 200


# -- request shapes of the real tables -----------------------------------------------------------------

def kostra_by_function(table_id: str = "12362", periods=("2021", "2022")):
    """12362's shape: region, function and art cannot be eliminated; EKG groups in the region dimension."""
    from snapshots.fakes.fake_ssb import FakeDimension, FakeTable

    return FakeTable(table_id, f"{table_id}: Utgifter etter funksjon og art (K)", "2026-06-15T06:00:00Z", [
        FakeDimension("KOKkommuneregion0000", "region", [("3203", "Asker"), ("EAK", "Landet"), ("EKG12", "Gruppe 12"),
                                                         ("EKG13", "Gruppe 13"), ("EKA32", "Akershus")]),
        FakeDimension("KOKfunksjon0000", "funksjon", [("100", "Politisk styring"), ("120", "Administrasjon")]),
        FakeDimension("KOKart0000", "art", [("AGD2", "Netto driftsutgifter"), ("AGD10", "Brutto driftsutgifter")]),
        FakeDimension("ContentsCode", "statistikkvariabel", [("KOSbelopinnbygge0000", "Beløp per innbygger")],
                      role="metric", units={"KOSbelopinnbygge0000": {"base": "kr", "decimals": 0}}),
        FakeDimension("Tid", "år", [(p, p) for p in periods], role="time"),
    ], cells=lambda combo: (100.0, None))


def one_table_specs(spec, first=2018, last=2025):
    from styringsdata.sources.ssb import TableSpecs

    return TableSpecs((spec,), ("3203",), ("EAK",), ("0",), first, last)


def test_a_kostra_selection_that_leaves_out_a_non_eliminable_dimension_is_refused_before_any_data_request(tmp_path):
    # 12905 in the old configuration asked for ContentsCode only: SSB would answer "Missing selection".
    from styringsdata.raw.landing import LandingZone
    from styringsdata.sources.ssb import refresh_table, table_spec

    spec = table_spec("12362", "t", "T", "kostra", "KOKkommuneregion0000",
                      {"KOKart0000": ["AGD2"], "ContentsCode": ["KOSbelopinnbygge0000"]})
    client, fake = client_for(kostra_by_function())
    with pytest.raises(SsbError, match=r"table 12362: dimension KOKfunksjon0000 \(funksjon\) cannot be eliminated "
                                       r"and ssb_tables.yaml selects no code for it.*100, 120"):
        refresh_table(client, LandingZone(tmp_path), one_table_specs(spec), spec)
    assert fake.data_requests() == []


def test_kostra_groups_come_from_the_metadata_and_every_dimension_is_pinned(tmp_path):
    from styringsdata.raw.landing import LandingZone
    from styringsdata.sources.ssb import refresh_table, table_spec

    spec = table_spec("12362", "t", "T", "kostra", "KOKkommuneregion0000",
                      {"KOKfunksjon0000": ["100", "120"], "KOKart0000": ["AGD2"],
                       "ContentsCode": ["KOSbelopinnbygge0000"]})
    client, fake = client_for(kostra_by_function())
    refresh_table(client, LandingZone(tmp_path), one_table_specs(spec), spec)
    (request,) = fake.data_requests()
    query = request.full_url()
    assert "valueCodes[KOKkommuneregion0000]=3203,EAK,EKG12,EKG13&" in query  # not EKA32: not a KOSTRA group
    assert "valueCodes[KOKfunksjon0000]=100,120&" in query and "valueCodes[KOKart0000]=AGD2&" in query


def test_a_table_with_two_year_periods_is_asked_for_its_intervals_and_raw_keeps_their_bounds(tmp_path):
    import datetime as dt

    import duckdb

    from snapshots.fakes.fake_ssb import FakeDimension, FakeTable
    from styringsdata.raw.landing import LandingZone
    from styringsdata.raw.raw_store import load_ssb_vintage
    from styringsdata.sources.ssb import refresh_table, table_spec

    intervals = ["2015-2016", "2016-2017", "2017-2018", "2018-2019", "2019-2020"]
    table = FakeTable("08487", "08487: Anmeldte lovbrudd", "2026-05-01T06:00:00Z", [
        FakeDimension("Gjerningssted", "gjerningssted", [("3203", "Asker")], elimination=True),
        FakeDimension("ContentsCode", "statistikkvariabel", [("AnmLovbrPer1000", "per 1000")], role="metric",
                      units={"AnmLovbrPer1000": {"base": "per 1000", "decimals": 1}}),
        FakeDimension("Tid", "periode", [(p, p) for p in intervals], role="time"),
    ], cells=lambda combo: (4.4, None))
    spec = table_spec("08487", "t", "T", "statbank", "Gjerningssted", {"ContentsCode": ["AnmLovbrPer1000"]})
    client, fake = client_for(table)
    result = refresh_table(client, LandingZone(tmp_path), one_table_specs(spec, 2018, 2025), spec)
    assert fake.data_requests()[0].full_url().endswith("valueCodes[Tid]=2017-2018,2018-2019,2019-2020")
    con = duckdb.connect()
    load_ssb_vintage(con, result.landing_path)
    assert con.execute('select "Tid", period_start, period_end, _origin from raw.ssb_08487 order by 1').fetchall() == [
        ("2017-2018", dt.date(2017, 1, 1), dt.date(2018, 12, 31), "live"),
        ("2018-2019", dt.date(2018, 1, 1), dt.date(2019, 12, 31), "live"),
        ("2019-2020", dt.date(2019, 1, 1), dt.date(2020, 12, 31), "live")]


def test_the_configuration_has_evidence_for_every_series_and_no_stand_in():
    from styringsdata.sources.ssb import load_table_specs

    specs = load_table_specs()
    assert all(s.evidence.grade in ("A", "B", "C", "-", "live") and s.evidence.cite for s in specs.series())
    by_key_figure = {s.key_figure: s for s in specs.series() if s.key_figure}
    assert by_key_figure["KOSU01"].table_id == "12362" and by_key_figure["KOSU01"].select == {
        "KOKfunksjon0000": "100", "KOKart0000": "AGD2", "ContentsCode": "KOSbelopinnbygge0000"}
    assert (by_key_figure["KOPP04"].table_id, by_key_figure["KOPP05"].table_id) == ("13502", "12255")
    codes = {s.select["ContentsCode"] for s in specs.series()}
    assert {"KOSVREGLekkVann0000", "KOSAVLOPbeftilkn0000", "KOSsykhjand80aar0000", "KOShjtj80aarover0001"} <= codes
    assert not {"KOSandellekk0000", "KOSandelavlop0000", "KOSandel80hjemme0000", "KOSvedlikeholdm20000"} & codes
    for spec in specs.tables:  # a KOSTRA table's KOK dimensions are pinned in every series
        assert all(set(s.select) == set(spec.select) for s in spec.series)
