"""Build the indicator catalogue seed from the appendix extract, the curated attributes and the source configuration.

    python tools/derive.py     # writes dbt_project/seeds/catalogue_indicators.csv with the other derived files

appendix_indicators.csv is what the document says (name, source, frequency, notes, as published);
attributes.csv is what we decided per indicator (unit, decimals, direction; route and source table for the
indicators delivered as files). The route, source table and formula of an SSB- or FHI-sourced indicator come from
its entry in src/styringsdata/sources/ssb_tables.yaml (`indicators`) or src/styringsdata/sources/fhi_tables.yaml,
never from attributes.csv:
an indicator is routed in exactly one place. Direction is never defaulted: a missing or unknown direction stops
the build.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FREQUENCIES = {"Årlig": "yearly", "Hvert andre år": "every_2_years", "Hvert tredje år": "every_3_years",
               "Hvert fjerde år": "every_4_years", "Sporadisk": "sporadic", "Ukjent": "unknown"}
DIRECTIONS = {"higher", "lower", "neutral"}
# Routes of the indicators delivered as files; ssb and fhi come from the source configuration.
FILE_ROUTES = {"miljodirektoratet", "kommune_nm", "udir", "registry"}
# Sources that are the municipality's own registers and surveys; every other source is public
# statistics. With this split the document's own figures (76 % / 24 %) come out exactly.
OWN_SOURCES = {"Asker kommune", "Innbyggerundersøkelse, Sentio", "Medarbeiderundersøkelsen, KS",
               "PAI-registeret, KS", "Under utvikling"}
SOURCE_SYSTEMS = [
    (r"^SSB ", "SSB statistikkbanken"), (r"^Kommunehelse statistikkbank$", "FHI Statistikk (tidligere Kommunehelsa)"),
    (r"^Miljødirektoratet$", "Miljødirektoratet"), (r"^NHO Kommune-NM$", "NHO Kommune-NM"),
    (r", KS$", "KS"), (r"^Asker kommune$", "Kommunen (egne registre)"), (r"Sentio", "Sentio (innbyggerundersøkelse)"),
    (r"^Ungdata$", "Ungdata (NOVA/KoRus)"), (r"^(Elevundersøkelsen|Foreldreundersøkelsen|Utdanningsdirektoratet)$", "Udir"),
    (r"^NKOM$", "Nkom"), (r"^Bedre vann$", "Bedre VANN"), (r"^Valgdirektoratet$", "Valgdirektoratet"),
    (r"^Patentstyret$", "Patentstyret"), (r"^Innovasjon Norge", "Innovasjon Norge / Forskningsrådet"),
    (r"^Helsedirektoratet$", "Helsedirektoratet"), (r"reisevaneundersøkelse", "Nasjonal reisevaneundersøkelse"),
    (r"^Folkehelseundersøkelse", "Folkehelseundersøkelsen i Viken (FHI)"), (r"^Under utvikling$", "Under utvikling"),
]
TARGET = re.compile(r"\(\s*([<>]\s*[\d,]+\s*(?:%|kr/\s*m2)?(?:\s*er tilfredsstillende)?)\s*\)")

# The catalogue speaks for no member: the appendix's words for Asker itself become the municipality's, and the
# targets in the names (Asker's own) leave them. Asker's own wording lives in member_indicator_texts.csv.
HOME_OF_THE_DOCUMENT = "3203"
DOCUMENT = "Asker kommune, Handlingsprogram 2024–2027, vedlegg «Metadata om indikatorene»"
NEUTRAL_WORDS = [  # (the document's words, the neutral words at the start of a text, within a text)
    ("Askersamfunnet", "Kommunesamfunnet", "kommunesamfunnet"),
    ("Askersmfunnet", "Kommunesamfunnet", "kommunesamfunnet"),  # the document's typo (UTD sub-goal)
    ("Asker kommune", "Kommunen", "kommunen"),
]
# Names whose Asker-specific part is more than a name: KLI03 carries Asker's climate goal (67 % by 2030 from 2009).
NEUTRAL_NAMES = {
    "KLI03": "Andelen innbyggere som mener det er viktig at kommunen når sitt klimamål om å redusere "
             "klimagassutslipp",
}
MEMBER_TEXT_FIELDS = ["municipality_code", "indicator_id", "indicator_name", "sub_goal", "target_rule", "source"]


def source_system(published: str) -> str:
    for pattern, system in SOURCE_SYSTEMS:
        if re.search(pattern, published):
            return system
    raise ValueError(f"no source system for {published!r}")


def target_rule(name: str) -> str:
    match = TARGET.search(name)
    return re.sub(r"\s+", " ", match.group(1)).replace("/ m", "/m") if match else ""


def neutral(text: str) -> str:
    """The document's text with Asker's names replaced by the municipality's; the build stops on any that is left."""
    for words, at_start, within in NEUTRAL_WORDS:
        text = re.sub(rf"^{words}", at_start, text)
        text = text.replace(words, within)
    if "asker" in text.lower():
        raise ValueError(f"no neutral wording for {text!r}: add it to NEUTRAL_WORDS or NEUTRAL_NAMES")
    return text


