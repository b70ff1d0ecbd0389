"""Client for SSB's statistikkbank, PxWebApi v2 (https://data.ssb.no/api/pxwebapi/v2).

It reads the catalogue of recently updated tables (`GET /tables?pastDays=N`),
table info (`updated`), metadata (JSON-stat2 with `value: []`) and data, and
turns a wished-for selection into the fewest data requests SSB will answer:
under 800 000 cells each, by GET while the URL is short and by POST when it
would pass ~2 000 characters (longer GET URLs answer 404).

Which tables to fetch again is decided once per run for all of them
(`check_ssb`): one listing call answers for every table, and a table found
changed costs its metadata and data only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import math
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from styringsdata.raw.landing import LandingZone, Payload, safe_name, utc_now, vintage_from_updated
from styringsdata.sources.periods import PeriodError, is_period, periods_within
from styringsdata.sources.transport import Request, Response, Transport, format_utc, parse_utc
from styringsdata.vocabulary import evidence_grades, key_figure_routes, unknown_code

log = logging.getLogger(__name__)

SSB_BASE_URL = "https://data.ssb.no/api/pxwebapi/v2"
MAX_CELLS = 800_000
MAX_GET_URL_LENGTH = 2_000
# Tables per page of `GET /tables`: SSB publishes a few dozen tables on a working day, so a listing of the
# days since the last check fits one page; more pages are followed (`page.totalPages`).
LISTING_PAGE_SIZE = 1_000


class SsbError(ValueError):
    """A selection SSB would reject, or an answer we cannot use; names table, variable and code."""


@dataclass(frozen=True)
class TableInfo:
    table_id: str
    label: str
    updated: str
    first_period: str | None
    last_period: str | None
    raw: bytes = field(repr=False, default=b"")
    from_snapshot: bool = False


@dataclass(frozen=True)
class Listing:
    """SSB's answer to `GET /tables?pastDays=N`: table id -> `updated`, for every table SSB updated."""

    past_days: int
    updated: Mapping[str, str]
    calls: int
    pages: int
    complete: bool


@dataclass(frozen=True)
class Variable:
    code: str
    label: str
    values: tuple[str, ...]
    elimination: bool
    is_time: bool
    codelists: tuple[str, ...] = ()  # ids of the code lists the metadata offers (`extension.codeLists`)


@dataclass(frozen=True)
class Codelist:
    """A code list SSB offers for a dimension (`GET /codelists/{id}`): an aggregation (`agg_…`, groups of the
    table's values) or a value set (`vs_…`). Its codes are what a selection through it may name."""

    codelist_id: str
    label: str
    kind: str  # Aggregation or Valueset
    values: Mapping[str, str]  # code -> label, in SSB's order
    raw: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class TableMetadata:
    table_id: str
    updated: str | None
    variables: tuple[Variable, ...]
    raw: bytes = field(repr=False, default=b"")
    from_snapshot: bool = False
    label: str = ""

    def time_variable(self) -> Variable:
        """The dimension with role time; SSB names it Tid, and a table without one is not a table we can use."""
        for variable in self.variables:
            if variable.is_time:
                return variable
        for variable in self.variables:
            if variable.code == "Tid":
                return variable
        raise SsbError(f"table {self.table_id}: metadata has no time dimension (role.time is empty and no 'Tid')")

    def variable(self, code: str) -> Variable:
        for variable in self.variables:
            if variable.code == code:
                return variable
        known = ", ".join(v.code for v in self.variables)
        raise SsbError(f"table {self.table_id}: variable {code!r} does not exist (the table has: {known})")


@dataclass(frozen=True)
class DataRequest:
    table_id: str
    selection: tuple[tuple[str, tuple[str, ...]], ...]  # in the table's variable order
    method: str  # GET or POST
    codelists: tuple[tuple[str, str, str], ...] = ()  # (variable, code list id, outputValues)

    @property
    def cells(self) -> int:
        return math.prod(len(codes) for _, codes in self.selection)


def dedupe(codes: Sequence[str]) -> tuple[str, ...]:
    # SSB answers a duplicated code with HTTP 500 and an empty body.
    return tuple(dict.fromkeys(codes))


def _ordered_categories(variable_code: str, category: Mapping[str, Any], table_id: str) -> tuple[str, ...]:
    index = category.get("index")
    if isinstance(index, list):
        return tuple(index)
    if isinstance(index, dict):
        return tuple(code for code, _ in sorted(index.items(), key=lambda item: item[1]))
    if index is None and isinstance(category.get("label"), dict):
        return tuple(category["label"])
    raise SsbError(f"table {table_id}: metadata for variable {variable_code!r} has no category index")


def parse_metadata(table_id: str, document: Mapping[str, Any], raw: bytes = b"") -> TableMetadata:
    try:
        ids = document["id"]
        dimensions = document["dimension"]
    except (KeyError, TypeError) as exc:
        raise SsbError(f"table {table_id}: metadata is not JSON-stat2 (missing {exc})") from exc
    time_vars = set((document.get("role") or {}).get("time") or [])
    variables = []
    for code in ids:
        if code not in dimensions:
            raise SsbError(f"table {table_id}: metadata lists dimension {code!r} in id but not in dimension")
        dim = dimensions[code]
        extension = dim.get("extension") or {}
        variables.append(
            Variable(
                code=code,
                label=dim.get("label", code),
                values=_ordered_categories(code, dim.get("category") or {}, table_id),
                elimination=bool(extension.get("elimination", False)),
                is_time=code in time_vars,
                codelists=tuple(str(c.get("id")) for c in extension.get("codeLists") or () if isinstance(c, dict)),
            )
        )
    return TableMetadata(table_id=table_id, updated=document.get("updated"), variables=tuple(variables), raw=raw,
                         label=str(document.get("label") or ""))


