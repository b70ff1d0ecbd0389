"""Client for FHI Statistikk's open API (https://statistikk-data.fhi.no/api/open/v1).

FHI answers JSON-stat2 too, but in its own dialect: array `category.index`, `role` entries null,
`status: ""`, periods coded "2021_2021" or rolling "2016_2018", and the string "k" where a suppressed
number belongs. Every dimension must be filtered, so a request is built from the table's own
`/dimension` answer: GEO and AAR from what the table has, the measure and one pinned code in every other
dimension from src/styringsdata/sources/fhi_tables.yaml. Change detection uses `GET {source}/table?modifiedAfter=`: a table
not listed as modified since our last vintage costs that one listing and nothing else.
"""

from __future__ import annotations

import dataclasses

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from styringsdata.raw.landing import LandingZone, Payload, safe_name, utc_now
from styringsdata.sources.periods import PeriodError, is_period, periods_within
from styringsdata.sources.transport import Response, Transport
from styringsdata.vocabulary import unknown_code

FHI_BASE_URL = "https://statistikk-data.fhi.no/api/open/v1"
SPECS_PATH = Path(__file__).with_name("fhi_tables.yaml")
SSB_SPECS_PATH = Path(__file__).with_name("ssb_tables.yaml")
FIXED = ("GEO", "AAR", "MEASURE_TYPE")
TOP = "top"  # a pin meaning: the top of FHI's category tree for that dimension (its total)


class FhiError(ValueError):
    pass


@dataclass(frozen=True)
class FhiIndicator:
    """One indicator's figure in an FHI table, or (table_id None) an indicator whose table was not found."""

    indicator_id: str
    table_id: str | None
    measure: str | None
    title: str
    pin: Mapping[str, str] = field(default_factory=dict)
    grade: str = "-"
    cite: str = ""
    look_for: str = ""


@dataclass(frozen=True)
class FhiTable:
    """A table fetched once for every indicator it carries (370 serves HEL03 and HEL07)."""

    table_id: str
    indicators: tuple[FhiIndicator, ...]

    @property
    def title(self) -> str:
        return self.indicators[0].title

    @property
    def indicator_id(self) -> str:
        return "+".join(i.indicator_id for i in self.indicators)


@dataclass(frozen=True)
class FhiSpecs:
    source_id: str
    geo: tuple[str, ...]
    first_year: int
    last_year: int
    indicators: tuple[FhiIndicator, ...]
    max_rows: int = 50_000

    @property
    def tables(self) -> tuple[FhiTable, ...]:
        order: list[str] = []
        for indicator in self.indicators:
            if indicator.table_id and indicator.table_id not in order:
                order.append(indicator.table_id)
        return tuple(FhiTable(t, tuple(i for i in self.indicators if i.table_id == t)) for t in order)

    @property
    def without_table(self) -> tuple[FhiIndicator, ...]:
        return tuple(i for i in self.indicators if not i.table_id)


def _geo_from_ssb(path: Path) -> tuple[str, ...]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(str(c) for c in document["regions"]["asss_municipalities"])


def load_fhi_specs(path: Path = SPECS_PATH, ssb_path: Path = SSB_SPECS_PATH) -> FhiSpecs:
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    indicators = []
    for n, entry in enumerate(document["tables"]):
        where = f"{path}: tables[{n}] ({entry.get('indicator_id')})"
        evidence = entry.get("evidence") or {}
        if "grade" not in evidence or not evidence.get("cite"):
            raise FhiError(f"{where}: needs `evidence: {{grade, cite}}`")
        problem = unknown_code("evidence_grade", str(evidence["grade"]))
        if problem:
            raise FhiError(f"{where}: {problem}")
        table_id = entry.get("table_id")
        if table_id is not None:
            table_id = safe_name(str(table_id), "FHI table id")
            if not entry.get("measure"):
                raise FhiError(f"{where}: a table entry needs `measure` (the MEASURE_TYPE code)")
            pin = entry.get("pin") or {}
            if not isinstance(pin, Mapping) or any(k in FIXED for k in pin):
                raise FhiError(f"{where}: `pin` maps dimensions other than {', '.join(FIXED)} to one code each")
        elif not entry.get("look_for"):
            raise FhiError(f"{where}: without a table_id, `look_for` must say what title to look for")
        indicators.append(FhiIndicator(
            indicator_id=str(entry["indicator_id"]), table_id=table_id,
            measure=str(entry["measure"]) if entry.get("measure") else None, title=str(entry.get("title", "")),
            pin={str(k): str(v) for k, v in (entry.get("pin") or {}).items()},
            grade=str(evidence["grade"]), cite=str(evidence["cite"]), look_for=str(entry.get("look_for", ""))))
    geo = _geo_from_ssb(Path(ssb_path)) + tuple(str(g) for g in document.get("geo_aggregates", ["0"]))
    return FhiSpecs(safe_name(document["source_id"], "FHI source id"), geo, int(document["years"]["first"]),
                    int(document["years"]["last"]), tuple(indicators), int(document.get("max_rows", 50_000)))


