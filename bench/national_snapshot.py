"""Generate a national-scale snapshot: every municipality code, every source table, 2010-2025.

    .venv/bin/python -m bench.national_snapshot DIR [--first-year 2010] [--last-year 2025]

DIR must be outside snapshots/ (e.g. data/bench/national or /tmp/national); it is rebuilt.
It uses the mechanism of snapshots/build.py: the pipeline's own clients run in record mode
against the in-process fakes (snapshots/fakes/fake_ssb.py, snapshots/fakes/fake_fhi.py), so every request a
national run makes has a recorded answer, keyed exactly as the transport looks it up.

What it writes:

    DIR/ssb_tables.yaml     src/styringsdata/sources/ssb_tables.yaml with every municipality code valid in
                            first..last year (about 830 codes) and those years
    DIR/fhi_tables.yaml     src/styringsdata/sources/fhi_tables.yaml with all 357 of today's municipalities + "0"
    DIR/data.ssb.no/...     SSB table info, metadata, data (JSON-stat2) and KLASS 131 changes
    DIR/statistikk-data.fhi.no/...   FHI listing, queries and data
    DIR/www.miljodirektoratet.no/... the emissions workbook with every municipality
    DIR/kommune_nm/         a Kommune-NM file ranking all 357 municipalities for every year
    DIR/national.json       what was generated: codes per year, cells and requests per table

bench/bench_pipeline.py and bench/bench_requests.py point the pipeline's table catalogues at
DIR/ssb_tables.yaml and DIR/fhi_tables.yaml; nothing in ingestion/ or snapshots/ changes.

What is real and what is not. The structure is SSB's: KOSTRA tables carry `KOKkommuneregion0000`
with the code valid in each year plus EAK/EAKUO and the KOSTRA groups EKG01-EKG17, other tables
`Region` (plus county codes), the dimensions and series codes of src/styringsdata/sources/ssb_tables.yaml, empty
cells marked "." where a code did not exist that year. The municipality history follows the real
reforms with the real counts of municipalities: 426 codes until 2017, Trøndelag merged in 2018
(422), the 2020 reform (356, new county numbers 30/34/38/42/46/54), the 2024 county split (357,
31/32/33, 39/40, 55/56, Haram out of Ålesund). The ASSS members carry their real codes and
lineages (0220+0627+0628 -> 3025 -> 3203, ...); the other codes and names are synthetic
("Kommune 0412"), and nothing changes between 2010 and 2017 (the real history has four small
mergers there). All figures other than Asker's published ones are illustrative, as in
snapshots/build.py.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

import snapshots.build as build  # (the bundled snapshots' generator: figures, fakes, helpers)
from styringsdata.sources import miljodirektoratet
from snapshots.fakes.fake_fhi import FakeFhi
from snapshots.fakes.fake_ssb import FakeSsb, FakeTable
from styringsdata.sources.fhi import FhiClient, load_fhi_specs
from styringsdata.sources.fhi import refresh_table as refresh_fhi_table
from styringsdata.sources.klass import KlassClient, refresh_kostra_groups
from styringsdata.raw.landing import LandingZone
from styringsdata.sources.ssb import (MAX_CELLS, SsbClient, TableSpec, TableSpecs, load_table_specs,
                           refresh_table)
from styringsdata.sources.transport import SourceMode, Transport

ROOT = Path(__file__).resolve().parents[1]

SSB_TABLES = ROOT / "src" / "styringsdata" / "sources" / "ssb_tables.yaml"
FHI_TABLES = ROOT / "src" / "styringsdata" / "sources" / "fhi_tables.yaml"
OPEN = 9999  # last year of a code that is still valid

# -- the municipality history -------------------------------------------------------------------
# Municipalities per county until 2017 (426 in all, as in 2017).
COUNTIES_2017 = {"01": 18, "02": 22, "03": 1, "04": 22, "05": 26, "06": 21, "07": 12, "08": 18, "09": 15,
                 "10": 15, "11": 26, "12": 33, "14": 26, "15": 36, "16": 25, "17": 23, "18": 44, "19": 24,
                 "20": 19}
# 2020 reform: new county <- old counties, and how many municipalities it has afterwards (356 in all).
REFORM_2020 = {"30": (("01", "02", "06"), 51), "34": (("04", "05"), 46), "38": (("07", "08"), 23),
               "42": (("09", "10"), 25), "46": (("12", "14"), 43), "54": (("19", "20"), 39),
               "11": (("11",), 23), "15": (("15",), 26), "18": (("18",), 41), "50": (("50",), 38),
               "03": (("03",), 1)}
# 2024 county split: old county -> (new county, municipalities) in order.
SPLIT_2024 = {"30": (("31", 12), ("32", 21), ("33", 18)), "38": (("39", 6), ("40", 17)),
              "54": (("55", 21), ("56", 18))}
COUNTY_NAMES = {"01": "Østfold", "02": "Akershus", "03": "Oslo", "04": "Hedmark", "05": "Oppland", "06": "Buskerud",
                "07": "Vestfold", "08": "Telemark", "09": "Aust-Agder", "10": "Vest-Agder", "11": "Rogaland",
                "12": "Hordaland", "14": "Sogn og Fjordane", "15": "Møre og Romsdal", "16": "Sør-Trøndelag",
                "17": "Nord-Trøndelag", "18": "Nordland", "19": "Troms", "20": "Finnmark", "30": "Viken",
                "31": "Østfold", "32": "Akershus", "33": "Buskerud", "34": "Innlandet", "38": "Vestfold og Telemark",
                "39": "Vestfold", "40": "Telemark", "42": "Agder", "46": "Vestland", "50": "Trøndelag",
                "54": "Troms og Finnmark", "55": "Troms", "56": "Finnmark"}

# Real codes besides build.MUNICIPALITIES (the ASSS members' lineages) that the history needs.
EXTRA_REAL = {
    "1601": ("Trondheim", 1838, 2017, 190_000), "1662": ("Klæbu", 1838, 2017, 6_000),
    "5030": ("Klæbu", 2018, 2019, 6_100), "1130": ("Strand", 1838, OPEN, 12_500),
    "1504": ("Ålesund", 1838, 2019, 47_000), "1534": ("Haram", 1838, 2019, 9_000),
    "1546": ("Sandøy", 1838, 2019, 1_300), "1523": ("Ørskog", 1838, 2019, 2_300), "1529": ("Skodje", 1838, 2019, 4_700),
    "1507": ("Ålesund", 2020, 2023, 66_000), "1508": ("Ålesund", 2024, OPEN, 57_000), "1580": ("Haram", 2024, OPEN, 9_300),
}
EXTRA_CHANGES = [
    ("1601", "Trondheim", "5001", "Trondheim", "2018-01-01"), ("1662", "Klæbu", "5030", "Klæbu", "2018-01-01"),
    ("5030", "Klæbu", "5001", "Trondheim", "2020-01-01"),
    *[(old, name, "1507", "Ålesund", "2020-01-01")
      for old, name in (("1504", "Ålesund"), ("1534", "Haram"), ("1546", "Sandøy"), ("1523", "Ørskog"), ("1529", "Skodje"))],
    ("1507", "Ålesund", "1508", "Ålesund", "2024-01-01"), ("1507", "Ålesund", "1580", "Haram", "2024-01-01"),
]


class World:
    """Every municipality code with its years of validity, and the KLASS changes between them."""

    def __init__(self) -> None:
        self.munis: dict[str, list] = {}  # code -> [name, first, last, population]
        self.changes: list[tuple[str, str, str, str, str]] = []
        self.used: set[str] = set()

    def add(self, code: str, name: str, first: int, last: int, population: int) -> None:
        self.munis[code] = [name, first, last, population]
        self.used.add(code)

    def allocate(self, county: str) -> str:
        for n in range(1, 100):
            code = f"{county}{n:02d}"
            if code not in self.used:
                self.used.add(code)
                return code
        raise RuntimeError(f"county {county}: no free municipality number")

    def valid_in(self, year: int) -> list[str]:
        return sorted(c for c, (_, first, last, _) in self.munis.items() if first <= year <= last)

    def merge(self, olds: list[str], county: str, year: int, keep_code: bool) -> str:
        """`olds` become one municipality from `year`: the old code if allowed and alone, else a new one."""
        if keep_code and len(olds) == 1:
            return olds[0]
        new = self.allocate(county)
        name = self.munis[olds[0]][0] if len(olds) == 1 else f"Kommune {new}"
        self.add(new, name, year, OPEN, sum(self.munis[o][3] for o in olds))
        for old in olds:
            self.munis[old][2] = year - 1
            self.changes.append((old, self.munis[old][0], new, name, f"{year}-01-01"))
        return new


def synthetic_population(code: str) -> int:
    u = (build.noise("population", code) + 1) / 2
    z = statistics.NormalDist().inv_cdf(min(max(u, 1e-6), 1 - 1e-6))
    return int(min(60_000, max(200, math.exp(8.6 + 1.1 * z))))


def build_world() -> World:
    world = World()
    real = {**build.MUNICIPALITIES, **EXTRA_REAL}
    for code, (name, first, last, population) in real.items():
        world.add(code, name, first, last, population)
    real_changes = [tuple(c) for c in build.KLASS_CHANGES] + EXTRA_CHANGES
    world.changes += real_changes
    changed_by_reality = {c[0] for c in real_changes} | {c[2] for c in real_changes}

    # Until 2017: fill each county up to its real count with synthetic codes.
    by_county: dict[str, list[str]] = {county: [] for county in COUNTIES_2017}
    for code in world.valid_in(2017):
        by_county[code[:2]].append(code)
    for county, count in COUNTIES_2017.items():
        while len(by_county[county]) < count:
            code = world.allocate(county)
            world.add(code, f"Kommune {code}", 1838, OPEN, synthetic_population(code))
            by_county[county].append(code)

    def synthetic(codes: list[str]) -> list[str]:
        return [c for c in codes if c not in changed_by_reality]

    # 2018: Sør- and Nord-Trøndelag become Trøndelag (50); four synthetic pairs merge.
    trondelag = synthetic(by_county["16"] + by_county["17"])
    successors = 44 - 2  # Trondheim 5001 and Klæbu 5030 are real
    _reform(world, trondelag, successors, "50", 2018, keep_code=False)

    # 2020: the regional reform.
    valid_2019 = world.valid_in(2019)
    for county, (sources, target) in REFORM_2020.items():
        olds = synthetic([c for c in valid_2019 if _county_2019(c) in sources])
        real_successors = {c[2] for c in real_changes if c[4] == "2020-01-01" and c[2][:2] == county}
        real_successors |= {c for c in valid_2019 if c in changed_by_reality and c[:2] == county
                            and world.munis[c][2] == OPEN}  # real codes that simply carry on (Oslo, Strand)
        _reform(world, olds, target - len(real_successors), county, 2020, keep_code=county in sources)

    # 2024: Viken, Vestfold og Telemark, Troms og Finnmark split; every code changes.
    valid_2023 = world.valid_in(2023)
    for old_county, parts in SPLIT_2024.items():
        olds = synthetic([c for c in valid_2023 if c[:2] == old_county])
        for new_county, target in parts:
            real_successors = {c[2] for c in real_changes if c[4] == "2024-01-01" and c[2][:2] == new_county}
            take, olds = olds[:target - len(real_successors)], olds[target - len(real_successors):]
            for old in take:
                world.merge([old], new_county, 2024, keep_code=False)
        assert not olds, f"county {old_county}: {len(olds)} municipalities left over in the 2024 split"
    return world


def _county_2019(code: str) -> str:
    county = code[:2]
    return "50" if county in ("16", "17") else county


def _reform(world: World, olds: list[str], successors: int, county: str, year: int, keep_code: bool) -> None:
    merges = len(olds) - successors
    if merges < 0 or merges > successors:
        raise RuntimeError(f"county {county} {year}: cannot make {successors} municipalities of {len(olds)}")
    groups = [olds[2 * i:2 * i + 2] for i in range(merges)] + [[c] for c in olds[2 * merges:]]
    for group in groups:
        world.merge(group, county, year, keep_code)


# -- the snapshot ------------------------------------------------------------------------------

def national_specs(world: World, first_year: int, last_year: int, out: Path) -> tuple[TableSpecs, Path, Path]:
    codes = [c for c, (_, first, last, _) in sorted(world.munis.items()) if first <= last_year and last >= first_year]
    document = yaml.safe_load(SSB_TABLES.read_text(encoding="utf-8"))
    document["regions"]["asss_municipalities"] = codes
    document["years"] = {"first": first_year, "last": last_year}
    ssb_path = out / "ssb_tables.yaml"
    ssb_path.write_text(
        "# Generated by bench/national_snapshot.py: src/styringsdata/sources/ssb_tables.yaml with every municipality code valid\n"
        f"# in {first_year}-{last_year} ({len(codes)} codes; the list keeps the key `asss_municipalities` that\n"
        "# styringsdata.sources.ssb.load_table_specs reads). Do not edit; rerun the generator.\n"
        + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    fhi = yaml.safe_load(FHI_TABLES.read_text(encoding="utf-8"))
    fhi["years"] = {"first": first_year, "last": last_year}
    fhi_path = out / "fhi_tables.yaml"
    fhi_path.write_text("# Generated by bench/national_snapshot.py from src/styringsdata/sources/fhi_tables.yaml: "
                        "every municipality.\n"
                        + yaml.safe_dump(fhi, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    return load_table_specs(ssb_path), ssb_path, fhi_path


def _extend_asker_series(first_year: int, last_year: int) -> None:
    """build.py's Asker series start in 2018; carry them back (illustratively) to the first year."""
    for year in range(first_year, 2018):
        back = 2018 - year
        build.ASKER_POP_1JAN.setdefault(year, round(build.ASKER_POP_1JAN[2018] * 0.988 ** back))
        build.ASKER_JOBS.setdefault(year, round(build.ASKER_JOBS[2018] * 0.99 ** back))
        build.ASKER_SELF_SUFFICIENCY.setdefault(year, 0.78)
        residents, density = build.ASKER_URBAN[2018]
        build.ASKER_URBAN.setdefault(year, (residents - 600 * back, density - 6 * back))
        build.ASKER_DWELLINGS.setdefault(year, (480 + 7 * back, 0.6, 0.33))
        build.ASKER_IKT_SHARE.setdefault(year, 0.03)
    for series in (build.ASKER_POP_1JAN,):
        for year in range(2018, last_year + 2):
            series.setdefault(year, round(series[year - 1] * 1.011))
    for series in (build.ASKER_JOBS, build.ASKER_SELF_SUFFICIENCY, build.ASKER_URBAN, build.ASKER_DWELLINGS,
                   build.ASKER_IKT_SHARE):
        for year in range(2018, last_year + 1):
            series.setdefault(year, series[year - 1])