class SsbClient:
    def __init__(
        self,
        transport: Transport,
        base_url: str = SSB_BASE_URL,
        *,
        lang: str = "no",
        max_cells: int = MAX_CELLS,
        max_get_url_length: int = MAX_GET_URL_LENGTH,
    ) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.lang = lang
        self.max_cells = max_cells
        self.max_get_url_length = max_get_url_length

    # -- metadata ---------------------------------------------------------
    def table_info(self, table_id: str) -> TableInfo:
        response = self.transport.get(f"{self.base_url}/tables/{table_id}", [("lang", self.lang)])
        body = _json(response, f"table {table_id} info")
        if "updated" not in body:
            raise SsbError(f"table {table_id}: table info has no 'updated' field ({response.url})")
        return TableInfo(
            table_id=table_id,
            label=body.get("label", ""),
            updated=body["updated"],
            first_period=body.get("firstPeriod"),
            last_period=body.get("lastPeriod"),
            raw=response.body,
            from_snapshot=response.from_snapshot,
        )

    def updated_tables(self, past_days: int, page_size: int = LISTING_PAGE_SIZE,
                       max_pages: int | None = None) -> "Listing":
        """Every table SSB lists as updated in the past `past_days` days, all pages (discontinued ones too:
        a table of ours that SSB stops is still news). `max_pages`: give up (complete=False) rather than
        ask more pages than that."""
        if past_days < 1:
            raise ValueError(f"pastDays must be at least 1, got {past_days}")
        listed: dict[str, str] = {}
        page, pages, calls = 1, 1, 0
        while page <= pages:
            if max_pages is not None and pages > max_pages:
                return Listing(past_days, listed, calls, pages, complete=False)
            response = self.transport.get(f"{self.base_url}/tables", [
                ("lang", self.lang), ("pastDays", str(past_days)), ("includeDiscontinued", "true"),
                ("pageSize", str(page_size)), ("pageNumber", str(page))])
            calls += 1
            body = _json(response, f"tables updated in the past {past_days} days")
            tables, paging = body.get("tables"), body.get("page")
            if not isinstance(tables, list) or not isinstance(paging, dict):
                raise SsbError(f"{response.url}: expected 'tables' (a list) and 'page' (an object), "
                               f"found keys {sorted(body)[:10]}")
            for n, entry in enumerate(tables):
                if not isinstance(entry, dict) or "id" not in entry or not entry.get("updated"):
                    raise SsbError(f"{response.url}: tables[{n}] has no 'id' and 'updated' ({str(entry)[:120]})")
                listed[str(entry["id"])] = str(entry["updated"])
            try:
                pages = int(paging.get("totalPages", 1))
            except (TypeError, ValueError):
                raise SsbError(f"{response.url}: page.totalPages is {paging.get('totalPages')!r}, "
                               "expected a number") from None
            page += 1
        return Listing(past_days, listed, calls, pages, complete=True)

    def metadata(self, table_id: str) -> TableMetadata:
        response = self.transport.get(f"{self.base_url}/tables/{table_id}/metadata", [("lang", self.lang)])
        metadata = parse_metadata(table_id, _json(response, f"table {table_id} metadata"), response.body)
        return dataclasses.replace(metadata, from_snapshot=response.from_snapshot)

    def codelist(self, codelist_id: str) -> Codelist:
        """`GET /codelists/{id}`: the codes a selection through the code list may name."""
        response = self.transport.get(f"{self.base_url}/codelists/{codelist_id}", [("lang", self.lang)])
        body = _json(response, f"code list {codelist_id}")
        values = body.get("values")
        if not isinstance(values, list) or not all(isinstance(v, dict) and "code" in v for v in values):
            raise SsbError(f"code list {codelist_id}: {response.url} has no `values` list of {{code, label}} "
                           f"(keys {sorted(body)[:10]})")
        return Codelist(codelist_id, str(body.get("label", "")), str(body.get("type", "")),
                        {str(v["code"]): str(v.get("label", "")) for v in values}, response.body)

    def with_codelists(self, metadata: TableMetadata, spec: "TableSpec") -> tuple[TableMetadata, list[Codelist]]:
        """The metadata as a selection through the table's configured code lists sees it: each such dimension's
        values are the code list's (13470's NACE2007 `00-99` exists only in `agg_NACE2007arb11`). A code list the
        metadata does not offer for that dimension is an error naming the ones it does."""
        if not spec.codelists:
            return metadata, []
        variables, fetched = [], []
        for variable in metadata.variables:
            choice = spec.codelists.get(variable.code)
            if choice is None:
                variables.append(variable)
                continue
            if choice.codelist_id not in variable.codelists:
                offered = ", ".join(variable.codelists) or "none"
                raise SsbError(f"table {spec.table_id}, variable {variable.code}: the metadata offers no code list "
                               f"{choice.codelist_id!r} (extension.codeLists: {offered}); check `codelists` in "
                               f"{TABLE_SPECS_PATH.name}")
            codelist = self.codelist(choice.codelist_id)
            fetched.append(codelist)
            variables.append(dataclasses.replace(variable, values=tuple(codelist.values)))
        missing = set(spec.codelists) - {v.code for v in metadata.variables}
        if missing:
            metadata.variable(sorted(missing)[0])  # raises with the table's variables
        return dataclasses.replace(metadata, variables=tuple(variables)), fetched

    # -- planning ---------------------------------------------------------
    def resolve_selection(
        self,
        metadata: TableMetadata,
        strict: Mapping[str, Sequence[str]],
        lenient: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], dict[str, tuple[str, ...]]]:
        """Check a wished-for selection against the table's metadata.

        `strict` codes must all exist (a series code SSB retired is an error).
        `lenient` codes are kept where the table has them: not every table
        carries every historical municipality code or the newest year.
        Returns the selection in table order and, per variable, the lenient
        codes that were dropped.
        """
        lenient = lenient or {}
        known_vars = {v.code for v in metadata.variables}
        for var in [*strict, *lenient]:
            if var not in known_vars:
                metadata.variable(var)  # raises with the list of variables
        selection: list[tuple[str, tuple[str, ...]]] = []
        dropped: dict[str, tuple[str, ...]] = {}
        for variable in metadata.variables:
            available = set(variable.values)
            if variable.code in strict:
                codes = dedupe(strict[variable.code])
                missing = [c for c in codes if c not in available]
                if missing:
                    raise SsbError(
                        f"table {metadata.table_id}, variable {variable.code}: code {missing[0]!r} does not exist "
                        f"in the table's metadata" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                    )
            elif variable.code in lenient:
                wished = dedupe(lenient[variable.code])
                codes = tuple(c for c in wished if c in available)
                gone = tuple(c for c in wished if c not in available)
                if gone:
                    dropped[variable.code] = gone
                if not codes:
                    raise SsbError(
                        f"table {metadata.table_id}, variable {variable.code}: none of the requested codes exist "
                        f"({', '.join(wished[:5])}{'…' if len(wished) > 5 else ''})"
                    )
            elif variable.elimination:
                continue
            else:
                raise SsbError(
                    f"table {metadata.table_id}: dimension {variable.code} cannot be eliminated and no codes were "
                    "selected for it"
                )
            selection.append((variable.code, codes))
        return tuple(selection), dropped

    def plan(self, table_id: str, selection: Sequence[tuple[str, Sequence[str]]],
             codelists: Sequence[tuple[str, str, str]] = ()) -> list[DataRequest]:
        """Split a selection into the fewest requests under the cell limit. `codelists`: (variable, code list id,
        outputValues) for the dimensions selected through a code list."""
        normalised = tuple((var, dedupe(codes)) for var, codes in selection)
        chunks = split_selection(normalised, self.max_cells)
        lists = tuple(codelists)
        return [DataRequest(table_id, chunk, self._method_for(table_id, chunk, lists), lists) for chunk in chunks]

    def _method_for(self, table_id: str, selection: tuple[tuple[str, tuple[str, ...]], ...],
                    codelists: tuple[tuple[str, str, str], ...] = ()) -> str:
        url = f"{self.base_url}/tables/{table_id}/data"
        get = Request("GET", url, tuple(self._get_params(selection, codelists)))
        return "GET" if len(get.full_url()) <= self.max_get_url_length else "POST"

    def _get_params(self, selection: Sequence[tuple[str, Sequence[str]]],
                    codelists: Sequence[tuple[str, str, str]] = ()) -> list[tuple[str, str]]:
        params = [("lang", self.lang), ("outputFormat", "json-stat2")]
        params += [(f"valueCodes[{var}]", ",".join(codes)) for var, codes in selection]
        for var, codelist_id, output in codelists:
            params += [(f"codelist[{var}]", codelist_id), (f"outputValues[{var}]", output)]
        return params

    # -- data -------------------------------------------------------------
    def fetch(self, request: DataRequest) -> Response:
        url = f"{self.base_url}/tables/{request.table_id}/data"
        if request.method == "GET":
            return self.transport.get(url, self._get_params(request.selection, request.codelists))
        return self.transport.post(url, post_body(request), [("lang", self.lang), ("outputFormat", "json-stat2")])


