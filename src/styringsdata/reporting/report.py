"""The data team's quality report: HTML with embedded charts, a Markdown twin, a CSV of failing rows.

Written after every run that publishes or is held back, from the work file (whose marts are exactly what
was published when the gate passed). Plain Python: the Dagster asset, the gate, the failure sensor and the
CLI all reach it through src/styringsdata/reporting/report_delivery.py. The macro group's report, in Norwegian and
about all members, is src/styringsdata/reporting/macro_report.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from styringsdata.quality.gate import GateResult
from styringsdata.home import member_name
from styringsdata.queries import one_value
from styringsdata.reporting.numbers import excel_csv, format_plain
from styringsdata.reporting.origin_summary import origin_counts, origin_line

STATUS_ORDER = ("measured", "pending", "under_development", "not_measured")
STATUS_LABELS = {
    "measured": "measured",
    "pending": "pending (Tall kommer)",
    "under_development": "under development",
    "not_measured": "not measured (Ikke målt)",
}
STATUS_COLOURS = {"measured": "#2e7d32", "pending": "#f9a825", "under_development": "#6a1b9a",
                  "not_measured": "#9e9e9e"}
TREND_INDICATOR = "OKO02"  # netto driftsresultat: the figure the macro group looks at first


@dataclass
class RunInfo:
    run_id: str
    started_at: str  # ISO 8601, UTC
    outcome: str  # "published" or "held_back"
    home_municipality: str  # today's code of the ASSS member the report is for (STYRINGSDATA_HOME_MUNICIPALITY)
    reason: str = ""  # why it was held back
    published_path: str = ""


@dataclass
class ReportFiles:
    """What every audience's report is made of; each audience's report adds its own files (below)."""

    html: Path  # charts embedded as data: URIs, readable offline from disk
    mail_html: Path  # the same with charts as cid: references (mail clients block data: URIs)
    charts: dict[str, Path]  # cid -> PNG
    subject: str

    @property
    def attachments(self) -> list[Path]:
        """The files the mail carries besides its HTML and charts."""
        return []

    @property
    def documents(self) -> list[Path]:
        """The files a reader opens: what the publication ledger records."""
        return [self.html]


@dataclass
class QualityReportFiles(ReportFiles):
    """The data team's quality report (write_report)."""

    markdown: Path
    failing_rows_csv: Path
    context: Path  # the RunInfo as JSON, so `styringsdata report` can rebuild
    headline: "Headline"  # the report's numbers, for the run's metadata and the CLI's summary

    @property
    def attachments(self) -> list[Path]:
        return [self.markdown, self.failing_rows_csv]

    @property
    def documents(self) -> list[Path]:
        return [self.html, self.markdown]


@dataclass
class MacroReportFiles(ReportFiles):
    """The macro group's report (macro_report.write_macro_report)."""

    data_csv: Path  # the figures of the report, for Excel

    @property
    def attachments(self) -> list[Path]:
        return [self.data_csv]


@dataclass(frozen=True)
class Headline:
    """The numbers the report's summary states, counted once: the CLI and Dagster's metadata repeat these."""

    new_vintages: int  # raw table vintages fetched or received in this run
    rows_fetched: int
    changed_figures: int  # figures that differ from the previous vintage (marts.revisions)


def headline(data: "ReportData") -> Headline:
    return Headline(new_vintages=len(data.fetched), rows_fetched=sum(r["rows"] for r in data.fetched),
                    changed_figures=data.revisions_total)


@dataclass
class ReportData:
    run: RunInfo
    generated_at: str
    vintage: str
    fetched: list[dict[str, Any]]
    sources: list[dict[str, Any]]  # every source table's current vintage
    revisions: list[dict[str, Any]]
    revisions_total: int
    gate: GateResult | None
    coverage: list[dict[str, Any]]  # focus_area, status, indicators
    late_indicators: list[dict[str, Any]]
    late_sources: list[dict[str, Any]]
    failing_sources: list[dict[str, Any]]
    scorecard: list[dict[str, Any]]
    trend: list[dict[str, Any]]  # year, home, peers_mean
    trend_title: str
    trend_target: float | None
    home_name: str
    number_style: str = "en"  # "no": 1 785,1 (STYRINGSDATA_NUMBER_FORMAT)
    origin_counts: dict[str, int] | None = None  # src/styringsdata/reporting/origin_summary.py

    @property
    def home_label(self) -> str:
        return f"{self.home_name} ({self.run.home_municipality})"


