"""What a file contract says about a file: every problem (file, row, column, value, expected) or its rows.

Shared by every drop zone (src/styringsdata/sources/drop_zone.py) and every contract that feeds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # line in the file, header = 1; None for file-level problems
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        if self.row is None and self.column is None and self.value is None:
            return f"{self.file}: {self.expected}"  # a whole-file problem, already phrased in full
        where = self.file if self.row is None else f"{self.file}, row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        got = "" if self.value is None else f": got {self.value!r}"
        return f"{where}{got}; expected {self.expected}"


@dataclass
class ValidationReport:
    file: str
    rows: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the file was read, stated on acceptance

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        if self.ok:
            return f"{self.file}: OK, {len(self.rows)} rows" + "".join(f"; {n}" for n in self.notes) + "\n"
        lines = [f"{self.file}: REJECTED, {len(self.problems)} problem(s); nothing from this file was loaded"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines) + "\n"
