"""Build the bundled SSB and KLASS snapshots.

    python snapshots/build.py            # rewrites snapshots/data.ssb.no/...

The pipeline's own clients run in record mode against `tests.fakes.fake_ssb`,
so every request the offline run makes has a recorded answer, keyed exactly
as the transport will look it up. Rerun this after changing
src/styringsdata/sources/ssb_tables.yaml (regions, years, series).

Which figures are real and which are illustrative is stated in
snapshots/README.md. In short: Asker's figures are chosen so that the
indicators computed from them reproduce the values the Handlingsprogram
2024-2027 published for 2019-2022 (as-is values are the published figures
themselves); every other number is illustrative.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.fake_fhi import FakeFhi, FakeFhiDimension, FakeFhiTable  # noqa: E402
from tests.fakes.fake_ssb import Cell, FakeCodelist, FakeDimension, FakeSsb, FakeTable  # noqa: E402
from styringsdata.sources.fhi import FhiClient, load_fhi_specs  # noqa: E402
from styringsdata.sources.fhi import modified_since, refresh_table as refresh_fhi_table  # noqa: E402
from styringsdata.sources.klass import KlassClient, refresh_kostra_groups  # noqa: E402
from styringsdata.raw.landing import LandingZone  # noqa: E402
from styringsdata.sources.ssb import SsbClient, TableSpec, check_ssb, load_table_specs, refresh_table  # noqa: E402
from styringsdata.sources.periods import parse_period  # noqa: E402
from styringsdata.sources.transport import SourceMode, Transport  # noqa: E402
from styringsdata.sources.doctor import run_doctor  # noqa: E402
from tools.derive import write as write_derived  # noqa: E402

SNAPSHOT_DIR = ROOT / "snapshots"
KLASS_FROM = dt.date(2018, 1, 1)
# The recorded world's clock: after every table's `updated` (updated_for), and where a replay's clock stands
# (snapshots/<host>/recorded_at.json), so "tables updated in the past N days" has one recorded answer.
SNAPSHOT_NOW = dt.datetime(2026, 9, 1, 6, 0, tzinfo=dt.timezone.utc)
# Tables SSB publishes on a working day besides ours: what a pastDays listing also holds.
SSB_OTHER_TABLES_PER_DAY = 40

# code: (name, first year valid, last year valid, approximate population)
MUNICIPALITIES: dict[str, tuple[str, int, int, int]] = {
    "0301": ("Oslo", 1838, 9999, 700_000),
    "1201": ("Bergen", 1838, 2019, 285_000), "4601": ("Bergen", 2020, 9999, 290_000),
    "5001": ("Trondheim", 2018, 9999, 210_000), "5030": ("Klæbu", 2018, 2019, 6_100),
    "1103": ("Stavanger", 1838, 9999, 145_000),
    "1141": ("Finnøy", 1838, 2019, 3_200), "1142": ("Rennesøy", 1838, 2019, 4_900),
    "0219": ("Bærum", 1838, 2019, 127_000), "3024": ("Bærum", 2020, 2023, 128_000),
    "3201": ("Bærum", 2024, 9999, 130_000),
    "1001": ("Kristiansand", 1838, 2019, 92_000), "1017": ("Songdalen", 1838, 2019, 6_700),
    "1018": ("Søgne", 1838, 2019, 11_400), "4204": ("Kristiansand", 2020, 9999, 113_000),
    "0106": ("Fredrikstad", 1838, 2019, 82_000), "3004": ("Fredrikstad", 2020, 2023, 83_000),
    "3107": ("Fredrikstad", 2024, 9999, 84_000),
    "1102": ("Sandnes", 1838, 2019, 80_000), "1129": ("Forsand", 1838, 2019, 1_200),
    "1108": ("Sandnes", 2020, 9999, 81_000),
    "1902": ("Tromsø", 1838, 2019, 76_000), "5401": ("Tromsø", 2020, 2023, 77_000),
    "5501": ("Tromsø", 2024, 9999, 78_000),
    "0602": ("Drammen", 1838, 2019, 69_000), "0625": ("Nedre Eiker", 1838, 2019, 25_000),
    "0711": ("Svelvik", 1838, 2019, 6_700), "3005": ("Drammen", 2020, 2023, 101_000),
    "3301": ("Drammen", 2024, 9999, 103_000),
    "0220": ("Asker", 1838, 2019, 61_500), "0627": ("Røyken", 1838, 2019, 22_800),
    "0628": ("Hurum", 1838, 2019, 9_400), "3025": ("Asker", 2020, 2023, 95_000),
    "3203": ("Asker", 2024, 9999, 98_000),
    "0231": ("Skedsmo", 1838, 2019, 55_000), "0227": ("Fet", 1838, 2019, 11_700),
    "0226": ("Sørum", 1838, 2019, 18_000), "3030": ("Lillestrøm", 2020, 2023, 86_000),
    "3205": ("Lillestrøm", 2024, 9999, 89_000),
}
AGGREGATES = {"EAK": ("Landet", 5_500_000), "EAKUO": ("Landet uten Oslo", 4_800_000),
              "EKG12": ("Kostragruppe 12", 1_200_000), "0": ("Landet", 5_500_000)}
ASKER_PARTS = {"0220": 0.655, "0627": 0.245, "0628": 0.100}  # shares used to split Asker's 2018-2019 counts

# The KLASS classification 131 changes that concern these codes, as KLASS
# records them (see snapshots/README.md for what is verified).
KLASS_CHANGES = [
    ("1201", "Bergen", "4601", "Bergen", "2020-01-01"),
    # Trondheim keeps its code; KLASS records it as a change to itself, as it does Stavanger's.
    ("5001", "Trondheim", "5001", "Trondheim", "2020-01-01"),
    ("5030", "Klæbu", "5001", "Trondheim", "2020-01-01"),
    ("1103", "Stavanger", "1103", "Stavanger", "2020-01-01"),
    ("1141", "Finnøy", "1103", "Stavanger", "2020-01-01"),
    ("1142", "Rennesøy", "1103", "Stavanger", "2020-01-01"),
    ("0219", "Bærum", "3024", "Bærum", "2020-01-01"),
    ("3024", "Bærum", "3201", "Bærum", "2024-01-01"),
    ("1001", "Kristiansand", "4204", "Kristiansand", "2020-01-01"),
    ("1017", "Songdalen", "4204", "Kristiansand", "2020-01-01"),
    ("1018", "Søgne", "4204", "Kristiansand", "2020-01-01"),
    ("0106", "Fredrikstad", "3004", "Fredrikstad", "2020-01-01"),
    ("3004", "Fredrikstad", "3107", "Fredrikstad", "2024-01-01"),
    ("1102", "Sandnes", "1108", "Sandnes", "2020-01-01"),
    ("1129", "Forsand", "1108", "Sandnes", "2020-01-01"),
    ("1129", "Forsand", "1130", "Strand", "2020-01-01"),
    ("1902", "Tromsø", "5401", "Tromsø", "2020-01-01"),
    ("5401", "Tromsø", "5501", "Tromsø", "2024-01-01"),
    ("0602", "Drammen", "3005", "Drammen", "2020-01-01"),
    ("0625", "Nedre Eiker", "3005", "Drammen", "2020-01-01"),
    ("0711", "Svelvik", "3005", "Drammen", "2020-01-01"),
    ("3005", "Drammen", "3301", "Drammen", "2024-01-01"),
    ("0220", "Asker", "3025", "Asker", "2020-01-01"),
    ("0627", "Røyken", "3025", "Asker", "2020-01-01"),
    ("0628", "Hurum", "3025", "Asker", "2020-01-01"),
    ("3025", "Asker", "3203", "Asker", "2024-01-01"),
    ("0231", "Skedsmo", "3030", "Lillestrøm", "2020-01-01"),
    ("0227", "Fet", "3030", "Lillestrøm", "2020-01-01"),
    ("0226", "Sørum", "3030", "Lillestrøm", "2020-01-01"),
    ("3030", "Lillestrøm", "3205", "Lillestrøm", "2024-01-01"),
]

# -- Asker, reconstructed from the Handlingsprogram's published indicators -----
# Population at 1 January (sum of 0220+0627+0628 before 2020): growth of
# 0.8 / 0.5 / 1.2 / 1.8 % in 2019-2022.
ASKER_POP_1JAN = {2018: 92_950, 2019: 93_691, 2020: 94_441, 2021: 94_905, 2022: 96_044, 2023: 97_773,
                  2024: 99_020, 2025: 100_150, 2026: 101_230}
# Employed by workplace (4th quarter); with the population change above this
# gives the job-growth share 47 / -101 / 83 / 49 % in 2019-2022.
ASKER_JOBS = {2018: 36_000, 2019: 36_352, 2020: 35_883, 2021: 36_828, 2022: 37_675, 2023: 38_300,
              2024: 38_900, 2025: 39_350}
# Egendekning 78 / 77 / 77 / 76 %: employed residents = jobs / share.
ASKER_SELF_SUFFICIENCY = {2018: 0.78, 2019: 0.78, 2020: 0.77, 2021: 0.77, 2022: 0.76, 2023: 0.76,
                          2024: 0.755, 2025: 0.75}
ASKER_URBAN = {  # (residents in urban settlements, target density per km2)
    2018: (82_000, 1_741), 2019: (82_600, 1_748), 2020: (83_500, 1_762), 2021: (84_300, 1_763),
    2022: (85_500, 1_767), 2023: (86_600, 1_772), 2024: (87_800, 1_779), 2025: (88_900, 1_785)}
ASKER_DWELLINGS = {  # total started, share rekkehus+blokk, share blokk
    2018: (512, 0.60, 0.33), 2019: (445, 0.63, 0.31), 2020: (633, 0.76, 0.66), 2021: (638, 0.78, 0.58),
    2022: (833, 0.78, 0.64), 2023: (402, 0.70, 0.49), 2024: (356, 0.66, 0.41), 2025: (390, 0.69, 0.45)}
ASKER_INTRO = {  # (total, employed, in education) one year after the programme
    2019: None, 2020: (40, 20, 6), 2021: (50, 18, 6), 2022: (44, 21, 5), 2023: (52, 27, 7),
    2024: (61, 30, 8), 2025: (58, 29, 9)}
# As-is figures, published values (the HP's indicator tables; 2021-2022 water leakage, waste and recycling
# and the 80+ institution share also match its KOSTRA tables). 12209 serves the institution share: the HP's
# "80+ living at home" (HEL12) is 100 minus it (89.8 and 90.9 in 2021 and 2022 = 100 - 10.2 and 100 - 9.1).
ASKER_AS_IS = {
    ("12143", "KOSbelopbrinv0000"): {2018: 3.1, 2019: 4.9, 2020: 3.9, 2021: 4.4, 2022: -0.7, 2023: 0.8, 2024: 1.9, 2025: 2.6},
    ("13143", "KOSandelvannfor0000"): {2020: 89.2, 2021: 88.9, 2022: 87.0, 2023: 87.4, 2024: 87.9, 2025: 88.1},
    ("13144", "KOSAVLOPbeftilkn0000"): {2020: 95.1, 2021: 91.2, 2022: 93.8, 2023: 94.0, 2024: 94.3, 2025: 94.6},
    ("11787", "KOSVREGLekkVann0000"): {2020: 27.8, 2021: 42.6, 2022: 31.9, 2023: 30.4, 2024: 29.1, 2025: 27.5},
    # 08487 publishes two-year intervals; the figure sits on the interval ending in the year ("2019-2020" -> 2020).
    ("08487", "AnmLovbrPer1000"): {2020: 4.4, 2021: 4.4, 2022: 4.4, 2023: 4.6, 2024: 4.3, 2025: 4.5},
    ("06505", "NyeBygg4Aar"): {2018: 190, 2019: 184, 2020: 179, 2021: 172, 2022: 182, 2023: 176, 2024: 169, 2025: 171},
    ("06194", "OmdispDyrkaDyrkbar"): {2018: 71, 2019: 90, 2020: 44, 2021: 99, 2022: 68, 2023: 52, 2024: 37, 2025: 41},
    ("10314", "NettoForbruk"): {2018: 731_400, 2019: 722_130, 2020: 714_260, 2021: 762_050, 2022: 664_310,
                                 2023: 671_900, 2024: 688_400, 2025: 693_100},
    ("12241", "KOShusholdavfkg0000"): {2020: 452, 2021: 438, 2022: 390, 2023: 384, 2024: 379, 2025: 372},
    ("12241", "KOSmaterialgjen0000"): {2020: 46.3, 2021: 49.2, 2022: 47.9, 2023: 48.8, 2024: 50.1, 2025: 51.0},
    ("06445", "SysselProsent"): {2018: 21.0, 2019: 21.6, 2020: 21.4, 2021: 22.4, 2022: 23.1, 2023: 23.5, 2024: 24.0, 2025: 24.2},
    ("12209", "KOSsykhjand80aar0000"): {2020: 9.6, 2021: 10.2, 2022: 9.1, 2023: 9.0, 2024: 8.7, 2025: 8.9},
}
# 12143 other than AGD23: netto lånegjeld (KG31) and disposisjonsfond (56) in % of brutto driftsinntekter are
# the values the Handlingsprogram publishes for 2019-2022 (its indicators OKO03 and OKO01); other years and
# the other account groups are illustrative.
ASKER_12143 = {
    "KG31": {2018: 95.0, 2019: 99.1, 2020: 102.8, 2021: 99.0, 2022: 97.4, 2023: 96.1, 2024: 98.3, 2025: 99.5},
    "56": {2018: 13.2, 2019: 15.1, 2020: 18.1, 2021: 18.0, 2022: 14.8, 2023: 13.9, 2024: 12.7, 2025: 12.1},
}
# Plausible levels for the other members by 12143 account group: (base, spread).
KAP_LEVELS = {"KG31": (85.0, 25.0), "56": (10.0, 5.0), "KG25": (210.0, 40.0), "AGD86": (3.5, 1.5)}
# 13470's NACE2007 dimension as SSB serves it: the default value set holds 5-digit NACE codes, and the groups the
# configuration selects (00-99, 58-63) exist only in the aggregation agg_NACE2007arb11, each the sum of the codes it
# holds (kostra-candidates.md §6 #10). Six 5-digit codes stand in for the several hundred real ones; the labels are
# SN2007's. The 11 groups of arb11 were not seen beyond 01-03 ... 90-99 (sources.md, 13470): four stand in.
NACE_ICT = ["58.110", "62.010", "63.110"]
NACE_OTHER = ["01.110", "47.111", "86.101"]
CODELIST_SHAPES = {
    "agg_NACE2007arb11": {
        "label": "Næring (SN2007), 11 grupper",
        "values": [("01.110", "Dyrking av korn (unntatt ris), belgvekster og oljeholdige vekster"),
                   ("47.111", "Butikkhandel med bredt vareutvalg med hovedvekt på nærings- og nytelsesmidler"),
                   ("58.110", "Utgivelse av bøker"), ("62.010", "Programmeringstjenester"),
                   ("63.110", "Databehandling, datalagring og tilknyttede tjenester"),
                   ("86.101", "Alminnelige somatiske sykehus")],
        "groups": [("00-99", "Alle næringer", sorted(NACE_OTHER + NACE_ICT)),
                   ("01-03", "Jordbruk, skogbruk og fiske", ["01.110"]),
                   ("45-47", "Varehandel, reparasjon av motorvogner", ["47.111"]),
                   ("58-63", "Informasjon og kommunikasjon", NACE_ICT),
                   ("86-88", "Helse- og sosialtjenester", ["86.101"])],
    },
}


def nace_part(total: int, ict: int, code: str) -> int:
    """A 5-digit code's share of `total` jobs of which `ict` are in 58-63, in whole jobs that add up exactly."""
    group, amount = (NACE_ICT, ict) if code in NACE_ICT else (NACE_OTHER, total - ict)
    base = amount // len(group)
    return base + (amount - base * len(group) if code == group[0] else 0)


