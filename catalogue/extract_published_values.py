"""Extract the values the Handlingsprogram 2024-2027 published for 2019-2022, per indicator.

    python catalogue/extract_published_values.py ../shared/seeds/002_b7438f97132f1d74.txt

The indicator tables name indicators slightly differently from the appendix (typos, shortened
names, one renamed indicator). Each table row is matched to a catalogue id: exactly after
normalisation, else through the explicit RENAMED map, else by the closest name (difflib ratio
>= 0.85); every non-exact match is written to name_reconciliation.csv with its kind and score.
Writes:
- catalogue/published_values.csv: indicator_id, year, published text, value, status;
- catalogue/name_reconciliation.csv;
- snapshots/registry/handlingsprogram_2024_2027.csv: the registry-route indicators in the
  registry drop-zone format, the first registry vintage.
"""

from __future__ import annotations

import csv
import difflib
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YEARS = (2019, 2020, 2021, 2022)
STATUSES = {"Ikke målt": "not_measured", "Ikke": "not_measured", "Tall kommer": "pending"}
# Rows whose names differ too much for a fuzzy match, decided by reading both tables.
RENAMED = {"lekkasje fra vannforsyningsnett": "BYS09"}


def normalise(name: str) -> str:
    name = re.sub(r"<i>.*?</i>", "", name)
    name = re.sub(r"\s*<su[pb]>\s*(\w+)\s*</su[pb]>", r"\1", name)
    name = re.sub(r"<[^>]+>", "", name)
    # Method notes in italics: part of some names in one table, not in the other.
    name = re.sub(r"\(\s*(metodikken|tidsserien)[^)]*\)", "", name, flags=re.IGNORECASE)
    name = re.sub(r"\(\s*\)", "", name)
    return re.sub(r"\s+", " ", name).strip().lower()


def parse_value(text: str) -> tuple[str, str]:
    text = text.strip()
    if text in STATUSES:
        return "", STATUSES[text]
    number = re.sub(r"<[^>]+>", "", text)
    number = re.sub(r"(%|kr/\s*m\s*2?|µg/m3|kg/m2|GWh)$", "", number.strip()).strip()
    number = number.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", number):
        raise ValueError(f"cannot read published value {text!r}")
    return number, "measured"


def table_rows(seed: Path) -> list[tuple[int, str, list[str]]]:
    lines = seed.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^(<b>)?Indikator(</b>)?\t(<b>)?2019", line))
    end = next(i for i, line in enumerate(lines) if line.strip() == "## Metadata om indikatorene")
    rows, in_table = [], False
    for number, line in enumerate(lines[start:end], start=start + 1):
        cells = line.split("\t")
        if re.match(r"^(<b>)?Indikator(</b>)?\t(<b>)?2019", line):
            in_table = True  # only the indicator tables, not the financial tables between them
            continue
        if line.strip() and "\t" not in line:
            in_table = False
            continue
        if in_table and len(cells) >= 5 and cells[1].strip():
            rows.append((number, cells[0], [c.strip() for c in cells[1:5]]))
    return rows


def match(name: str, catalogue: dict[str, str]) -> tuple[str, str, float]:
    key = normalise(name)
    exact = {normalise(n): i for i, n in catalogue.items()}
    if key in exact:
        return exact[key], "exact", 1.0
    for prefix, indicator in RENAMED.items():
        if key.startswith(prefix):
            return indicator, "renamed", 0.0
    scored = sorted(((difflib.SequenceMatcher(None, key, n).ratio(), i) for n, i in exact.items()), reverse=True)
    score, indicator = scored[0]
    if score < 0.85:
        raise ValueError(f"no catalogue match for table row {name!r} (best {indicator} at {score:.2f})")
    return indicator, "fuzzy", round(score, 3)


def main(argv: list[str]) -> int:
    catalogue = {r["indicator_id"]: r for r in csv.DictReader(
        (ROOT / "dbt_project" / "seeds" / "catalogue_indicators.csv").open(encoding="utf-8"))}
    names = {i: r["indicator_name"] for i, r in catalogue.items()}
    values, reconciliation, seen = [], [], {}
    for line, name, cells in table_rows(Path(argv[0])):
        indicator, kind, score = match(name, names)
        if indicator in seen:
            raise ValueError(f"{indicator} matched twice: lines {seen[indicator]} and {line}")
        seen[indicator] = line
        if kind != "exact":
            reconciliation.append({"indicator_id": indicator, "appendix_name": names[indicator],
                                   "table_name": re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", name)).strip(),
                                   "match": kind, "similarity": score, "document_line": line})
        for year, text in zip(YEARS, cells):
            value, status = parse_value(text)
            values.append({"indicator_id": indicator, "year": year, "published_text": re.sub(r"<[^>]+>", "", text),
                           "value": value, "status": status, "document_line": line})
    missing = sorted(set(names) - set(seen))
    write(HERE / "published_values.csv", values)
    write(HERE / "name_reconciliation.csv", reconciliation)
    registry = [{"indicator_id": v["indicator_id"], "municipality_code": "3203", "period": v["year"],
                 "value": v["value"].replace(".", ","), "unit": catalogue[v["indicator_id"]]["unit"],
                 "status": v["status"], "source": catalogue[v["indicator_id"]]["source_published"],
                 "comment": f"Handlingsprogram 2024-2027, published value {v['published_text']!r}"}
                for v in values if catalogue[v["indicator_id"]]["route"] == "registry"]
    out = ROOT / "snapshots" / "registry" / "handlingsprogram_2024_2027.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    write(out, registry, delimiter=";")
    print(f"{len(seen)} indicators matched ({len(reconciliation)} not exactly), {len(values)} values; "
          f"not in the tables: {missing}; {len(registry)} registry rows -> {out}")
    return 0


def write(path: Path, rows: list[dict], delimiter: str = ",") -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