@dataclass(frozen=True)
class FhiDimension:
    code: str
    label: str
    values: tuple[str, ...]  # every category code, depth first
    labels: Mapping[str, str]
    top: tuple[str, ...]  # the codes at the top of the category tree


def _walk(categories: Sequence[Mapping[str, Any]], out: list[tuple[str, str]]) -> None:
    for category in categories or ():
        out.append((str(category.get("value")), str(category.get("label", ""))))
        _walk(category.get("children") or (), out)


def parse_dimensions(body: Any, source: str) -> tuple[FhiDimension, ...]:
    """FHI's /dimension answer: {"dimensions": [{"code", "label", "categories": [{"value", "label", "children"}]}]}."""
    if not isinstance(body, Mapping) or not isinstance(body.get("dimensions"), list):
        raise FhiError(f"{source}: expected an object with a 'dimensions' list")
    out = []
    for dim in body["dimensions"]:
        pairs: list[tuple[str, str]] = []
        _walk(dim.get("categories") or (), pairs)
        out.append(FhiDimension(str(dim.get("code")), str(dim.get("label", "")), tuple(c for c, _ in pairs),
                                dict(pairs), tuple(str(c.get("value")) for c in dim.get("categories") or ())))
    return tuple(out)


class FhiClient:
    def __init__(self, transport: Transport, base_url: str = FHI_BASE_URL) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")

    def table_list(self, source_id: str, modified_after: dt.date | None = None) -> tuple[list[dict], Response]:
        params = [("modifiedAfter", modified_after.isoformat())] if modified_after else []
        response = self.transport.get(f"{self.base_url}/{source_id}/table", params)
        body = _json(response, f"FHI {source_id} table list")
        if not isinstance(body, list):
            raise FhiError(f"{response.url}: expected a list of tables, got {type(body).__name__}")
        return body, response

    def modified_tables(self, source_id: str, modified_after: dt.date | None) -> tuple[set[str], Response]:
        listed, response = self.table_list(source_id, modified_after)
        return {str(t.get("tableId")) for t in listed}, response

    def dimensions(self, source_id: str, table_id: str) -> tuple[tuple[FhiDimension, ...], Response]:
        response = self.transport.get(f"{self.base_url}/{source_id}/Table/{table_id}/dimension")
        return parse_dimensions(_json(response, f"FHI table {table_id} dimensions"), response.url), response

    def data(self, source_id: str, table_id: str, body: dict[str, Any]) -> Response:
        return self.transport.post(f"{self.base_url}/{source_id}/Table/{table_id}/data", body)