def post_body(request: DataRequest) -> dict[str, Any]:
    """The POST form of a data request (PxWebApi v2 VariablesSelection: `codeList` and `outputValues` beside the
    `valueCodes` of a dimension selected through a code list)."""
    lists = {var: (codelist_id, output) for var, codelist_id, output in request.codelists}
    selection = []
    for var, codes in request.selection:
        item: dict[str, Any] = {"variableCode": var}
        if var in lists:
            item["codeList"], item["outputValues"] = lists[var]
        item["valueCodes"] = list(codes)
        selection.append(item)
    return {"selection": selection}


def split_selection(
    selection: tuple[tuple[str, tuple[str, ...]], ...], max_cells: int
) -> list[tuple[tuple[str, tuple[str, ...]], ...]]:
    """Fewest chunks of `selection` with at most `max_cells` cells each.

    Splitting one variable into k nearly equal parts gives chunks of
    cells/n * ceil(n/k) cells; we pick the variable and k that need the fewest
    requests. When no single variable can be cut fine enough, the biggest
    variable is cut into single codes and the rest is split recursively.
    """
    cells = math.prod(len(codes) for _, codes in selection)
    if cells <= max_cells:
        return [selection]
    if cells == 0:
        return [selection]
    best: tuple[int, int] | None = None  # (requests, variable index)
    for i, (_, codes) in enumerate(selection):
        n = len(codes)
        rest = cells // n
        if rest > max_cells or n < 2:
            continue
        per_chunk = max_cells // rest  # codes of this variable per request
        k = math.ceil(n / per_chunk)
        if best is None or k < best[0]:
            best = (k, i)
    if best is not None:
        k, i = best
        var, codes = selection[i]
        size = math.ceil(len(codes) / k)
        return [
            selection[:i] + ((var, codes[start:start + size]),) + selection[i + 1:]
            for start in range(0, len(codes), size)
        ]
    i = max(range(len(selection)), key=lambda j: len(selection[j][1]))
    var, codes = selection[i]
    out = []
    for code in codes:
        out += split_selection(selection[:i] + ((var, (code,)),) + selection[i + 1:], max_cells)
    return out


def minimum_requests(selection: Sequence[tuple[str, Sequence[str]]], max_cells: int = MAX_CELLS) -> int:
    return max(1, math.ceil(math.prod(len(c) for _, c in selection) / max_cells))


def _json(response: Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise SsbError(f"{what}: {response.url} did not answer JSON ({exc}); first bytes {response.body[:80]!r}") from exc
    if not isinstance(body, dict):
        raise SsbError(f"{what}: {response.url} answered a JSON {type(body).__name__}, expected an object")
    return body


# -- table specs and refresh ---------------------------------------------------

TABLE_SPECS_PATH = Path(__file__).with_name("ssb_tables.yaml")
GRADES = evidence_grades()  # seed vocabulary
# How a key figure is got (dbt seed kostra_key_figures, column `route`): a configured series (TABLE_ROUTE), KS's
# A/B formula on SSB's base tables, or nothing known yet; seed vocabulary.
KEY_FIGURE_ROUTES = key_figure_routes()
TABLE_ROUTE, UNKNOWN_ROUTE = "table", "source unknown"


@dataclass(frozen=True)
class Evidence:
    grade: str  # A, B, C, "-" or live (../shared/reference/real-tables.md §1)
    cite: str


@dataclass(frozen=True)
class Series:
    """One figure taken from a table: a code pinned in every dimension but region and time."""

    table_id: str
    select: Mapping[str, str]
    label: str
    evidence: Evidence
    measure: str | None = None  # an input of an indicator (`indicators` in ssb_tables.yaml)
    key_figure: str | None = None  # a row of the Handlingsprogram's KOSTRA tables (dbt seed kostra_key_figures)
    period: str | None = None  # only periods ending in this suffix (01222: K1 opening, K4 closing population)

    @property
    def key(self) -> str:
        """`Var=code;Var=code` in variable-name order: how staging identifies the series in a raw table."""
        return ";".join(f"{var}={code}" for var, code in sorted(self.select.items()))

    @property
    def name(self) -> str:
        return self.measure or self.key_figure or self.key


@dataclass(frozen=True)
class CodelistChoice:
    """A dimension selected through one of SSB's code lists: `codelist[VAR]=id&outputValues[VAR]=output`."""

    codelist_id: str
    output: str  # aggregated: the groups' figures; single: the figures of the values each group holds


OUTPUT_VALUES = ("aggregated", "single")


@dataclass(frozen=True)
class TableSpec:
    table_id: str
    name: str
    title: str
    kind: str  # "kostra" or "statbank"
    region_variable: str
    series: tuple[Series, ...]
    measure_kind: str = "rate"  # count: may be summed over merged municipalities; rate: may not
    codelists: Mapping[str, CodelistChoice] = field(default_factory=dict)

    def codelist_params(self) -> tuple[tuple[str, str, str], ...]:
        return tuple((var, c.codelist_id, c.output) for var, c in sorted(self.codelists.items()))

    @property
    def select(self) -> dict[str, tuple[str, ...]]:
        """Per variable, the codes of every series, in the order the series name them."""
        out: dict[str, list[str]] = {}
        for series in self.series:
            for var, code in series.select.items():
                out.setdefault(var, [])
                if code not in out[var]:
                    out[var].append(code)
        return {var: tuple(codes) for var, codes in out.items()}


def table_spec(table_id: str, name: str, title: str, kind: str, region_variable: str,
               select: Mapping[str, Sequence[str]], measure_kind: str = "rate") -> TableSpec:
    """A spec with one series per combination of the codes in `select` (tests and tools that think in selections)."""
    import itertools

    variables = list(select)
    series = tuple(
        Series(table_id, dict(zip(variables, combo)), label="", evidence=Evidence("-", "constructed"),
               measure="_".join(combo))
        for combo in itertools.product(*(select[v] for v in variables)))
    return TableSpec(table_id, name, title, kind, region_variable, series, measure_kind)


@dataclass(frozen=True)
class WithoutTable:
    """A figure no public source showed a table (or codes) for: not fetched, listed with the reason."""

    reason: str
    grade: str
    look_for: str = ""
    indicator: str | None = None
    key_figure: str | None = None
    status: str = "source unknown"  # or "not SSB": another body publishes it (a file route is needed)
    route: str = UNKNOWN_ROUTE  # or "asss_formula": KS's A/B formula on SSB's base tables (KEY_FIGURE_ROUTES)


@dataclass(frozen=True)
class IndicatorRoute:
    """How an SSB-sourced indicator is computed from measures: add + multiplier * sum(numerator) / sum(denominator)
    (no denominator: add + multiplier * sum(numerator)). dbt seed ssb_indicator_routes is written from these."""

    indicator_id: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()
    multiplier: float = 1.0
    add: float = 0.0


@dataclass(frozen=True)
class TableSpecs:
    tables: tuple[TableSpec, ...]
    municipalities: tuple[str, ...]
    kostra_aggregates: tuple[str, ...]
    statbank_aggregates: tuple[str, ...]
    first_year: int
    last_year: int
    kostra_group_pattern: str = r"^EKG\d+$"
    without_known_table: tuple[WithoutTable, ...] = ()
    indicators: tuple[IndicatorRoute, ...] = ()
    # measures dbt computes from other measures (int_indicator_inputs), with the measures each is computed from
    computed_measures: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, table_id: str) -> TableSpec:
        for spec in self.tables:
            if spec.table_id == table_id:
                return spec
        raise KeyError(f"no SSB table {table_id!r} in {TABLE_SPECS_PATH.name}")

    def regions_for(self, spec: TableSpec, metadata: TableMetadata | None = None) -> tuple[str, ...]:
        """The region codes to ask for: the members' codes, SSB's aggregates and, in a KOSTRA table, every
        KOSTRA group its metadata lists (membership per year comes from KLASS 112, not from here)."""
        if spec.kind != "kostra":
            return self.municipalities + self.statbank_aggregates
        groups: tuple[str, ...] = ()
        if metadata is not None:
            pattern = re.compile(self.kostra_group_pattern)
            groups = tuple(c for c in metadata.variable(spec.region_variable).values if pattern.match(c))
        return self.municipalities + self.kostra_aggregates + groups

    def periods_for(self, metadata: TableMetadata) -> tuple[str, ...]:
        """The periods the table's metadata has within first..last year; never one it lacks."""
        time = metadata.time_variable()
        try:
            return periods_within(time.values, self.first_year, self.last_year)
        except PeriodError as exc:
            raise SsbError(f"table {metadata.table_id}, variable {time.code}: {exc}") from exc

    def series(self) -> tuple[Series, ...]:
        return tuple(s for spec in self.tables for s in spec.series)

    def region_variables(self) -> tuple[str, ...]:
        """The region dimension of every configured table (KOKkommuneregion0000, Region, ...): the one list."""
        return tuple(sorted({spec.region_variable for spec in self.tables}))

    def tables_of(self, measure: str) -> tuple[str, ...]:
        """The tables a measure is fetched from, through the measures it is computed from; () when none is."""
        fetched = tuple(dict.fromkeys(s.table_id for s in self.series() if s.measure == measure))
        if fetched:
            return fetched
        inputs = self.computed_measures.get(measure, ())
        return tuple(dict.fromkeys(t for m in inputs for t in self.tables_of(m)))

    def route_tables(self, route: IndicatorRoute) -> tuple[str, ...]:
        return tuple(sorted({t for m in route.numerator + route.denominator for t in self.tables_of(m)}))

    def route_status(self, route: IndicatorRoute) -> str:
        """fetched, or the status of its `without_known_table` entry (source unknown, not SSB)."""
        for entry in self.without_known_table:
            if entry.indicator == route.indicator_id:
                return entry.status
        return "fetched"


