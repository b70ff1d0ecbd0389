"""Extract the appendix "Metadata om indikatorene" of Asker's Handlingsprogram 2024-2027.

    python catalogue/extract_appendix.py ../shared/seeds/002_b7438f97132f1d74.txt

Writes catalogue/appendix_indicators.csv: one row per indicator as published (focus area, sub-goal,
name, source, frequency, notes) with a stable id (focus-area prefix + position). Run once; the CSV
is committed because the seed document is not part of the repository.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

FOCUS_AREAS = {
    "Økonomi": "OKO", "Medarbeidere": "MED", "Samarbeid for å nå målene": "SAM",
    "Bærekraftige byer og samfunn": "BYS", "Handling mot klimaendringer": "KLI", "God helse": "HEL",
    "God utdanning": "UTD", "Innovasjon, digitalisering og næringsutvikling": "INN",
}
OUT = Path(__file__).with_name("appendix_indicators.csv")


def clean(text: str) -> str:
    text = re.sub(r"\s*<sup>\s*(\w+)\s*</sup>", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", text).strip()


def extract(seed: Path) -> list[dict[str, str]]:
    lines = seed.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "## Metadata om indikatorene")
    rows: list[dict[str, str]] = []
    area = goal = ""
    counters: dict[str, int] = {}
    for line in lines[start + 1:]:
        if line.startswith("Indikatorer som utgår"):
            break
        cells = line.split("\t")
        first = clean(cells[0])
        rest = [clean(c) for c in cells[1:]]
        if not first or first.strip("-") == "" or first == "Indikator":
            continue
        if first in FOCUS_AREAS and not any(rest):
            area = first
            continue
        if cells[0].startswith("<b>") and not any(rest):
            goal = first
            continue
        if len(cells) < 3 or not rest[0]:
            continue
        prefix = FOCUS_AREAS[area]
        counters[prefix] = counters.get(prefix, 0) + 1
        rows.append({
            "indicator_id": f"{prefix}{counters[prefix]:02d}", "focus_area": area, "sub_goal": goal,
            "indicator_name": first, "source_published": rest[0], "frequency_published": rest[1] if len(rest) > 1 else "",
            "notes": rest[2] if len(rest) > 2 else "",
        })
    return rows


def main(argv: list[str]) -> int:
    rows = extract(Path(argv[0]))
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} indicators -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