ASKER_IKT_SHARE = {2018: 0.030, 2019: 0.031, 2020: 0.033, 2021: 0.031, 2022: 0.032, 2023: 0.033,
                   2024: 0.034, 2025: 0.034}
# Sums that are counts: before 2020 split across Asker, Røyken and Hurum.
SUMMED_SERIES = {("06505", "NyeBygg4Aar"), ("06194", "OmdispDyrkaDyrkbar"), ("10314", "NettoForbruk")}

# Plausible levels for everyone else: (base, spread) for rates; counts scale with population.
RATE_LEVELS = {
    "KOSbelopbrinv0000": (2.5, 2.5), "KOSandelvannfor0000": (90, 6), "KOSAVLOPbeftilkn0000": (88, 8),
    "KOSVREGLekkVann0000": (30, 8), "AnmLovbrPer1000": (5.5, 1.5), "KOShusholdavfkg0000": (400, 50),
    "KOSmaterialgjen0000": (42, 6), "SysselProsent": (20, 4), "KOSsykhjand80aar0000": (11, 2),
    "KOShjtj80aarover0001": (25, 3), "KOSANDELNDUPLOM0000": (31, 3), "KOSbelopinnbygge0000": (1000, 300),
    "KOSutg020000": (180_000, 10_000), "KOSregnind20000": (122_000, 6_000), "KOSgrunnskolepoe0000": (43.5, 1.5),
    "KOSAG110000": (62_000, 6_000),
}
UNITS = {
    "KOSbelopbrinv0000": ("prosent", 1), "DeltakereProg1": ("personer", 0),
    "Folketallet1": ("personer", 0), "Folketallet11": ("personer", 0), "Areal": ("km²", 2), "Bosatte": ("personer", 0),
    "Sysselsatte": ("personer", 0), "SysselsatteArb": ("personer", 0), "KOSandelvannfor0000": ("prosent", 1),
    "KOSAVLOPbeftilkn0000": ("prosent", 1), "KOSVREGLekkVann0000": ("prosent", 1), "AnmLovbrPer1000": ("per 1000", 1),
    "Igangsatte": ("boliger", 0), "NyeBygg4Aar": ("antall", 0), "OmdispDyrkaDyrkbar": ("dekar", 0),
    "NettoForbruk": ("MWh", 0), "KOShusholdavfkg0000": ("kg", 0), "KOSmaterialgjen0000": ("prosent", 1),
    "SysselProsent": ("prosent", 1), "KOSsykhjand80aar0000": ("prosent", 1), "KOShjtj80aarover0001": ("prosent", 1),
    "KOSANDELNDUPLOM0000": ("prosent", 1), "KOSbelopinnbygge0000": ("kr", 0), "KOSutg020000": ("kr", 0),
    "KOSregnind20000": ("kr", 0), "KOSgrunnskolepoe0000": ("poeng", 1),
    "KOSAG110000": ("kr", 0),
}
# Counts per inhabitant for everyone but Asker.
COUNT_SCALES = {
    "DeltakereProg1": 0.0008, "Areal": 0.0006, "Bosatte": 0.9, "Sysselsatte": 0.5, "SysselsatteArb": 0.48,
    "Igangsatte": 0.0015, "NyeBygg4Aar": 0.0015, "OmdispDyrkaDyrkbar": 0.0007, "NettoForbruk": 7.5,
}
# A series of a table added to ssb_tables.yaml that this script has no figures for: illustrative figures of its
# measure kind (docs/sources.md, "Adding a table or an indicator"), so the offline run has something to show.
DEFAULT_UNITS = {"rate": ("prosent", 1), "count": ("antall", 0)}
DEFAULT_RATE_LEVEL = (50.0, 10.0)
DEFAULT_COUNT_SCALE = 0.01
EXTRA_CATEGORIES = {  # codes the tables hold besides the ones we select, so selection matters
    "KOKartkap0000": [("AGD2", "Brutto driftsresultat")],
    "KOKart0000": [("AGD10", "Brutto driftsutgifter"), ("AGD4", "Korrigerte brutto driftsutgifter")],
    "KOKfunksjon0000": [("FGK1b", "Administrasjon, kommune"), ("202", "Grunnskole")],
    "Kjonn": [("1", "Menn"), ("2", "Kvinner")],
    "Alder": [("15-19", "15-19 år"), ("20-66", "20-66 år")],
    "NACE2007": [("01-03", "Jordbruk, skogbruk og fiske")],
    "ForbrukerGrp": [("02", "Tjenesteyting")],
    "Arbeidsmarkedsstatus": [("3", "Status 3")],
}
LABELS = {
    "AGD23": "Netto driftsresultat", "KG31": "Netto lånegjeld", "56": "Disposisjonsfond",
    "KG25": "Langsiktig gjeld", "AGD86": "Netto finansutgifter", "AGD2": "Netto driftsutgifter",
    "00": "I alt", "1": "Status 1", "2": "Status 2",
    "00-99": "Alle næringer", "58-63": "Informasjon og kommunikasjon", "0": "Begge kjønn", "15-74": "15-74 år",
    "67-74": "67-74 år", "1VOLD": "Vold og mishandling", "111-113": "Enebolig", "121-124": "Tomannsbolig",
    "131-136": "Rekkehus, kjedehus og andre småhus", "141-146": "Boligblokk", "151-159": "Bygning for bofellesskap",
    "01": "Husholdninger og jordbruk",
}
# KOSTRA groups: SSB's EKG01-EKG17 are in every KOSTRA table's region dimension [SKILL-K].
KOSTRA_GROUPS = [f"EKG{n:02d}" for n in range(1, 18)]
KOSTRA_GROUPS_OF = {  # KLASS 112 membership served for every year; see snapshots/README.md for what is real
    "0301": "EKG13", "default": "EKG12"}
