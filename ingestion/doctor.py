"""`styringsdata doctor`: does the configuration match what the sources really publish?

For every configured series (ingestion/ssb_tables.yaml, ingestion/fhi_tables.yaml) one row: source, table, series,
variable, code, evidence grade and a verdict:

- `ok`
- `table missing`            the source has no such table (FHI: candidates from its table list by title)
- `code missing`             a pinned code (or a dimension) the table lacks; suggestions are the nearest codes by label
- `dimension not selected`   a dimension the source will not eliminate and the configuration pins no code for
- `period format`            a period code the period model (ingestion/periods.py) does not know

plus one row each for KLASS (classifications 131 and 112) and the Miljødirektoratet download. It reads metadata only
(SSB `/metadata`, FHI's table list and `/dimension`, KLASS, a HEAD on the workbook), never data, and every request goes
through the transport, so SSB's rate limit holds. Offline it reads the snapshots, live the sources. Figures with no
known table are listed after the table; they are known gaps, not failures, and do not change the exit code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

VERDICTS = ("ok", "table missing", "code missing", "dimension not selected", "period format")


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


@dataclass(frozen=True)
class Unmapped:
    source: str
    figure: str  # key figure or indicator id
    status: str  # source unknown or not SSB
    grade: str
    reason: str
    look_for: str = ""
    candidates: tuple[str, ...] = ()


@dataclass
class DoctorReport:
    rows: list[DoctorRow] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.verdict == "ok" for r in self.rows)

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def text(self) -> str:
        return format_report(self)


def klass_rows(transport: Any, years: Sequence[int]) -> list[DoctorRow]:
    """KLASS 131 (changes) and 112 (KOSTRA groups, the newest configured year) answer and parse."""
    from ingestion.klass import (KlassClient, KlassError, fetch_kostra_groups, parse_changes,
                                 parse_kostra_groups)
    from ingestion.transport import HttpError

    client = KlassClient(transport)
    rows = []
    try:
        response = client.fetch_changes(dt.date(2018, 1, 1))
        count = len(parse_changes(response.body, source=response.url))
        rows.append(DoctorRow("KLASS", "131", "municipality changes", "changes", "-", "A", "ok", f"{count} changes"))
    except (HttpError, KlassError) as exc:
        rows.append(DoctorRow("KLASS", "131", "municipality changes", "changes", "-", "A", "table missing", str(exc)))
    year = max(years)
    try:
        response = fetch_kostra_groups(client, year)
        count = len(parse_kostra_groups(response.body, year, source=response.url))
        rows.append(DoctorRow("KLASS", "112", "KOSTRA groups", "correspondsAt 131", f"{year}-01-01", "B", "ok",
                              f"{count} memberships"))
    except (HttpError, KlassError) as exc:
        rows.append(DoctorRow("KLASS", "112", "KOSTRA groups", "correspondsAt 131", f"{year}-01-01", "B",
                              "table missing", str(exc)))
    return rows


def miljodirektoratet_row(transport: Any) -> DoctorRow:
    """A HEAD on the workbook's download URL: it must answer a file, not the HTML error page the old URL serves."""
    from ingestion.miljodirektoratet import DOWNLOAD_URL
    from ingestion.transport import HttpError, Request

    try:
        response = transport.send(Request("HEAD", DOWNLOAD_URL))
    except HttpError as exc:
        return DoctorRow("Miljødirektoratet", "klimagassutslipp", "KLI01", "download", "-", "A", "table missing",
                         f"HEAD {DOWNLOAD_URL} answered {exc.response.status}")
    kind = response.headers.get("content-type", "")
    if "html" in kind.lower():
        return DoctorRow("Miljødirektoratet", "klimagassutslipp", "KLI01", "download", "-", "A", "table missing",
                         f"the download URL answers {kind}, not the workbook: find the current link on "
                         "https://www.miljodirektoratet.no/tjenester/klimagassutslipp-kommuner/")
    return DoctorRow("Miljødirektoratet", "klimagassutslipp", "KLI01", "download", "-", "A", "ok", kind)


def run_doctor(transport: Any) -> DoctorReport:
    from ingestion.fhi import FhiClient, diagnose, load_fhi_specs
    from ingestion.ssb import SsbClient, diagnose_table, load_table_specs

    specs = load_table_specs()
    report = DoctorReport()
    client = SsbClient(transport)
    for spec in specs.tables:
        report.rows += diagnose_table(client, spec)
    report.rows += klass_rows(transport, range(specs.first_year, specs.last_year + 1))
    fhi_specs = load_fhi_specs()
    fhi_rows, fhi_without = diagnose(FhiClient(transport), fhi_specs)
    report.rows += fhi_rows
    report.rows.append(miljodirektoratet_row(transport))
    for entry in specs.without_known_table:
        report.unmapped.append(Unmapped("SSB", entry.key_figure or entry.indicator or "?", entry.status, entry.grade,
                                        entry.reason, entry.look_for))
    for indicator, candidates in fhi_without:
        report.unmapped.append(Unmapped("FHI", indicator.indicator_id, "source unknown", indicator.grade, indicator.cite,
                                        indicator.look_for, tuple(candidates)))
    return report


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> list[str]:
    def cut(text: str, width: int) -> str:
        return text if len(text) <= width else text[:width - 1] + "…"

    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
    lines += [fmt.format(*(cut(str(c), w) for c, w in zip(row, widths))).rstrip() for row in rows]
    return lines


def format_report(report: DoctorReport) -> str:
    header = ("source", "table", "series", "variable", "code", "grade", "verdict")
    widths = (17, 16, 24, 20, 28, 5, 22)
    lines = _table(header, [(r.source, r.table, r.series, r.variable, r.code, r.grade, r.verdict)
                            for r in report.rows], widths)
    problems = [r for r in report.rows if r.verdict != "ok"]
    if problems:
        lines += ["", "Not ok:"]
        for r in problems:
            lines.append(f"  {r.source} {r.table} {r.series}: {r.verdict}: {r.detail}")
            if r.suggestions:
                lines.append(f"      nearest: {'; '.join(r.suggestions)}")
    counts = {v: sum(r.verdict == v for r in report.rows) for v in VERDICTS}
    lines += ["", f"{len(report.rows)} series checked: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)]
    if report.unmapped:
        lines += ["", f"Without a known table ({len(report.unmapped)}; not fetched, listed in the KOSTRA comparison "
                      "and the catalogue with the reason):"]
        for u in report.unmapped:
            lines.append(f"  {u.source} {u.figure} [{u.status}, grade {u.grade}]: {u.reason}")
            if u.look_for:
                lines.append(f"      look for: {u.look_for}")
            if u.candidates:
                lines.append(f"      candidates in the source's table list: {'; '.join(u.candidates)}")
            elif u.source == "FHI":
                lines.append("      candidates in the source's table list: none")
    return "\n".join(lines) + "\n"