def neutral_name(indicator_id: str, name: str) -> str:
    """The name without the document's target (Asker's) and without Asker's names."""
    return neutral(NEUTRAL_NAMES.get(indicator_id) or re.sub(r"\s+", " ", TARGET.sub("", name)).strip())


def member_texts(existing: list[dict[str, str]]) -> list[dict[str, str]]:
    """member_indicator_texts.csv: Asker's rows derived from the appendix (the Handlingsprogram's own words and
    targets), every other member's rows as that member wrote them."""
    own = [{"municipality_code": HOME_OF_THE_DOCUMENT, "indicator_id": e["indicator_id"],
            "indicator_name": e["indicator_name"], "sub_goal": e["sub_goal"],
            "target_rule": target_rule(e["indicator_name"]), "source": DOCUMENT} for e in appendix()]
    for number, row in enumerate(existing, start=2):
        if list(row) != MEMBER_TEXT_FIELDS:
            raise ValueError(f"dbt_project/seeds/member_indicator_texts.csv line {number}: expected the columns "
                             f"{MEMBER_TEXT_FIELDS}, got {list(row)}")
    others = [r for r in existing if r["municipality_code"] != HOME_OF_THE_DOCUMENT]
    return own + sorted(others, key=lambda r: (r["municipality_code"], r["indicator_id"]))


def ssb_formulas(specs, routes: list[dict[str, str]]) -> dict[str, tuple[str, str]]:
    """indicator_id -> (formula, how the series was verified), from the SSB configuration and its routes."""
    series = {s.measure: s for s in specs.series() if s.measure}
    unknown = {e.indicator: e for e in specs.without_known_table if e.indicator}
    out: dict[str, tuple[str, str]] = {}
    for route in routes:
        if route["indicator_id"] in unknown:
            entry = unknown[route["indicator_id"]]
            out[route["indicator_id"]] = (
                "not fetched: no public source showed the SSB table for this series (src/styringsdata/sources/ssb_tables.yaml)",
                f"grade {entry.grade}: {entry.reason}")
            continue
        numerator = " + ".join(route["numerator_measures"].split("|"))
        formula = f"{route['multiplier']} * ({numerator})"
        if route["denominator_measures"]:
            formula += f" / ({' + '.join(route['denominator_measures'].split('|'))})"
        if float(route.get("add_constant") or 0):
            constant = f"{float(route['add_constant']):g}"
            formula = (f"{constant} - ({numerator})" if float(route["multiplier"]) == -1 and not route["denominator_measures"]
                       else f"{constant} + {formula}")
        formula += " on today's municipality codes (measures: int_ssb__measures)"
        measures = route["numerator_measures"].split("|") + [m for m in route["denominator_measures"].split("|") if m]
        grades = dict.fromkeys(f"SSB {series[m].table_id} {m}: grade {series[m].evidence.grade} ({series[m].evidence.cite})"
                               for m in measures if m in series)
        out[route["indicator_id"]] = (formula, "; ".join(grades))
    return out


def fhi_routes() -> dict[str, tuple[str, str, str]]:
    """indicator_id -> (source table, formula, how it was verified), from src/styringsdata/sources/fhi_tables.yaml."""
    import yaml

    out: dict[str, tuple[str, str, str]] = {}
    fhi = yaml.safe_load((HERE.parent / "src" / "styringsdata" / "sources" / "fhi_tables.yaml").read_text(encoding="utf-8"))
    for table in fhi["tables"]:
        evidence = table["evidence"]
        if table.get("table_id"):
            pins = ", ".join(f"{k}={v}" for k, v in (table.get("pin") or {}).items())
            formula = (f"as published by FHI: table {table['table_id']}, MEASURE_TYPE {table['measure']}"
                       + (f", {pins}" if pins else "") + "; a multi-year period shows on its last year")
        else:
            formula = f"not fetched: no FHI table found; doctor --live lists tables titled like '{table['look_for']}'"
        out[table["indicator_id"]] = (str(table.get("table_id") or ""), formula,
                                      f"grade {evidence['grade']}: {evidence['cite']}")
    return out


