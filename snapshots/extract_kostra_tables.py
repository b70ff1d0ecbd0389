"""Extract the "KOSTRA-tall" tables of Asker's Handlingsprogram 2024-2027 into kostra_published.csv.

    python snapshots/extract_kostra_tables.py ../shared/seeds/002_b7438f97132f1d74.txt

Run once; the CSV is committed because the seed document is not part of the repo. It holds, per
key figure, the published values of the seven columns (Asker 2021, Asker 2022, Bærum, Drammen,
Lillestrøm, ASSS uten Oslo, Kostragruppe 12; the peers are 2022 figures). snapshots/build.py serves
them in the real SSB tables each key figure comes from (where one is known), and tests/pipeline/test_kostra_comparison.py
checks the warehouse reproduces them.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

COLUMNS = ["asker_2021", "asker_2022", "baerum_2022", "drammen_2022", "lillestrom_2022",
           "asss_without_oslo_2022", "kostra_group_12_2022"]
AREA_IDS = {
    "Organisasjon, styring og utvikling": "OSU",
    "Oppvekst": "OPP",
    "Velferd": "VEL",
    "Samfunnstjenester": "SAM",
    "Samfunnsutvikling": "SUT",
    "Medborgerskap": "MED",
}
OUT = Path(__file__).with_name("kostra_published.csv")


def number(text: str) -> str:
    """'1 628,6' -> '1628.6', '10,2 %' -> '10.2', '' -> ''."""
    cleaned = text.replace("\u00a0", " ").replace("%", "").replace(" ", "").replace(",", ".").strip()
    if cleaned and not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise ValueError(f"not a number: {text!r}")
    return cleaned


def service_area(lines: list[str], at: int) -> str:
    for line in reversed(lines[:at]):
        heading = re.match(r"^##\s+(.*)$", line)
        if heading and heading.group(1).strip() in AREA_IDS:
            return heading.group(1).strip()
    raise ValueError(f"no service-area heading before line {at + 1}")


def extract(seed: Path) -> list[dict[str, str]]:
    lines = seed.read_text(encoding="utf-8").splitlines()
    rows: list[dict[str, str]] = []
    for start, line in enumerate(lines):
        if not re.match(r"^#+\s+KOSTRA-tall\s*$", line):
            continue
        area = service_area(lines, start)
        section, order = "", 0
        header = next(i for i in range(start + 1, start + 5) if lines[i].startswith("\tAsker 2021"))
        for raw in lines[header + 1:]:
            if "\t" not in raw:
                if raw.strip():
                    break
                continue
            cells = raw.split("\t")
            name = re.sub(r"<[^>]+>", "", cells[0]).strip()
            values = [c.strip() for c in cells[1:8]] + [""] * (8 - len(cells))
            if not any(values[:7]):
                if cells[0].startswith("<b>"):
                    section = name
                elif rows and rows[-1]["service_area"] == area:
                    rows[-1]["key_figure_name"] += " " + name  # a name wrapped onto a second line
                continue
            if not name or len(cells) < 6:
                break
            order += 1
            row = {"key_figure_id": f"K{AREA_IDS[area]}{order:02d}", "service_area": area, "section": section,
                   "display_order": str(order), "key_figure_name": name,
                   "is_percent": str(any("%" in v for v in values[:7])).lower()}
            row.update({col: number(v) for col, v in zip(COLUMNS, values[:7])})
            rows.append(row)
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = extract(Path(argv[0]))
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} key figures in {len({r['service_area'] for r in rows})} service areas -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
