"""Numbers as Norwegian readers and Norwegian Excel expect them: `1 785,1`, and the CSV Excel opens.

Norwegian style groups thousands with a space (a no-break space, so a figure never wraps in a table
cell) and uses a decimal comma; a negative figure gets a real minus sign. English style is kept for the
data team's report when asked for (STYRINGSDATA_NUMBER_FORMAT).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any, Iterable, Sequence


NBSP = "\u00a0"
MINUS = "\u2212"


def format_number(value: float | int | None, decimals: int = 1, style: str = "no", *, signed: bool = False) -> str:
    """`1785.14` -> `1 785,1` (no) or `1,785.1` (en); None and NaN -> empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    rounded = round(float(value), decimals)
    text = f"{abs(rounded):,.{decimals}f}"
    if style == "no":
        text = text.replace(",", NBSP).replace(".", ",")
    if rounded < 0:
        return (MINUS if style == "no" else "-") + text
    return ("+" + text) if signed and rounded > 0 else text


def format_plain(value: Any, style: str = "en") -> str:
    """A report cell: floats up to two decimals without trailing zeros, integers grouped, the rest as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("ja" if value else "nei") if style == "no" else ("yes" if value else "no")
    if isinstance(value, int):
        return format_number(value, 0, style)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        text = format_number(value, 2, style)
        decimal = "," if style == "no" else "."
        return text.rstrip("0").rstrip(decimal) if decimal in text else text
    return str(value)


def excel_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV for Norwegian Excel: ';' separated, decimal comma, UTF-8 with a byte order mark (else Excel
    reads the file as Windows-1252 and breaks æøå)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_excel_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _excel_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value).replace(".", ",") if value != int(value) or abs(value) >= 1e16 else str(int(value))
    return str(value)


MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
          "november", "desember")


def norwegian_date(day: dt.date | None) -> str:
    """'15. juni 2026', as the macro group's reports write a date."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}" if day else "ukjent dato"