# Periods each fake table holds (2015 onwards, as KOSTRA's 2015 restructuring; quarters for 01222; two-year
# intervals for 08487).
FIRST_PERIOD_YEAR = 2015


def noise(*key: object) -> float:
    """Deterministic pseudo-random in [-1, 1)."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**63 - 1.0


def valid(code: str, year: int) -> bool:
    if code in AGGREGATES or code.startswith("EKG"):
        return True
    _, first, last, _ = MUNICIPALITIES[code]
    return first <= year <= last


def population(code: str) -> int:
    if code.startswith("EKG"):
        return 1_000_000
    return AGGREGATES[code][1] if code in AGGREGATES else MUNICIPALITIES[code][3]


def asker_code(year: int) -> str | None:
    return "3025" if 2020 <= year <= 2023 else "3203" if year >= 2024 else None


def split_asker(total: float, code: str, integer: bool = True) -> float:
    """Split an Asker total over 0220/0627/0628 so the parts add up exactly."""
    parts = {c: total * share for c, share in ASKER_PARTS.items()}
    if integer:
        parts = {c: math.floor(v) for c, v in parts.items()}
        parts["0220"] += int(round(total - sum(parts.values())))
    else:
        parts = {c: round(v, 2) for c, v in parts.items()}
        parts["0220"] = round(parts["0220"] + total - sum(parts.values()), 2)
    return parts[code]


def asker_value(table_id: str, contents: str, year: int, code: str, combo: Mapping[str, str]) -> Cell | None:
    """Asker's figure for a cell, or None when the cell is not Asker's."""
    if code not in ("0220", "0627", "0628", "3025", "3203") or not valid(code, year):
        return None
    merged = code in ASKER_PARTS  # before 2020, data sit on the three old codes

    def count(total: float) -> Cell:
        return (float(split_asker(total, code)) if merged else float(total)), None

    if table_id == "01222":
        quarter = int(combo["Tid"][-1])
        start, end = ASKER_POP_1JAN[year], ASKER_POP_1JAN[year + 1]
        at = start + (end - start) * (quarter - 1 + (contents == "Folketallet11")) / 4
        return count(round(at))
    if table_id == "07984":
        jobs = ASKER_JOBS[year]
        return count(jobs if contents == "SysselsatteArb" else round(jobs / ASKER_SELF_SUFFICIENCY[year]))
    if table_id == "13470":
        jobs = ASKER_JOBS[year]
        return count(nace_part(jobs, round(jobs * ASKER_IKT_SHARE[year]), combo["NACE2007"]))
    if table_id == "04861":
        residents, density = ASKER_URBAN[year]
        area = round(residents / density, 2)
        if merged:
            return (float(split_asker(residents, code)) if contents == "Bosatte" else split_asker(area, code, False)), None
        return (float(residents) if contents == "Bosatte" else area), None
    if table_id == "05940":
        total, rb_share, blokk_share = ASKER_DWELLINGS[year]
        blokk = round(total * blokk_share)
        rekke = round(total * rb_share) - blokk
        rest = total - blokk - rekke
        small = {"111-113": round(rest * 0.7), "121-124": round(rest * 0.25)}
        small["151-159"] = rest - sum(small.values())
        by_type = {"141-146": blokk, "131-136": rekke, **small}
        return count(by_type[combo["Byggeareal"]])
    if table_id == "10824":
        figures = ASKER_INTRO.get(year)
        if figures is None:
            return None, ".."
        status = combo["Arbeidsmarkedsstatus"]
        if status == "3":
            return count(figures[0] - figures[1] - figures[2])
        return count(figures[{"00": 0, "1": 1, "2": 2}[status]])
    if table_id == "12143" and combo["KOKartkap0000"] != "AGD23":
        series = ASKER_12143.get(combo["KOKartkap0000"])
    else:
        series = ASKER_AS_IS.get((table_id, contents))
    if series is None:
        return None
    if year not in series:
        return None, ".."  # the Handlingsprogram: "Ikke målt"
    if (table_id, contents) in SUMMED_SERIES:
        return count(series[year])
    if merged:
        # Rates cannot be split; only the old Asker (0220) carries the
        # published figure, the others get illustrative neighbours.
        if code == "0220":
            return series[year], None
        return None
    return series[year], None


def unit(contents: str, measure_kind: str) -> tuple[str, int]:
    """The unit the fake table declares for a series: a table added to the configuration without figures here
    gets a plain one by its measure kind, so adding a table needs no edit of this script."""
    return UNITS.get(contents) or DEFAULT_UNITS[measure_kind]


def generic_value(table_id: str, contents: str, year: int, code: str, combo: Mapping[str, str],
                  measure_kind: str = "rate") -> Cell:
    key = (table_id, contents, year, code, tuple(sorted(combo.items())))
    if table_id == "12143" and combo["KOKartkap0000"] in KAP_LEVELS:
        base, spread = KAP_LEVELS[combo["KOKartkap0000"]]
        return round(base + spread * noise(*key), 1), None
    if contents in RATE_LEVELS or (contents not in COUNT_SCALES and measure_kind == "rate"):
        base, spread = RATE_LEVELS.get(contents, DEFAULT_RATE_LEVEL)
        return round(base + spread * noise(*key), unit(contents, measure_kind)[1]), None
    size = population(code)
    growth = 1 + 0.012 * (year - 2018)
    if table_id == "01222":
        quarter = int(combo["Tid"][-1]) - 1 + (contents == "Folketallet11")
        return float(round(size * (growth + 0.003 * quarter + 0.002 * noise(code, year)))), None
    scale = COUNT_SCALES.get(contents, DEFAULT_COUNT_SCALE)
    factor = {"1": 0.5, "2": 0.15, "3": 0.35, "58-63": 0.04, **{c: 0.04 / 3 for c in NACE_ICT},
              **{c: 0.96 / 3 for c in NACE_OTHER}, "111-113": 0.3, "121-124": 0.1, "131-136": 0.2,
              "141-146": 0.35, "151-159": 0.05}
    for value in combo.values():
        scale *= factor.get(value, 1.0)
    value = size * scale * growth * (1 + 0.1 * noise(*key))
    if contents == "Areal":
        return round(value, 2), None
    if contents == "DeltakereProg1" and value < 3:
        return None, ":"  # fewer than three persons: SSB suppresses
    return float(round(value)), None


# -- Key figures: the rows of the Handlingsprogram's service-area KOSTRA tables ---------
KOSTRA_PUBLISHED = Path(__file__).with_name("kostra_published.csv")
# Which region and year each published column is (peers are 2022 figures; 2022 codes).
PUBLISHED_COLUMNS = {"asker_2021": ("3025", 2021), "asker_2022": ("3025", 2022), "baerum_2022": ("3024", 2022),
                     "drammen_2022": ("3005", 2022), "lillestrom_2022": ("3030", 2022),
                     "kostra_group_12_2022": ("EKG12", 2022)}
# The ASSS average is ours (unweighted mean of the 11 members without Oslo); the members the
# document does not show get values that make that mean equal its "ASSS uten Oslo" column.
ASSS_WITHOUT_OSLO_2022 = ["4601", "5001", "1103", "3024", "4204", "3004", "1108", "5401", "3005", "3025", "3030"]
UNSHOWN_2022 = ["4601", "5001", "1103", "4204", "3004", "1108", "5401"]


def published_key_figures() -> list[dict[str, str]]:
    import csv

    with KOSTRA_PUBLISHED.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_adjusted(name: str) -> bool:
    """The HP marks deflated rows `*)` and need-adjusted rows `**)`: their printed figures are not SSB's raw ones."""
    return "*)" in name


