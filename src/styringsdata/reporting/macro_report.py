"""The ASSS macro group's report (makrogruppen): Norwegian, about every member, what needs attention first.

Each member's economist answers for that member's figures (ASSS agreement §7.2), so the report opens with
what needs a look, per member: figures SSB changed between two publications (KOSTRA: the unrevised figures
of 15 March and the revised ones of 15 June), figures the member lacks where most members have one, and
figures that stand out against the other members or against the member's own history. Then the financial
key figures for all members, the ASSS averages and the country, latest year and trend, with charts. The
pipeline's own facts come last.

Built only from the marts' columns (kostra_comparison, fct_indicator_values, indicator_catalogue, revisions,
source_freshness; the analyses' marts in macro_analyses.py), never from raw tables, so it keeps working when
the sources behind the marts change.
Every number is formatted the Norwegian way, every figure carries its unit, and the text names members and
figures, never codes, file paths or column names.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import re
import statistics
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from styringsdata.quality.gate import GateResult
from styringsdata.home import asss_members, member_name
from styringsdata.reporting import macro_analyses
from styringsdata.reporting.numbers import excel_csv, format_number, norwegian_date
from styringsdata.reporting.origin_summary import (MACRO_REPORT_FIGURES, ORIGIN_NO, origin_counts_by_table,
                                                    origin_words, total_by_origin)
from styringsdata.reporting.report import MacroReportFiles, RunInfo

OSLO = ZoneInfo("Europe/Oslo")
FINANCE_AREA = "Økonomi"  # the service area of the macro group's financial key figures in kostra_comparison
# Robust z-score (Iglewicz and Hoaglin): 0.6745 * (x - median) / MAD; beyond 3.5 is an outlier.
Z_FACTOR = 0.6745
Z_LIMIT = 3.5
MIN_MEMBERS = 6  # a comparison across members needs at least this many members with a figure
MIN_HISTORY = 4  # a comparison with the member's own history needs at least this many earlier changes
MIN_RELATIVE_CHANGE = 0.05  # a change smaller than 5 % of the year before is never an outlier in its history
# A member differs from the others only when the difference from the median is also material: at least this much in
# the figure's unit (percentages: percentage points), else MIN_RELATIVE_DIFFERENCE of the median. A robust z-score
# alone flags tiny differences where the members lie close together (0.03 from the median gave z = -22.1).
MIN_DIFFERENCE = {"prosent": 1.0, "prosent av brutto driftsinntekter": 1.0, "poeng": 1.0, "skala": 0.5}
MIN_RELATIVE_DIFFERENCE = 0.10
TREND_YEARS = 4
HOME_COLOUR = "#c0392b"
OTHER_COLOUR = "#9aa5b1"
UNITS = {  # the marts' units in Norwegian
    "percent": "prosent",
    "percent of operating revenue": "prosent av brutto driftsinntekter",
    "kr per inhabitant": "kr per innbygger",
    "kr per m2": "kr per m²",
    "per 1000 inhabitants": "per 1 000 innbyggere",
    "per 100 000 inhabitants": "per 100 000 innbyggere",
    "kg per inhabitant": "kg per innbygger",
    "kg per m2": "kg per m²",
    "kg CO2e per m2 per year": "kg CO₂-ekvivalenter per m² per år",
    "tonnes CO2e": "tonn CO₂-ekvivalenter",
    "persons per km2": "personer per km²",
    "percentage points": "prosentpoeng",
    "percent change": "prosent endring",
    "ratio percent": "prosent",
    "million kr": "millioner kr",
    "dwellings": "boliger",
    "buildings": "bygg",
    "count": "antall",
    "rank": "plass",
    "index": "indeks",
    "dekar": "dekar",
    "GWh": "GWh",
    "kWh": "kWh",
    "µg/m3": "µg per m³",
}
COUNT_UNITS = {"antall", "boliger", "bygg", "plass", "personer"}
# Figures that grow with the municipality's size (or are ranks) are not compared across members.
SIZE_UNITS = COUNT_UNITS | {"dekar", "GWh", "kWh", "tonn CO₂-ekvivalenter", "millioner kr", "årsverk"}
STATUS_NO = {
    "not_measured": "ikke målt", "suppressed": "skjult av SSB (:)", "series_break": "brudd i serien",
    "not_computable": "kan ikke beregnes", "pending": "tall kommer", "under_development": "under utvikling",
    "not_delivered": "ikke levert", "source_error": "kilden svarte ikke",
}
CHECKS_NO = {
    "raw_keys_not_null": "region, periode og opphav er fylt ut i alle rådata",
    "raw_periods_well_formed": "perioder har riktig form",
    "raw_municipality_codes_valid": "ingen kommunenummer brukt etter at KLASS la det ned",
    "raw_units_known": "alle SSB-serier har enhet",
    "catalogue_complete": "katalogen har 88 indikatorer",
    "fct_covers_catalogue": "alle indikatorer har rader",
    "fct_unique_grain": "én rad per indikator, kommune og år",
    "fct_status_allowed": "bare kjente statuser",
    "fct_missing_is_never_a_number": "manglende tall lagres aldri som 0",
    "fct_shares_within_0_100": "andeler mellom 0 og 100",
    "fct_ranks_within_range": "rangeringer innenfor antall kommuner",
    "fct_scores_within_scale": "skårer innenfor skalaen",
    "kostra_home_present": "hjemkommunen har tall i KOSTRA-sammenligningen",
    "fct_year_on_year_jumps": "store hopp fra ett år til det neste",
}
KIND_LABELS = {"revision": "Endret tall", "missing": "Mangler", "peer_outlier": "Avviker fra de andre",
               "history_outlier": "Avviker fra egen historikk"}
AGGREGATE_ORDER = ("ASSS", "ASSS_UTEN_OSLO", "EAK", "EAKUO")


@dataclass
class Figure:
    """A key figure or an indicator, as the report names it."""

    key: str
    name: str
    unit: str  # Norwegian
    decimals: int
    source: str  # "SSB, tabell 12143"


@dataclass
class Attention:
    member: str
    kind: str  # revision, missing, peer_outlier, history_outlier
    figure: Figure
    year: int
    value: float | None
    previous: float | None
    previous_label: str  # what the previous value is ("15. mars 2026", "2024", "median av medlemmene")
    note: str
    origin: str | None = None  # the value's origin (marts' `origin`): illustrative, published or live


@dataclass
class FinanceTable:
    figure: Figure
    years: list[int]
    rows: list[dict[str, Any]]  # label, code, kind (member/home/aggregate), values {year: value}, change, origins

    @property
    def origins(self) -> list[str]:
        """The origins of the figures the table shows, in Norwegian («illustrerende», «publisert», «levert»)."""
        return origin_words({o for r in self.rows for y, o in r["origins"].items() if y in self.years and o})


@dataclass
class MacroData:
    run: RunInfo
    generated_at: dt.datetime
    home: str
    home_name: str
    members: list[tuple[str, str]]  # (code, name), in the report's order: alphabetical by name
    attention: dict[str, list[Attention]]
    finance: list[FinanceTable]
    latest_kostra_year: int | None
    kostra_published: dt.date | None
    revision_span: tuple[dt.date | None, dt.date | None]
    facts: dict[str, Any] = field(default_factory=dict)
    profiles: list[macro_analyses.MemberProfile] = field(default_factory=list)  # the home member first
    calendar: list[macro_analyses.AnalysisStatus] = field(default_factory=list)
    failing_sources: list[dict[str, Any]] = field(default_factory=list)  # report.failing_sources

    def name(self, code: str) -> str:
        return dict(self.members).get(code, member_name(code))


# ---------------------------------------------------------------------------------------------------------
# Gathering (marts only)


def material(value: float, median: float, unit: str) -> bool:
    """Whether a difference from the median is large enough to name (MIN_DIFFERENCE, else relative)."""
    minimum = next((m for u, m in MIN_DIFFERENCE.items() if unit == u or unit.startswith(u + " ")), None)
    if minimum is None:
        minimum = MIN_RELATIVE_DIFFERENCE * abs(median)
    return abs(value - median) >= minimum


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_schema = 'marts' and table_name = ?", [table]).fetchall()}


NAME_UNITS = {"1000 kr": "1 000 kr", "kr": "kr", "prosent": "prosent", "antall": "antall", "dager": "dager",
              "m2": "m²", "kwh": "kWh", "timer": "timer"}


def norwegian_unit(unit: str | None, name: str = "") -> str:
    """The unit in Norwegian; for KOSTRA figures whose unit is "as published", read from the name."""
    if unit and unit in UNITS:
        return UNITS[unit]
    if unit and unit not in ("as published",) and re.match(r"^(prosent|kr|1000 kr|kg|m²|kWh|antall|årsverk|barn|"
                                                           r"timer|poeng|elever|dager|besøk)\b", unit):
        return unit.replace("1000 kr", "1 000 kr")  # kostra_comparison's Norwegian unit (macro kostra_unit)
    if unit and unit.startswith("scale "):
        return "skala " + unit.removeprefix("scale ").replace("-", "–")
    lowered = name.lower()
    stated = re.search(r"\((1000 kr|kr|prosent|antall|dager|m2|kwh|timer)\b[^)]*\)", lowered)
    if stated:
        return NAME_UNITS[stated.group(1)]
    if re.search(r"kroner|driftsutgifter|utgifter|inntekter|gebyr|\bkr\b", lowered):
        return "kr"
    if re.search(r"\bandel\b|prosent|\(%|\bi %", lowered):
        return "prosent"
    if "årsverk" in lowered:
        return "antall per årsverk" if "per årsverk" in lowered else "årsverk"
    if "kvadratmeter" in lowered or "m2" in lowered:
        return "m²"
    if re.search(r"\bantall\b|besøk|per bruker|per innbygger", lowered):
        return "antall"
    return "som i navnet" if not unit or unit == "as published" else unit


def clean_name(name: str) -> str:
    """KOSTRA names as the Handlingsprogram prints them carry table markers: (B), *), **), and some a unit in
    brackets the Enhet column now gives in words ("(kr/tilkn.innb)")."""
    name = re.sub(r"\s*\(kr/tilkn\.innb\)", "", name)
    return re.sub(r"\s*(\(B\)|\(\*\*\)|\*\*\)|\*\))", "", name).strip()


def _decimals(values: list[float]) -> int:
    for decimals in (0, 1, 2):
        if all(abs(round(v, decimals) - v) < 1e-9 for v in values):
            return decimals
    return 2


def _table_label(source: str, table: str | None) -> str:
    if not table:
        return source
    if source == "SSB" and table.replace("+", "").isdigit():
        return f"SSB, tabell {table.replace('+', ' og ')}"
    if source == "SSB":
        return "SSB, KOSTRA-nøkkeltall"
    if source == "FHI":
        return f"FHI Statistikk, tabell {table}"
    if source == "registry":
        return "kommunens egen registerfil"
    return source


def _date(vintage: str | None) -> dt.date | None:
    match = re.search(r"(20\d\d)-?(\d\d)-?(\d\d)", vintage or "")
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def gather(con: duckdb.DuckDBPyConnection, run: RunInfo, gate: GateResult | None,
           profile_members: tuple[str, ...] = ()) -> MacroData:
    """`profile_members`: members whose tjenesteprofil is drawn after the home member's (already checked
    against the ASSS members by home.check_member)."""
    kostra = _rows(con, """
        select key_figure_id, service_area, key_figure_name, unit, year, region_code, region_name, region_kind,
               value, status, source_table, vintage, origin
        from marts.kostra_comparison""")
    names = {r["region_code"]: r["region_name"] for r in kostra if r["region_kind"] == "municipality"}
    members = sorted(((c, names.get(c) or member_name(c)) for c in asss_members()), key=lambda m: m[1])
    figures = _kostra_figures(kostra)
    indicators, feeds = _indicator_figures(con)
    facts = _rows(con, """
        select f.indicator_id, f.municipality_code, f.year, f.value, f.status, f.route, f.origin
        from marts.fct_indicator_values f
        where not f.is_aggregate""")
    attention: dict[str, list[Attention]] = {code: [] for code, _ in members}
    revisions, span, revision_facts = _revisions(con, figures, indicators, feeds, set(attention))
    for item in revisions:
        attention[item.member].append(item)
    member_values = _series(kostra, figures, facts, indicators, set(attention))
    for item in _missing_and_outliers(member_values):
        attention[item.member].append(item)
    order = {"revision": 0, "missing": 1, "peer_outlier": 2, "history_outlier": 3}
    for items in attention.values():
        items.sort(key=lambda a: (order[a.kind], a.figure.name, a.year))
    finance_rows = [r for r in kostra if r["service_area"] == FINANCE_AREA]
    latest_year = max((r["year"] for r in kostra if r["value"] is not None and r["region_kind"] == "municipality"),
                      default=None)
    published = max((d for d in (_date(r["vintage"]) for r in kostra) if d), default=None)
    data = MacroData(run=run, generated_at=dt.datetime.now(dt.timezone.utc), home=run.home_municipality,
                     home_name=dict(members).get(run.home_municipality, member_name(run.home_municipality)),
                     members=members, attention=attention, finance=_finance(finance_rows, figures, run.home_municipality),
                     latest_kostra_year=latest_year, kostra_published=published, revision_span=span)
    data.facts = _facts(con, gate, data, revision_facts, facts)
    profiled = [data.home] + [c for c in dict.fromkeys(profile_members) if c != data.home]
    data.profiles = macro_analyses.gather_profiles(con, profiled, data.name)
    data.calendar = macro_analyses.gather_calendar(con)
    from styringsdata.reporting.report import failing_sources

    data.failing_sources = failing_sources(con)
    return data


def _kostra_figures(kostra: list[dict[str, Any]]) -> dict[str, Figure]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in kostra:
        by_key.setdefault(row["key_figure_id"], []).append(row)
    figures = {}
    for key, rows in by_key.items():
        first = rows[0]
        values = [r["value"] for r in rows if r["value"] is not None and r["region_kind"] == "municipality"]
        tables = sorted({r["source_table"] for r in rows if r["region_kind"] == "municipality" and r["source_table"]})
        figures[key] = Figure(key, clean_name(first["key_figure_name"]),
                              norwegian_unit(first["unit"], first["key_figure_name"]),
                              0 if first["unit"] in ("kr per inhabitant", "kr per innbygger")
                              else min(_decimals(values), 1) if values else 1,
                              _table_label("SSB", "+".join(tables)) if tables else "SSB")
    return figures


def _indicator_figures(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, Figure], dict[tuple[str, str], list[str]]]:
    """Every indicator as a Figure, and which indicators each SSB or FHI table feeds ((source, table) -> ids)."""
    tables = _rows(con, """select distinct route, source_table, indicator_id from marts.fct_indicator_values
                           where route in ('ssb', 'fhi') and source_table is not null order by all""")
    feeds: dict[tuple[str, str], list[str]] = {}
    by_indicator: dict[str, list[str]] = {}
    for r in tables:
        source = "SSB" if r["route"] == "ssb" else "FHI"
        for table in str(r["source_table"]).split("+"):
            if r["indicator_id"] not in feeds.setdefault((source, table), []):
                feeds[(source, table)].append(r["indicator_id"])
        by_indicator.setdefault(r["indicator_id"], []).append(r["source_table"])
    figures = {}
    for r in _rows(con, "select indicator_id, indicator_name, unit, decimals, route from marts.indicator_catalogue"):
        if r["route"] in ("ssb", "fhi"):
            source = _table_label("SSB" if r["route"] == "ssb" else "FHI",
                                  "+".join(sorted(set(by_indicator.get(r["indicator_id"], []))))) \
                if by_indicator.get(r["indicator_id"]) else ("SSB" if r["route"] == "ssb" else "FHI Statistikk")
        else:
            source = {"miljodirektoratet": "Miljødirektoratet", "kommune_nm": "NHO Kommune-NM"}.get(
                r["route"], "kommunens egen registerfil")
        figures[r["indicator_id"]] = Figure(r["indicator_id"], r["indicator_name"], norwegian_unit(r["unit"]),
                                            int(r["decimals"] if r["decimals"] is not None else 1), source)
    return figures, feeds


def _revisions(con: duckdb.DuckDBPyConnection, figures: dict[str, Figure], indicators: dict[str, Figure],
               feeds: dict[tuple[str, str], list[str]], members: set[str]
               ) -> tuple[list[Attention], tuple[dt.date | None, dt.date | None], dict[str, int]]:
    columns = _columns(con, "revisions")
    code = "municipality_code" if "municipality_code" in columns else "region_code"
    rows = _rows(con, f"""
        select source, source_table, series, {code} as member, year, old_vintage, new_vintage, old_value, new_value,
               old_status, new_status
        from marts.revisions order by source, source_table, series, member, year""")
    items: list[Attention] = []
    seen: set[tuple] = set()
    olds, news = [], []
    other = 0
    # KOSTRA key figures first, so a figure that is also an indicator's input is told once, as the key figure
    rows.sort(key=lambda r: not str(r["series"]).startswith("kostra:"))
    for r in rows:
        if r["member"] not in members:
            other += 1
            continue
        figure, note = _revised_figure(r, figures, indicators, feeds)
        if figure is None:
            other += 1
            continue
        key = (r["member"], r["source_table"], r["year"], r["old_value"], r["new_value"])
        if key in seen:
            continue
        seen.add(key)
        old_day, new_day = _date(r["old_vintage"]), _date(r["new_vintage"])
        olds.append(old_day)
        news.append(new_day)
        status = "" if r["new_value"] is not None else f"; nå {STATUS_NO.get(r['new_status'], 'uten tall')}"
        items.append(Attention(r["member"], "revision", figure, r["year"], r["new_value"], r["old_value"],
                               norwegian_date(old_day) if old_day else "forrige versjon",
                               f"endret i publiseringen {norwegian_date(new_day)}{status}{note}"
                               if new_day else f"endret i en ny versjon{status}{note}"))
    span = (min((d for d in olds if d), default=None), max((d for d in news if d), default=None))
    return items, span, {"revisions_total": len(rows), "revisions_other": other}


def _revised_figure(r: dict[str, Any], figures: dict[str, Figure], indicators: dict[str, Figure],
                    feeds: dict[tuple[str, str], list[str]]) -> tuple[Figure | None, str]:
    series = str(r["series"])
    if series.startswith("kostra:") and series[7:] in figures:
        return figures[series[7:]], ""
    if r["source"] == "registry" and series in indicators:
        return indicators[series], ""
    keys = feeds.get((r["source"], str(r["source_table"])))
    if not keys:
        return None, ""
    first = indicators[keys[0]]
    if len(keys) == 1 and r["source"] == "FHI":
        return first, ""
    # An input of one or more indicators changed (a count behind a rate, say): named by what it feeds.
    named = ", ".join(f"«{indicators[k].name}»" for k in keys[:3]) + (" m.fl." if len(keys) > 3 else "")
    return Figure(first.key, f"Grunnlagstall i {first.source}", "som i kildetabellen", 1, first.source), \
        f"; brukes i {named}"


@dataclass
class Series:
    figure: Figure
    kind: str  # key figure or indicator
    values: dict[str, dict[int, float | None]]  # member -> year -> value
    status: dict[str, dict[int, str]]
    origin: dict[str, dict[int, str | None]] = field(default_factory=dict)


def _series(kostra: list[dict[str, Any]], figures: dict[str, Figure], facts: list[dict[str, Any]],
            indicators: dict[str, Figure], members: set[str]) -> list[Series]:
    out: dict[tuple[str, str], Series] = {}
    for r in kostra:
        if r["region_code"] not in members:
            continue
        s = out.setdefault(("k", r["key_figure_id"]), Series(figures[r["key_figure_id"]], "key figure", {}, {}))
        s.values.setdefault(r["region_code"], {})[r["year"]] = r["value"]
        s.status.setdefault(r["region_code"], {})[r["year"]] = r["status"]
        s.origin.setdefault(r["region_code"], {})[r["year"]] = r.get("origin")
    for r in facts:
        # public statistics only: a registry figure missing is a file not delivered (see the appendix)
        if r["municipality_code"] not in members or r["route"] == "registry" or r["indicator_id"] not in indicators:
            continue
        s = out.setdefault(("i", r["indicator_id"]), Series(indicators[r["indicator_id"]], "indicator", {}, {}))
        s.values.setdefault(r["municipality_code"], {})[r["year"]] = r["value"]
        s.status.setdefault(r["municipality_code"], {})[r["year"]] = r["status"]
        s.origin.setdefault(r["municipality_code"], {})[r["year"]] = r.get("origin")
    return list(out.values())


def robust_z(value: float, others: list[float]) -> tuple[float, float] | None:
    """(z, median) by the robust z-score, or None when the spread is zero (nothing to compare against)."""
    median = statistics.median(others)
    mad = statistics.median(abs(v - median) for v in others)
    if mad == 0:
        return None
    return Z_FACTOR * (value - median) / mad, median


def _missing_and_outliers(series: list[Series]) -> list[Attention]:
    items: list[Attention] = []
    for s in series:
        years = sorted({y for per in s.values.values() for y, v in per.items() if v is not None})
        latest = next((y for y in reversed(years)
                       if sum(per.get(y) is not None for per in s.values.values()) >= MIN_MEMBERS), None)
        if latest is None:
            continue
        current = {m: per.get(latest) for m, per in s.values.items()}
        present = [v for v in current.values() if v is not None]
        for member, value in current.items():
            earlier = {y: v for y, v in s.values[member].items() if y < latest and v is not None}
            previous_year = max(earlier, default=None)
            previous = earlier.get(previous_year) if previous_year else None
            label = str(previous_year) if previous_year else ""
            if value is None:
                status = STATUS_NO.get(s.status[member].get(latest, "not_measured"), "mangler")
                items.append(Attention(member, "missing", s.figure, latest, None, previous, label,
                                       f"{status}; {len(present)} av {len(current)} medlemmer har tall for {latest}"))
                continue
            origin = s.origin.get(member, {}).get(latest)
            peers = robust_z(value, present) if s.figure.unit not in SIZE_UNITS else None
            if peers and abs(peers[0]) > Z_LIMIT and material(value, peers[1], s.figure.unit):
                items.append(Attention(member, "peer_outlier", s.figure, latest, value, previous, label,
                                       f"medianen for medlemmene er {_distinct(peers[1], value, s.figure.decimals)}; "
                                       f"robust z = {format_number(peers[0], 1)}", origin))
            history = _history_outlier(s.values[member], latest)
            if history:
                items.append(Attention(member, "history_outlier", s.figure, latest, value, previous, label,
                                       f"endringen fra året før er {format_number(history[1], s.figure.decimals, signed=True)}"
                                       f"; medianen av endringene {history[2]} er "
                                       f"{format_number(history[3], s.figure.decimals, signed=True)}; "
                                       f"robust z = {format_number(history[0], 1)}", origin))
    return items


def _distinct(median: float, value: float, decimals: int) -> str:
    """The median with one more decimal when it would print like the value it is compared with."""
    same = format_number(median, decimals) == format_number(value, decimals)
    return format_number(median, decimals + 1 if same else decimals)


def _history_outlier(values: dict[int, float | None], latest: int) -> tuple[float, float, str, float] | None:
    """The latest year-on-year change against the member's own earlier ones (so a steady trend is no outlier):
    (z, change, the years compared, median change), or None."""
    known = {y: v for y, v in values.items() if v is not None}
    changes = {y: known[y] - known[y - 1] for y in sorted(known) if y <= latest and y - 1 in known}
    if latest not in changes:
        return None
    change = changes.pop(latest)
    if len(changes) < MIN_HISTORY or abs(change) < MIN_RELATIVE_CHANGE * abs(known[latest - 1]):
        return None
    earlier = [v for y, v in known.items() if y < latest]
    if min(earlier) <= known[latest] <= max(earlier):
        return None  # within the member's own range: not a break in its history
    z = robust_z(change, list(changes.values()))
    if z is None or abs(z[0]) <= Z_LIMIT:
        return None
    return z[0], change, f"{min(changes) - 1}–{max(changes)}", z[1]


def _finance(rows: list[dict[str, Any]], figures: dict[str, Figure], home: str) -> list[FinanceTable]:
    tables = []
    by_key: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_key.setdefault(r["key_figure_id"], []).append(r)
    for key in sorted(by_key):
        rs = by_key[key]
        member_years = sorted({r["year"] for r in rs if r["value"] is not None and r["region_kind"] == "municipality"})
        if not member_years:
            continue
        years = member_years[-TREND_YEARS:]
        regions: dict[str, dict[str, Any]] = {}
        for r in rs:
            entry = regions.setdefault(r["region_code"], {"code": r["region_code"], "label": r["region_name"],
                                                          "region_kind": r["region_kind"], "values": {}, "origins": {}})
            entry["values"][r["year"]] = r["value"]
            entry["origins"][r["year"]] = r.get("origin")
        members = sorted((e for e in regions.values() if e["region_kind"] == "municipality"), key=lambda e: e["label"])
        aggregates = [regions[c] for c in AGGREGATE_ORDER if c in regions]
        table_rows = []
        for entry in members + aggregates:
            last, before = entry["values"].get(years[-1]), entry["values"].get(years[-2]) if len(years) > 1 else None
            table_rows.append({
                **entry,
                "kind": "home" if entry["code"] == home else
                        "member" if entry["region_kind"] == "municipality" else "aggregate",
                "change": last - before if last is not None and before is not None else None,
            })
        tables.append(FinanceTable(figures[key], years, table_rows))
    return tables


def _facts(con: duckdb.DuckDBPyConnection, gate: GateResult | None, data: MacroData, revision_facts: dict[str, int],
           facts: list[dict[str, Any]]) -> dict[str, Any]:
    sources = _rows(con, """select source, source_table, last_source_updated, last_fetched_at, is_late
                            from marts.source_freshness order by source, source_table""")
    delivered: dict[str, bool] = {}
    for r in facts:
        if r["route"] == "registry" and r["municipality_code"] in data.attention:
            delivered[r["municipality_code"]] = delivered.get(r["municipality_code"], False) or \
                r["status"] != "not_delivered"
    # where each figure the report shows comes from: every mart it draws figures from, not only the KOSTRA tables
    by_table = origin_counts_by_table(con, MACRO_REPORT_FIGURES)
    origin = total_by_origin(by_table) or None
    return {"sources": sources, "registry_delivered": delivered, "origin": origin, "origin_by_table": by_table,
            **revision_facts,
            "checks": gate.checks if gate else None}


# ---------------------------------------------------------------------------------------------------------
# Charts: small multiples per financial key figure, members side by side, the home member highlighted


def _axis_format(axes, unit: str, decimals: int) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if unit in COUNT_UNITS:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    def tick(value: float, _position: int) -> str:
        whole = unit in COUNT_UNITS or all(float(t).is_integer() for t in axes.get_yticks())
        return format_number(value, 0 if whole else max(decimals, 1))

    axes.yaxis.set_major_formatter(FuncFormatter(tick))
    axes.set_ylabel(textwrap.fill(unit, 28), fontsize=8)


def render_charts(data: MacroData) -> dict[str, bytes]:
    charts = _finance_charts(data)
    for profile in data.profiles:
        png = macro_analyses.render_profile_chart(profile, HOME_COLOUR if profile.code == data.home else "#1f5f8b")
        if png:
            charts[macro_analyses.chart_key(profile.code)] = png
    return charts


def _finance_charts(data: MacroData) -> dict[str, bytes]:
    if not data.finance:
        return {}
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; set before pyplot is imported
    import matplotlib.pyplot as plt

    charts = {}
    n = len(data.finance)
    columns = 2 if n > 1 else 1
    rows = math.ceil(n / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(6.2 * columns, 3.6 * rows), squeeze=False)
    for axes, table in zip(grid.flat, data.finance):
        year = table.years[-1]
        members = [r for r in table.rows if r["kind"] != "aggregate"]
        values = [r["values"].get(year) for r in members]
        colours = [HOME_COLOUR if r["kind"] == "home" else OTHER_COLOUR for r in members]
        positions = range(len(members))
        axes.bar(positions, [v if v is not None else 0 for v in values], color=colours)
        for x, v in zip(positions, values):
            if v is None:
                axes.text(x, 0, "mangler", rotation=90, ha="center", va="bottom", fontsize=6)
        for r, style in ((_row(table, "ASSS"), "--"), (_row(table, "EAK"), ":")):
            if r and r["values"].get(year) is not None:
                axes.axhline(r["values"][year], color="#222222", linestyle=style, linewidth=1,
                             label=f"{r['label']} {format_number(r['values'][year], table.figure.decimals)}")
        axes.set_xticks(list(positions), [r["label"] for r in members], rotation=60, ha="right", fontsize=7)
        axes.set_title(textwrap.fill(f"{table.figure.name}, {year} ({', '.join(table.origins) or 'ingen tall'})", 55),
                       fontsize=9)
        _axis_format(axes, table.figure.unit, table.figure.decimals)
        axes.axhline(0, color="#555555", linewidth=0.6)
        axes.legend(fontsize=6, loc="best")
    for axes in list(grid.flat)[n:]:
        axes.set_visible(False)
    figure.suptitle(f"Siste år: {data.home_name} uthevet", fontsize=11)
    figure.tight_layout()
    charts["latest"] = _png(figure)
    plt.close(figure)

    figure, grid = plt.subplots(rows, columns, figsize=(6.2 * columns, 3.2 * rows), squeeze=False)
    for axes, table in zip(grid.flat, data.finance):
        years = sorted({y for r in table.rows for y, v in r["values"].items() if v is not None})
        for r in table.rows:
            points = [(y, r["values"].get(y)) for y in years if r["values"].get(y) is not None]
            if not points or r["kind"] == "aggregate" and r["code"] != "ASSS":
                continue
            line = {"home": dict(color=HOME_COLOUR, linewidth=2.4, zorder=3, label=r["label"]),
                     "member": dict(color=OTHER_COLOUR, linewidth=0.8, alpha=0.8),
                     "aggregate": dict(color="#222222", linewidth=1.4, linestyle="--", label=r["label"])}[r["kind"]]
            axes.plot([p[0] for p in points], [p[1] for p in points], **line)
        axes.set_title(textwrap.fill(f"{table.figure.name} ({', '.join(table.origins) or 'ingen tall'})", 55),
                       fontsize=9)
        axes.xaxis.get_major_locator().set_params(integer=True)
        _axis_format(axes, table.figure.unit, table.figure.decimals)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=6, loc="best")
    for axes in list(grid.flat)[n:]:
        axes.set_visible(False)
    figure.suptitle("Utvikling: de andre medlemmene i grått", fontsize=11)
    figure.tight_layout()
    charts["trend"] = _png(figure)
    plt.close(figure)
    return charts


def _row(table: FinanceTable, code: str) -> dict[str, Any] | None:
    return next((r for r in table.rows if r["code"] == code), None)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    # tight_layout has placed everything already; bbox_inches="tight" would draw the figure a second time
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Rendering (HTML; the mail carries the same HTML with the charts inline)


CSS = """body{font-family:system-ui,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:0.4em 0 1.4em;font-size:0.86em}th,td{border:1px solid #ccc;padding:3px 7px}
th{background:#f0f0f0;text-align:left}td.n{text-align:right;white-space:nowrap}tr.home td{font-weight:bold;background:#fdf2f0}
tr.aggregate td{background:#f7f7f7;font-style:italic}img{max-width:100%}.muted{color:#666}h3{margin-bottom:0.2em}
h4{margin-bottom:0.2em}
.notice{border-left:4px solid #c0392b;background:#fdf2f0;padding:0.5em 0.8em}"""


def _n(value: float | None, figure: Figure, *, signed: bool = False) -> str:
    return format_number(value, figure.decimals, signed=signed) if value is not None else "–"


def subject_for(data: MacroData) -> str:
    counts = _counts(data)
    year = f"KOSTRA {data.latest_kostra_year}" if data.latest_kostra_year else "KOSTRA"
    return (f"ASSS makrogruppen, {year}: {counts['revision']} endrede tall, {counts['missing']} mangler, "
            f"{counts['outlier']} avvik (fra {data.home_name})")


def _counts(data: MacroData) -> dict[str, int]:
    items = [a for items in data.attention.values() for a in items]
    return {"revision": sum(a.kind == "revision" for a in items), "missing": sum(a.kind == "missing" for a in items),
            "outlier": sum(a.kind.endswith("outlier") for a in items)}


def render_html(data: MacroData, image_src: dict[str, str]) -> str:
    e = html.escape
    counts = _counts(data)
    published = (f"KOSTRA-tallene er fra SSBs publisering {norwegian_date(data.kostra_published)}"
                 if data.kostra_published else "Ingen KOSTRA-publisering er lest inn")
    status = ("publisert" if data.run.outcome == "published" else "holdt tilbake, den forrige publiseringen gjelder")
    out = [f"<!doctype html><html lang='nb'><head><meta charset='utf-8'><title>{e(subject_for(data))}</title>"
           f"<style>{CSS}</style></head><body>",
           "<h1>Nøkkeltall og kvalitet for ASSS-kommunene</h1>",
           f"<p>Til makrogruppen i ASSS, fra {e(data.home_name)} kommune, {e(norwegian_date(data.generated_at.date()))}. "
           f"{e(published)}; siste år med tall er {data.latest_kostra_year or 'ukjent'}. Lageret er {e(status)}.</p>",
           origin_notice(data),
           "<h2>1. Dette bør dere se på</h2>",
           f"<p>{counts['revision']} tall er endret siden forrige publisering"
           + (f" ({e(norwegian_date(data.revision_span[0]))} til {e(norwegian_date(data.revision_span[1]))})"
              if data.revision_span[1] else "")
           + f", {counts['missing']} tall mangler der de fleste medlemmene har tall, og {counts['outlier']} tall skiller "
             f"seg ut. Hver kommune har ansvar for at egne tall er riktige; regelen for avvik står i vedlegget.</p>"]
    out += _render_failing_sources(data)
    quiet = []
    for code in _member_order(data):
        items = data.attention[code]
        if not items:
            quiet.append(data.name(code))
            continue
        home = " (hjemkommune for denne rapporten)" if code == data.home else ""
        out.append(f"<h3>{e(data.name(code))}{e(home)}</h3>")
        out.append("<table><thead><tr><th>Hva</th><th>Nøkkeltall</th><th>Enhet</th><th>År</th><th>Tall nå</th>"
                   "<th>Opphav</th><th>Forrige tall</th><th>Kilde</th><th>Merknad</th></tr></thead><tbody>")
        for a in items:
            previous = _n(a.previous, a.figure) + (f" ({a.previous_label})" if a.previous is not None
                                                   and a.previous_label else "")
            out.append(f"<tr><td>{e(KIND_LABELS[a.kind])}</td><td>{e(a.figure.name)}</td><td>{e(a.figure.unit)}</td>"
                       f"<td>{a.year}</td><td class='n'>{e(_n(a.value, a.figure))}</td>"
                       f"<td>{e(ORIGIN_NO.get(a.origin or '', '–'))}</td><td class='n'>{e(previous)}</td>"
                       f"<td>{e(a.figure.source)}</td><td>{e(a.note)}</td></tr>")
        out.append("</tbody></table>")
    if quiet:
        out.append(f"<p class='muted'>Ingen merknader for {e(_join(quiet))}.</p>")
    out += _render_finance(data, image_src)
    out += macro_analyses.render_profiles(data.profiles, image_src, data.home)
    out += macro_analyses.render_calendar(data.calendar, data.name)
    out += _render_appendix(data)
    out.append("</body></html>")
    return "\n".join(out)


def _render_failing_sources(data: MacroData) -> list[str]:
    """Kilder som ikke svarte ved siste forsøk: hvilke nøkkeltall og indikatorer det gjelder, på norsk."""
    if not data.failing_sources:
        return []
    e = html.escape
    out = ["<h3>Kilder som ikke svarte</h3>",
           f"<p>{len(data.failing_sources)} kilde(r) svarte ikke ved siste innhenting. Tall som alt var publisert, "
           "står som før (de kan være utdaterte); tall som aldri er hentet, vises uten verdi med status "
           "<code>source_error</code>. Disse nøkkeltallene og indikatorene gjelder det:</p>",
           "<table><thead><tr><th>Kilde</th><th>Tabell</th><th>Nøkkeltall</th><th>Indikatorer</th>"
           "<th>Tall som vises</th></tr></thead><tbody>"]
    for f in data.failing_sources:
        shown = (f"siste gode versjon ({e(str(f['latest_vintage']))})" if f["latest_vintage"]
                 else "ingen tall ennå (status source_error)")
        out.append(f"<tr><td>{e(f['source'])}</td><td>{e(f['source_table'])}</td>"
                   f"<td>{e(f['key_figures'] or '–')}</td><td>{e(f['indicators'] or '–')}</td><td>{shown}</td></tr>")
    out.append("</tbody></table><p class='muted'>Datateamet har fått feilmeldingen og hva som må gjøres; "
               "tallene hentes på nytt ved neste kjøring.</p>")
    return out


def _member_order(data: MacroData) -> list[str]:
    return [data.home] + [code for code, _ in data.members if code != data.home]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]


def _render_finance(data: MacroData, image_src: dict[str, str]) -> list[str]:
    e = html.escape
    out = ["<h2>2. Finansielle nøkkeltall</h2>"]
    if not data.finance:
        return out + ["<p>Lageret har ingen finansielle nøkkeltall ennå.</p>"]
    out.append(f"<p>Alle medlemmer, ASSS-snittet med og uten Oslo og landet, de siste {TREND_YEARS} årene. "
               f"{e(data.home_name)} er uthevet. ASSS-snittene dekker medlemmene det enkelte år og regnes som SSB regner "
               "sine grupper: SSBs eget tall der SSB publiserer en gruppe med de samme medlemmene (ASSS uten Oslo = "
               "KOSTRA-gruppe 12), ellers summen av tellerne delt på summen av nevnerne; et uveid gjennomsnitt bare "
               "der nevneren ikke er kjent. Landstallene er SSBs egne.</p>")
    for name, alt in (("latest", "Siste år per nøkkeltall, medlemmene side om side"),
                      ("trend", "Utviklingen per nøkkeltall")):
        if name in image_src:
            out.append(f"<p><img alt='{e(alt)}' src='{image_src[name]}'></p>")
    for table in data.finance:
        f = table.figure
        change_year = table.years[-2] if len(table.years) > 1 else None
        out.append(f"<h3>{e(f.name)}</h3><p class='muted'>Enhet: {e(f.unit)}. Kilde: {e(f.source)}. "
                   f"Opphav: {e(', '.join(table.origins) or 'ingen tall')}.</p>")
        head = "".join(f"<th>{y}</th>" for y in table.years)
        points = " (prosentpoeng)" if f.unit.startswith("prosent") else ""
        change_head = f"<th>Endring fra {change_year}{points}</th>" if change_year else ""
        out.append(f"<table><thead><tr><th></th>{head}{change_head}</tr></thead><tbody>")
        for r in table.rows:
            cells = "".join(f"<td class='n'>{e(_n(r['values'].get(y), f))}</td>" for y in table.years)
            change = f"<td class='n'>{e(_n(r['change'], f, signed=True))}</td>" if change_year else ""
            css = {"home": " class='home'", "aggregate": " class='aggregate'"}.get(r["kind"], "")
            out.append(f"<tr{css}><td>{e(r['label'])}</td>{cells}{change}</tr>")
        out.append("</tbody></table>")
    return out


def _render_appendix(data: MacroData) -> list[str]:
    e = html.escape
    facts = data.facts
    out = ["<h2>Vedlegg: om datagrunnlaget</h2>",
           f"<p>Kjøring {e(data.run.run_id[:8])}, startet {e(_when(data.run.started_at))}; rapporten er laget "
           f"{e(_when(data.generated_at))} (norsk tid).</p>",
           "<h3>Regelen for avvik</h3>",
           f"<p>Et tall avviker når den robuste z-verdien er større enn {format_number(Z_LIMIT, 1)} i absoluttverdi: "
           f"z = {format_number(Z_FACTOR, 4)} × (tall − median) ÷ MAD, der MAD er medianen av avstandene til "
           f"medianen. Mot de andre medlemmene sammenlignes siste år med tall fra minst {MIN_MEMBERS} medlemmer "
           "(ikke for tall som vokser med kommunens størrelse, som antall, og ikke for rangeringer). Mot egen "
           "historikk sammenlignes endringen fra året før med kommunens egne endringer fra år til år tidligere "
           f"(minst {MIN_HISTORY} av dem), slik at en jevn utvikling ikke regnes som avvik, og tallet må ligge utenfor "
           "kommunens tidligere laveste og høyeste tall; endringer under "
           f"{format_number(100 * MIN_RELATIVE_CHANGE, 0)} prosent av fjorårets tall regnes aldri som avvik. Et tall "
           f"«mangler» når minst {MIN_MEMBERS} medlemmer har tall for året og kommunen ikke har det.</p>",
           "<p>Et medlem nevnes bare når forskjellen fra medianen også er stor nok til å bety noe: minst "
           + ", ".join(f"{format_number(m, 1)} for {u}" for u, m in MIN_DIFFERENCE.items())
           + f" (prosent: prosentpoeng), ellers minst {format_number(100 * MIN_RELATIVE_DIFFERENCE, 0)} prosent av "
           "medianen.</p>"]
    checks = facts.get("checks")
    if checks is None:
        out.append("<h3>Kvalitetskontroller</h3><p>Kvalitetskontrollene ble ikke kjørt for denne rapporten.</p>")
    else:
        passed = sum(c.passed for c in checks)
        failed = [c for c in checks if not c.passed]
        out.append(f"<h3>Kvalitetskontroller</h3><p>{passed} av {len(checks)} kontroller er bestått.</p>")
        if failed:
            out.append("<ul>" + "".join(
                f"<li>{'Stoppet publiseringen' if c.severity == 'error' else 'Varsel'}: "
                f"{e(CHECKS_NO.get(c.name, c.description))} ({format_number(c.failing_rows, 0)} rader)</li>"
                for c in failed) + "</ul>")
    out.append(f"<h3>Endringer mellom publiseringer</h3><p>{format_number(facts.get('revisions_total', 0), 0)} "
               f"tall i lageret er endret siden forrige versjon av kilden; "
               f"{format_number(facts.get('revisions_other', 0), 0)} av dem gjelder landstall, grupper eller "
               "grunnlagstall uten eget navn og er ikke listet over.</p>")
    delivered = facts.get("registry_delivered", {})
    if delivered:
        yes = [data.name(c) for c, _ in data.members if delivered.get(c)]
        no = [data.name(c) for c, _ in data.members if not delivered.get(c)]
        out.append("<h3>Kommunenes egne registertall</h3><p>"
                   + (f"Levert av {e(_join(yes))}. " if yes else "")
                   + (f"Ikke levert av {e(_join(no))}: deres indikatorer fra egne registre og undersøkelser står som "
                      "«ikke levert» i lageret, ikke som hull i tallene." if no else "") + "</p>")
    if facts.get("origin"):
        out.append(f"<h3>Opphav</h3><p>Tallene i rapporten etter opphav: {e(_origin_breakdown(facts))}. "
                   "«Illustrerende» tall er laget for å vise hvordan rapporten ser ut og er ikke kommunenes tall; "
                   "«publisert» er tall slik Handlingsprogrammet eller kilden har trykket dem; «levert» er tall hentet "
                   "fra kilden ved denne kjøringen.</p>")
    out.append("<h3>Kilder</h3><table><thead><tr><th>Kilde</th><th>Publisert av kilden</th><th>Hentet</th>"
               "<th>Forsinket</th></tr></thead><tbody>")
    for s in facts.get("sources", []):
        out.append(f"<tr><td>{e(_table_label(s['source'], s['source_table']) if s['source'] in ('SSB', 'FHI') else s['source'])}"
                   f"</td><td>{e(_when(s['last_source_updated']))}</td><td>{e(_when(s['last_fetched_at']))}</td>"
                   f"<td>{'ja' if s['is_late'] else 'nei'}</td></tr>")
    out.append("</tbody></table>")
    return out


def _when(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):  # the marts keep UTC; readers are in Norway
        local = (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(OSLO)
        return f"{norwegian_date(local.date())} kl. {local.strftime('%H.%M')}"
    if isinstance(value, dt.date):
        return norwegian_date(value)
    return str(value)


# ---------------------------------------------------------------------------------------------------------
# Files


def key_figures_csv(data: MacroData) -> bytes:
    """The financial key figures, one line per figure, region and year, for Norwegian Excel."""
    return excel_csv(["Nøkkeltall", "Enhet", "Kommune eller snitt", "År", "Verdi", "Opphav", "Kilde"],
                     ([t.figure.name, t.figure.unit, r["label"], year, r["values"].get(year),
                       ORIGIN_NO.get(r["origins"].get(year) or "", ""), t.figure.source]
                      for t in data.finance for r in t.rows for year in sorted(r["values"])))


def _origin_breakdown(facts: dict[str, Any]) -> str:
    """Per part of the report, its figures by origin: «KOSTRA-sammenligningen 12 614 illustrerende, 229 publisert»."""
    by_table = facts.get("origin_by_table") or {}
    parts = []
    for table, _, label in MACRO_REPORT_FIGURES:
        if table not in by_table:
            continue
        counts = by_table[table]
        said = ", ".join(f"{format_number(counts[o], 0)} {ORIGIN_NO.get(o, o)}"
                         for o in sorted(counts, key=lambda o: -counts[o]))
        parts.append(f"{label} {said or 'ingen tall'}")
    return "; ".join(parts)


def origin_notice(data: MacroData) -> str:
    """The notice at the top: where the report's figures come from, in Norwegian, before anything else is read."""
    e = html.escape
    origins = data.facts.get("origin") or {}
    if not origins:
        return "<p class='notice'>Opphav: lageret sier ikke hvor tallene kommer fra.</p>"
    total = sum(origins.values())
    parts = [f"{format_number(n, 0)} av {format_number(total, 0)} er {ORIGIN_NO.get(str(k), str(k))}"
             for k, n in sorted(origins.items(), key=lambda kv: -kv[1])]
    warning = (" <strong>Tall merket «illustrerende» er ikke kommunenes virkelige tall</strong>: de er laget for å "
               "vise rapporten uten tilgang til kildene, og skal ikke brukes." if origins.get("illustrative") else "")
    return (f"<p class='notice'>Opphav for tallene i denne rapporten: {'; '.join(parts)} "
            f"({e(_origin_breakdown(data.facts))}).{warning}</p>")


def report_stem(data: MacroData) -> str:
    published = data.kostra_published.isoformat() if data.kostra_published else "none"
    return f"makrogruppen_{data.generated_at.date().isoformat()}_{published}_{data.run.run_id[:8]}"


def write_macro_report(con: duckdb.DuckDBPyConnection, reports_dir: Path, run: RunInfo,
                       gate: GateResult | None, profile_members: tuple[str, ...] = ()) -> MacroReportFiles:
    """Gather, render and save the macro group's report: HTML (charts embedded), the mail's HTML (charts as
    cid: references), the charts as PNG and the financial key figures as a CSV for Excel."""
    data = gather(con, run, gate, profile_members)
    charts = render_charts(data)
    stem = report_stem(data)
    reports_dir.mkdir(parents=True, exist_ok=True)
    files = MacroReportFiles(html=reports_dir / f"{stem}.html", mail_html=reports_dir / f"{stem}.mail.html",
                             charts={name: reports_dir / f"{stem}.{name}.png" for name in charts},
                             subject=subject_for(data), data_csv=reports_dir / f"{stem}.nokkeltall.csv")
    for name, png in charts.items():
        _write(files.charts[name], png)
    inline = {name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in charts.items()}
    _write(files.html, render_html(data, inline).encode("utf-8"))
    _write(files.mail_html, render_html(data, {name: f"cid:{name}" for name in charts}).encode("utf-8"))
    _write(files.data_csv, key_figures_csv(data))
    return files


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
