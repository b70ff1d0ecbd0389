"""`styringsdata doctor`: does the configuration match what the sources really publish?

For every configured series (src/styringsdata/sources/ssb_tables.yaml, src/styringsdata/sources/fhi_tables.yaml) one row:
source, table, series,
variable, code, evidence grade and a verdict:

- `ok`
- `table missing`            the source has no such table (FHI: candidates from its table list by title)
- `code missing`             a pinned code (or a dimension) the table lacks; suggestions are the nearest codes by label
- `dimension not selected`   a dimension the source will not eliminate and the configuration pins no code for
- `period format`            a period code the period model (src/styringsdata/sources/periods.py) does not know

plus one row each for KLASS (classifications 131 and 112) and the Miljødirektoratet download, the evidence grades
counted (A / B / C / live / - unknown), and the Udir series (a file route: no API is read, so each is listed with
its route and what the bundled snapshots hold, never as a failure). It reads metadata only
(SSB `/metadata`, FHI's table list and `/dimension`, KLASS, a HEAD on the workbook), never data, and every request goes
through the transport, so SSB's rate limit holds. Offline it reads the snapshots, live the sources. Figures with no
known table are listed after the table; they are known gaps, not failures, and do not change the exit code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

from styringsdata.sources.diagnosis import DoctorRow

VERDICTS = ("ok", "table missing", "code missing", "dimension not selected", "period format")
GRADES = ("A", "B", "C", "live", "-")


@dataclass(frozen=True)
class Unmapped:
    source: str
    figure: str  # key figure or indicator id
    status: str  # source unknown or not SSB
    grade: str
    reason: str
    look_for: str = ""
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class UdirStatus:
    """A Udir series: delivered as a file (src/styringsdata/sources/udir.py), so its status is its route, not a metadata check."""

    indicator_id: str
    udir_table: str
    value_column: str
    grade: str
    status: str
    detail: str


@dataclass
class DoctorReport:
    rows: list[DoctorRow] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    udir: list[UdirStatus] = field(default_factory=list)

    def grade_counts(self) -> dict[str, int]:
        """Series of SSB and FHI per evidence grade (KLASS and the Miljødirektoratet download are not series)."""
        counts = {g: 0 for g in GRADES}
        for row in self.rows:
            if row.source in ("SSB", "FHI"):
                counts[row.grade if row.grade in counts else "-"] += 1
        return counts

    @property
    def ok(self) -> bool:
        return all(r.verdict == "ok" for r in self.rows)

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def text(self) -> str:
        return format_report(self)


def klass_rows(transport: Any, years: Sequence[int]) -> list[DoctorRow]:
    """KLASS 131 (changes) and 112 (KOSTRA groups, the newest configured year) answer and parse."""
    from styringsdata.sources.klass import (KlassClient, KlassError, fetch_kostra_groups, parse_changes,
                                 parse_kostra_groups)
    from styringsdata.sources.transport import HttpError

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
    from styringsdata.sources.miljodirektoratet import DOWNLOAD_URL
    from styringsdata.sources.transport import HttpError, Request

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
    from styringsdata.sources.fhi import FhiClient, diagnose, load_fhi_specs
    from styringsdata.sources.ssb import SsbClient, diagnose_table, load_table_specs

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
    # Live or replayed, the Udir series are the same files; the bundled ones are in the snapshot directory.
    store = getattr(transport, "store", None)
    report.udir = udir_statuses(store.root if store is not None else None)
    for indicator, candidates in fhi_without:
        report.unmapped.append(Unmapped("FHI", indicator.indicator_id, "source unknown", indicator.grade, indicator.cite,
                                        indicator.look_for, tuple(candidates)))
    return report


def udir_statuses(snapshot_dir: Any = None) -> list[UdirStatus]:
    """Each Udir series with its route; for the file route, how many figures the bundled files hold for it."""
    from pathlib import Path

    from styringsdata.sources.udir import ROUTE, SERIES, SOURCE

    bundled: dict[str, int] = {}
    directory = Path(snapshot_dir) / SOURCE if snapshot_dir else None
    for path in sorted(directory.glob("*.csv")) if directory and directory.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            indicator = line.split(";", 1)[0]
            bundled[indicator] = bundled.get(indicator, 0) + 1
    out = []
    for series in SERIES:
        if series.route == ROUTE:
            count = bundled.get(series.indicator_id, 0)
            status, detail = "file route", (f"data/inbox/udir; {count} bundled figure(s)" if directory
                                            else "data/inbox/udir")
        else:
            status, detail = "registry", f"delivered through the registry until Udir's export is known: {series.cite}"
        out.append(UdirStatus(series.indicator_id, series.udir_table, series.value_column, series.grade, status,
                              detail))
    return out


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
    grades = report.grade_counts()
    lines.append(f"Evidence grades of the {sum(grades.values())} SSB and FHI series: "
                 + ", ".join(f"{g if g != '-' else '- (unknown)'} {n}" for g, n in grades.items()))
    if report.udir:
        lines += ["", "Udir (a file route: no API is read; docs/sources.md, 'Udir'):"]
        lines += _table(("indicator", "udir table", "value column", "grade", "status"),
                        [(u.indicator_id, u.udir_table, u.value_column, u.grade, u.status) for u in report.udir],
                        (9, 48, 12, 5, 10))
        lines += [f"  {u.indicator_id}: {u.detail}" for u in report.udir]
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