def key_figure_cells() -> dict[tuple[str, str, int], Cell]:
    """(key figure, region code of the year, year) -> the cell the snapshot serves for a mapped key figure.

    The printed figures for Asker 2021/2022, Bærum, Drammen, Lillestrøm and KOSTRA group 12 (2022); for the
    seven members the document does not show, values that make our ASSS average equal its printed one.
    """
    cells: dict[tuple[str, str, int], Cell] = {}
    for row in published_key_figures():
        kf = row["key_figure_id"]
        for column, (code, year) in PUBLISHED_COLUMNS.items():
            text = row[column]
            if text == "" or (code == "EKG12" and float(text) == 0):
                # Blank in the document; a KOSTRA-group 0 there is a missing figure, not zero.
                cells[(kf, code, year)] = (None, "..")
            else:
                cells[(kf, code, year)] = (float(text), None)
        shown = [float(row[c]) for c in ("baerum_2022", "drammen_2022", "lillestrom_2022", "asker_2022")
                 if row[c] != ""]
        if row["asss_without_oslo_2022"] and len(shown) == 4:
            target = float(row["asss_without_oslo_2022"])
            remaining = target * len(ASSS_WITHOUT_OSLO_2022) - sum(shown)
            decimals = max(len(row["asker_2022"].partition(".")[2]), 1)
            parts = [round(remaining / 7 * (1 + 0.08 * noise(kf, c)), decimals + 1) for c in UNSHOWN_2022[:-1]]
            parts.append(remaining - sum(parts))
            for code, value in zip(UNSHOWN_2022, parts):
                cells[(kf, code, 2022)] = (value, None)
    return cells