def resolve_pins(table: FhiTable, dims: Sequence[FhiDimension]) -> dict[str, dict[str, str]]:
    """Per indicator, the code pinned in every dimension but GEO and AAR (MEASURE_TYPE included).

    Refuses, before any data request, a table whose dimensions the configuration does not cover (FHI answers
    400 unless every dimension is filtered), a pinned code the table lacks, or a pin on a dimension it lacks.
    """
    by_code = {d.code: d for d in dims}
    missing_fixed = [c for c in FIXED if c not in by_code]
    if missing_fixed:
        raise FhiError(f"FHI table {table.table_id}: has no dimension {', '.join(missing_fixed)} "
                       f"(it has {', '.join(by_code)})")
    out: dict[str, dict[str, str]] = {}
    for indicator in table.indicators:
        pins = {"MEASURE_TYPE": str(indicator.measure), **indicator.pin}
        for code in pins:
            if code not in by_code:
                raise FhiError(f"FHI table {table.table_id} ({indicator.indicator_id}): pins dimension {code}, "
                               f"which the table does not have (it has {', '.join(by_code)})")
        unpinned = [d.code for d in dims if d.code not in ("GEO", "AAR") and d.code not in pins]
        if unpinned:
            raise FhiError(f"FHI table {table.table_id} ({indicator.indicator_id}): dimension {unpinned[0]} is not "
                           f"selected; FHI refuses a request that leaves a dimension out. Pin one of its codes in "
                           f"{SPECS_PATH.name} ({', '.join(by_code[unpinned[0]].values[:6])})")
        resolved = {}
        for code, value in pins.items():
            dim = by_code[code]
            if value == TOP:
                if len(dim.top) != 1:
                    raise FhiError(f"FHI table {table.table_id} ({indicator.indicator_id}): dimension {code} has "
                                   f"{len(dim.top)} top categories ({', '.join(dim.top[:6])}), so `top` is "
                                   "ambiguous; pin a code")
                value = dim.top[0]
            elif value not in dim.values:
                raise FhiError(f"FHI table {table.table_id} ({indicator.indicator_id}): {code} has no code "
                               f"{value!r} (it has {', '.join(dim.values[:8])}{'…' if len(dim.values) > 8 else ''})")
            resolved[code] = value
        out[indicator.indicator_id] = resolved
    return out


def plan_requests(table: FhiTable, dims: Sequence[FhiDimension], specs: FhiSpecs
                  ) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]], tuple[str, ...]]:
    """The request bodies (each under FHI's row cap), the pins per indicator, and the GEO codes left out."""
    from styringsdata.sources.ssb import split_selection

    pins = resolve_pins(table, dims)
    by_code = {d.code: d for d in dims}
    geo_known = set(by_code["GEO"].values)
    geo = tuple(dict.fromkeys(g for g in specs.geo if g in geo_known))
    dropped = tuple(g for g in dict.fromkeys(specs.geo) if g not in geo_known)
    if not geo:
        raise FhiError(f"FHI table {table.table_id}: none of the configured municipality codes is in its GEO "
                       f"dimension ({', '.join(by_code['GEO'].values[:8])}…)")
    try:
        years = periods_within(by_code["AAR"].values, specs.first_year, specs.last_year)
    except PeriodError as exc:
        raise FhiError(f"FHI table {table.table_id}, dimension AAR: {exc}") from exc
    if not years:
        raise FhiError(f"FHI table {table.table_id}: AAR has no period within {specs.first_year}-{specs.last_year}")
    selection = []
    for dim in dims:
        if dim.code == "GEO":
            codes = geo
        elif dim.code == "AAR":
            codes = years
        else:
            codes = tuple(dict.fromkeys(p[dim.code] for p in pins.values()))
        selection.append((dim.code, codes))
    bodies = [{"dimensions": [{"code": c, "filter": "item", "values": list(v)} for c, v in chunk],
               "response": {"format": "json-stat2", "maxRowCount": specs.max_rows}}
              for chunk in split_selection(tuple(selection), specs.max_rows)]
    return bodies, pins, dropped


@dataclass(frozen=True)
class FhiRefresh:
    table_id: str
    vintage: str
    changed: bool
    landing_path: Path | None
    data_requests: int = 0