# ---------------------------------------------------------------------------------------------------------
# Gathering


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_schema = ? and table_name = ?", [schema, table]).fetchall()]


def fetched_since(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> list[dict[str, Any]]:
    """Every raw vintage fetched or received at or after `since`: source, table, source updated, vintage, rows."""
    found: list[dict[str, Any]] = []
    for (table,) in con.execute("select table_name from information_schema.tables where table_schema = 'raw' "
                                "order by table_name").fetchall():
        if table in ("ssb_tables", "ssb_categories", "klass_municipality_lineage"):
            continue
        columns = _columns(con, "raw", table)
        stamp = "_fetched_at" if "_fetched_at" in columns else "_received_at" if "_received_at" in columns else None
        if stamp is None or "_vintage" not in columns:
            continue
        source, key = _source_of(table, columns)
        updated = "max(_source_updated)" if "_source_updated" in columns else "null"
        sql = (f'select {key} as source_table, _vintage as vintage, {updated} as source_updated, '
               f'max("{stamp}") as fetched_at, count(*) as "rows" from raw."{table}" '
               f'where "{stamp}" >= ? group by all order by 1, 2')
        for row in _rows(con, sql, [since.replace(tzinfo=None)]):
            found.append({"source": source, **row})
    return found


def _source_of(table: str, columns: list[str]) -> tuple[str, str]:
    if table.startswith("ssb_"):
        return "SSB", f"'{table.removeprefix('ssb_')}'"
    if table.startswith("fhi_"):
        return "FHI", "table_id"
    if table == "klass_kostra_groups":
        return "KLASS", "'112 KOSTRA groups'"
    if table.startswith("klass_"):
        return "KLASS", "'131 changes'"
    if table.startswith("miljodirektoratet_"):
        return "Miljødirektoratet", "'Klimagassutslipp fra kommuner'"
    if table.startswith("udir_"):
        return "Udir", "_file"
    if "_file" in columns:
        return ("NHO Kommune-NM" if table.startswith("kommune_nm") else "registry"), "_file"
    return table, f"'{table}'"


def _coverage(con: duckdb.DuckDBPyConnection, home: str) -> list[dict[str, Any]]:
    # An indicator counts as measured when it has a figure in its latest year with one; otherwise it takes
    # the status of its most recent row (pending > under development > not measured when years tie).
    return _rows(con, """
        with ranked as (
            select f.indicator_id, c.focus_area, f.year, f.status,
                   row_number() over (
                       partition by f.indicator_id
                       order by (f.status = 'measured') desc, f.year desc,
                                case f.status when 'pending' then 1 when 'under_development' then 2 else 3 end
                   ) as rn
            from marts.fct_indicator_values f
            join marts.indicator_catalogue c using (indicator_id)
            where f.municipality_code = ?
        ),
        per_indicator as (
            select c.indicator_id, c.focus_area,
                   case when r.status in ('measured', 'pending', 'under_development') then r.status
                        else 'not_measured' end as status
            from marts.indicator_catalogue c
            left join ranked r on r.indicator_id = c.indicator_id and r.rn = 1
        )
        select focus_area, status, count(*) as indicators
        from per_indicator group by all order by focus_area, status
    """, [home])


def _trend(con: duckdb.DuckDBPyConnection, home: str) -> tuple[list[dict[str, Any]], str, float | None]:
    name = con.execute("select indicator_name, target_rule from marts.indicator_catalogue where indicator_id = ?",
                       [TREND_INDICATOR]).fetchone()
    target = re.search(r"-?\d+(?:[.,]\d+)?", name[1] or "") if name else None
    rows = _rows(con, """
        select year,
               max(value) filter (where municipality_code = ?) as home,
               avg(value) filter (where municipality_code <> ? and not is_aggregate) as peers_mean,
               count(value) filter (where municipality_code <> ? and not is_aggregate) as peers
        from marts.fct_indicator_values
        where indicator_id = ? and status = 'measured'
        group by year order by year
    """, [home, home, home, TREND_INDICATOR])
    return (rows, f"{TREND_INDICATOR} {name[0] if name else ''}".strip(),
            float(target.group(0).replace(",", ".")) if target else None)


def failing_sources(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Source tables whose latest attempt failed, with the indicators and key figures built from them
    (src/styringsdata/runs/source_outcomes.py); both reports name them, each in its reader's language."""
    if "is_stale" not in _columns(con, "marts", "source_freshness"):
        return []  # a work file built before failing sources were recorded
    return _rows(con, """
        select f.source, f.source_table, f.latest_vintage, f.last_failed_at, f.last_error,
               (select string_agg(c.indicator_id || ' ' || c.indicator_name, '; ' order by c.indicator_id)
                from marts.indicator_catalogue c
                where (f.source = 'SSB' and c.route = 'ssb' and list_contains(string_split(c.source_table, '+'), f.source_table))
                   or (f.source = 'FHI' and c.route = 'fhi' and c.source_table = f.source_table)
                   or (f.source = 'Miljødirektoratet' and c.route = 'miljodirektoratet')
                   or (f.source = 'NHO Kommune-NM' and c.route = 'kommune_nm')) as indicators,
               (select string_agg(distinct k.key_figure_id || ' ' || k.key_figure_name, '; '
                                  order by k.key_figure_id || ' ' || k.key_figure_name)
                from marts.kostra_comparison k
                where f.source = 'SSB' and k.source_table = f.source_table) as key_figures
        from marts.source_freshness f where f.is_stale order by f.source, f.source_table""")


def gather(con: duckdb.DuckDBPyConnection, run: RunInfo, gate: GateResult | None,
           *, revisions_limit: int = 50, number_style: str = "en") -> ReportData:
    home = run.home_municipality
    since = dt.datetime.fromisoformat(run.started_at)
    fetched = fetched_since(con, since)
    # The report's vintage: the newest publication time among the sources (registry files carry none).
    vintage = one_value(con, "select strftime(max(last_source_updated), '%Y-%m-%dT%H%M%SZ') "
                             "from marts.source_freshness")
    revisions_total = one_value(con, "select count(*) from marts.revisions")
    revisions = _rows(con, f"""
        select source, source_table, series, region_code, year, old_vintage, new_vintage, old_value, new_value,
               difference, old_status, new_status
        from marts.revisions order by abs(coalesce(difference, 0)) desc, source_table, series, region_code, year
        limit {int(revisions_limit)}""")
    scorecard = _rows(con, """
        select indicator_id, focus_area, indicator_name, unit, direction, target_rule, latest_year, latest_value,
               previous_year, previous_value, change, target_met, trend, expected_latest_year, is_late
        from marts.indicator_scorecard where municipality_code = ? order by indicator_id""", [home])
    late_sources = _rows(con, """
        select source, source_table, last_source_updated, last_fetched_at, latest_vintage, expected_next_publication
        from marts.source_freshness where is_late order by source, source_table""")
    trend, trend_title, trend_target = _trend(con, home)
    home_name = one_value(con, "select any_value(municipality_name) from marts.fct_indicator_values "
                               "where municipality_code = ?", [home])
    return ReportData(
        run=run,
        generated_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        vintage=vintage or "none",
        fetched=fetched,
        sources=_rows(con, """select source, source_table, last_source_updated, latest_vintage, last_fetched_at
                              from marts.source_freshness order by source, source_table"""),
        revisions=revisions,
        revisions_total=revisions_total,
        gate=gate,
        coverage=_coverage(con, home),
        late_indicators=[r for r in scorecard if r["is_late"]],
        late_sources=late_sources,
        failing_sources=failing_sources(con),
        scorecard=scorecard,
        trend=trend,
        trend_title=trend_title,
        trend_target=trend_target,
        home_name=home_name or member_name(home),
        number_style=number_style,
        origin_counts=origin_counts(con),
    )


# ---------------------------------------------------------------------------------------------------------
# Charts (PNG, rendered without a display)


def coverage_by_focus_area(data: ReportData) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for row in data.coverage:
        table.setdefault(row["focus_area"], {s: 0 for s in STATUS_ORDER})[row["status"]] += row["indicators"]
    return table


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def render_charts(data: ReportData) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; set before pyplot is imported
    import matplotlib.pyplot as plt

    charts: dict[str, bytes] = {}
    table = coverage_by_focus_area(data)
    areas = sorted(table)
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(areas) + 1.2))
    left = [0] * len(areas)
    for status in STATUS_ORDER:
        counts = [table[a][status] for a in areas]
        axes.barh(areas, counts, left=left, color=STATUS_COLOURS[status], label=STATUS_LABELS[status])
        left = [start + c for start, c in zip(left, counts)]
    axes.set_xlabel("indicators")
    axes.set_title("Coverage of the 88 indicators by focus area")
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize=8)
    charts["coverage"] = _png(figure)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(8, 3.5))
    years = [r["year"] for r in data.trend]
    axes.plot(years, [r["home"] for r in data.trend], marker="o", label=data.home_label)
    axes.plot(years, [r["peers_mean"] for r in data.trend], marker=".", linestyle="--",
              label="mean of the other municipalities in the warehouse")
    if data.trend_target is not None:
        axes.axhline(data.trend_target, color="#b71c1c", linewidth=1, label=f"target {data.trend_target:g}")
    axes.set_title(data.trend_title[:90])
    axes.set_xlabel("year")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    charts["trend"] = _png(figure)
    plt.close(figure)
    return charts


