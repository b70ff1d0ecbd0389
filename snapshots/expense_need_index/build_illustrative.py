"""Write the bundled expense-need index file: ILLUSTRATIVE figures for the 12 ASSS members, 2018-2025.

No stored public source gives the members' indices (Grønt hefte, table C-k "Indeks for beregnet
utgiftsbehov", is published as ods/pdf on regjeringen.no and was not reachable from here). Every row is
therefore marked `origin=illustrative`. The figures are deterministic (sha256 of code and sector) around
levels typical of large municipalities: low administration and agriculture indices, school and
kindergarten near the average. Replace the file with a transcription of Grønt hefte to get real ones.

    .venv/bin/python snapshots/expense_need_index/build_illustrative.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

MEMBERS = {"0301": "Oslo", "4601": "Bergen", "5001": "Trondheim", "1103": "Stavanger", "3201": "Bærum",
           "4204": "Kristiansand", "3107": "Fredrikstad", "1108": "Sandnes", "5501": "Tromsø", "3301": "Drammen",
           "3203": "Asker", "3205": "Lillestrøm"}
# sector: (low, high) of the illustrative level, national average = 100
LEVELS = {"samlet": (92, 104), "grunnskole": (92, 108), "barnehage": (90, 112), "barnevern": (85, 115),
          "pleie_og_omsorg": (82, 106), "kommunehelse": (82, 98), "sosialhjelp": (85, 140),
          "administrasjon": (78, 90), "landbruk": (2, 40)}
YEARS = range(2018, 2026)
SOURCE = ("illustrative: no stored public source gives this index - transcribe Grønt hefte table C-k "
          "(Indeks for beregnet utgiftsbehov) for the year")
HEADER = "year;municipality_code;municipality_name;need_area;need_index;origin;source;citation"


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def rows() -> list[str]:
    lines = [HEADER]
    for year in YEARS:
        for code, name in MEMBERS.items():
            for area, (low, high) in LEVELS.items():
                level = low + (high - low) * _unit(code, area)
                drift = 1 + 0.004 * (year - 2021) * (2 * _unit(code, area, "trend") - 1)
                value = f"{level * drift:.2f}".replace(".", ",")
                lines.append(f"{year};{code};{name};{area};{value};illustrative;{SOURCE};")
    return lines


if __name__ == "__main__":
    target = Path(__file__).with_name("utgiftsbehov_asss_illustrative.csv")
    target.write_text("\n".join(rows()) + "\n", encoding="utf-8")
    print(f"{target}: {len(rows()) - 1} rows")