def make_cells(spec: TableSpec):
    """The cell function of a fake table: Asker's reconstructed figures, the printed KOSTRA figures, and
    illustrative ones elsewhere."""
    by_key = {series.key: series for series in spec.series}
    published = key_figure_cells() if any(s.key_figure for s in spec.series) else {}
    time_var = "Tid"

    def cells(combo: Mapping[str, str]) -> Cell:
        code = combo[spec.region_variable]
        period = parse_period(combo[time_var])
        year = period.reference_year
        contents = combo["ContentsCode"]
        if not valid(code, year):
            return None, "."  # the code did not exist that year
        key = ";".join(f"{var}={combo[var]}" for var in sorted(spec.select))
        series = by_key.get(key)
        if series is None and not spec.codelists:  # (through a code list, a cell is one of a group's values)
            return generic_value(spec.table_id, contents, year, code, combo, spec.measure_kind)
        if series is not None and series.key_figure and (series.key_figure, code, year) in published:
            return published[(series.key_figure, code, year)]
        asker = asker_value(spec.table_id, contents, year, code, combo)
        if asker is not None:
            return asker
        return generic_value(spec.table_id, contents, year, code, combo, spec.measure_kind)

    return cells


def table_periods(spec: TableSpec, last_year: int) -> list[str]:
    years = range(FIRST_PERIOD_YEAR, last_year + 1)
    if spec.table_id == "01222":
        return [f"{y}K{q}" for y in years for q in range(1, 5)]
    if spec.table_id == "08487":
        return [f"{y - 1}-{y}" for y in years]  # two-year intervals, one ending in each year
    return [str(y) for y in years]


def region_label(code: str) -> str:
    if code in AGGREGATES:
        return AGGREGATES[code][0]
    if code in MUNICIPALITIES:
        return MUNICIPALITIES[code][0]
    return f"KOSTRA-gruppe {int(code[3:])}" if code.startswith("EKG") else code


def fake_table(spec: TableSpec, specs, updated: str, regions: list[str] | None = None) -> FakeTable:
    """A fake of the real table: the real region dimension and non-eliminable KOSTRA dimensions, the codes our
    series pin plus a few others (so the selection matters), and the table's real period format."""
    if regions is None:
        regions = list(specs.municipalities) + list(
            specs.kostra_aggregates + tuple(KOSTRA_GROUPS) if spec.kind == "kostra" else specs.statbank_aggregates)
    dims = [FakeDimension(spec.region_variable, "region", [(c, region_label(c)) for c in regions],
                          elimination=spec.kind != "kostra")]
    labels = {series.select["ContentsCode"]: series.label for series in spec.series}
    for var, codes in spec.select.items():
        if var == "ContentsCode":
            continue
        lists = []
        if var in spec.codelists:  # the selected codes are groups of a code list, not values of the table
            shape = CODELIST_SHAPES[spec.codelists[var].codelist_id]
            categories = list(shape["values"])
            lists = [FakeCodelist(spec.codelists[var].codelist_id, shape["label"], shape["groups"])]
        else:
            categories = [(c, LABELS.get(c, c)) for c in codes]
            categories += [extra for extra in EXTRA_CATEGORIES.get(var, []) if extra[0] not in codes]
        # KOSTRA's KOK* dimensions cannot be eliminated [SKILL-K]; the others are breakdowns with a total.
        dims.append(FakeDimension(var, var.lower(), categories, elimination=not var.startswith("KOK"),
                                  codelists=lists))
    contents = spec.select["ContentsCode"]
    dims.append(FakeDimension("ContentsCode", "statistikkvariabel", [(c, labels.get(c, c)) for c in contents],
                              role="metric", units={c: dict(zip(("base", "decimals"), unit(c, spec.measure_kind)))
                                                    for c in contents}))
    periods = table_periods(spec, specs.last_year)
    label = "kvartal" if spec.table_id == "01222" else "periode" if spec.table_id == "08487" else "år"
    dims.append(FakeDimension("Tid", label, [(p, p) for p in periods], role="time"))
    return FakeTable(spec.table_id, f"{spec.table_id}: {spec.title}", updated, dims, make_cells(spec),
                     notes=[". = Ikke mulig å oppgi tall.", ".. = Tallgrunnlag mangler.",
                            ": = Vises ikke av konfidensialitetshensyn."])