# ---------------------------------------------------------------------------------------------------------
# Rendering


def _fmt(value: Any, style: str = "en") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"  # the data team's report stays English; only numbers follow the style
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ", timespec="minutes") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, int) and style == "en":
        return str(value)  # counts stay ungrouped in English, as before
    return format_plain(value, style)


# Markdown's active characters, HTML's included: text from files (names, cells) must stay text in every reader
# of the Markdown report and the mail that carries it (CommonMark renders a backslash-escaped one as itself).
# With [ and ] escaped, "(" "!" and "+" start nothing, so words such as "(blocking)" stay as written.
MD_ACTIVE = re.compile(r"([\\`*_\[\]<>#|~&])")


def _md_escape(text: str) -> str:
    return MD_ACTIVE.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _md_table(rows: list[dict[str, Any]], columns: list[str], style: str = "en") -> str:
    if not rows:
        return "_none_\n"
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_md_escape(_fmt(r.get(c), style)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _html_table(rows: list[dict[str, Any]], columns: list[str], row_class=None, style: str = "en") -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        cls = f' class="{row_class(r)}"' if row_class and row_class(r) else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(_fmt(r.get(c), style))}</td>" for c in columns)
                    + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


FETCHED_COLUMNS = ["source", "source_table", "source_updated", "vintage", "rows"]
SOURCE_COLUMNS = ["source", "source_table", "last_source_updated", "latest_vintage", "last_fetched_at"]
REVISION_COLUMNS = ["source", "source_table", "series", "region_code", "year", "old_value", "new_value",
                    "old_vintage", "new_vintage"]
