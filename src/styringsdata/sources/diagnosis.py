"""One line of `styringsdata doctor`'s answer: what a source's check of one configured series found.

Its own module so that the sources' clients (ssb.py, fhi.py) can report in it without importing doctor.py,
which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DoctorRow:
    source: str
    table: str
    series: str
    variable: str
    code: str
    grade: str
    verdict: str
    detail: str = ""
    suggestions: tuple[str, ...] = ()
