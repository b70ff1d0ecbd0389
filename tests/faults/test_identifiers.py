"""Names that come from sources or from files dropped by people never reach SQL or the file system
unchecked: table ids, dimension codes, category codes, `updated` stamps that name vintages, registry
and Kommune-NM file names, mart names. A hostile or odd name is refused with a clear error, or
cleaned into a safe one; a code that is data stays data (bound as a parameter, stored verbatim).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from styringsdata.sources import kommune_nm
from snapshots.fakes.fake_fhi import FakeFhi
from snapshots.fakes.fake_ssb import FakeDimension, FakeSsb
from styringsdata.sources.fhi import FhiClient, load_fhi_specs, refresh_table as refresh_fhi
from styringsdata.raw.landing import LandingError, LandingZone, Payload, safe_name
from styringsdata.raw.raw_store import RawLoadError, load_registry_vintage, load_ssb_vintage
from styringsdata.sources.registry import (
    IndicatorRule,
    load_reference,
    parse_landed,
    process_inbox,
    registry_table_name,
)
from styringsdata.sources.drop_zone import safe_file_name
from styringsdata.sources.ssb import table_spec, SsbClient, SsbError, load_table_specs, refresh_table
from styringsdata.sources.transport import SourceMode, Transport
from styringsdata.publishing.publish import MartSpec, marts_from_manifest, publish
from tests.faults.sources import SPEC, SPECS, ssb_world
from tests.ingestion.fakes import FakeClock, fhi_specs, fhi_vaccination_table, small_table

INJECTION = "x'; drop table raw.ssb_tables; --"
QUOTED_INJECTION = 'Region"; drop table raw.ssb_tables; --'


def files_outside(root: Path, allowed: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and allowed not in p.parents]


# -- SSB ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, message", [
    (QUOTED_INJECTION, "cannot be used as a name in SQL"),
    (INJECTION, "cannot be used as a name in SQL"),
    ("../Region", "cannot be used as a name in SQL"),
    ("value", "collides with a column the loader adds"),
    ("_vintage", "cannot be used as a name in SQL"),
    ("Status", "collides with a column the loader adds"),
])
def test_a_dimension_code_from_ssb_that_is_not_a_plain_identifier_is_refused(tmp_path, code, message):
    world = ssb_world(tmp_path)
    before = world.raw_state()
    table = small_table()
    table.updated = "2026-06-15T06:00:00Z"
    table.dimensions.insert(1, FakeDimension(code, "odd", [("0", "I alt")], elimination=True))
    client, _, _ = world.client(table=table)
    result = world.refresh(client)  # landed as received: the raw answer is kept
    with pytest.raises(RawLoadError, match=rf"table 99999 dimension {re.escape(repr(code))} {message}"):
        load_ssb_vintage(world.con, result.landing_path)
    assert world.raw_state() == before  # raw.ssb_tables and raw.ssb_99999 are still there, unchanged
    assert (result.landing_path / "data-001.json").is_file()


def test_a_category_code_with_sql_in_it_is_stored_as_data(tmp_path):
    landing = LandingZone(tmp_path / "landing")
    table = small_table()
    table.dimension("Alder").categories.insert(0, (INJECTION, "odd"))  # eliminated Alder answers its first code
    client = SsbClient(Transport(SourceMode.LIVE, sender=FakeSsb([table]), clock=FakeClock()))
    spec = table_spec("99999", "t", "T", "statbank", "Region", {"ContentsCode": ("Personer",)})
    result = refresh_table(client, landing, SPECS, spec)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    assert load_ssb_vintage(con, result.landing_path).rows == 9
    assert con.execute('select distinct "Alder" from raw.ssb_99999').fetchall() == [(INJECTION,)]
    assert con.execute("select count(*) from raw.ssb_categories where code = ?", [INJECTION]).fetchone() == (1,)
    assert con.execute("select count(*) from raw.ssb_tables").fetchone() == (1,)


@pytest.mark.parametrize("table_id, error, message", [
    ("../../etc", LandingError, r"SSB table id '../../etc' is not a safe identifier"),
    ("12143; drop table x", LandingError, r"is not a safe identifier"),
    ("12143/../x", LandingError, r"is not a safe identifier"),
    ("121+43", SsbError, r"SSB table id '121\+43' must be letters, digits and _ only"),
    ("121.43", SsbError, r"must be letters, digits and _ only \(it names the raw table raw.ssb_<id>\)"),
])
def test_ssb_table_ids_in_the_table_list_are_checked(tmp_path, table_id, error, message):
    specs = tmp_path / "ssb_tables.yaml"
    specs.write_text(json.dumps({
        "tables": [{"id": table_id, "name": "t", "kind": "statbank", "region_variable": "Region",
                    "series": [{"measure": "persons", "select": {"ContentsCode": "Personer"},
                                "evidence": {"grade": "-", "cite": "test"}}]}],
        "regions": {"asss_municipalities": ["3203"], "kostra_aggregates": [], "statbank_aggregates": []},
        "years": {"first": 2020, "last": 2022}}))
    with pytest.raises(error, match=message):
        load_table_specs(specs)


def test_a_tampered_manifest_table_id_does_not_reach_sql(tmp_path):
    world = ssb_world(tmp_path)
    client, _, _ = world.client()
    result = world.refresh(client)
    manifest = json.loads((result.landing_path / "manifest.json").read_text())
    manifest["table"] = "99999.1"
    (result.landing_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RawLoadError, match=r"raw table for SSB table id '99999.1' 'ssb_99999.1' cannot be used"):
        load_ssb_vintage(world.con, result.landing_path)


@pytest.mark.parametrize("updated", ["../../../../tmp/evil", "2026-06-15T06:00:00Z/../../x", ""])
def test_an_ssb_updated_stamp_that_is_not_a_timestamp_names_no_directory(tmp_path, updated):
    table = small_table()
    table.updated = updated
    landing = LandingZone(tmp_path / "landing")
    client = SsbClient(Transport(SourceMode.LIVE, sender=FakeSsb([table]), clock=FakeClock()))
    with pytest.raises(LandingError, match="is not an ISO-8601 timestamp"):
        refresh_table(client, landing, SPECS, SPEC)
    assert list(tmp_path.rglob("*")) == []


# -- FHI ------------------------------------------------------------------------------------------

def test_a_fhi_updated_stamp_with_a_path_in_it_is_refused(tmp_path):
    evil = "../../../../tmp/evil/x"
    table = fhi_vaccination_table("2026-05-04", evil, cells=lambda combo: 1.0, periods=("2021_2021",))
    landing = LandingZone(tmp_path / "landing")
    client = FhiClient(Transport(SourceMode.LIVE, sender=FakeFhi("nokkel", [table]), clock=FakeClock()))
    specs = fhi_specs(geo=("3203",), first=2021, last=2021)
    with pytest.raises(LandingError, match=r"vintage '\.\./\.\./.*' is not a safe identifier"):
        refresh_fhi(client, landing, specs, specs.tables[0], None)
    assert list(tmp_path.rglob("*")) == []  # nothing written, inside or outside the landing zone


@pytest.mark.parametrize("field, value", [("table_id", "../173"), ("table_id", "173 or 1=1"),
                                          ("source_id", "nokkel/../../x")])
def test_fhi_ids_in_the_table_list_are_checked(tmp_path, field, value):
    document = {"source_id": "nokkel", "years": {"first": 2021, "last": 2022},
                "tables": [{"indicator_id": "HEL01", "table_id": "173", "measure": "RATE",
                            "evidence": {"grade": "C", "cite": "test"}}]}
    if field == "source_id":
        document["source_id"] = value
    else:
        document["tables"][0]["table_id"] = value
    path = tmp_path / "fhi_tables.yaml"
    path.write_text(json.dumps(document))
    with pytest.raises(LandingError, match="is not a safe identifier"):
        load_fhi_specs(path)


# -- landing names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["..", ".", "../x", "a/b", "", ".hidden", "a b", "x'; drop", "é" * 3, "a" * 101])
def test_landing_refuses_every_odd_source_table_vintage_or_payload_name(tmp_path, name):
    landing = LandingZone(tmp_path)
    for args in ((name, "t", "v"), ("ssb", name, "v"), ("ssb", "t", name)):
        with pytest.raises(LandingError, match="is not a safe identifier"):
            landing.vintage_dir(*args)
    with pytest.raises(LandingError):
        landing.write_vintage("ssb", "t", "v", [Payload(name, "u", "GET", (), None, b"{}", "2026-01-01T00:00:00Z")],
                              source_updated=None)
    assert list(tmp_path.rglob("*")) == []


# -- files dropped by people ----------------------------------------------------------------------

HOSTILE_NAMES = ["x'; drop table raw.registry_values; --.csv", "..csv", "...csv", "-rf.csv",
                 "Økonomi 2023 (endelig).csv", "a" * 240 + ".csv", "$(reboot).csv", "\u202egnp.csv"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", "/", "", "C:\\Windows\\x.csv", *HOSTILE_NAMES])
def test_registry_names_derived_from_file_names_are_always_safe(name):
    table = registry_table_name(name)
    payload = safe_file_name(name)
    assert safe_name(table, "t") == table and safe_name(payload, "p") == payload
    assert "/" not in table + payload and ".." not in table + payload and not payload.startswith(".")


def test_hostile_registry_file_names_land_inside_the_landing_zone_and_load_as_data(tmp_path):
    reference = load_reference([IndicatorRule("OKO01", "registry", "percent")], {"3203"}, {})
    inbox, quarantine, landing = tmp_path / "inbox", tmp_path / "quarantine", LandingZone(tmp_path / "landing")
    inbox.mkdir()
    for n, name in enumerate(HOSTILE_NAMES):
        (inbox / name).write_text("indicator_id;municipality_code;period;value;unit;status;source;comment\n"
                                  f"OKO01;3203;{2000 + n};1;percent;measured;;\n", encoding="utf-8")
    result = process_inbox(inbox, quarantine, landing, reference, settle_seconds=0)
    # Names starting with a dot are hidden files (editor and upload leftovers): left alone in the inbox.
    hidden = [n for n in HOSTILE_NAMES if n.startswith(".")]
    assert sorted(n for n, _ in result.accepted) == sorted(set(HOSTILE_NAMES) - set(hidden))
    assert result.rejected == [] and sorted(p.name for p in inbox.iterdir()) == sorted(hidden)
    assert sorted(files_outside(tmp_path, tmp_path / "landing")) == sorted(inbox / n for n in hidden)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    for _, vintage_dir in result.accepted:
        manifest, rows = parse_landed(vintage_dir, reference)
        load_registry_vintage(con, vintage_dir, rows, manifest)
    stored = sorted(r[0] for r in con.execute("select _file from raw.registry_values").fetchall())
    assert stored == sorted(n for n, _ in result.accepted)  # the original names, verbatim, as data


def test_hostile_kommune_nm_file_names_land_inside_the_landing_zone(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    header = ("kommunenummer;kommune;year;total_rank;county;county_rank;naeringsliv_rank;arbeidsmarked_rank;"
              "demografi_rank;kompetanse_rank;kommuneokonomi_rank;fagprove_rank\n")
    for n, name in enumerate(HOSTILE_NAMES):
        (inbox / name).write_text(header + f"3203;Asker;{2000 + n};14;Viken;6;;;;;;\n", encoding="utf-8")
    landed = kommune_nm.land_files(inbox, LandingZone(tmp_path / "landing"))
    assert len(landed) == len(HOSTILE_NAMES)
    assert all((tmp_path / "landing" / "kommune_nm") in p.parents for p in landed)
    assert sorted(files_outside(tmp_path, tmp_path / "landing")) == sorted(inbox.iterdir())  # only the drops


# -- publish --------------------------------------------------------------------------------------

@pytest.mark.parametrize("alias", ["big; drop table x", 'big"', "../big", "value x"])
def test_a_mart_name_that_is_not_an_identifier_is_refused(tmp_path, alias):
    manifest = {"nodes": {"model.p.x": {"resource_type": "model", "fqn": ["p", "marts", "x"], "alias": alias,
                                        "name": "x", "schema": "marts", "description": "", "columns": {}}}}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(RawLoadError, match=r"mart name .* cannot be used as a name in SQL"):
        marts_from_manifest(path)


def test_paths_with_quotes_reach_sql_as_escaped_strings(tmp_path):
    odd = tmp_path / "it's here; drop"
    odd.mkdir()
    work = odd / "work'.duckdb"
    con = duckdb.connect(str(work))
    con.execute("create schema marts")
    con.execute("create table marts.t as select 1 as x")
    con.close()
    publication = publish(work, odd / "warehouse.duckdb", odd / "parquet",
                          [MartSpec("t", '"marts"."t"', "it's a table", {"x": "it's a column"})])
    assert publication.tables == {"t": 1}
    check = duckdb.connect(str(odd / "warehouse.duckdb"), read_only=True)
    assert check.execute("select comment from duckdb_tables() where table_name = 't'").fetchone() == ("it's a table",)
    check.close()
