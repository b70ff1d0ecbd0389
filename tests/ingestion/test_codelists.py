"""SSB code lists: 13470 selects NACE2007 `00-99` and `58-63`, which the real table offers only through its grouping
code list `agg_NACE2007arb11` (kostra-candidates.md §6 #10: the default value set is SSB's 5-digit NACE codes; public
code selects them through `agg_single:NACE2007arb11` in the v1 API). The fake serves that shape (snapshots/build.py),
and answers a code-list request as PxWebApi does: `aggregated` gives each group the sum of its codes, `single` the
codes a group holds."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from styringsdata.raw.landing import LandingZone
from styringsdata.sources import jsonstat
from styringsdata.sources.ssb import SsbClient, SsbError, load_table_specs, refresh_table
from styringsdata.sources.transport import SourceMode, Transport
from tests.ingestion.fakes import FakeClock

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import snapshots.build as build  # noqa: E402

SPECS = load_table_specs()
SPEC = SPECS.table("13470")
YEARS = ",".join(str(y) for y in range(SPECS.first_year, SPECS.last_year + 1))
REGIONS = ",".join(SPECS.municipalities + SPECS.statbank_aggregates)
# The one data request for 13470, as SSB's v2 API takes it.
EXPECTED_URL = ("https://data.ssb.no/api/pxwebapi/v2/tables/13470/data?lang=no&outputFormat=json-stat2"
                f"&valueCodes[Region]={REGIONS}&valueCodes[NACE2007]=00-99,58-63"
                f"&valueCodes[ContentsCode]=SysselsatteArb&valueCodes[Tid]={YEARS}"
                "&codelist[NACE2007]=agg_NACE2007arb11&outputValues[NACE2007]=aggregated")


def world():
    fake = build.fake_ssb(SPECS)
    return fake, SsbClient(Transport(SourceMode.LIVE, sender=fake, clock=FakeClock()))


def figures(path: Path) -> dict[tuple[str, str, str], float | None]:
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    out = {}
    for payload in (p["file"] for p in manifest["payloads"] if p["file"].startswith("data-")):
        dataset = jsonstat.decode((path / payload).read_bytes(), source=payload)
        order = [d.code for d in dataset.dimensions]
        for *codes, value, _ in dataset.to_rows():
            row = dict(zip(order, codes))
            out[(row["Region"], row["NACE2007"], row["Tid"])] = value
    return out


def test_the_grouped_codes_are_not_in_the_default_value_set_but_in_the_code_list():
    _, client = world()
    metadata = client.metadata("13470")
    nace = metadata.variable("NACE2007")
    assert "00-99" not in nace.values and "58-63" not in nace.values
    assert all(len(code) == 6 and code[2] == "." for code in nace.values)  # 5-digit NACE, as SSB writes it
    assert nace.codelists == ("agg_NACE2007arb11",)
    codelist = client.codelist("agg_NACE2007arb11")
    assert {"00-99", "58-63"} <= set(codelist.values) and codelist.kind == "Aggregation"
    # Checked against the default value set, the configuration would be refused before any data request.
    with pytest.raises(SsbError, match="code '00-99' does not exist"):
        client.resolve_selection(metadata, strict=SPEC.select)


def test_the_exact_13470_request_and_its_decoded_figures(tmp_path):
    fake, client = world()
    result = refresh_table(client, LandingZone(tmp_path), SPECS, SPEC)
    [request] = fake.data_requests()
    assert (request.method, request.full_url()) == ("GET", EXPECTED_URL)
    assert [r.url.rsplit("/v2/", 1)[1] for r in fake.log] == \
        ["tables/13470/metadata", "codelists/agg_NACE2007arb11", "tables/13470/data"]  # a first fetch: no table info
    cells = figures(result.landing_path)
    # Asker's jobs by workplace (the Handlingsprogram's BYS03/INN02/INN10 reconstruction, snapshots/build.py):
    assert cells[("3025", "00-99", "2022")] == 37_675
    assert cells[("3025", "58-63", "2022")] == round(37_675 * 0.032) == 1_206
    # 2019: on the three old codes, which add up to Asker's total.
    assert sum(cells[(c, "00-99", "2019")] for c in ("0220", "0627", "0628")) == 36_352
    assert {nace for _, nace, _ in cells} == {"00-99", "58-63"}
    manifest = json.loads((result.landing_path / "manifest.json").read_text(encoding="utf-8"))
    assert "codelist-agg_NACE2007arb11.json" in [p["file"] for p in manifest["payloads"]]


def test_a_group_is_the_sum_of_its_codes_and_single_answers_with_the_codes(tmp_path):
    fake, client = world()
    metadata, _ = client.with_codelists(client.metadata("13470"), SPEC)
    selection, _ = client.resolve_selection(metadata, strict={**SPEC.select, "Tid": ("2022",)},
                                            lenient={"Region": ("3025",)})
    [aggregated] = client.plan("13470", selection, SPEC.codelist_params())
    [single] = client.plan("13470", selection, (("NACE2007", "agg_NACE2007arb11", "single"),))
    grouped = jsonstat.decode(client.fetch(aggregated).body)
    by_code = jsonstat.decode(client.fetch(single).body)
    assert grouped.dimension("NACE2007").categories == ("00-99", "58-63")
    assert grouped.dimension("NACE2007").category_labels["58-63"] == "Informasjon og kommunikasjon"
    assert by_code.dimension("NACE2007").categories == ("01.110", "47.111", "58.110", "62.010", "63.110", "86.101")
    values = dict(zip(by_code.dimension("NACE2007").categories, by_code.values.to_pylist()))
    assert grouped.values.to_pylist() == [sum(values.values()), values["58.110"] + values["62.010"] + values["63.110"]]


def test_the_post_form_names_the_code_list_and_gets_the_same_answer():
    fake, client = world()
    small = SsbClient(client.transport, max_get_url_length=100)
    metadata, _ = small.with_codelists(small.metadata("13470"), SPEC)
    selection, _ = small.resolve_selection(metadata, strict={**SPEC.select, "Tid": ("2022",)},
                                           lenient={"Region": ("3025",)})
    [request] = small.plan("13470", selection, SPEC.codelist_params())
    assert request.method == "POST"
    posted = jsonstat.decode(small.fetch(request).body)
    body = fake.data_requests()[-1].json_body
    assert {"variableCode": "NACE2007", "codeList": "agg_NACE2007arb11", "outputValues": "aggregated",
            "valueCodes": ["00-99", "58-63"]} in body["selection"]
    [got] = client.plan("13470", selection, SPEC.codelist_params())
    assert posted.values.to_pylist() == jsonstat.decode(client.fetch(got).body).values.to_pylist()


def test_a_code_list_the_metadata_does_not_offer_is_refused_by_name():
    _, client = world()
    wrong = dataclasses.replace(SPEC, codelists={"NACE2007": dataclasses.replace(SPEC.codelists["NACE2007"],
                                                                                 codelist_id="agg_NACE2007arb12")})
    with pytest.raises(SsbError, match=r"table 13470, variable NACE2007: the metadata offers no code list "
                                       r"'agg_NACE2007arb12' \(extension.codeLists: agg_NACE2007arb11\)"):
        client.with_codelists(client.metadata("13470"), wrong)


def test_an_unknown_output_mode_is_refused(tmp_path):
    text = (ROOT / "src/styringsdata/sources/ssb_tables.yaml").read_text(encoding="utf-8")
    path = tmp_path / "ssb_tables.yaml"
    path.write_text(text.replace("output: aggregated", "output: summed"), encoding="utf-8")
    with pytest.raises(SsbError, match="codelists.NACE2007.output must be aggregated or single, got 'summed'"):
        load_table_specs(path)


def test_the_bundled_snapshot_has_the_real_shape():
    metadata = SsbClient(Transport(SourceMode.REPLAY, ROOT / "snapshots")).metadata("13470")
    assert "00-99" not in metadata.variable("NACE2007").values
    assert metadata.variable("NACE2007").codelists == ("agg_NACE2007arb11",)