def refresh_table(client: FhiClient, landing: LandingZone, specs: FhiSpecs, table: FhiTable,
                  modified: set[str] | None) -> FhiRefresh:
    """Fetch a table when it is new to us or FHI lists it as modified since our last vintage."""
    from styringsdata.sources.jsonstat import JsonStatError, decode  # numpy and pyarrow: not for a change check

    latest = landing.latest_vintage("fhi", table.table_id)
    if latest is not None and modified is not None and table.table_id not in modified:
        return FhiRefresh(table.table_id, latest, False, landing.vintage_dir("fhi", table.table_id, latest))
    fetched_at = utc_now()
    dims, dim_response = client.dimensions(specs.source_id, table.table_id)
    bodies, pins, dropped = plan_requests(table, dims, specs)
    url = f"{client.base_url}/{specs.source_id}/Table/{table.table_id}/data"
    payloads = [Payload("dimension.json", f"{client.base_url}/{specs.source_id}/Table/{table.table_id}/dimension",
                        "GET", (), None, dim_response.body, fetched_at)]
    from_snapshot = [dim_response.from_snapshot]
    updated = None
    for n, body in enumerate(bodies, start=1):
        response = client.data(specs.source_id, table.table_id, body)
        from_snapshot.append(response.from_snapshot)
        payloads.append(Payload(f"data-{n:03d}.json", url, "POST", (), body, response.body, utc_now()))
        try:
            dataset = decode(response.body, source=response.url or url)
            for dim in FIXED:
                dataset.dimension(dim)  # raises naming the dimensions FHI did send
        except JsonStatError as exc:
            kept = landing.write_rejected("fhi", table.table_id, payloads, reason=str(exc))
            raise FhiError(f"FHI table {table.table_id} ({table.indicator_id}): the data answer cannot be used: {exc}. "
                           f"Nothing was landed or loaded; the answer is kept in {kept}; the next run fetches again."
                           ) from exc
        updated = max(filter(None, [updated, dataset.updated]), default=None)
    digest = hashlib.sha256(b"".join(p.body for p in payloads[1:])).hexdigest()[:12]
    if latest is not None and latest.endswith(digest):
        return FhiRefresh(table.table_id, latest, False, landing.vintage_dir("fhi", table.table_id, latest),
                          len(bodies))
    stamp = (updated or fetched_at)[:19].replace(":", "").replace("-", "")
    vintage = f"{stamp}-{digest}"
    path = landing.write_vintage(
        "fhi", table.table_id, vintage, payloads, source_updated=updated,
        extra={"indicator_id": table.indicator_id, "title": table.title, "pins": pins,
               "dropped_geo": list(dropped), "origin": "snapshot" if all(from_snapshot) else "live"})
    return FhiRefresh(table.table_id, vintage, True, path, len(bodies))


def modified_since(landing: LandingZone, specs: FhiSpecs) -> dt.date | None:
    """The date to ask `modifiedAfter=` with: the oldest publication date among our latest vintages.

    None (list everything) while any table has no vintage yet. Dating by FHI's own publication time,
    not our fetch time, keeps the question the same from run to run until FHI changes something.
    """
    from styringsdata.raw.landing import read_manifest

    dates = []
    for table in specs.tables:
        latest = landing.latest_vintage("fhi", table.table_id)
        if latest is None:
            return None
        updated = read_manifest(landing.vintage_dir("fhi", table.table_id, latest)).get("source_updated")
        if not updated:
            return None
        dates.append(dt.datetime.fromisoformat(updated.replace("Z", "+00:00")).date())
    return min(dates)


def candidates_by_title(listed: Sequence[Mapping[str, Any]], look_for: str, limit: int = 5) -> list[str]:
    """Tables from FHI's table list whose title words share a beginning with the words of `look_for`
    (case-insensitive; "drikkevann" finds "Drikkevannsforsyning", "Vaksinasjonsdekning" finds "Vaksinasjon"),
    ranked by how many of them match."""
    words = [w for w in re.split(r"\W+", look_for.lower()) if w]
    scored = []
    for table in listed:
        tokens = [t for t in re.split(r"\W+", str(table.get("title", "")).lower()) if t]
        hits = sum(any(t.startswith(w) or (len(t) >= 5 and w.startswith(t)) for t in tokens) for w in words)
        if hits:
            scored.append((-hits, str(table.get("tableId")), str(table.get("title", ""))))
    scored.sort()
    return [f"{table_id} {title!r}" for _, table_id, title in scored[:limit]]