def updated_for(spec: TableSpec) -> str:
    # KOSTRA: revised figures published 15 June 2026; the rest at plausible 2026 dates, 08:00 Oslo.
    if spec.kind == "kostra":
        return "2026-06-15T06:00:00Z"
    day = 1 + int((noise(spec.table_id) + 1) * 13)
    return f"2026-{3 + int((noise('m', spec.table_id) + 1) * 3):02d}-{day:02d}T06:00:00Z"


def kostra_group_membership(specs) -> dict[int, list[dict[str, str]]]:
    """KLASS 112's correspondsAt answer per year: every ASSS member's code valid that year and its group."""
    out: dict[int, list[dict[str, str]]] = {}
    for year in range(specs.first_year, specs.last_year + 1):
        items = []
        for code in specs.municipalities:
            if not valid(code, year):
                continue
            group = KOSTRA_GROUPS_OF.get(code, KOSTRA_GROUPS_OF["default"])
            items.append({"sourceCode": group, "sourceName": f"KOSTRA-gruppe {int(group[3:])}",
                          "targetCode": code, "targetName": MUNICIPALITIES[code][0]})
        out[year] = items
    return out


def fake_ssb(specs=None) -> FakeSsb:
    specs = specs or load_table_specs()
    tables = [fake_table(spec, specs, updated_for(spec)) for spec in specs.tables]
    changes = [{"oldCode": o, "oldName": on, "oldShortName": "", "newCode": n, "newName": nn, "newShortName": "",
                "changeOccurred": d} for o, on, n, nn, d in KLASS_CHANGES]
    return FakeSsb(tables, klass_changes=changes, kostra_groups=kostra_group_membership(specs),
                   now=lambda: SNAPSHOT_NOW, unrelated_per_day=SSB_OTHER_TABLES_PER_DAY)


# -- FHI (Kommunehelsa) ---------------------------------------------------------
# Asker's figures as the Handlingsprogram published them (2019-2022; "Tall kommer" there is filled with
# illustrative figures here, as are all other years and municipalities). UTD16 is served on the 15_29 band
# the real table has (no 15_24 band was seen): the document's 15-24 figures are what the snapshot holds there.
FHI_ASKER = {
    "HEL01": {2019: 96.1, 2020: 97.0, 2021: 97.3, 2022: 96.2},
    "HEL03": {2019: 307, 2020: 301},
    "HEL07": {2019: 146, 2020: 148},
    "UTD10": {2019: 83, 2020: 83, 2021: 84},
    "UTD16": {2019: 8.2, 2020: 8.1, 2021: 7.3},
}
FHI_LEVELS = {"HEL01": (95.5, 2.0), "HEL03": (300.0, 30.0), "HEL07": (150.0, 20.0), "UTD10": (80.0, 4.0),
              "UTD16": (9.0, 2.0)}
# Which codes the fake tables' dimensions hold (besides GEO and AAR). Codes seen in public sources where there
# are any (real-tables.md §3); INNVKAT's and 173's are not known and are illustrative (snapshots/README.md).
FHI_TABLES = {
    "370": {"title": "KPR_1: kontakt med fastlege og legevakt, ettårige tall", "periods": "single",
            "dims": [("KJONN", "Kjønn", [("0", "kjønn samlet"), ("1", "menn"), ("2", "kvinner")]),
                     ("ALDER", "Alder", [("0_74", "0-74 år"), ("0_120", "alle aldre")]),
                     ("KODEGRUPPE", "Diagnosegruppe", [("L01_L29ogL70_L71ogL82_L99", "Muskel og skjelett"),
                                                       ("P01_P29ogP70_P99", "Psykiske symptomer og lidelser")]),
                     ("MEASURE_TYPE", "Måltall", [("TELLER", "antall"), ("RATE", "per 1000"), ("MEIS", "MEIS"),
                                                  ("SMR", "standardisert")])]},
    "360": {"title": "Gjennomforing i videregående skole (utdann_3)", "periods": "rolling3",
            "dims": [("KJONN", "Kjønn", [("0", "kjønn samlet"), ("1", "menn"), ("2", "kvinner")]),
                     ("UTDANN", "Foreldrenes utdanning", [("0", "alle"), ("1", "grunnskole"), ("2", "videregående"),
                                                          ("3", "høyere, kort"), ("4", "høyere, lang")]),
                     ("INNVKAT", "Innvandringskategori", [("0", "alle"), ("1", "innvandrere")]),
                     ("MEASURE_TYPE", "Måltall", [("TELLER", "antall"), ("RATE", "prosent"), ("SMR", "standardisert"),
                                                  ("MEIS", "MEIS")])],
            "parents": {"INNVKAT": {"1": "0"}}},
    "809": {"title": "NEET_UTDANN", "periods": "single",
            "dims": [("KJONN", "Kjønn", [("0", "kjønn samlet"), ("1", "menn"), ("2", "kvinner")]),
                     ("UTDANN", "Foreldrenes utdanning", [("0", "alle"), ("1", "grunnskole"), ("2", "videregående"),
                                                          ("3", "høyere, kort"), ("4", "høyere, lang")]),
                     ("ALDER", "Alder", [("15_29", "15-29 år"), ("15_19", "15-19 år"), ("20_24", "20-24 år"),
                                         ("25_29", "25-29 år")]),
                     ("MEASURE_TYPE", "Måltall", [("TELLER", "antall"), ("RATE", "prosent")])]},
    "173": {"title": "Vaksinasjonsdekning", "periods": "single",
            "dims": [("MEASURE_TYPE", "Måltall", [("RATE", "prosent"), ("SMR", "standardisert")])]},
}
FHI_GEO_NAMES = {code: name for code, (name, *_rest) in MUNICIPALITIES.items()} | {"0": "Hele landet"}


def fhi_periods(kind: str, last_year: int) -> list[str]:
    if kind == "rolling3":
        return [f"{y - 2}_{y}" for y in range(FIRST_PERIOD_YEAR, last_year + 1)]
    return [f"{y}_{y}" for y in range(FIRST_PERIOD_YEAR, last_year + 1)]


