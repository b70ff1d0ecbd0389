"""One period model for every source.

Sources publish periods in four shapes:

- a year: SSB `2022`;
- a quarter: SSB `2022K3`;
- an interval of years: SSB `2019-2020` (08487's `Tid` holds two-year intervals), FHI `2016_2018` (rolling
  three-year averages) and `2024_2024` (one year, FHI's way of writing it);
- a month is not used by any configured table and is refused, so a table that changes shape is noticed.

Raw keeps the period exactly as published plus its first and last day. The marts show a value on one year,
the **reference year**: the last year the period covers (`2019-2020` → 2020, `2016_2018` → 2018, `2022K3` →
2022). This follows the Handlingsprogram where its convention can be checked: it prints violence per 1000 (08487)
for 2022 in a document written in 2023, when the only published interval containing 2022 was `2021-2022`; and it
prints FHI's rolling figures under their last year, as FHI's own municipal profiles do.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})K([1-4])$")
_INTERVAL = re.compile(r"^(\d{4})[-_](\d{4})$")


class PeriodError(ValueError):
    """A period code in a shape the model does not know; the message names the code and the shapes known."""


@dataclass(frozen=True)
class Period:
    code: str  # as published
    kind: str  # year, quarter or interval
    start: dt.date
    end: dt.date

    @property
    def reference_year(self) -> int:
        """The year the marts show this period's value on (the module docstring states the rule)."""
        return self.end.year

    def overlaps(self, first_year: int, last_year: int) -> bool:
        return self.start.year <= last_year and self.end.year >= first_year


def parse_period(code: str) -> Period:
    text = str(code).strip()
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return Period(text, "year", dt.date(year, 1, 1), dt.date(year, 12, 31))
    if m := _QUARTER.match(text):
        year, quarter = int(m.group(1)), int(m.group(2))
        start = dt.date(year, 3 * quarter - 2, 1)
        end = (dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)) - dt.timedelta(days=1)
        return Period(text, "quarter", start, end)
    if m := _INTERVAL.match(text):
        first, last = int(m.group(1)), int(m.group(2))
        if last < first:
            raise PeriodError(f"period {code!r}: the interval ends ({last}) before it starts ({first})")
        return Period(text, "year" if first == last else "interval", dt.date(first, 1, 1), dt.date(last, 12, 31))
    raise PeriodError(f"period {code!r} is not a year (2022), a quarter (2022K3) or an interval of years "
                      "(2019-2020, 2016_2018)")


def is_period(code: str) -> bool:
    try:
        parse_period(code)
    except PeriodError:
        return False
    return True


def periods_within(codes: Iterable[str], first_year: int, last_year: int) -> tuple[str, ...]:
    """The codes (in the table's own order) whose period overlaps first_year..last_year.

    Requests ask only for periods the table's metadata lists, so a table with two-year intervals is asked for
    its intervals, never for single years it does not have. An unparseable code raises.
    """
    return tuple(code for code in codes if parse_period(code).overlaps(first_year, last_year))