def national_fake_table(spec: TableSpec, specs: TableSpecs, world: World, updated: str) -> FakeTable:
    """build.fake_table with every code, the table's full region dimension and its real period format."""
    regions = list(specs.regions_for(spec))
    if spec.kind == "kostra":
        regions += [c for c in build.KOSTRA_GROUPS if c not in regions]
    else:
        regions += sorted({c[:2] for c in regions if c[:2].isdigit() and len(c) == 4})  # county totals
    table = build.fake_table(spec, specs, updated, regions=regions)
    names = {c: world.munis[c][0] for c in regions if c in world.munis}
    region = table.dimensions[0]
    region.categories = [(c, names.get(c) or COUNTY_NAMES.get(c) or label) for c, label in region.categories]
    cells = table.cells

    def guarded(combo):
        code = combo[spec.region_variable]
        if code not in build.AGGREGATES and code not in build.MUNICIPALITIES and not code.startswith("EKG"):
            return None, ".."  # county totals: never selected
        return cells(combo)

    table.cells = guarded
    return table


def national_fhi(world: World, fhi_path: Path, ssb_path: Path) -> FakeFhi:
    specs = load_fhi_specs(fhi_path, ssb_path)
    geo = [g for g in specs.geo if g in world.munis or g == "0"]
    return build.fake_fhi(specs, geo=geo)