def default_fhi_shape(table) -> dict:
    """A table added to fhi_tables.yaml without a shape in FHI_TABLES: the dimensions its indicators pin, each
    with the pinned code (a `top` pin: a total coded 0), and its measures, so adding an FHI table needs no edit here."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for indicator in table.indicators:
        for code, value in indicator.pin.items():
            category = ("0", "totalt") if value == "top" else (value, value)
            if category not in pins.setdefault(code, []):
                pins[code].append(category)
    measures = list(dict.fromkeys((i.measure, i.measure) for i in table.indicators))
    return {"title": table.indicators[0].title, "periods": "single",
            "dims": [(code, code, categories) for code, categories in pins.items()]
            + [("MEASURE_TYPE", "Måltall", measures)]}


def fake_fhi(specs=None, geo: list[str] | None = None) -> FakeFhi:
    specs = specs or load_fhi_specs()
    tables = []
    for table in specs.tables:
        shape = FHI_TABLES.get(table.table_id) or default_fhi_shape(table)
        by_pins = {(i.measure, tuple(sorted((k, v) for k, v in i.pin.items() if v != "top"))): i.indicator_id
                   for i in table.indicators}
        geo_codes = geo or [g for g in specs.geo if g in FHI_GEO_NAMES]
        dims = [FakeFhiDimension("GEO", "Geografi", [(g, FHI_GEO_NAMES.get(g, g)) for g in geo_codes]),
                FakeFhiDimension("AAR", "År", [(p, p.replace("_", "-")) for p in fhi_periods(shape["periods"],
                                                                                             specs.last_year)])]
        for code, label, categories in shape["dims"]:
            dims.append(FakeFhiDimension(code, label, categories, parent=shape.get("parents", {}).get(code, {}),
                                         units=dict(categories) if code == "MEASURE_TYPE" else {}))

        def cells(combo: Mapping[str, str], table=table, by_pins=by_pins) -> float | str | None:
            pinned = tuple(sorted((k, v) for k, v in combo.items() if k not in ("GEO", "AAR", "MEASURE_TYPE")))
            indicator = next((ind for (measure, pins), ind in by_pins.items()
                              if measure == combo["MEASURE_TYPE"] and set(pins) <= set(pinned)), None)
            if indicator is None:
                return None
            period, geo_code = parse_period(combo["AAR"]), combo["GEO"]
            year = period.reference_year
            if geo_code != "0" and not valid(geo_code, year):
                return None  # FHI has no figure for a code in a year it did not exist
            asker = "0220" if year <= 2019 else "3025" if year <= 2023 else "3203"
            if geo_code == asker and year in FHI_ASKER.get(indicator, {}):
                return float(FHI_ASKER[indicator][year])  # on the code valid that year; dbt harmonises it
            if year == specs.last_year and indicator in ("HEL03", "HEL07"):
                return None  # not yet published: FHI lags a year for register-based figures
            if geo_code in ("0627", "0628", "0711", "1141", "1142", "1129") and indicator == "UTD10":
                return "k"  # too few pupils in a small municipality: FHI suppresses, inside `value`
            base, spread = FHI_LEVELS.get(indicator, DEFAULT_RATE_LEVEL)
            return round(base + spread * noise("fhi", indicator, geo_code, year), 1)

        tables.append(FakeFhiTable(table.table_id, shape["title"], "2026-05-04", "2026-05-04T10:15:31.4470513+00:00",
                                   dims, cells))
    return FakeFhi(specs.source_id, tables)


# -- Miljødirektoratet ------------------------------------------------------------
# Asker's totals are the Handlingsprogram's (the re-computed series, 2019-2022); the sector split is
# illustrative but follows the climate budget: each sector's 2021 change against 2009 is the
# document's "Utslipp i 2021" column (e.g. Veitrafikk -32 %, Energiforsyning -100 %).
ASKER_EMISSIONS_TOTAL = {2019: 232_966, 2020: 219_333, 2021: 214_899, 2022: 212_196}
SECTOR_2009_BASE = {"Veitrafikk": 170.0, "Annen mobil forbrenning": 12.0, "Avfall og avløp": 8.0,
                    "Energiforsyning": 2.0, "Industri, olje og gass": 1.5, "Jordbruk": 5.0, "Oppvarming": 30.0,
                    "Sjøfart": 15.0}
SECTOR_CHANGE_2021 = {"Veitrafikk": -0.32, "Annen mobil forbrenning": 0.45, "Avfall og avløp": -0.42,
                      "Energiforsyning": -1.0, "Industri, olje og gass": -1.0, "Jordbruk": 0.12, "Oppvarming": -0.62,
                      "Sjøfart": -0.37}
SECTOR_SOURCES = {"Veitrafikk": [("Personbiler", "CO2", 0.6), ("Tunge kjøretøy", "CO2", 0.4)],
                  "Annen mobil forbrenning": [("Bygg og anlegg  ", "CO2", 1.0)],
                  "Avfall og avløp": [("Avløp", "CH4", 0.7), ("Avløp", "N2O", 0.3)],
                  "Energiforsyning": [("Fjernvarme unntatt avfallsforbrenning", "CO2", 1.0)],
                  "Industri, olje og gass": [("Industri, olje og gass", "CO2", 1.0)],
                  "Jordbruk": [("Fordøyelsesprosesser husdyr ", "CH4", 1.0)],
                  "Oppvarming": [("Fossil olje", "CO2", 0.8), ("Vedfyring", "CH4", 0.2)],
                  "Sjøfart": [("Fritidsbåter ", "CO2", 1.0)]}
EMISSION_YEARS = [2009, 2011, 2013] + list(range(2015, 2024))


def asker_sector_emissions() -> dict[int, dict[str, float]]:
    raw_2021 = {s: b * (1 + SECTOR_CHANGE_2021[s]) for s, b in SECTOR_2009_BASE.items()}
    scale = ASKER_EMISSIONS_TOTAL[2021] / sum(raw_2021.values())
    base = {s: b * scale for s, b in SECTOR_2009_BASE.items()}
    out: dict[int, dict[str, float]] = {}
    for year in EMISSION_YEARS:
        t = min(1.0, (year - 2009) / 12)  # move from the 2009 mix to the 2021 mix
        mix = {s: base[s] * (1 + SECTOR_CHANGE_2021[s] * t) for s in base}
        total = ASKER_EMISSIONS_TOTAL.get(year) or sum(mix.values()) * (1 - 0.01 * max(0, year - 2021))
        factor = total / sum(mix.values())
        sectors = {s: round(v * factor, 2) for s, v in mix.items()}
        largest = max(sectors, key=sectors.get)
        sectors[largest] = round(sectors[largest] + total - sum(sectors.values()), 2)
        out[year] = sectors
    return out


def emissions_workbook() -> bytes:
    import io

    import openpyxl

    import datetime

    workbook = openpyxl.Workbook()
    # Fixed document times so rebuilding the snapshot gives the same bytes.
    workbook.properties.created = workbook.properties.modified = datetime.datetime(2026, 2, 1, 8, 0)
    workbook.active.title = "Forside"
    workbook.active.append(["Klimagassutslipp fra kommuner (illustrativt uttrekk, se snapshots/README.md)"])
    sheet = workbook.create_sheet("Oversikt - detaljert")
    sheet.append(["Fylke", "Kommunenummer", "Kommune", "År", "Sektor", "Utslippskilde", "Klimagass",
                  "Utslipp (tonn CO2-ekvivalenter)"])
    asker = asker_sector_emissions()
    municipalities = [("Akershus", "3203", "Asker", 1.0), ("Akershus", "3201", "Bærum", 1.45),
                      ("Buskerud", "3301", "Drammen", 1.2), ("Akershus", "3205", "Lillestrøm", 1.1),
                      ("Oslo", "0301", "Oslo", 6.0)]
    for county, code, name, size in municipalities:
        for year in EMISSION_YEARS:
            for sector, tonnes in asker[year].items():
                if code != "3203":
                    tonnes = round(tonnes * size * (1 + 0.1 * noise("mdir", code, year, sector)), 2)
                parts = SECTOR_SOURCES[sector]
                amounts = [round(tonnes * share, 2) for _, _, share in parts]
                amounts[-1] = round(tonnes - sum(amounts[:-1]), 2)
                for (source, gas, _), amount in zip(parts, amounts):
                    sheet.append([county, int(code), name, year, sector, source, gas, amount])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """openpyxl stamps zip entries with the current time; fix them so rebuilds are byte-identical."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to the time of saving
                content = re.sub(rb"<dcterms:modified([^>]*)>[^<]*<", rb"<dcterms:modified\1>2026-02-01T08:00:00Z<", content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 2, 1, 8, 0, 0)), content,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


