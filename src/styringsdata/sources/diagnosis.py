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
    # For `doctor --live --write`: the codes (with labels) the variable has at the source, what the series is called
    # in the configuration and which key figure it feeds, and for an ok series the source's labels of its codes.
    choices: tuple[tuple[str, str], ...] = ()
    series_label: str = ""
    key_figure: str = ""
    ssb_label: str = ""
