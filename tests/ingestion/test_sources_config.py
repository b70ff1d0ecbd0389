"""The source configuration, the dbt project and the bundled snapshots agree, and no stand-in is left anywhere."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from styringsdata.sources.ssb import SsbError, load_table_specs
from tools.derive import SEEDS, current, derived_files

ROOT = Path(__file__).resolve().parents[2]


def test_derived_files_are_written_from_the_configuration():
    stale = [str(relative) for relative, text in derived_files(ROOT).items() if current(ROOT / relative) != text]
    assert not stale, f"{stale} differ from what the configuration gives: run `make snapshots` (or tools/derive.py)"


def test_staging_and_sources_cover_exactly_the_configured_tables():
    configured = [t.table_id for t in load_table_specs().tables]
    macro = (ROOT / "dbt_project" / "macros" / "ssb_configured_tables.sql").read_text()
    assert re.findall(r"'table_id': '(\w+)'", macro) == configured
    sources = yaml.safe_load((ROOT / "dbt_project" / "models" / "staging" / "ssb" / "_ssb__sources.yml").read_text())
    declared = {t["name"] for t in sources["sources"][0]["tables"]}
    assert declared == {f"ssb_{t}" for t in configured} | {"ssb_categories", "ssb_tables"}


def test_every_key_figure_has_a_series_or_a_reason():
    seed = (ROOT / SEEDS / "kostra_key_figures.csv").read_text(encoding="utf-8").splitlines()
    assert len(seed) == 92  # header + the document's 85 key figures + the macro group's 6 (KOKO01-KOKO06)
    specs = load_table_specs()
    mapped = {s.key_figure for s in specs.series() if s.key_figure}
    unmapped = {w.key_figure for w in specs.without_known_table if w.key_figure}
    assert not mapped & unmapped and len(mapped | unmapped) == 91
    # the macro group's figures all come from a known table: they are what its report is about
    assert {f"KOKO0{n}" for n in range(1, 7)} <= mapped


def _repository_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return [ROOT / n for n in names if (ROOT / n).is_file()]


def test_no_file_names_the_stand_in_table_or_invented_fhi_table_ids():
    stand_in = "kostra_" + "nokkeltall"
    # An FHI table id from the invented block (100n) in any FHI context: a URL path, a YAML or test table id,
    # a "table 100n" mention.
    # (Kristiansand's old municipality code, the same four digits, is real and stays.)
    invented = re.compile(r"(?i)(fhi[^\n]{0,80}\b100[1-9]\b|table(_id)?[\s:=/\"'(]+100[1-9]\b|Table/100[1-9])")
    offenders = []
    for path in _repository_files():
        relative = path.relative_to(ROOT).as_posix()
        if stand_in in relative or re.search(r"/Table/100[1-9]/", relative):
            offenders.append(relative)
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if stand_in in text:
            offenders.append(f"{relative}: {stand_in}")
        match = invented.search(text)
        if match:
            offenders.append(f"{relative}: {match.group(0)[:60]!r}")
    assert not offenders, offenders


def test_a_macro_group_key_figure_without_a_configured_series_is_refused():
    from tools.derive import macro_key_figure_rows

    with pytest.raises(ValueError, match=r"asss_macro_key_figures.csv row 2: key figure KOKO01 is not a series"):
        macro_key_figure_rows({})


def _config_with(tmp_path: Path, edit) -> Path:
    document = yaml.safe_load((ROOT / "src" / "styringsdata" / "sources" / "ssb_tables.yaml").read_text(encoding="utf-8"))
    edit(document)
    path = tmp_path / "ssb_tables.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_an_indicator_naming_a_measure_no_series_feeds_is_refused_naming_both(tmp_path):
    def misspell(document):
        route = next(r for r in document["indicators"] if r["id"] == "SAM03")
        route["denominator"] = ["intro_totall"]

    with pytest.raises(SsbError, match=r"indicator SAM03 uses measure\(s\) intro_totall that no series"):
        load_table_specs(_config_with(tmp_path, misspell))


def test_a_figure_without_a_table_must_still_say_how_its_indicator_is_computed(tmp_path):
    def drop_route(document):
        document["indicators"] = [r for r in document["indicators"] if r["id"] != "OKO04"]

    with pytest.raises(SsbError, match="`without_known_table` names indicator.s. OKO04 that have no entry"):
        load_table_specs(_config_with(tmp_path, drop_route))


def test_routes_take_their_tables_from_the_measures_and_computed_measures():
    specs = load_table_specs()
    routes = {r.indicator_id: r for r in specs.indicators}
    assert specs.route_tables(routes["INN10"]) == ("01222", "07984")  # jobs_change and population_change
    assert specs.route_tables(routes["OKO04"]) == () and specs.route_status(routes["OKO04"]) == "source unknown"
    assert specs.route_status(routes["BYS14"]) == "fetched"
    assert specs.region_variables() == ("Gjerningssted", "KOKkommuneregion0000", "Region")


def test_an_fhi_table_added_to_the_configuration_is_answered_offline_without_editing_the_snapshot_builder(tmp_path):
    """The FHI half of the recipe: an entry in fhi_tables.yaml is all `make snapshots` needs (illustrative figures)."""
    from styringsdata.sources.fhi import FhiClient, load_fhi_specs, refresh_table
    from styringsdata.raw.landing import LandingZone
    from styringsdata.sources.transport import SourceMode, Transport
    from tests.ingestion.fakes import FakeClock

    import snapshots.build as build

    document = yaml.safe_load((ROOT / "src" / "styringsdata" / "sources" / "fhi_tables.yaml").read_text(encoding="utf-8"))
    entry = next(t for t in document["tables"] if t["indicator_id"] == "BYS16")
    entry.update({"table_id": "9999", "measure": "RATE", "pin": {"KJONN": "0", "ALDER": "top"}})
    path = tmp_path / "fhi_tables.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    specs = load_fhi_specs(path)

    client = FhiClient(Transport(SourceMode.LIVE, sender=build.fake_fhi(specs), clock=FakeClock()))
    table = next(t for t in specs.tables if t.table_id == "9999")
    result = refresh_table(client, LandingZone(tmp_path / "landing"), specs, table, None)
    assert result.changed and result.data_requests == 1
    answer = json.loads(next((result.landing_path).glob("data*.json")).read_text(encoding="utf-8-sig"))
    assert answer["id"][:2] == ["GEO", "AAR"] and any(isinstance(v, float) for v in answer["value"])