def _evidence(entry: Mapping[str, Any], where: str) -> Evidence:
    evidence = entry.get("evidence")
    if not isinstance(evidence, Mapping) or "grade" not in evidence or not evidence.get("cite"):
        raise SsbError(f"{where}: every series needs `evidence: {{grade: A|B|C|-|live, cite: ...}}`")
    grade = str(evidence["grade"])
    problem = unknown_code("evidence_grade", grade)
    if problem:
        raise SsbError(f"{where}: {problem}")
    return Evidence(grade, str(evidence["cite"]))


def _series(table_id: str, entry: Mapping[str, Any], where: str) -> Series:
    select = entry.get("select")
    if not isinstance(select, Mapping) or not select:
        raise SsbError(f"{where}: `select` must map each dimension to one code")
    for var, code in select.items():
        if isinstance(code, (list, dict)) or code is None:
            raise SsbError(f"{where}: select.{var} must be one code (a series pins one code per dimension), "
                           f"got {code!r}")
    if "ContentsCode" not in select:
        raise SsbError(f"{where}: select has no ContentsCode")
    if not entry.get("measure") and not entry.get("key_figure"):
        raise SsbError(f"{where}: a series feeds a `measure`, a `key_figure` or both")
    return Series(table_id=table_id, select={str(k): str(v) for k, v in select.items()},
                  label=str(entry.get("label", "")), evidence=_evidence(entry, where),
                  measure=entry.get("measure"), key_figure=entry.get("key_figure"),
                  period=str(entry["period"]) if entry.get("period") else None)


def load_table_specs(path: str | os.PathLike[str] = TABLE_SPECS_PATH) -> TableSpecs:
    """The SSB configuration, parsed again only when the file changed: the Dagster definitions (jobs, keys,
    freshness, checks), the gate and the pre-check each ask for it, and one parse takes ~0.1 s of PyYAML."""
    stat = os.stat(path)
    return _parse_table_specs(str(path), stat.st_mtime_ns, stat.st_size)


