"""The macro group's own analyses in its report: tjenesteprofiler, the ressursbruksindikator and the calendar.

ASSS agreement §7.2 gives the macro group ownership of the tjenesteprofiler, the ressursbruksindikator and the
produksjonsindeks. The report draws each member's tjenesteprofil as KS does (asss-method.md §3): per area the
member's indexed value per indicator (ASSS = 100) as a dot on the network's min-max range, with the three-year
table beside it; indicators that cannot be computed are listed with the reason, never drawn. The
ressursbruksindikator follows per area with its corrections as columns. Then the calendar: each analysis is
preliminary (SSB's unrevised figures, 15 March) or final (revised, 15 June) by its vintage, and the base figures
that changed between the two are listed.

Built from the marts only (tjenesteprofil, resource_use_index, production_index, analysis_revisions); the
Norwegian notes come from their `note_nb` columns.
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

import duckdb

from styringsdata.home import member_name
from styringsdata.queries import one_value
from styringsdata.reporting.numbers import format_number, norwegian_date
from styringsdata.reporting.origin_summary import origin_words

PROFILE_YEARS = 3
STATUS_NB = {"final": "endelige", "preliminary": "foreløpige"}
ANALYSES = (  # (mart, name in the report); the marts' analysis column uses the mart's name
    ("tjenesteprofil", "Tjenesteprofilene"),
    ("resource_use_index", "Ressursbruksindikatoren"),
    ("production_index", "Produksjonsindeksen"),
)
TYPE_NB = {"prioritering": "prioritering", "dekningsgrad": "dekningsgrad", "produktivitet": "produktivitet",
           "kvalitet": "kvalitet"}
CAUTION = ("Som KS understreker: at en kommune ligger over eller under ASSS-snittet sier ikke i seg selv om den "
           "gjør det bedre eller dårligere. Et høyt tall kan være en bevisst prioritering, et lavt tall kan være "
           "effektiv drift eller et svakere tilbud; tallene er et utgangspunkt for spørsmål, ikke et svar.")


@dataclass
class ProfileIndicator:
    name: str
    indicator_type: str
    unit: str
    decimals: int
    values: dict[int, float | None]  # the member's value, the last PROFILE_YEARS years
    index: float | None  # latest year, ASSS = 100
    index_min: float | None
    index_max: float | None
    asss: float | None  # latest year, in the indicator's unit
    asss_min: float | None
    asss_max: float | None
    min_members: str
    max_members: str
    note: str | None  # why the index is missing, if it is
    origins: set[str] = field(default_factory=set)  # of the figures the table shows (the marts' `origin`)


@dataclass
class AreaProfile:
    area: str
    year: int
    drawn: list[ProfileIndicator]
    not_computed: list[tuple[str, str]]  # (indicator, reason in Norwegian)
    status: str | None


@dataclass
class ResourceUse:
    area: str
    year: int
    index_net_expenses: float | None
    depreciation_effect: float | None
    need_index: float | None
    need_correction_effect: float | None
    resource_use_index: float | None
    status: str | None
    note: str | None
    origin: str | None = None


@dataclass
class MemberProfile:
    code: str
    name: str
    years: list[int]
    areas: list[AreaProfile]
    resource_use: list[ResourceUse]


@dataclass
class AnalysisStatus:
    name: str
    year: int | None
    statuses: dict[str, int]  # status -> rows, for the latest year
    computed: int  # rows with a figure in the latest year
    changes: list[dict[str, Any]] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)  # of the analysis's figures in the latest year


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(one_value(con, "select count(*) from information_schema.tables where table_schema = 'marts' "
                             "and table_name = ?", [table]))


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_schema = 'marts' and table_name = ?", [table]).fetchall()}


def _origin_column(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A work file built before the analyses carried `origin` is still read; its origins then show as unknown."""
    return "origin" if "origin" in _columns(con, table) else "null as origin"


def _origin_line(origins: set[str], about: str = "") -> str:
    """«Opphav: illustrerende.» under a table, as under the finance tables; `about` says whose figures."""
    words = ", ".join(origin_words(origins)) or "ingen tall"
    return f"<p class='muted'>Opphav: {html.escape(words)}{html.escape(f' ({about})' if about else '')}.</p>"


