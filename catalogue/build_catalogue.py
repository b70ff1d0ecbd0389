"""Build the indicator catalogue seed from the appendix extract and the curated attributes.

    python catalogue/build_catalogue.py     # writes dbt_project/seeds/catalogue_indicators.csv

appendix_indicators.csv is what the document says (name, source, frequency, notes, as published);
attributes.csv is what we decided per indicator (unit, decimals, direction, route, source table).
Direction is never defaulted: a missing or unknown direction stops the build.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = HERE.parent / "dbt_project" / "seeds" / "catalogue_indicators.csv"

FREQUENCIES = {"Årlig": "yearly", "Hvert andre år": "every_2_years", "Hvert tredje år": "every_3_years",
               "Hvert fjerde år": "every_4_years", "Sporadisk": "sporadic", "Ukjent": "unknown"}
DIRECTIONS = {"higher", "lower", "neutral"}
ROUTES = {"ssb", "fhi", "miljodirektoratet", "kommune_nm", "registry"}
# Sources that are the municipality's own registers and surveys; every other source is public
# statistics. With this split the document's own figures (76 % / 24 %) come out exactly.
OWN_SOURCES = {"Asker kommune", "Innbyggerundersøkelse, Sentio", "Medarbeiderundersøkelsen, KS",
               "PAI-registeret, KS", "Under utvikling"}
SOURCE_SYSTEMS = [
    (r"^SSB ", "SSB statistikkbanken"), (r"^Kommunehelse statistikkbank$", "FHI Statistikk (tidligere Kommunehelsa)"),
    (r"^Miljødirektoratet$", "Miljødirektoratet"), (r"^NHO Kommune-NM$", "NHO Kommune-NM"),
    (r", KS$", "KS"), (r"^Asker kommune$", "Asker kommune"), (r"Sentio", "Sentio (innbyggerundersøkelse)"),
    (r"^Ungdata$", "Ungdata (NOVA/KoRus)"), (r"^(Elevundersøkelsen|Foreldreundersøkelsen|Utdanningsdirektoratet)$", "Udir"),
    (r"^NKOM$", "Nkom"), (r"^Bedre vann$", "Bedre VANN"), (r"^Valgdirektoratet$", "Valgdirektoratet"),
    (r"^Patentstyret$", "Patentstyret"), (r"^Innovasjon Norge", "Innovasjon Norge / Forskningsrådet"),
    (r"^Helsedirektoratet$", "Helsedirektoratet"), (r"reisevaneundersøkelse", "Nasjonal reisevaneundersøkelse"),
    (r"^Folkehelseundersøkelse", "Folkehelseundersøkelsen i Viken (FHI)"), (r"^Under utvikling$", "Under utvikling"),
]
TARGET = re.compile(r"\(\s*([<>]\s*[\d,]+\s*(?:%|kr/\s*m2)?(?:\s*er tilfredsstillende)?)\s*\)")


def source_system(published: str) -> str:
    for pattern, system in SOURCE_SYSTEMS:
        if re.search(pattern, published):
            return system
    raise ValueError(f"no source system for {published!r}")


def target_rule(name: str) -> str:
    match = TARGET.search(name)
    return re.sub(r"\s+", " ", match.group(1)).replace("/ m", "/m") if match else ""


def formulas() -> dict[str, tuple[str, str]]:
    """indicator_id -> (formula, how the series was verified), from the route configuration files."""
    import yaml

    root = HERE.parent
    out: dict[str, tuple[str, str]] = {}
    document = yaml.safe_load((root / "ingestion" / "ssb_tables.yaml").read_text())
    series = {s["measure"]: (t["id"], s["evidence"]) for t in document["tables"] for s in t["series"] if s.get("measure")}
    unknown = {e["indicator"]: e for e in document.get("without_known_table") or () if e.get("indicator")}
    for route in csv.DictReader((root / "dbt_project" / "seeds" / "ssb_indicator_routes.csv").open(encoding="utf-8")):
        if route["indicator_id"] in unknown:
            entry = unknown[route["indicator_id"]]
            out[route["indicator_id"]] = (
                "not fetched: no public source showed the SSB table for this series (ingestion/ssb_tables.yaml)",
                f"grade {entry['grade']}: {entry['reason']}")
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
        grades = dict.fromkeys(f"SSB {series[m][0]} {m}: grade {series[m][1]['grade']} ({series[m][1]['cite']})"
                               for m in measures if m in series)
        out[route["indicator_id"]] = (formula, "; ".join(grades))
    fhi = yaml.safe_load((root / "ingestion" / "fhi_tables.yaml").read_text())
    for table in fhi["tables"]:
        evidence = table["evidence"]
        if table.get("table_id"):
            pins = ", ".join(f"{k}={v}" for k, v in (table.get("pin") or {}).items())
            formula = (f"as published by FHI: table {table['table_id']}, MEASURE_TYPE {table['measure']}"
                       + (f", {pins}" if pins else "") + "; a multi-year period shows on its last year")
        else:
            formula = f"not fetched: no FHI table found; doctor --live lists tables titled like '{table['look_for']}'"
        out[table["indicator_id"]] = (formula, f"grade {evidence['grade']}: {evidence['cite']}")
    out["KLI01"] = ("sum of tonnes CO2-equivalents over every sector, source and gas (sheet 'Oversikt - detaljert')",
                    "sheet and columns as in public code using the file (reference/sources.md §5)")
    for indicator, column in (("INN08", "total_rank"), ("INN09", "county_rank"), ("UTD17", "fagprove_rank")):
        out[indicator] = (f"Kommune-NM {column} as published", "file contract defined here; no public format exists")
    return out


def build() -> list[dict[str, str]]:
    appendix = list(csv.DictReader((HERE / "appendix_indicators.csv").open(encoding="utf-8")))
    attributes = {r["indicator_id"]: r for r in csv.DictReader((HERE / "attributes.csv").open(encoding="utf-8"))}
    computed = formulas()
    rows = []
    for entry in appendix:
        attr = attributes.get(entry["indicator_id"])
        if attr is None:
            raise ValueError(f"attributes.csv lacks {entry['indicator_id']} ({entry['indicator_name']})")
        if attr["direction"] not in DIRECTIONS:
            raise ValueError(f"{entry['indicator_id']}: direction must be one of {sorted(DIRECTIONS)}, got {attr['direction']!r}")
        if attr["route"] not in ROUTES:
            raise ValueError(f"{entry['indicator_id']}: route must be one of {sorted(ROUTES)}, got {attr['route']!r}")
        rows.append({
            **entry,
            "source_system": source_system(entry["source_published"]),
            "statistics_origin": "own_register_or_survey" if entry["source_published"] in OWN_SOURCES
            else "public_statistics",
            "route": attr["route"],
            "source_table": attr["source_table"],
            "frequency": FREQUENCIES[entry["frequency_published"]],
            "unit": attr["unit"],
            "decimals": attr["decimals"],
            "direction": attr["direction"],
            "target_rule": target_rule(entry["indicator_name"]),
            "formula": computed.get(entry["indicator_id"], ("as reported through the registry drop zone", ""))[0],
            "series_verified": computed.get(entry["indicator_id"], ("", "not applicable: delivered as a file"))[1],
        })
    extra = set(attributes) - {r["indicator_id"] for r in rows}
    if extra:
        raise ValueError(f"attributes.csv has ids the appendix does not: {sorted(extra)}")
    return rows


def main() -> int:
    rows = build()
    with SEED.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} indicators -> {SEED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
