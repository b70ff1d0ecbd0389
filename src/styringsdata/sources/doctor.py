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
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from styringsdata.sources.diagnosis import DoctorRow
from styringsdata.vocabulary import evidence_grades

VERDICTS = ("ok", "table missing", "code missing", "dimension not selected", "period format")
GRADES = evidence_grades()  # seed vocabulary


@dataclass(frozen=True)
class Unmapped:
    source: str
    figure: str  # key figure or indicator id
    status: str  # source unknown, not SSB, or asss_formula (KS's A/B formula on SSB's base tables)
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


def run_doctor(transport: Any, config_dir: Path | None = None) -> DoctorReport:
    """`config_dir`: where ssb_tables.yaml and fhi_tables.yaml are read (default: the package's own)."""
    from styringsdata.sources.fhi import FhiClient, diagnose, load_fhi_specs
    from styringsdata.sources.ssb import UNKNOWN_ROUTE, SsbClient, diagnose_table, load_table_specs

    ssb_path, fhi_path = config_paths(config_dir)
    specs = load_table_specs(ssb_path)
    report = DoctorReport()
    client = SsbClient(transport)
    for spec in specs.tables:
        report.rows += diagnose_table(client, spec)
    report.rows += klass_rows(transport, range(specs.first_year, specs.last_year + 1))
    fhi_specs = load_fhi_specs(fhi_path, ssb_path)
    fhi_rows, fhi_without = diagnose(FhiClient(transport), fhi_specs)
    report.rows += fhi_rows
    report.rows.append(miljodirektoratet_row(transport))
    for entry in specs.without_known_table:
        status = entry.route if entry.route != UNKNOWN_ROUTE else entry.status
        report.unmapped.append(Unmapped("SSB", entry.key_figure or entry.indicator or "?", status, entry.grade,
                                        entry.reason, entry.look_for))
    # Live or replayed, the Udir series are the same files; the bundled ones are in the snapshot directory.
    store = getattr(transport, "store", None)
    report.udir = udir_statuses(store.root if store is not None else None)
    for indicator, candidates in fhi_without:
        report.unmapped.append(Unmapped("FHI", indicator.indicator_id, "source unknown", indicator.grade, indicator.cite,
                                        indicator.look_for, tuple(candidates)))
    return report


def config_paths(config_dir: Path | None = None) -> tuple[Path, Path]:
    """ssb_tables.yaml and fhi_tables.yaml in `config_dir`, else the package's own."""
    from styringsdata.sources.fhi import SPECS_PATH
    from styringsdata.sources.ssb import TABLE_SPECS_PATH

    if config_dir is None:
        return TABLE_SPECS_PATH, SPECS_PATH
    return Path(config_dir) / TABLE_SPECS_PATH.name, Path(config_dir) / SPECS_PATH.name


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


# -- `doctor --live --write`: the first live day repairs the configuration ------------------------------------

# Below this similarity (difflib ratio, 0-1) a label is no match and nothing is proposed.
MATCH_CUTOFF = 0.5
# Grades a series found ok live is raised from: the candidates (B: one half seen; C: candidate only).
RAISED_WHEN_OK = ("B", "C")
# What the Handlingsprogram appends to a printed label: "(B)" (konsern), "*)" deflated, "**)" need-adjusted.
PLACEHOLDER = "UNSEEN-"
PRINTED_MARKS = re.compile(r"\s*(\(B\)|\(?\*+\)|\*\))")


@dataclass(frozen=True)
class Proposal:
    """One change `--write` would make: a replacement code (`replace`) or a grade raised to live (`confirm`)."""

    source: str  # SSB or FHI
    table: str
    series: str  # series name (measure or key figure) or FHI indicator
    variable: str
    old: str
    new: str
    ssb_label: str  # the source's label of the new code (replace) or of the series' codes (confirm)
    kind: str  # replace or confirm
    matched_on: str = ""  # printed label, series label or code: what the new code's label was matched against
    score: float = 1.0
    grade: str = ""


def printed_labels(seed: Path | None = None) -> dict[str, str]:
    """Each key figure's label as the Handlingsprogram prints it (dbt seed kostra_key_figures), without its marks."""
    import csv

    from styringsdata.paths import DBT_PROJECT_DIR

    path = seed or DBT_PROJECT_DIR / "seeds" / "kostra_key_figures.csv"
    with open(path, encoding="utf-8") as f:
        return {r["key_figure_id"]: PRINTED_MARKS.sub("", r["key_figure_name"]).strip() for r in csv.DictReader(f)}


def best_match(wanted: str, choices: Sequence[tuple[str, str]]) -> tuple[str, str, float] | None:
    """The (code, label, score) whose label (or, failing that, code) comes nearest to `wanted`."""
    import difflib

    scored = [(difflib.SequenceMatcher(None, wanted.lower(), (label or code).lower()).ratio(), code, label)
              for code, label in choices]
    scored += [(difflib.SequenceMatcher(None, wanted, code).ratio(), code, label) for code, label in choices]
    if not scored:
        return None
    score, code, label = max(scored, key=lambda s: s[0])
    return (code, label, score) if score >= MATCH_CUTOFF else None