def _unit(unit: str | None) -> str:
    if not unit:
        return "som i navnet"
    return {"kr": "kr", "prosent": "prosent", "kr per m²": "kr per m²"}.get(unit, unit.replace("1000", "1 000"))


def _decimals(unit: str, values: list[float]) -> int:
    if unit.startswith("indeks"):
        return 2
    return 0 if values and max(abs(v) for v in values) >= 100 else 1


def _names(codes: str | None, name_of) -> str:
    return ", ".join(name_of(c.strip()) for c in (codes or "").split(",") if c.strip()) or "–"


def gather_profiles(con: duckdb.DuckDBPyConnection, codes: list[str], name_of=member_name) -> list[MemberProfile]:
    """The tjenesteprofil and ressursbruksindikator of each member in `codes`, in that order."""
    if not _has(con, "tjenesteprofil"):
        return []
    latest = one_value(con, "select max(year) from marts.tjenesteprofil where value is not null")
    if latest is None:
        return []
    years = list(range(latest - PROFILE_YEARS + 1, latest + 1))
    # a work file built before the marts had Norwegian notes is still read; its reasons then show as unknown
    notes = {t: "note_nb" if "note_nb" in _columns(con, t) else "null as note_nb"
             for t in ("tjenesteprofil", "resource_use_index")}
    origin = {t: _origin_column(con, t) for t in ("tjenesteprofil", "resource_use_index")}
    out = []
    for code in codes:
        rows = _rows(con, f"""
            select profile, profile_name, sort_order, indicator_id, indicator_name, indicator_type, computation,
                   year, value, unit, asss_value, index_asss_100, asss_min, asss_max, index_min, index_max,
                   asss_min_members, asss_max_members, analysis_status, {notes["tjenesteprofil"]},
                   {origin["tjenesteprofil"]}
            from marts.tjenesteprofil
            where municipality_code = ? and year between ? and ?
            order by profile_name, sort_order, year""", [code, years[0], years[-1]])
        areas: dict[str, AreaProfile] = {}
        by_indicator: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_indicator.setdefault(r["indicator_id"], []).append(r)
        for rs in by_indicator.values():
            last = next((r for r in rs if r["year"] == latest), rs[-1])
            area = areas.setdefault(last["profile"], AreaProfile(last["profile_name"], latest, [], [], None))
            if last["computation"] == "not_computed" or all(r["value"] is None for r in rs):
                area.not_computed.append((last["indicator_name"], last["note_nb"] or "grunnen står ikke i lageret"))
                continue
            unit = _unit(last["unit"])
            values = {r["year"]: r["value"] for r in rs}
            shown = [v for v in [*values.values(), last["asss_value"], last["asss_min"], last["asss_max"]]
                     if v is not None]
            area.drawn.append(ProfileIndicator(
                last["indicator_name"], TYPE_NB.get(last["indicator_type"], last["indicator_type"] or ""), unit,
                _decimals(unit, shown), values, last["index_asss_100"], last["index_min"], last["index_max"],
                last["asss_value"], last["asss_min"], last["asss_max"],
                _names(last["asss_min_members"], name_of), _names(last["asss_max_members"], name_of),
                last["note_nb"] if last["index_asss_100"] is None else None,
                {r["origin"] for r in rs if r["value"] is not None and r["origin"]}))
            area.status = area.status or last["analysis_status"]
        resource = _rows(con, f"""
            select service_area_name, year, index_net_expenses, depreciation_effect, need_index,
                   need_correction_effect, resource_use_index, analysis_status, {notes["resource_use_index"]},
                   {origin["resource_use_index"]}
            from marts.resource_use_index where municipality_code = ? and year = ?
            order by resource_use_index is null, service_area_name""", [code, latest]) \
            if _has(con, "resource_use_index") else []
        # areas with a drawn indicator first (KS's profiles with an indicator list), the rest after
        ordered = sorted(areas.values(), key=lambda a: not a.drawn)
        out.append(MemberProfile(code, name_of(code), years, ordered, [
            ResourceUse(r["service_area_name"], r["year"], r["index_net_expenses"], r["depreciation_effect"],
                        r["need_index"], r["need_correction_effect"], r["resource_use_index"], r["analysis_status"],
                        r["note_nb"], r["origin"]) for r in resource]))
    return out