def subset_configuration(table_ids: Sequence[str]) -> str:
    """The bundled configuration cut to `table_ids` (YAML, for STYRINGSDATA_SSB_TABLES), with the indicators,
    computed measures and figures without a table that need only those tables' measures."""
    document = yaml.safe_load(TABLE_SPECS_PATH.read_text(encoding="utf-8"))
    missing = set(table_ids) - {str(t["id"]) for t in document["tables"]}
    if missing:
        raise SsbError(f"no SSB table {', '.join(sorted(missing))} in {TABLE_SPECS_PATH.name}")
    document["tables"] = [t for t in document["tables"] if str(t["id"]) in table_ids]
    measures = {s["measure"] for t in document["tables"] for s in t["series"] if s.get("measure")}
    document["computed_measures"] = {name: inputs for name, inputs in document["computed_measures"].items()
                                     if set(inputs) <= measures}
    measures |= set(document["computed_measures"])
    document["indicators"] = [i for i in document["indicators"]
                              if set(i["numerator"]) | set(i.get("denominator", ())) <= measures]
    kept = {i["id"] for i in document["indicators"]}
    document["without_known_table"] = [w for w in document["without_known_table"]
                                       if w.get("indicator") is None or w["indicator"] in kept]
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def subset_problem(path: str | os.PathLike[str]) -> str | None:
    """Why the configuration at `path` is not some of the bundled file's tables, each as it is there (None: it is).

    dbt's sources and seeds and the catalogue are written from the bundled file (`make snapshots`), so a table or
    series that is only in `path` would be fetched and never read; the regions and years may differ."""
    try:
        chosen = load_table_specs(path)
    except (SsbError, OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        return f"expected an SSB configuration in the form of the bundled {TABLE_SPECS_PATH.name} ({exc})"
    bundled = load_table_specs()
    tables = {t.table_id: t for t in bundled.tables}
    if not chosen.tables:
        return "expected a configuration with at least one table"
    for table in chosen.tables:
        if table.table_id not in tables:
            return (f"expected tables of the bundled {TABLE_SPECS_PATH.name}; table {table.table_id} is not one of "
                    "them (add it there and run `make snapshots`)")
        if table != tables[table.table_id]:
            return f"expected table {table.table_id} as the bundled {TABLE_SPECS_PATH.name} has it, series and all"
    routes = {r.indicator_id: r for r in bundled.indicators}
    for route in chosen.indicators:
        if routes.get(route.indicator_id) != route:
            return (f"expected indicator {route.indicator_id} as the bundled {TABLE_SPECS_PATH.name} computes it "
                    "(the seed ssb_indicator_routes is written from there)")
    return None


@functools.lru_cache(maxsize=8)  # TableSpecs is frozen: every caller may share one
def _parse_table_specs(path: str, mtime_ns: int, size: int) -> TableSpecs:
    document = yaml.safe_load(open(path, encoding="utf-8"))
    tables = []
    for i, entry in enumerate(document["tables"]):
        try:
            table_id = safe_name(str(entry["id"]), "SSB table id")
            series = tuple(_series(table_id, s, f"{path}: table {table_id}, series {n + 1}")
                           for n, s in enumerate(entry["series"]))
            spec = TableSpec(
                table_id=table_id,
                name=safe_name(entry["name"], "table name"),
                title=entry.get("title", ""),
                kind=entry["kind"],
                region_variable=entry["region_variable"],
                series=series,
                measure_kind=entry.get("measure_kind", "rate"),
                codelists=_codelists(entry.get("codelists"), f"{path}: table {table_id}"),
            )
        except KeyError as exc:
            raise SsbError(f"{path}: tables[{i}] lacks field {exc}") from exc
        if not re.fullmatch(r"[A-Za-z0-9_]+", spec.table_id):
            raise SsbError(f"{path}: tables[{i}]: SSB table id {spec.table_id!r} must be letters, digits and _ only "
                           "(it names the raw table raw.ssb_<id>)")
        if spec.kind not in ("kostra", "statbank"):
            raise SsbError(f"{path}: table {spec.table_id}: kind must be kostra or statbank, got {spec.kind!r}")
        if spec.measure_kind not in ("rate", "count"):
            raise SsbError(f"{path}: table {spec.table_id}: measure_kind must be rate or count")
        keys = [s.key for s in spec.series]
        if len(set(keys)) != len(keys):
            raise SsbError(f"{path}: table {spec.table_id}: two series select the same codes")
        variables = {frozenset(s.select) for s in spec.series}
        if len(variables) > 1:
            raise SsbError(f"{path}: table {spec.table_id}: every series must pin the same dimensions "
                           f"(found {sorted(sorted(v) for v in variables)})")
        tables.append(spec)
    regions = document["regions"]
    without = tuple(
        WithoutTable(reason=str(e["reason"]), grade=str(e.get("grade", "-")), look_for=str(e.get("look_for", "")),
                     indicator=e.get("indicator"), key_figure=e.get("key_figure"),
                     status=str(e.get("status", "source unknown")), route=str(e.get("route", UNKNOWN_ROUTE)))
        for e in document.get("without_known_table") or ())
    for entry in without:
        where = f"{path}: without_known_table {entry.key_figure or entry.indicator}"
        if entry.route not in KEY_FIGURE_ROUTES or entry.route == TABLE_ROUTE:
            raise SsbError(f"{where}: route must be one of "
                           f"{' or '.join(r for r in KEY_FIGURE_ROUTES if r != TABLE_ROUTE)}, got {entry.route!r}")
        problem = unknown_code("evidence_grade", entry.grade)
        if problem:
            raise SsbError(f"{where}: {problem}")
    computed = {str(name): tuple(str(m) for m in inputs)
                for name, inputs in (document.get("computed_measures") or {}).items()}
    specs = TableSpecs(
        tables=tuple(tables),
        municipalities=tuple(str(c) for c in regions["asss_municipalities"]),
        kostra_aggregates=tuple(str(c) for c in regions["kostra_aggregates"]),
        statbank_aggregates=tuple(str(c) for c in regions["statbank_aggregates"]),
        first_year=int(document["years"]["first"]),
        last_year=int(document["years"]["last"]),
        kostra_group_pattern=str(regions.get("kostra_group_pattern", r"^EKG\d+$")),
        without_known_table=without,
        indicators=tuple(_route(e, f"{path}: indicators[{i}]") for i, e in enumerate(document.get("indicators") or ())),
        computed_measures=computed,
    )
    _check_routes(specs, path)
    return specs


def _codelists(document: Any, where: str) -> dict[str, CodelistChoice]:
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise SsbError(f"{where}: `codelists` maps a dimension to {{id: <code list id>, output: aggregated|single}}")
    out = {}
    for var, choice in document.items():
        if not isinstance(choice, Mapping) or not choice.get("id"):
            raise SsbError(f"{where}: codelists.{var} needs `id` (the code list id from the metadata's "
                           "extension.codeLists) and `output` (aggregated or single)")
        output = str(choice.get("output", "aggregated"))
        if output not in OUTPUT_VALUES:
            raise SsbError(f"{where}: codelists.{var}.output must be aggregated or single, got {output!r}")
        out[str(var)] = CodelistChoice(str(choice["id"]), output)
    return out


def _route(entry: Mapping[str, Any], where: str) -> IndicatorRoute:
    if not isinstance(entry, Mapping) or not entry.get("id"):
        raise SsbError(f"{where}: an indicator needs `id` and `numerator` (a list of measures)")

    def measures(key: str) -> tuple[str, ...]:
        value = entry.get(key) or []
        if isinstance(value, str) or not all(isinstance(m, str) and m for m in value):
            raise SsbError(f"{where} ({entry['id']}): `{key}` must be a list of measure names, got {value!r}")
        return tuple(value)

    numerator = measures("numerator")
    if not numerator:
        raise SsbError(f"{where} ({entry['id']}): `numerator` names no measure")
    unknown = set(entry) - {"id", "numerator", "denominator", "multiplier", "add"}
    if unknown:
        raise SsbError(f"{where} ({entry['id']}): unknown field(s) {', '.join(sorted(unknown))}; expected id, "
                       "numerator, denominator, multiplier, add")
    try:
        multiplier, add = float(entry.get("multiplier", 1)), float(entry.get("add", 0))
    except (TypeError, ValueError):
        raise SsbError(f"{where} ({entry['id']}): `multiplier` and `add` must be numbers") from None
    return IndicatorRoute(str(entry["id"]), numerator, measures("denominator"), multiplier, add)


def _check_routes(specs: TableSpecs, path: str | os.PathLike[str]) -> None:
    """Every measure an indicator names is fetched, computed from fetched ones, or its indicator is listed under
    `without_known_table`: a misspelt measure would otherwise leave the indicator silently without figures."""
    fetched = {s.measure for s in specs.series() if s.measure}
    for name, inputs in specs.computed_measures.items():
        missing = [m for m in inputs if m not in fetched]
        if missing:
            raise SsbError(f"{path}: computed measure {name} is computed from {', '.join(missing)}, which no series "
                           "of `tables` names as its `measure`")
    seen: set[str] = set()
    unknown_tables = {e.indicator for e in specs.without_known_table if e.indicator}
    for route in specs.indicators:
        if route.indicator_id in seen:
            raise SsbError(f"{path}: indicator {route.indicator_id} has two entries under `indicators`")
        seen.add(route.indicator_id)
        if route.indicator_id in unknown_tables:
            continue
        missing = [m for m in route.numerator + route.denominator
                   if m not in fetched and m not in specs.computed_measures]
        if missing:
            raise SsbError(
                f"{path}: indicator {route.indicator_id} uses measure(s) {', '.join(missing)} that no series of "
                f"`tables` feeds (nor `computed_measures`); add the series, or list {route.indicator_id} under "
                "`without_known_table` with the reason")
    orphans = unknown_tables - seen
    if orphans:
        raise SsbError(f"{path}: `without_known_table` names indicator(s) {', '.join(sorted(orphans))} that have no "
                       "entry under `indicators` (say which measures the indicator will be computed from)")


# Grades of a series no source confirmed (a candidate's codes, or codes chosen for the snapshot).
UNCONFIRMED_GRADES = ("C", "-")


def without_unconfirmed_missing(metadata: TableMetadata, spec: TableSpec) -> tuple[TableSpec, dict[str, str]]:
    """The table without its unconfirmed series (grade C or -) whose codes the metadata lacks, and why each was left
    out. A candidate that turns out wrong must not take the table's confirmed series down with it: it is left out,
    named in the vintage's manifest (`dropped_series`) and the log, and `styringsdata doctor --live` proposes its
    real code. A confirmed series' missing code still fails the table (resolve_selection)."""
    known = {v.code: set(v.values) for v in metadata.variables}
    dropped: dict[str, str] = {}
    for series in spec.series:
        if series.evidence.grade not in UNCONFIRMED_GRADES:
            continue
        missing = [f"{var}={code}" for var, code in series.select.items() if var in known and code not in known[var]]
        if missing:
            dropped[series.name] = (f"grade {series.evidence.grade} candidate: the metadata has no "
                                    f"{', '.join(missing)}; run `styringsdata doctor --live --write`")
    if not dropped:
        return spec, {}
    kept = tuple(s for s in spec.series if s.name not in dropped)
    if not kept:
        return spec, {}  # nothing confirmed to keep: the table fails on its first missing code (resolve_selection)
    for name, reason in dropped.items():
        log.warning("table %s, series %s left out: %s", spec.table_id, name, reason)
    return dataclasses.replace(spec, series=kept), dropped


def check_selection(metadata: TableMetadata, spec: TableSpec) -> None:
    """Refuse, before any data request, a selection SSB would refuse: every non-eliminable dimension besides
    region and time must be pinned by the series (SSB answers 400 "Missing selection for mandantory variable")."""
    pinned = set(spec.select) | {spec.region_variable, metadata.time_variable().code}
    for variable in metadata.variables:
        if not variable.elimination and variable.code not in pinned:
            raise SsbError(
                f"table {spec.table_id}: dimension {variable.code} ({variable.label}) cannot be eliminated and "
                f"{TABLE_SPECS_PATH.name} selects no code for it; pin one in every series of the table "
                f"(its codes include {', '.join(variable.values[:6])}{'…' if len(variable.values) > 6 else ''})")


# -- change check: which tables changed since we last asked ------------------------------------------

# In landing/ssb/ (a table id never starts with '_'): per table, SSB's `updated` as last seen and when it was
# asked for. A listing's window reaches back to the oldest of these times; a table the listing leaves out
# still has the `updated` last seen, so one found changed stays changed until its new vintage lands.
CHECK_STATE = "_change_check.json"
# SSB's server code sets no limit on pastDays (PxWebApi: TablesApiController.ListAllTables,
# LuceneSearcher.Find). Ours: a landing zone not checked for a month is asked table by table once, and
# listings resume from there.
MAX_PAST_DAYS = 31
# The listing comes from SSB's search index, which is refreshed hours after a publication (around 05:00 and
# 11:30): a table published just before our last check but indexed after it must still fall in the window.
INDEX_LAG = dt.timedelta(days=1)


@dataclass(frozen=True)
class Seen:
    updated: str  # SSB's `updated` for the table
    at: dt.datetime  # SSB's time when that was asked


@dataclass(frozen=True)
class SsbCheck:
    """Which SSB tables need fetching, decided for all of them at once."""

    asked_at: dt.datetime | None  # SSB's time when asked (None: a replayed snapshot that does not say)
    method: str  # "listing", "table info" or "none" (no table landed yet)
    how: str  # for the run log: the calls made and, when not one listing, why
    calls: int
    current: Mapping[str, str]  # table id -> the landed vintage SSB's `updated` names
    changed: Mapping[str, str | None]  # table id -> SSB's `updated` (None: never landed, nothing asked)
    past_days: int | None = None

    def how_for(self, table_id: str) -> str:
        """How this table was found to need fetching (kept in its vintage's manifest)."""
        if self.changed.get(table_id) is None:
            return "first fetch (no vintage landed)"
        if self.method == "listing":
            return f"SSB's updated moved (listing GET /tables?pastDays={self.past_days})"
        return "SSB's updated moved (table info GET /tables/{id})"


def past_days_for(elapsed: dt.timedelta) -> int:
    """The `pastDays` that covers everything published since `elapsed` ago, and SSB's index lag."""
    return max(1, math.ceil((elapsed + INDEX_LAG) / dt.timedelta(days=1)))


def check_ssb(client: SsbClient, landing: LandingZone, table_ids: Sequence[str], *,
              listing: bool = True, page_size: int = LISTING_PAGE_SIZE) -> SsbCheck:
    """Ask SSB once which of these tables changed since their landed vintages.

    One `GET /tables?pastDays=N` answers for all of them, N reaching back to the oldest time a table's
    `updated` was seen (landing/ssb/_change_check.json). Table info per table (`GET /tables/{id}`)
    instead, saying why, when that time is unknown or too long ago, when SSB's clock cannot be read (a
    replayed snapshot without `recorded_at.json`), when the listing would take more pages than there are
    tables, or for a table refreshed on its own (`listing=False`: one call either way). Tables never
    landed are not asked about: their metadata is fetched anyway. What is seen is recorded at once.
    """
    now = client.transport.now(urllib.parse.urlsplit(client.base_url).netloc)
    never: dict[str, str | None] = {t: None for t in table_ids if landing.latest_vintage("ssb", t) is None}
    landed = [t for t in table_ids if t not in never]
    if not landed:
        return SsbCheck(now, "none", f"SSB: no table landed yet; {len(never)} fetched whole (metadata and data), "
                        "nothing to ask first", 0, {}, never)
    seen = read_check_state(landing)
    reason = _why_no_listing(listing, now, landed, seen)
    spent = 0  # listing calls made before giving up on it
    if reason is None:
        assert now is not None
        oldest = min(seen[t].at for t in landed)
        past_days = past_days_for(now - oldest)
        found = client.updated_tables(past_days, page_size, max_pages=len(landed))
        if found.complete:
            updated = {t: found.updated.get(t, seen[t].updated) for t in landed}
            record_seen(landing, updated, now)
            current, changed = _compare(landing, updated, never)
            how = (f"SSB: one listing, GET /tables?pastDays={past_days} ({found.calls} call(s); {len(found.updated)} "
                   f"table(s) updated on SSB since {format_utc(now - dt.timedelta(days=past_days))}, our oldest "
                   f"check {format_utc(oldest)}): {len(changed) - len(never)} of {len(landed)} landed table(s) "
                   "changed" + (f", {len(never)} never landed" if never else ""))
            log.info(how)
            return SsbCheck(now, "listing", how, found.calls, current, changed, past_days)
        reason = (f"the listing of the past {past_days} days runs to {found.pages} pages, more calls than the "
                  f"{len(landed)} table-info calls")
        spent = found.calls
    updated = {t: client.table_info(t).updated for t in landed}
    record_seen(landing, updated, now)
    current, changed = _compare(landing, updated, never)
    how = (f"SSB: table info for each of {len(landed)} landed table(s) ({len(landed) + spent} call(s)), because "
           f"{reason}; {len(changed) - len(never)} changed" + (f", {len(never)} never landed" if never else ""))
    log.info(how)
    return SsbCheck(now, "table info", how, len(landed) + spent, current, changed)


def _compare(landing: LandingZone, updated: Mapping[str, str],
             never: Mapping[str, str | None]) -> tuple[dict[str, str], dict[str, str | None]]:
    current: dict[str, str] = {}
    changed = dict(never)
    for table_id, stamp in updated.items():
        vintage = vintage_from_updated(stamp)
        if landing.has_vintage("ssb", table_id, vintage):
            current[table_id] = vintage
        else:
            changed[table_id] = stamp
    return current, changed


def _why_no_listing(listing: bool, now: dt.datetime | None, landed: Sequence[str],
                    seen: Mapping[str, Seen]) -> str | None:
    if not listing:
        return "one table refreshed on its own: its table info is one call, as a listing would be"
    if now is None:
        return "SSB's time is unknown: the replayed snapshot of data.ssb.no has no recorded_at.json"
    unknown = [t for t in landed if t not in seen]
    if unknown:
        return (f"{len(unknown)} landed table(s) have no earlier check in landing/ssb/{CHECK_STATE} "
                f"({', '.join(unknown[:5])}{'…' if len(unknown) > 5 else ''}): when they were last asked about "
                "is unknown")
    oldest_table = min(landed, key=lambda t: seen[t].at)
    oldest = seen[oldest_table].at
    if oldest > now:
        return (f"the last check ({format_utc(oldest)}, table {oldest_table}) is later than SSB's time now "
                f"({format_utc(now)}): the landing zone is newer than the source it is compared with")
    if past_days_for(now - oldest) > MAX_PAST_DAYS:
        return (f"the last check of table {oldest_table} was {format_utc(oldest)}, longer ago than the "
                f"{MAX_PAST_DAYS} days a listing is asked for")
    return None


def read_check_state(landing: LandingZone) -> dict[str, Seen]:
    """Per table, SSB's `updated` as last seen. Unreadable state counts as none: every table is asked again."""
    path = landing.root / "ssb" / CHECK_STATE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {str(t): Seen(str(e["updated"]), parse_utc(str(e["checked_at"]), str(path)))
                for t, e in document["tables"].items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s cannot be read (%s): every landed SSB table is asked about on its own", path, exc)
        return {}


def record_seen(landing: LandingZone, updated: Mapping[str, str], at: dt.datetime | None) -> None:
    """Record SSB's `updated` per table as asked at `at`. What was seen later (the sensor's check, another
    run's) is kept; the file is replaced whole, never half-written."""
    if at is None or not updated:
        return
    state = read_check_state(landing)
    merged = dict(state)
    for table_id, stamp in updated.items():
        if table_id not in state or state[table_id].at <= at:
            merged[table_id] = Seen(stamp, at)
    if merged == state:
        return
    path = landing.root / "ssb" / CHECK_STATE
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"about": "per SSB table: its `updated` as last seen and SSB's time when it was asked "
                         "(src/styringsdata/sources/ssb.py check_ssb); delete the file to have every table asked on its own",
                "tables": {t: {"updated": e.updated, "checked_at": format_utc(e.at)} for t, e in sorted(merged.items())}}
    tmp = path.with_name(f".{CHECK_STATE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


@dataclass(frozen=True)
class RefreshResult:
    table_id: str
    vintage: str
    source_updated: str
    changed: bool  # False: SSB's `updated` matched a vintage we already hold
    data_requests: int
    cells_requested: int
    landing_path: Path
    dropped_codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    metadata_requests: int = 0


def refresh_table(client: SsbClient, landing: LandingZone, specs: TableSpecs, spec: TableSpec,
                  check: SsbCheck | None = None) -> RefreshResult:
    """Fetch a new vintage of one table, or nothing if SSB's `updated` is unchanged.

    `check` is the run's one change check for all tables (`check_ssb`): a table it found current costs
    nothing here, a changed one its metadata and data. Without it the table asks on its own (one
    table-info call). The vintage is named from the metadata's `updated`, which comes with the metadata.
    """
    if check is None:
        check = check_ssb(client, landing, [spec.table_id], listing=False)
    if spec.table_id in check.current:
        vintage = check.current[spec.table_id]
        path = landing.vintage_dir("ssb", spec.table_id, vintage)
        return RefreshResult(spec.table_id, vintage, _landed_updated(path), False, 0, 0, path)
    fetched_at = utc_now()
    metadata = client.metadata(spec.table_id)
    if metadata.updated is None:
        raise SsbError(f"table {spec.table_id}: its metadata has no 'updated', which names the vintage "
                       f"({client.base_url}/tables/{spec.table_id}/metadata)")
    updated = metadata.updated  # kept: the code lists below give back a copy of the metadata
    vintage = vintage_from_updated(updated)
    if landing.has_vintage("ssb", spec.table_id, vintage):
        # SSB's catalogue ran ahead of (or behind) the table itself: what the metadata names we already hold.
        record_seen(landing, {spec.table_id: updated}, check.asked_at)
        path = landing.vintage_dir("ssb", spec.table_id, vintage)
        return RefreshResult(spec.table_id, vintage, updated, False, 0, 0, path, metadata_requests=1)
    metadata, codelists = client.with_codelists(metadata, spec)
    spec, unconfirmed = without_unconfirmed_missing(metadata, spec)
    check_selection(metadata, spec)
    periods = specs.periods_for(metadata)
    if not periods:
        raise SsbError(f"table {spec.table_id}: its metadata has no period within {specs.first_year}-"
                       f"{specs.last_year} (first {metadata.time_variable().values[:1]}, "
                       f"last {metadata.time_variable().values[-1:]})")
    selection, dropped = client.resolve_selection(
        metadata,
        strict=spec.select,
        lenient={spec.region_variable: specs.regions_for(spec, metadata), metadata.time_variable().code: periods},
    )
    requests = client.plan(spec.table_id, selection, spec.codelist_params())
    base = client.base_url
    payloads = [
        Payload("metadata.json", f"{base}/tables/{spec.table_id}/metadata", "GET", (("lang", client.lang),), None,
                metadata.raw, fetched_at),
    ] + [Payload(f"codelist-{safe_name(c.codelist_id, 'code list id')}.json", f"{base}/codelists/{c.codelist_id}",
                 "GET", (("lang", client.lang),), None, c.raw, fetched_at) for c in codelists]
    from_snapshot = [metadata.from_snapshot]
    for n, request in enumerate(requests, start=1):
        response = client.fetch(request)
        from_snapshot.append(response.from_snapshot)
        payloads.append(
            Payload(
                f"data-{n:03d}.json",
                f"{base}/tables/{spec.table_id}/data",
                request.method,
                (("lang", client.lang), ("outputFormat", "json-stat2")),
                post_body(request),
                response.body,
                utc_now(),
            )
        )
        # A vintage is named from `updated`, so a landed vintage is never fetched again: an answer that
        # cannot be decoded (cut off, not JSON, sizes that do not match the values) must not become one.
        from styringsdata.sources import jsonstat  # numpy and pyarrow, imported when data is fetched, not for a change check

        try:
            jsonstat.decode(response.body, source=response.url or f"{base}/tables/{spec.table_id}/data")
        except jsonstat.JsonStatError as exc:
            kept = landing.write_rejected("ssb", spec.table_id, payloads, reason=str(exc))
            raise SsbError(
                f"table {spec.table_id}: data request {n} of {len(requests)} answered something we cannot use: "
                f"{exc}. Nothing was landed or loaded; the answers are kept in {kept}; the next run fetches again."
            ) from exc
    time_codes = metadata.time_variable().values
    path = landing.write_vintage(
        "ssb", spec.table_id, vintage, payloads, source_updated=updated,
        extra={"label": metadata.label, "first_period": time_codes[0] if time_codes else None,
               "last_period": time_codes[-1] if time_codes else None,
               "dropped_codes": {k: list(v) for k, v in dropped.items()},
               "dropped_series": unconfirmed,
               "change_check": check.how_for(spec.table_id),
               "origin": "snapshot" if all(from_snapshot) else "live"},
    )
    record_seen(landing, {spec.table_id: updated}, check.asked_at)
    return RefreshResult(spec.table_id, vintage, updated, True, len(requests),
                         sum(r.cells for r in requests), path, dropped, metadata_requests=1)


def _landed_updated(vintage_dir: Path) -> str:
    """SSB's `updated` as the vintage's manifest recorded it (no need to re-hash the payloads for that)."""
    manifest = json.loads((vintage_dir / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest.get("source_updated") or "")


# -- doctor: does the configuration match the live metadata? ---------------------------------------

def nearest(wanted: str, candidates: Mapping[str, str], n: int = 3) -> tuple[str, ...]:
    """The codes whose labels (or codes) come nearest to `wanted`, as `CODE 'label'`."""
    import difflib

    by_label = {label.lower(): code for code, label in candidates.items()}
    picks = difflib.get_close_matches(wanted.lower(), list(by_label), n=n, cutoff=0.3)
    codes = [by_label[p] for p in picks]
    codes += [c for c in difflib.get_close_matches(wanted, list(candidates), n=n, cutoff=0.5) if c not in codes]
    return tuple(f"{c} {candidates[c]!r}" for c in codes[:n])


def diagnose_table(client: SsbClient, spec: TableSpec) -> list[Any]:
    """One doctor row per series of the table, from its metadata only (never data)."""
    from styringsdata.sources.diagnosis import DoctorRow
    from styringsdata.sources.transport import HttpError

    # The dimension that tells the table's series apart (12362: the function), else the series code.
    telling = next((v for v, codes in spec.select.items() if len(codes) > 1 and v != "ContentsCode"), "ContentsCode")

    def row(series: Series, verdict: str, variable: str = telling, code: str | None = None, detail: str = "",
            suggestions: tuple[str, ...] = (), choices: Mapping[str, str] | None = None) -> DoctorRow:
        return DoctorRow("SSB", spec.table_id, series.name, variable,
                         series.select.get(variable, "-") if code is None else code, series.evidence.grade, verdict,
                         detail, suggestions, tuple((choices or {}).items()), series.label, series.key_figure or "")

    try:
        response = client.transport.get(f"{client.base_url}/tables/{spec.table_id}/metadata", [("lang", client.lang)])
    except HttpError as exc:
        if exc.response.status in (400, 404):
            return [row(s, "table missing", detail=f"SSB answered {exc.response.status} for table {spec.table_id}")
                    for s in spec.series]
        raise
    metadata = parse_metadata(spec.table_id, _json(response, f"table {spec.table_id} metadata"), response.body)
    variables = {v.code: v for v in metadata.variables}
    labels = {v.code: _category_labels(response.body, v.code) for v in metadata.variables}
    for variable, choice in spec.codelists.items():
        if variable not in variables:
            continue  # reported below as a dimension the table lacks
        if choice.codelist_id not in variables[variable].codelists:
            return [row(s, "code missing", variable, choice.codelist_id,
                        f"{variable} offers no code list {choice.codelist_id} (the metadata's extension.codeLists)",
                        variables[variable].codelists) for s in spec.series]
        codelist = client.codelist(choice.codelist_id)
        variables[variable] = dataclasses.replace(variables[variable], values=tuple(codelist.values))
        labels[variable] = dict(codelist.values)
    try:
        time = metadata.time_variable()
    except SsbError as exc:
        return [row(s, "period format", "Tid", "-", str(exc)) for s in spec.series]
    bad_periods = [p for p in time.values if not is_period(p)]
    unpinned = [v for v in metadata.variables if not v.elimination
                and v.code not in set(spec.select) | {spec.region_variable, time.code}]
    rows = []
    for series in spec.series:
        problem = None
        if spec.region_variable not in variables:
            problem = row(series, "code missing", spec.region_variable, "-",
                          f"the table has no region dimension {spec.region_variable}", tuple(variables))
        for variable, code in series.select.items():
            if problem:
                break
            if variable not in variables:
                problem = row(series, "code missing", variable, code, f"the table has no dimension {variable}",
                              tuple(v for v in variables if v not in series.select))
            elif code not in variables[variable].values:
                wanted = series.label if variable == "ContentsCode" and series.label else code
                problem = row(series, "code missing", variable, code,
                              f"{variable} has no code {code}", nearest(wanted, labels[variable]),
                              choices=labels[variable])
        if problem is None and unpinned:
            first = unpinned[0]
            problem = row(series, "dimension not selected", first.code, "-",
                          f"{first.code} ({first.label}) cannot be eliminated and no code is pinned",
                          tuple(f"{c} {labels[first.code].get(c, '')!r}" for c in first.values[:3]))
        if problem is None and bad_periods:
            problem = row(series, "period format", time.code, bad_periods[0],
                          f"{len(bad_periods)} period code(s) the period model does not know")
        if problem is None:
            problem = dataclasses.replace(row(series, "ok"), ssb_label="; ".join(
                f"{var} {code} {labels.get(var, {}).get(code, '')!r}" for var, code in sorted(series.select.items())))
        rows.append(problem)
    return rows


def _category_labels(body: bytes, variable: str) -> dict[str, str]:
    import json

    dimension = json.loads(body)["dimension"][variable]
    return {str(k): str(v) for k, v in ((dimension.get("category") or {}).get("label") or {}).items()}