CHECK_COLUMNS = ["check", "severity", "table", "result", "rows_checked", "failing_rows", "description"]
FAILING_COLUMNS = ["source", "source_table", "indicators", "key_figures", "latest_vintage", "last_error"]
SCORECARD_COLUMNS = ["indicator_id", "indicator_name", "latest_year", "latest_value", "previous_value", "target_rule",
                     "target_met", "trend", "is_late"]
LATE_COLUMNS = ["indicator_id", "indicator_name", "latest_year", "expected_latest_year"]
LATE_SOURCE_COLUMNS = ["source", "source_table", "last_source_updated", "expected_next_publication"]


def _check_rows(gate: GateResult | None) -> list[dict[str, Any]]:
    if gate is None:
        return []
    return [{"check": c.name, "severity": c.severity, "table": c.table,
             "result": "passed" if c.passed else ("FAILED" if c.severity == "error" else "warning"),
             "rows_checked": c.rows_checked, "failing_rows": c.failing_rows, "description": c.description}
            for c in gate.checks]


def _coverage_rows(data: ReportData) -> list[dict[str, Any]]:
    table = coverage_by_focus_area(data)
    counts = {a: {**table[a], "total": sum(table[a].values())} for a in sorted(table)}
    totals = {s: sum(c[s] for c in counts.values()) for s in (*STATUS_ORDER, "total")}
    return [{"focus_area": a, **c} for a, c in counts.items()] + [{"focus_area": "All", **totals}]


def _headline(data: ReportData) -> str:
    if data.run.outcome == "published":
        return f"Published: {data.run.published_path}"
    return f"HELD BACK, the last good publication stays in place: {data.run.reason}"


def subject_for(data: ReportData) -> str:
    state = "published" if data.run.outcome == "published" else "HELD BACK"
    errors = len(data.gate.errors) if data.gate else 0
    warnings = len(data.gate.warnings) if data.gate else 0
    return (f"styringsdata {data.home_label}: {state}, vintage {data.vintage}, "
            f"{errors} failed check(s), {warnings} warning(s)")