def chart_points(profile: MemberProfile) -> list[tuple[str, list[tuple[str, float, float | None, float | None]]]]:
    """What the profile chart draws: per area with an index, (indicator, index, min index, max index)."""
    out = []
    for area in profile.areas:
        points = [(i.name, i.index, i.index_min, i.index_max) for i in area.drawn if i.index is not None]
        if points:
            out.append((area.area, points))
    return out


def render_profile_chart(profile: MemberProfile, colour: str) -> bytes | None:
    points = chart_points(profile)
    if not points:
        return None
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from matplotlib.ticker import MaxNLocator

    heights = [max(1.4, 0.55 * len(p) + 0.7) for _, p in points]
    figure, grid = plt.subplots(len(points), 1, figsize=(10, sum(heights) + 0.8), squeeze=False,
                                gridspec_kw={"height_ratios": heights})
    for axes, (area, items) in zip(grid.flat, points):
        positions = list(range(len(items)))[::-1]  # KS's order from the top
        for y, (_, index, low, high) in zip(positions, items):
            if low is not None and high is not None:
                axes.hlines(y, low, high, color="#9aa5b1", linewidth=5, alpha=0.6)
            axes.plot(index, y, "o", color=colour, markersize=8, zorder=3)
        axes.axvline(100, color="#222222", linestyle="--", linewidth=1)
        axes.set_yticks(positions, [textwrap.fill(name, 34) for name, *_ in items], fontsize=7)
        axes.set_title(f"{area}, {profile.years[-1]}", fontsize=9, loc="left")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(v, 0)))
        axes.set_ylim(-0.7, len(items) - 0.3)
        axes.grid(axis="x", alpha=0.3)
    grid.flat[-1].set_xlabel("indeks, ASSS-snittet = 100", fontsize=8)
    from matplotlib.lines import Line2D

    figure.legend(handles=[Line2D([], [], marker="o", color=colour, linestyle="", label=profile.name),
                           Line2D([], [], color="#9aa5b1", linewidth=5, alpha=0.6, label="ASSS, laveste til høyeste"),
                           Line2D([], [], color="#222222", linestyle="--", label="ASSS-snittet = 100")],
                  loc="upper right", fontsize=7, ncols=3, frameon=False)
    figure.suptitle(f"Tjenesteprofil for {profile.name}", fontsize=11, x=0.02, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def gather_calendar(con: duckdb.DuckDBPyConnection) -> list[AnalysisStatus]:
    out = []
    for mart, name in ANALYSES:
        if not _has(con, mart):
            continue
        figure = {"tjenesteprofil": "value", "resource_use_index": "resource_use_index",
                  "production_index": "sector_index"}[mart]
        year = one_value(con, f"select max(year) from marts.{mart} where analysis_status is not null")
        statuses = dict(con.execute(f"select analysis_status, count(*) from marts.{mart} where year = ? and "
                                    "analysis_status is not null group by 1", [year]).fetchall()) if year else {}
        computed = one_value(con, f"select count({figure}) from marts.{mart} where year = ?", [year]) if year else 0
        origins = {r[0] for r in con.execute(
            f"select distinct {_origin_column(con, mart)} from marts.{mart} where year = ? and {figure} is not null",
            [year]).fetchall() if r[0]} if year else set()
        changes = _rows(con, f"""
            select municipality_code, year, source_table, measure_label, used_in, preliminary_updated,
                   preliminary_value, final_updated, final_value, difference,
                   {_origin_column(con, "analysis_revisions")}
            from marts.analysis_revisions where analysis = ?
            order by year desc, municipality_code, measure_label""", [mart]) if _has(con, "analysis_revisions") else []
        out.append(AnalysisStatus(name, year, statuses, computed, changes, origins))
    return out


# ---------------------------------------------------------------------------------------------------------
# Rendering


def _n(value: float | None, decimals: int, *, signed: bool = False) -> str:
    return format_number(value, decimals, signed=signed) if value is not None else "–"


def render_profiles(profiles: list[MemberProfile], image_src: dict[str, str], home: str) -> list[str]:
    e = html.escape
    out = ["<h2>3. Tjenesteprofiler og ressursbruk</h2>",
           "<p>Tjenesteprofilene er tegnet slik KS gjør det: for hvert område kommunens tall per indikator som "
           "indeks der ASSS-snittet er 100 (ASSS-snittet er summen av tellerne delt på summen av nevnerne for "
           "medlemmene det året), med spennet fra laveste til høyeste medlem. Tabellen viser kommunens tall de "
           "tre siste årene og, for siste år, ASSS-snittet, laveste og høyeste tall. Indikatorer som ikke kan "
           "beregnes, er listet med grunnen og ikke tegnet.</p>",
           f"<p>{e(CAUTION)}</p>"]
    if not profiles:
        return out + ["<p>Lageret har ingen tjenesteprofiler ennå.</p>"]
    for profile in profiles:
        home_note = " (hjemkommune for denne rapporten)" if profile.code == home else ""
        out.append(f"<h3>Tjenesteprofil for {e(profile.name)}{e(home_note)}</h3>")
        key = chart_key(profile.code)
        if key in image_src:
            out.append(f"<p><img alt='{e('Tjenesteprofil for ' + profile.name)}' src='{image_src[key]}'></p>")
        last = profile.years[-1]
        for area in profile.areas:
            if not area.drawn and not area.not_computed:
                continue
            status = f" Tallene er {STATUS_NB[area.status]}." if area.status in STATUS_NB else ""
            out.append(f"<h4>{e(area.area)}</h4>")
            if area.drawn:
                out.append(f"<p class='muted'>Indeks: ASSS-snittet = 100.{e(status)}</p>")
                head = "".join(f"<th>{y}</th>" for y in profile.years)
                out.append(f"<table><thead><tr><th>Indikator</th><th>Type</th><th>Enhet</th>{head}"
                           f"<th>Indeks {last}</th><th>ASSS-snitt {last}</th><th>Laveste {last}</th>"
                           f"<th>Høyeste {last}</th></tr></thead><tbody>")
                for i in area.drawn:
                    cells = "".join(f"<td class='n'>{e(_n(i.values.get(y), i.decimals))}</td>" for y in profile.years)
                    index = _n(i.index, 0) if i.index is not None else (i.note or "–")
                    out.append(
                        f"<tr><td>{e(i.name)}</td><td>{e(i.indicator_type)}</td><td>{e(i.unit)}</td>{cells}"
                        f"<td class='n'>{e(index)}</td><td class='n'>{e(_n(i.asss, i.decimals))}</td>"
                        f"<td class='n'>{e(_n(i.asss_min, i.decimals))} ({e(i.min_members)})</td>"
                        f"<td class='n'>{e(_n(i.asss_max, i.decimals))} ({e(i.max_members)})</td></tr>")
                out.append("</tbody></table>")
                out.append(_origin_line({o for i in area.drawn for o in i.origins}))
            if area.not_computed:
                out.append("<p class='muted'>Ikke beregnet:</p><ul class='muted'>" + "".join(
                    f"<li>{e(name)}: {e(_strip(reason))}</li>" for name, reason in area.not_computed) + "</ul>")
        out += _render_resource_use(profile)
    return out


def _strip(reason: str) -> str:
    return re.sub(r"^ikke beregnet: ", "", reason)


def _render_resource_use(profile: MemberProfile) -> list[str]:
    e = html.escape
    if not profile.resource_use:
        return []
    year = profile.resource_use[0].year
    out = [f"<h4>Ressursbruksindikatoren for {e(profile.name)}, {year}</h4>",
           "<p class='muted'>Netto driftsutgifter per innbygger på områdets funksjoner mot ASSS-snittet, som er 1. "
           "Kolonnene viser hva hver korreksjon flytter: først trekkes avskrivningene fra, så korrigeres det for "
           "beregnet utgiftsbehov (kommunens indeks fra inntektssystemets kostnadsnøkkel). Arbeidsgiveravgift og "
           "pensjon er ikke korrigert for: ingen kilde lageret leser har tallene. Over 1 betyr mer ressurser enn "
           "snittet, ikke bedre eller dårligere.</p>",
           "<table><thead><tr><th>Område</th><th>Netto driftsutgifter, indeks</th><th>Effekt av avskrivninger</th>"
           "<th>Indeks for utgiftsbehov</th><th>Effekt av utgiftsbehov</th><th>Ressursbruksindikator</th>"
           "<th>Status</th><th>Merknad</th></tr></thead><tbody>"]
    for r in profile.resource_use:
        out.append(f"<tr><td>{e(r.area)}</td><td class='n'>{e(_n(r.index_net_expenses, 2))}</td>"
                   f"<td class='n'>{e(_n(r.depreciation_effect, 2, signed=True))}</td>"
                   f"<td class='n'>{e(_n(r.need_index, 1))}</td>"
                   f"<td class='n'>{e(_n(r.need_correction_effect, 2, signed=True))}</td>"
                   f"<td class='n'>{e(_n(r.resource_use_index, 2))}</td>"
                   f"<td>{e(STATUS_NB.get(r.status or '', '–'))}</td><td>{e(_strip(r.note or ''))}</td></tr>")
    out.append("</tbody></table>")
    out.append(_origin_line({r.origin for r in profile.resource_use if r.origin}))
    return out


def render_calendar(calendar: list[AnalysisStatus], name_of) -> list[str]:

    e = html.escape
    out = ["<h2>4. Foreløpige og endelige tall i analysene</h2>",
           "<p>SSB publiserer KOSTRA-tallene for et år uten revisjon 15. mars året etter (foreløpige tall) og "
           "reviderte 15. juni (endelige tall). Hver analyse er foreløpig eller endelig etter hvilken publisering "
           "grunnlagstallene den bygger på kommer fra. Under hver analyse står grunnlagstallene som ble endret fra "
           "den foreløpige til den endelige publiseringen.</p>"]
    if not calendar:
        return out + ["<p>Lageret har ingen av analysene ennå.</p>"]
    for a in calendar:
        out.append(f"<h3>{e(a.name)}</h3>")
        if a.year is None:
            out.append("<p>Ingen tall ennå.</p>")
            continue
        said = " og ".join(f"{STATUS_NB.get(s, s)}" for s in sorted(a.statuses, key=lambda s: s != "final"))
        mixed = " (delvis)" if len(a.statuses) > 1 else ""
        if a.computed:
            out.append(f"<p>Tallene for {a.year} er {e(said)}{e(mixed)}.</p>")
        else:
            out.append(f"<p>Ingen tall er beregnet for {a.year} ennå; grunnlagstallene analysen ville bygget på, er "
                       f"{e(said)}{e(mixed)}.</p>")
        out.append(_origin_line(a.origins, f"analysens tall for {a.year}"))
        if not a.changes:
            out.append("<p class='muted'>Ingen grunnlagstall er endret mellom den foreløpige og den endelige "
                       "publiseringen.</p>")
            continue
        out.append("<table><thead><tr><th>Kommune</th><th>Grunnlagstall</th><th>År</th><th>Foreløpig</th>"
                   "<th>Endelig</th><th>Endring</th><th>Brukes i</th></tr></thead><tbody>")
        for c in a.changes:
            values = [v for v in (c["preliminary_value"], c["final_value"]) if v is not None]
            decimals = 0 if all(float(v).is_integer() for v in values) else 1
            label = _unit(c["measure_label"]) if c["measure_label"] else "grunnlagstall"
            out.append(
                f"<tr><td>{e(name_of(c['municipality_code']))}</td><td>{e(label)} ({e(_source_label(c))})</td>"
                f"<td>{c['year']}</td>"
                f"<td class='n'>{e(_n(c['preliminary_value'], decimals))} "
                f"({e(norwegian_date(_day(c['preliminary_updated'])))})</td>"
                f"<td class='n'>{e(_n(c['final_value'], decimals))} ({e(norwegian_date(_day(c['final_updated'])))})</td>"
                f"<td class='n'>{e(_n(c['difference'], decimals, signed=True))}</td><td>{e(c['used_in'])}</td></tr>")
        out.append("</tbody></table>")
        out.append(_origin_line({c["origin"] for c in a.changes if c["origin"]}, "grunnlagstallene i tabellen"))
    return out


def _source_label(change: dict[str, Any]) -> str:
    if change["source_table"] == "expense_need_index":  # analysis_revisions: the file contract, not an SSB table
        return "indeks for beregnet utgiftsbehov, levert som fil"
    return f"SSB, tabell {change['source_table']}"


def _day(value: Any):
    return value.date() if hasattr(value, "date") else value


def chart_key(code: str) -> str:
    return f"profil{code}"