def propose(report: DoctorReport, printed: dict[str, str] | None = None) -> tuple[list[Proposal], list[DoctorRow]]:
    """The proposals for every SSB and FHI series that is not ok (the nearest code by the key figure's printed label,
    then by the series label, then by the code itself), and for every B or C series found ok (raised to live); and
    the rows nothing can be proposed for."""
    printed = printed if printed is not None else printed_labels()
    proposals, left = [], []
    for row in report.rows:
        if row.source not in ("SSB", "FHI"):
            continue
        if row.verdict == "ok":
            # A placeholder for a code no source showed (UNSEEN-<key figure>) is answered by the snapshot's stand-in
            # table only; it is never confirmed.
            if row.grade in RAISED_WHEN_OK and PLACEHOLDER not in row.ssb_label:
                proposals.append(Proposal(row.source, row.table, row.series, row.variable, row.code, row.code,
                                          row.ssb_label, "confirm", grade=row.grade))
            continue
        wanted = (("printed label", printed.get(row.key_figure, "")), ("series label", row.series_label),
                  ("code", row.code)) if row.verdict == "code missing" and row.choices else ()
        matches = [(what, found) for what, text in wanted if text and (found := best_match(text, row.choices))]
        if not matches:
            left.append(row)
            continue
        what, (code, label, score) = matches[0]
        proposals.append(Proposal(row.source, row.table, row.series, row.variable, row.code, code, label, "replace",
                                  what, score, row.grade))
    return proposals, left


def format_proposals(proposals: Sequence[Proposal], left: Sequence[DoctorRow]) -> str:
    lines = ["", f"Proposals ({len(proposals)}):"]
    lines += _table(("source", "table", "series", "variable", "configured", "proposed", "grade", "matched on", "score",
                     "source's label"),
                    [(p.source, p.table, p.series, p.variable, p.old, p.new if p.kind == "replace" else "(keep)",
                      f"{p.grade}->live", p.matched_on or "ok live", f"{p.score:.2f}", p.ssb_label)
                     for p in proposals], (5, 6, 24, 16, 24, 24, 9, 13, 5, 60))
    if left:
        lines += ["", f"No proposal ({len(left)}; edit by hand, see the rows above):"]
        lines += [f"  {r.source} {r.table} {r.series}: {r.verdict} ({r.variable} {r.code})" for r in left]
    return "\n".join(lines) + "\n"


def write_proposals(proposals: Sequence[Proposal], ssb_path: Path, fhi_path: Path, on: dt.date) -> list[Proposal]:
    """Apply the proposals to the configuration files by editing their text in place (comments, anchors and layout
    stay as they are), grading each series `live` with the date and the source's label. Each file is checked to
    load and to hold the new codes before it replaces the old one. Returns what was written."""
    from styringsdata.sources.fhi import load_fhi_specs
    from styringsdata.sources.ssb import load_table_specs

    written = []
    for source, path in (("SSB", Path(ssb_path)), ("FHI", Path(fhi_path))):
        mine = [p for p in proposals if p.source == source]
        if not mine:
            continue
        text = path.read_text(encoding="utf-8")
        cites: dict[tuple[str | None, str], tuple[str, str]]  # an FHI indicator whose table was not found: None
        if source == "SSB":
            cites = {(s.table_id, s.name): (s.evidence.grade, s.evidence.cite) for s in load_table_specs(path).series()}
        else:
            cites = {(i.table_id, i.indicator_id): (i.grade, i.cite) for i in load_fhi_specs(path, ssb_path).indicators}
        for proposal in mine:
            grade, cite = cites[(proposal.table, proposal.series)]
            text = _edit_series(text, proposal, source, _live_evidence(proposal, on, grade, cite), path)
            written.append(proposal)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        _check_written(tmp, source, mine, ssb_path)
        tmp.replace(path)
    return written


def _live_evidence(proposal: Proposal, on: dt.date, grade: str, cite: str) -> str:
    if proposal.kind == "replace":
        what = (f"styringsdata doctor --live {on.isoformat()}: {proposal.variable} {proposal.new} "
                f"{proposal.ssb_label!r} replaces {proposal.old} (matched on the {proposal.matched_on})")
    else:
        what = f"styringsdata doctor --live {on.isoformat()}: found ok, {proposal.ssb_label}"
    return "{grade: live, cite: " + _quote(f"{what}; before: grade {grade}, {cite}") + "}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', "'") + '"'


def _scalar(code: str) -> str:
    return code if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", code) else _quote(code)