class FileHost:
    """Serves fixed bytes for one URL, as a web server serving a download does.

    With `validators` it sends an ETag and a Last-Modified and answers a conditional request whose
    validator still matches with 304 and no body (RFC 9110 §13: If-None-Match decides when both are sent);
    without, it sends neither and always the whole file. Which of the two Miljødirektoratet's server does
    is not verified (no network here): the bundled snapshot records the first, tests cover both.
    """

    def __init__(self, url: str, body: bytes, content_type: str, *, validators: bool = True,
                 last_modified: str = "Sun, 01 Feb 2026 08:00:00 GMT") -> None:
        self.url, self.body, self.content_type = url, body, content_type
        self.validators = validators
        self.last_modified = last_modified
        self.answered: list[tuple[str, int, int]] = []  # (method, status, body bytes) per request

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'

    def downloads(self) -> int:
        """Requests answered with the whole file."""
        return sum(1 for method, status, size in self.answered if method == "GET" and status == 200 and size)

    def __call__(self, request, timeout):
        response = self._answer(request)
        self.answered.append((request.method, response.status, len(response.body)))
        return response

    def _answer(self, request):
        from styringsdata.sources.transport import Response

        if request.full_url() != self.url:
            return Response(404, b"<html>Side for feilmelding</html>", {"content-type": "text/html"})
        headers = {"content-type": self.content_type, "content-length": str(len(self.body))}
        if self.validators:
            headers.update({"etag": self.etag, "last-modified": self.last_modified})
            sent = {k.lower(): v for k, v in request.headers}
            if "if-none-match" in sent:
                not_modified = self.etag in [t.strip() for t in sent["if-none-match"].split(",")]
            else:
                not_modified = sent.get("if-modified-since") == self.last_modified
            if not_modified:
                return Response(304, b"", {k: v for k, v in headers.items() if k != "content-length"})
        if request.method == "HEAD":  # what `styringsdata doctor` asks: headers, no body
            return Response(200, b"", headers)
        return Response(200, self.body, headers)


def record_change_checks(transport: Transport, landing: LandingZone, specs, fhi_specs, workbook_url: str) -> None:
    """Record what a later run asks to decide what changed, once everything has landed (`landing`):

    - SSB: the one listing `GET /tables?pastDays=N` (N = 1: in replay the clock stands at the recording) and,
      for when the last check is unknown or too old, table info per table;
    - FHI: `table?modifiedAfter=` from the landed vintages;
    - Miljødirektoratet: the conditional GET with the validators the first download brought (304 when the
      server keeps them).
    """
    from styringsdata.sources import miljodirektoratet

    client = SsbClient(transport)
    check = check_ssb(client, landing, [t.table_id for t in specs.tables])
    assert check.method == "listing" and not check.changed, check.how
    for spec in specs.tables:
        client.table_info(spec.table_id)
    FhiClient(transport).modified_tables(fhi_specs.source_id, modified_since(landing, fhi_specs))
    again = miljodirektoratet.refresh(transport, landing, workbook_url)
    assert not again.changed, again.how
    print(f"recorded the next run's checks: {check.how}; Miljødirektoratet: {again.how}")


class HostSender:
    """Route each request to the fake for its host."""

    def __init__(self, senders: dict) -> None:
        self.senders = senders

    def __call__(self, request, timeout):
        import urllib.parse

        return self.senders[urllib.parse.urlsplit(request.url).netloc](request, timeout)


def build(snapshot_dir: Path = SNAPSHOT_DIR) -> None:
    specs = load_table_specs()
    from styringsdata.sources import miljodirektoratet

    for host in ("data.ssb.no", "statistikk-data.fhi.no", "www.miljodirektoratet.no"):
        shutil.rmtree(snapshot_dir / host, ignore_errors=True)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sender = HostSender({"data.ssb.no": fake_ssb(specs), "statistikk-data.fhi.no": fake_fhi(),
                         "www.miljodirektoratet.no": FileHost(miljodirektoratet.DOWNLOAD_URL, emissions_workbook(), xlsx)})
    transport = Transport(SourceMode.RECORD, snapshot_dir, sender=sender, wall_clock=lambda: SNAPSHOT_NOW)
    client = SsbClient(transport)
    with tempfile.TemporaryDirectory() as tmp:
        landing = LandingZone(Path(tmp))
        check = check_ssb(client, landing, [t.table_id for t in specs.tables])  # a first run: nothing to ask
        for spec in specs.tables:
            result = refresh_table(client, landing, specs, spec, check)
            print(f"{spec.table_id}: {result.data_requests} data request(s), {result.cells_requested} cells")
        klass = KlassClient(transport)
        klass.fetch_changes(KLASS_FROM)
        groups = refresh_kostra_groups(klass, landing, range(specs.first_year, specs.last_year + 1))
        print(f"KLASS 112: {groups.changes} memberships")
        fhi_specs = load_fhi_specs()
        fhi = FhiClient(transport)
        # The pipeline's first run lists every table (no modifiedAfter), later runs ask since their last fetch.
        modified, _ = fhi.modified_tables(fhi_specs.source_id, None)
        for table in fhi_specs.tables:
            result = refresh_fhi_table(fhi, landing, fhi_specs, table, modified)
            print(f"FHI {table.table_id} ({table.indicator_id}): {result.vintage}, {result.data_requests} request(s)")
        emissions = miljodirektoratet.refresh(transport, landing)
        print(f"Miljødirektoratet: {emissions.rows} rows")
        record_change_checks(transport, landing, specs, fhi_specs, miljodirektoratet.DOWNLOAD_URL)
        # What `styringsdata doctor` asks besides the above: a HEAD on the workbook and, with the data requests above
        # already recorded, nothing else; its report on these snapshots must be all ok.
        report = run_doctor(transport)
        print(f"doctor: {'all ok' if report.ok else 'NOT OK'} ({len(report.rows)} series)")
    written, total = write_derived(ROOT)
    for relative in written:
        print(f"wrote {relative}")
    print(f"derived files: {len(written)} changed, {total - len(written)} already current")
    print(f"recorded {transport.stats.requests} responses under {snapshot_dir}")


if __name__ == "__main__":
    build()