def _summary_lines(data: ReportData) -> list[str]:
    gate = data.gate
    checks = (f"{sum(c.passed for c in gate.checks)} of {len(gate.checks)} checks passed, "
              f"{len(gate.errors)} failed (blocking), {len(gate.warnings)} warning(s)") if gate else \
        "the quality gate did not run"
    measured = sum(r["indicators"] for r in data.coverage if r["status"] == "measured")
    numbers = headline(data)
    return [
        f"Run {data.run.run_id}, started {data.run.started_at}, report generated {data.generated_at}",
        f"Newest source vintage: {data.vintage}",
        f"Fetched in this run: {numbers.new_vintages} new vintage(s), {numbers.rows_fetched} rows",
        f"Changed figures since the previous vintage: {numbers.changed_figures}",
        f"Quality gate: {checks}",
        f"Indicators with figures: {measured} of 88; late for their frequency: {len(data.late_indicators)}",
        origin_line(data),
    ] + ([f"Sources failing: {len(data.failing_sources)} (their last good data are published, or their figures "
          "have status source_error; see 'Failing sources')"] if data.failing_sources else [])


def render_markdown(data: ReportData, image_files: dict[str, str]) -> str:
    cov_cols = ["focus_area", *STATUS_ORDER, "total"]
    md = functools.partial(_md_table, style=data.number_style)
    parts = [f"# Quality report: styringsdata, {data.home_label}, {data.generated_at[:10]}", "",
             f"**{_headline(data)}**", ""]
    parts += [f"- {_md_escape(line)}" for line in _summary_lines(data)] + [""]
    parts += ["## What was fetched", "", md(data.fetched, FETCHED_COLUMNS),
              "Current vintage of every source table:", "", md(data.sources, SOURCE_COLUMNS)]
    parts += ["## What changed since the previous vintage", "",
              f"{data.revisions_total} figure(s) changed"
              + (f"; the {len(data.revisions)} largest:" if data.revisions_total > len(data.revisions) else ":"), "",
              md(data.revisions, REVISION_COLUMNS)]
    parts += ["## Quality checks", "", md(_check_rows(data.gate), CHECK_COLUMNS)]
    for check in (data.gate.checks if data.gate else []):
        if not check.passed and check.examples:
            parts += [f"Examples for `{check.name}` ({check.failing_rows} failing row(s)):", "",
                      md(check.examples, list(check.examples[0]))]
    parts += ["## Coverage of the 88 indicators", "", md(_coverage_rows(data), cov_cols),
              f"![Coverage by focus area]({image_files['coverage']})", ""]
    if data.failing_sources:
        parts += ["## Failing sources", "", "Their latest attempt failed. What was published before stays; figures "
                  "never loaded have status source_error. The affected figures and what to do:", "",
                  md(data.failing_sources, FAILING_COLUMNS)]
    parts += ["## Late", "", "Indicators whose latest figure is older than their frequency allows:", "",
              md(data.late_indicators, LATE_COLUMNS), "Source tables past their expected publication:", "",
              md(data.late_sources, LATE_SOURCE_COLUMNS)]
    parts += [f"## Scorecard ({data.home_label})", "", f"![Trend: {data.trend_title}]({image_files['trend']})", "",
              md(data.scorecard, SCORECARD_COLUMNS)]
    return "\n".join(parts)


CSS = """body{font-family:system-ui,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}th,td{border:1px solid #ccc;padding:3px 6px}
th{background:#f0f0f0;text-align:left}.failed{background:#fdecea}.warning{background:#fff8e1}
.missed{background:#fdecea}.held{color:#b71c1c}.ok{color:#1b5e20}img{max-width:100%}"""