def _entry_span(text: str, proposal: Proposal, source: str, path: Path) -> tuple[int, int]:
    """Where the series' entry is in the file's text: from its `- ` line to the next entry at that indent."""
    if source == "SSB":
        start = text.find(f'\n  - id: "{proposal.table}"')
        if start < 0:
            raise DoctorWriteError(f"{path}: no table {proposal.table}")
        end = len(text)
        for marker in ("\n  - id: ", "\n\n#", "\n\n"):
            found = text.find(marker, start + 1)
            if found >= 0:
                end = min(end, found)
        block = text[start:end]
        entries = [m.start() for m in re.finditer(r"\n      - ", block)]
        name = re.compile(rf"\b(measure|key_figure): {re.escape(proposal.series)}\b")
        for n, at in enumerate(entries):
            stop = entries[n + 1] if n + 1 < len(entries) else len(block)
            entry = block[at:stop]
            match = name.search(entry)
            if match and (match.group(1) == "measure" or not re.search(r"\bmeasure: ", entry)):
                return start + at, start + stop
        raise DoctorWriteError(f"{path}: table {proposal.table} has no series {proposal.series}")
    start = text.find(f"\n  - indicator_id: {proposal.series}\n")
    if start < 0:
        raise DoctorWriteError(f"{path}: no entry for indicator {proposal.series}")
    end = text.find("\n  - ", start + 1)
    return start, end if end >= 0 else len(text)


def _flow_map_end(text: str, at: int) -> int:
    """The index just past the flow mapping that opens at `at` (quotes respected)."""
    depth, quote, i = 0, None, at
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise DoctorWriteError(f"unbalanced braces from offset {at}")


def _edit_series(text: str, proposal: Proposal, source: str, evidence: str, path: Path) -> str:
    start, end = _entry_span(text, proposal, source, path)
    entry = text[start:end]
    if proposal.kind == "replace":
        if proposal.variable == "MEASURE_TYPE":
            pattern = re.compile(rf"(\bmeasure:\s*)\"?{re.escape(proposal.old)}\"?(?=\s*[,}}\n])")
        else:
            pattern = re.compile(rf"(\b{re.escape(proposal.variable)}:\s*)\"?{re.escape(proposal.old)}\"?(?=\s*[,}}])")
        entry, count = pattern.subn(lambda m: m.group(1) + _scalar(proposal.new), entry, count=1)
        if count != 1:
            raise DoctorWriteError(f"{path}: {proposal.series} pins no {proposal.variable}: {proposal.old}")
        if source == "SSB" and proposal.variable == "ContentsCode" and proposal.ssb_label:
            entry = re.sub(r'(\blabel:\s*)"(?:[^"\\]|\\.)*"', lambda m: m.group(1) + _quote(proposal.ssb_label),
                           entry, count=1)
    at = entry.find("evidence:")
    if at < 0:
        raise DoctorWriteError(f"{path}: {proposal.series} has no evidence")
    value = at + len("evidence:")
    while entry[value] == " ":
        value += 1
    carried = ""  # an anchor defined here, which later series still alias
    if entry[value] == "*":
        alias_name = re.match(r"\*[\w-]+", entry[value:])
        if alias_name is None:
            raise DoctorWriteError(f"{path}: {proposal.series}'s evidence is '*' without an anchor name")
        stop = alias_name.end() + value
    else:
        anchor = re.match(r"&([\w-]+)\s*", entry[value:])
        opening = value + (anchor.end() if anchor else 0)
        stop = _flow_map_end(entry, opening)
        if anchor:
            carried = f"&{anchor.group(1)} " + entry[opening:stop]
    entry = entry[:value] + evidence + entry[stop:]
    text = text[:start] + entry + text[end:]
    if carried:
        alias = re.compile(rf"\*{re.escape(carried.split()[0][1:])}\b")
        later = alias.search(text, start + len(entry))
        if later:  # the first series still aliasing it defines it now
            text = text[:later.start()] + carried + text[later.end():]
    return text


def _check_written(path: Path, source: str, proposals: Sequence[Proposal], ssb_path: Path) -> None:
    from styringsdata.sources.fhi import load_fhi_specs
    from styringsdata.sources.ssb import load_table_specs

    series: dict[tuple[str | None, str], tuple[Mapping[str, str], str]]  # FHI: None when no table was found
    if source == "SSB":
        series = {(s.table_id, s.name): (s.select, s.evidence.grade) for s in load_table_specs(path).series()}
    else:
        series = {(i.table_id, i.indicator_id): ({"MEASURE_TYPE": str(i.measure), **i.pin}, i.grade)
                  for i in load_fhi_specs(path, ssb_path).indicators}
    for p in proposals:
        pins, grade = series[(p.table, p.series)]
        if pins.get(p.variable) != p.new or grade != "live":
            raise DoctorWriteError(f"{path}: after the edit {p.series} has {p.variable}={pins.get(p.variable)!r}, "
                                   f"grade {grade!r}; expected {p.new!r}, live (nothing was written)")


class DoctorWriteError(ValueError):
    pass
