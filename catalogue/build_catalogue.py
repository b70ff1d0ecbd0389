"""Build the indicator catalogue seed from the appendix extract and the curated attributes.

    python catalogue/build_catalogue.py     # writes dbt_project/seeds/indicator_catalogue.csv

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
SEED = HERE.parent / "dbt_project" / "seeds" / "indicator_catalogue.csv"

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


def build() -> list[dict[str, str]]:
    appendix = list(csv.DictReader((HERE / "appendix_indicators.csv").open(encoding="utf-8")))
    attributes = {r["indicator_id"]: r for r in csv.DictReader((HERE / "attributes.csv").open(encoding="utf-8"))}
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