def _json(response: Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise FhiError(f"{what}: {response.url} did not answer JSON ({exc}); first bytes {response.body[:80]!r}") from exc


# -- doctor: does the configuration match FHI's table list and dimensions? -----------------------------

def diagnose(client: FhiClient, specs: FhiSpecs) -> tuple[list[Any], list[tuple[FhiIndicator, list[str]]]]:
    """Doctor rows for every configured indicator with a table (from the table list and each table's /dimension,
    never data), and for each indicator without a table, the candidate tables by title."""
    from styringsdata.sources.diagnosis import DoctorRow
    from styringsdata.sources.ssb import nearest
    from styringsdata.sources.transport import HttpError

    listed, _ = client.table_list(specs.source_id)
    known = {str(t.get("tableId")) for t in listed}
    rows: list[DoctorRow] = []
    for table in specs.tables:
        def row(indicator: FhiIndicator, verdict: str, variable: str = "MEASURE_TYPE", code: str | None = None,
                detail: str = "", suggestions: tuple[str, ...] = (), table: FhiTable = table,
                choices: Mapping[str, str] | None = None) -> DoctorRow:
            return DoctorRow("FHI", table.table_id, indicator.indicator_id, variable,
                             str(indicator.measure) if code is None else code, indicator.grade, verdict, detail,
                             suggestions, tuple((choices or {}).items()), indicator.title)

        if table.table_id not in known:
            for indicator in table.indicators:
                rows.append(row(indicator, "table missing", detail=f"not in {specs.source_id}'s table list",
                                suggestions=tuple(candidates_by_title(listed, indicator.look_for or indicator.title))))
            continue
        try:
            dims, _ = client.dimensions(specs.source_id, table.table_id)
        except HttpError as exc:
            rows += [row(i, "table missing", detail=f"/dimension answered {exc.response.status}") for i in table.indicators]
            continue
        by_code = {d.code: d for d in dims}
        bad_periods = [p for p in (by_code["AAR"].values if "AAR" in by_code else ()) if not is_period(p)]
        for indicator in table.indicators:
            pins = {"MEASURE_TYPE": str(indicator.measure), **indicator.pin}
            problem = None
            for fixed in FIXED:
                if fixed not in by_code:
                    problem = row(indicator, "code missing", fixed, "-", f"the table has no dimension {fixed}",
                                  tuple(by_code))
                    break
            for code, value in pins.items():
                if problem:
                    break
                if code not in by_code:
                    problem = row(indicator, "code missing", code, value, f"the table has no dimension {code}",
                                  tuple(c for c in by_code if c not in pins and c not in ("GEO", "AAR")))
                elif value == TOP and len(by_code[code].top) != 1:
                    problem = row(indicator, "code missing", code, value,
                                  f"{code} has {len(by_code[code].top)} top categories, so `top` is ambiguous",
                                  by_code[code].top[:3])
                elif value != TOP and value not in by_code[code].values:
                    problem = row(indicator, "code missing", code, value, f"{code} has no code {value}",
                                  nearest(value, dict(by_code[code].labels)), choices=dict(by_code[code].labels))
            unpinned = [d for d in dims if d.code not in ("GEO", "AAR") and d.code not in pins]
            if problem is None and unpinned:
                problem = row(indicator, "dimension not selected", unpinned[0].code, "-",
                              "FHI refuses a request that leaves a dimension out",
                              tuple(f"{c} {unpinned[0].labels.get(c, '')!r}" for c in unpinned[0].top[:3]))
            if problem is None and bad_periods:
                problem = row(indicator, "period format", "AAR", bad_periods[0],
                              f"{len(bad_periods)} AAR code(s) the period model does not know")
            if problem is None and not set(specs.geo) & set(by_code["GEO"].values):
                problem = row(indicator, "code missing", "GEO", "-", "none of the configured municipality codes")
            if problem is None:
                problem = dataclasses.replace(row(indicator, "ok"), ssb_label="; ".join(
                    f"{code} {value} {by_code[code].labels.get(value, '')!r}" for code, value in sorted(pins.items())
                    if value != TOP))
            rows.append(problem)
    without = [(i, candidates_by_title(listed, i.look_for)) for i in specs.without_table]
    return rows, without