def national_emissions_workbook(world: World) -> tuple[bytes, int]:
    """build.emissions_workbook for every municipality of today (Asker's published totals kept)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    workbook.properties.created = workbook.properties.modified = dt.datetime(2026, 2, 1, 8, 0)
    cover = workbook.create_sheet("Forside")
    cover.append(["Klimagassutslipp fra kommuner (illustrativt nasjonalt uttrekk, se bench/national_snapshot.py)"])
    sheet = workbook.create_sheet("Oversikt - detaljert")
    sheet.append(list(miljodirektoratet.COLUMNS))
    asker = build.asker_sector_emissions()
    asker_population = world.munis["3203"][3]
    rows = 0
    for code in world.valid_in(2024):
        name, _, _, population = world.munis[code]
        size = population / asker_population
        for year in build.EMISSION_YEARS:
            for sector, tonnes in asker[year].items():
                if code != "3203":
                    tonnes = round(tonnes * size * (1 + 0.1 * build.noise("mdir", code, year, sector)), 2)
                parts = build.SECTOR_SOURCES[sector]
                amounts = [round(tonnes * share, 2) for _, _, share in parts]
                amounts[-1] = round(tonnes - sum(amounts[:-1]), 2)
                for (source, gas, _), amount in zip(parts, amounts):
                    sheet.append([COUNTY_NAMES[code[:2]], int(code), name, year, sector, source, gas, amount])
                    rows += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return build._fixed_zip_times(buffer.getvalue()), rows


def national_kommune_nm(world: World, first_year: int, last_year: int) -> str:
    """A Kommune-NM file for every municipality of today and year; the bundled ASSS rows kept as they are."""
    bundled = list(csv.DictReader(io.StringIO(
        (build.SNAPSHOT_DIR / "kommune_nm" / "kommune_nm_2019_2022.csv").read_text(encoding="utf-8")), delimiter=";"))
    header = list(bundled[0].keys())
    today = world.valid_in(2024)
    out = io.StringIO()
    writer = csv.DictWriter(out, header, delimiter=";", lineterminator="\n")
    writer.writeheader()
    for year in range(first_year, last_year):
        kept = {r["kommunenummer"]: r for r in bundled if int(r["year"]) == year}
        free = [r for r in range(1, len(today) + 1) if str(r) not in {k["total_rank"] for k in kept.values()}]
        others = sorted((c for c in today if c not in kept), key=lambda c: build.noise("nm", c, year))
        ranks = dict(zip(others, free))
        for code in today:
            if code in kept:
                writer.writerow(kept[code])
                continue
            sub = {c: str(1 + int((build.noise("nm", c, code, year) + 1) / 2 * (len(today) - 1)))
                   for c in header[6:]}
            writer.writerow({"kommunenummer": code, "kommune": world.munis[code][0], "year": year,
                             "total_rank": ranks[code], "county": COUNTY_NAMES[code[:2]],
                             "county_rank": 1 + ranks[code] % 20, **sub})
    return out.getvalue()


def generate(out: Path, first_year: int, last_year: int) -> dict:
    out = out.resolve()
    if out == build.SNAPSHOT_DIR or build.SNAPSHOT_DIR in out.parents:
        raise SystemExit(f"{out}: refusing to write inside the bundled snapshots/")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    world = build_world()
    # build.py's figure functions read these module globals: give them the whole country.
    build.MUNICIPALITIES.clear()
    build.MUNICIPALITIES.update({c: tuple(v) for c, v in world.munis.items()})
    _extend_asker_series(first_year, last_year)
    specs, ssb_path, fhi_path = national_specs(world, first_year, last_year, out)

    tables = [national_fake_table(spec, specs, world, build.updated_for(spec)) for spec in specs.tables]
    changes = [{"oldCode": o, "oldName": on, "oldShortName": "", "newCode": n, "newName": nn, "newShortName": "",
                "changeOccurred": d} for o, on, n, nn, d in world.changes]
    workbook, emission_rows = national_emissions_workbook(world)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sender = build.HostSender({"data.ssb.no": FakeSsb(tables, klass_changes=changes,
                                                      kostra_groups=build.kostra_group_membership(specs),
                                                      now=lambda: build.SNAPSHOT_NOW,
                                                      unrelated_per_day=build.SSB_OTHER_TABLES_PER_DAY),
                               "statistikk-data.fhi.no": national_fhi(world, fhi_path, ssb_path),
                               "www.miljodirektoratet.no": build.FileHost(miljodirektoratet.DOWNLOAD_URL, workbook, xlsx)})
    transport = Transport(SourceMode.RECORD, out, sender=sender, wall_clock=lambda: build.SNAPSHOT_NOW)
    client = SsbClient(transport)
    per_table = []
    with tempfile.TemporaryDirectory() as tmp:
        landing = LandingZone(Path(tmp))
        for spec in specs.tables:
            result = refresh_table(client, landing, specs, spec)
            minimum = max(1, math.ceil(result.cells_requested / MAX_CELLS))
            per_table.append({"table": spec.table_id, "cells": result.cells_requested,
                              "data_requests": result.data_requests, "minimum": minimum})
            print(f"SSB {spec.table_id:>17}: {result.cells_requested:>9,} cells in {result.data_requests} request(s)"
                  f" (minimum {minimum})", flush=True)
        klass = KlassClient(transport)
        klass.fetch_changes(build.KLASS_FROM)
        refresh_kostra_groups(klass, landing, range(specs.first_year, specs.last_year + 1))
        fhi_specs = load_fhi_specs(fhi_path, ssb_path)
        fhi = FhiClient(transport)
        modified, _ = fhi.modified_tables(fhi_specs.source_id, None)
        for table in fhi_specs.tables:
            refresh_fhi_table(fhi, landing, fhi_specs, table, modified)
        miljodirektoratet.refresh(transport, landing)
        # what the next run asks: the SSB listing (and table info per table), FHI since, the conditional GET
        build.record_change_checks(transport, landing, specs, fhi_specs, miljodirektoratet.DOWNLOAD_URL)
    (out / "kommune_nm").mkdir()
    (out / "kommune_nm" / "kommune_nm_national.csv").write_text(
        national_kommune_nm(world, first_year, last_year), encoding="utf-8")
    summary = {
        "first_year": first_year, "last_year": last_year,
        "codes_requested": len(specs.municipalities),
        "codes_valid": {str(y): len(world.valid_in(y)) for y in range(first_year, last_year + 1)},
        "klass_changes": len(world.changes),
        "fhi_geo": len(fhi_specs.geo),
        "emission_rows": emission_rows, "workbook_bytes": len(workbook),
        "ssb_tables": per_table,
        "recorded_responses": transport.stats.requests,
        "snapshot_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
        "seconds": round(time.perf_counter() - started, 1),
        "ssb_tables_yaml": str(ssb_path), "fhi_tables_yaml": str(fhi_path),
    }
    (out / "national.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--first-year", type=int, default=2010)
    parser.add_argument("--last-year", type=int, default=2025)
    args = parser.parse_args()
    if not 2000 <= args.first_year <= 2018 or not 2020 <= args.last_year <= 2025:
        parser.error("years: first between 2000 and 2018, last between 2020 and 2025")
    s = generate(args.dir, args.first_year, args.last_year)
    valid = s["codes_valid"]
    print(f"\n{s['codes_requested']} municipality codes requested ({min(valid.values())}-{max(valid.values())} valid "
          f"per year), {s['first_year']}-{s['last_year']}; {s['klass_changes']} KLASS changes; FHI {s['fhi_geo']} "
          f"geo codes; Miljødirektoratet {s['emission_rows']:,} rows; {s['recorded_responses']} responses, "
          f"{s['snapshot_bytes'] / 1e6:.0f} MB in {args.dir} ({s['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