def render_html(data: ReportData, image_src: dict[str, str]) -> str:
    cov_cols = ["focus_area", *STATUS_ORDER, "total"]
    head_class = "ok" if data.run.outcome == "published" else "held"
    ht = functools.partial(_html_table, style=data.number_style)
    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
           f"<title>{html.escape(subject_for(data))}</title><style>{CSS}</style></head><body>",
           f"<h1>Quality report: styringsdata, {html.escape(data.home_label)}, "
           f"{html.escape(data.generated_at[:10])}</h1>",
           f"<p class='{head_class}'><strong>{html.escape(_headline(data))}</strong></p><ul>"]
    out += [f"<li>{html.escape(line)}</li>" for line in _summary_lines(data)] + ["</ul>"]
    out += ["<h2>What was fetched</h2>", ht(data.fetched, FETCHED_COLUMNS),
            "<p>Current vintage of every source table:</p>", ht(data.sources, SOURCE_COLUMNS)]
    out += ["<h2>What changed since the previous vintage</h2>",
            f"<p>{data.revisions_total} figure(s) changed.</p>", ht(data.revisions, REVISION_COLUMNS)]
    out += ["<h2>Quality checks</h2>",
            ht(_check_rows(data.gate), CHECK_COLUMNS,
                        lambda r: {"FAILED": "failed", "warning": "warning"}.get(r["result"], ""))]
    for check in (data.gate.checks if data.gate else []):
        if not check.passed and check.examples:
            out += [f"<p>Examples for <code>{html.escape(check.name)}</code> "
                    f"({check.failing_rows} failing row(s)):</p>", ht(check.examples, list(check.examples[0]))]
    out += ["<h2>Coverage of the 88 indicators</h2>", ht(_coverage_rows(data), cov_cols),
            f"<img alt='Coverage of the 88 indicators by focus area' src='{image_src['coverage']}'>"]
    if data.failing_sources:
        out += ["<h2>Failing sources</h2><p>Their latest attempt failed. What was published before stays; figures "
                "never loaded have status source_error. The affected figures and what to do:</p>",
                ht(data.failing_sources, FAILING_COLUMNS, lambda r: "failed")]
    out += ["<h2>Late</h2><p>Indicators whose latest figure is older than their frequency allows:</p>",
            ht(data.late_indicators, LATE_COLUMNS), "<p>Source tables past their expected publication:</p>",
            ht(data.late_sources, LATE_SOURCE_COLUMNS)]
    out += [f"<h2>Scorecard ({html.escape(data.home_label)})</h2>",
            f"<img alt='Trend: {html.escape(data.trend_title)}' src='{image_src['trend']}'>",
            ht(data.scorecard, SCORECARD_COLUMNS, lambda r: "missed" if r["target_met"] is False else ""),
            "</body></html>"]
    return "\n".join(out)


def failing_rows_csv(gate: GateResult | None) -> bytes:
    """One line per failing row, one column per field (the union over all checks), for Norwegian Excel."""
    rows = [(check, row) for check in (gate.checks if gate else []) for row in (check.failing_sample or check.examples)]
    fields = list(dict.fromkeys(field for _, row in rows for field in row))
    return excel_csv(["check", "severity", "table", *fields],
                     ([check.name, check.severity, check.table, *(_csv_value(row.get(f)) for f in fields)]
                      for check, row in rows))


def _csv_value(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def report_stem(data: ReportData) -> str:
    vintage = re.sub(r"[^0-9A-Za-z-]", "", data.vintage)
    return f"quality-report_{data.generated_at[:10]}_{vintage}_{data.run.run_id[:8]}"


def write_report(con: duckdb.DuckDBPyConnection, reports_dir: Path, run: RunInfo,
                 gate: GateResult | None, *, number_style: str = "en") -> QualityReportFiles:
    """Gather, render and save the report (HTML, mail HTML, Markdown, failing-rows CSV, charts, context)."""
    data = gather(con, run, gate, number_style=number_style)
    charts = render_charts(data)
    stem = report_stem(data)
    reports_dir.mkdir(parents=True, exist_ok=True)
    files = QualityReportFiles(
        html=reports_dir / f"{stem}.html",
        mail_html=reports_dir / f"{stem}.mail.html",
        markdown=reports_dir / f"{stem}.md",
        failing_rows_csv=reports_dir / f"{stem}.failing_rows.csv",
        context=reports_dir / f"{stem}.json",
        charts={name: reports_dir / f"{stem}.{name}.png" for name in charts},
        subject=subject_for(data),
        headline=headline(data),
    )
    for name, png in charts.items():
        files.charts[name].write_bytes(png)
    inline = {name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in charts.items()}
    _write_atomic(files.html, render_html(data, inline))
    _write_atomic(files.mail_html, render_html(data, {name: f"cid:{name}" for name in charts}))
    _write_atomic(files.markdown, render_markdown(data, {name: p.name for name, p in files.charts.items()}))
    _write_atomic(files.failing_rows_csv, failing_rows_csv(gate))
    _write_atomic(files.context, json.dumps(asdict(run), indent=1))
    return files


def latest_context(reports_dir: Path) -> RunInfo | None:
    """The run behind the newest report, for `styringsdata report`."""
    contexts = sorted(reports_dir.glob("quality-report_*.json"), key=lambda p: p.stat().st_mtime)
    if not contexts:
        return None
    return RunInfo(**json.loads(contexts[-1].read_text(encoding="utf-8")))


def report_exists(reports_dir: Path, run_id: str) -> bool:
    return any(reports_dir.glob(f"quality-report_*_{run_id[:8]}.json"))


def _write_atomic(path: Path, content: str | bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