FILE_FORMULAS = {
    "KLI01": ("sum of tonnes CO2-equivalents over every sector, source and gas (sheet 'Oversikt - detaljert')",
              "sheet and columns as in public code using the file (reference/sources.md §5)"),
    **{indicator: (f"Kommune-NM {column} as published", "file contract defined here; no public format exists")
       for indicator, column in (("INN08", "total_rank"), ("INN09", "county_rank"), ("UTD17", "fagprove_rank"))},
}


def appendix() -> list[dict[str, str]]:
    return list(csv.DictReader((HERE / "appendix_indicators.csv").open(encoding="utf-8")))


def routing(specs, routes: list[dict[str, str]]) -> dict[str, tuple[str, str, str, str]]:
    """indicator_id -> (route, source table, formula, verified) for the indicators a source configuration carries."""
    out: dict[str, tuple[str, str, str, str]] = {}
    ssb = ssb_formulas(specs, routes)
    for route in routes:
        out[route["indicator_id"]] = ("ssb", route["source_table"], *ssb[route["indicator_id"]])
    for indicator, (table, formula, verified) in fhi_routes().items():
        if indicator in out:
            raise ValueError(f"{indicator} has a route in src/styringsdata/sources/ssb_tables.yaml and in "
                             "src/styringsdata/sources/fhi_tables.yaml: "
                             "keep one")
        out[indicator] = ("fhi", table, formula, verified)
    return out


def build(specs=None, routes: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The catalogue rows. `specs`/`routes`: the SSB configuration and its routes as tools/derive.py reads them."""
    if specs is None or routes is None:
        from tools.derive import derived_routes

        specs, routes = derived_routes(HERE.parent)
    attributes = {r["indicator_id"]: r for r in csv.DictReader((HERE / "attributes.csv").open(encoding="utf-8"))}
    configured = routing(specs, routes)
    rows = []
    for entry in appendix():
        indicator = entry["indicator_id"]
        attr = attributes.get(indicator)
        if attr is None:
            raise ValueError(f"attributes.csv lacks {indicator} ({entry['indicator_name']})")
        if attr["direction"] not in DIRECTIONS:
            raise ValueError(f"{indicator}: direction must be one of {sorted(DIRECTIONS)}, got {attr['direction']!r}")
        if indicator in configured:
            route, source_table, formula, verified = configured[indicator]
            if attr["route"] or attr["source_table"]:
                raise ValueError(f"attributes.csv gives {indicator} a route or source table, but its route is in "
                                 f"ingestion/{route}_tables.yaml: leave both columns empty in attributes.csv")
        else:
            route, source_table = attr["route"], attr["source_table"]
            if route not in FILE_ROUTES:
                raise ValueError(f"{indicator}: no source configuration carries it, so attributes.csv must give its "
                                 f"route, one of {sorted(FILE_ROUTES)}; got {route!r} (an SSB or FHI indicator is "
                                 "routed by its entry in src/styringsdata/sources/ssb_tables.yaml or "
                                 "src/styringsdata/sources/fhi_tables.yaml)")
            formula, verified = FILE_FORMULAS.get(indicator, ("as reported through the registry drop zone",
                                                               "not applicable: delivered as a file"))
        rows.append({
            **entry,
            "sub_goal": neutral(entry["sub_goal"]),
            "indicator_name": neutral_name(indicator, entry["indicator_name"]),
            "source_published": neutral(entry["source_published"]),
            "source_system": source_system(entry["source_published"]),
            "statistics_origin": "own_register_or_survey" if entry["source_published"] in OWN_SOURCES
            else "public_statistics",
            "route": route,
            "source_table": source_table,
            "frequency": FREQUENCIES[entry["frequency_published"]],
            "unit": attr["unit"],
            "decimals": attr["decimals"],
            "direction": attr["direction"],
            "formula": formula,
            "series_verified": verified,
        })
    for row in rows:  # the catalogue names no member (issue 23): a cited source that does is worded without it
        for field, value in row.items():
            if "asker" in value.lower():
                raise ValueError(f"{row['indicator_id']}: {field} names Asker ({value!r}); the catalogue is every "
                                 "member's: Asker's own words belong in member_indicator_texts.csv")
    extra = set(attributes) - {r["indicator_id"] for r in rows}
    if extra:
        raise ValueError(f"attributes.csv has ids the appendix does not: {sorted(extra)}")
    return rows


def main() -> int:
    from tools.derive import main as derive

    return derive([])  # the catalogue is one of the files derived from the source configuration


if __name__ == "__main__":
    sys.exit(main())
