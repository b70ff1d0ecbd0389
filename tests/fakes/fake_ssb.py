"""An in-process stand-in for SSB's PxWebApi v2 and KLASS.

It answers in the real formats (JSON-stat2 with object-style `category.index`
in shuffled key order, sparse `status` objects with null values, RFC 7807-like
errors) and with SSB's real refusals: unknown codes (400), too many cells
(403), URLs over ~2 100 characters (404), duplicate codes (500 with an empty
body), a literal '+' that arrives as a space (400). It is used to build the
bundled snapshots (snapshots/build.py), by the tests and by the benchmarks.
The figures it serves come from `FakeTable.cells`, supplied by the caller.

`GET /tables?pastDays=N` lists the tables updated since `now` minus N days
(hour precision, as SSB's search index compares), newest first, paged, with
SSB's `page` object; `unrelated_per_day` adds the other tables SSB publishes
every working day, so a client must pick its own out of the listing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from styringsdata.sources.transport import Request, Response

Cell = tuple[float | None, str | None]  # (value, SSB status symbol)
CellFunction = Callable[[Mapping[str, str]], Cell]

JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}


@dataclass
class FakeCodelist:
    """One of SSB's code lists for a dimension: an aggregation's groups, each a code, a label and the table values
    it holds (`valueMap` in `GET /codelists/{id}`)."""

    codelist_id: str
    label: str
    groups: list[tuple[str, str, list[str]]]  # (code, label, the table's codes it holds)
    kind: str = "Aggregation"

    def members(self, code: str) -> list[str]:
        return next(m for c, _, m in self.groups if c == code)


@dataclass
class FakeDimension:
    code: str
    label: str
    categories: list[tuple[str, str]]  # (code, label) in table order
    elimination: bool = False
    role: str | None = None  # "time" or "metric"
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    codelists: list[FakeCodelist] = field(default_factory=list)

    def codelist(self, codelist_id: str) -> FakeCodelist | None:
        return next((c for c in self.codelists if c.codelist_id == codelist_id), None)


@dataclass
class FakeTable:
    table_id: str
    label: str
    updated: str
    dimensions: list[FakeDimension]
    cells: CellFunction
    notes: list[str] = field(default_factory=list)

    def dimension(self, code: str) -> FakeDimension:
        return next(d for d in self.dimensions if d.code == code)


def _error(status: int, title: str) -> Response:
    body = json.dumps({"type": "Parameter error", "title": title, "status": status}).encode()
    return Response(status, body, JSON_HEADERS)


class FakeSsb:
    """Callable as a transport sender: `Transport(..., sender=FakeSsb(tables))`."""

    def __init__(
        self,
        tables: Sequence[FakeTable],
        *,
        klass_changes: Sequence[Mapping[str, str]] = (),
        kostra_groups: Mapping[int, Sequence[Mapping[str, str]]] | None = None,
        max_cells: int = 800_000,
        max_url_length: int = 2_100,
        shuffle_seed: int = 7,
        now: Callable[[], dt.datetime] | None = None,
        unrelated_per_day: int = 0,
    ) -> None:
        self.tables = {t.table_id: t for t in tables}
        self.klass_changes = list(klass_changes)
        self.kostra_groups = dict(kostra_groups or {})  # year -> correspondenceItems of KLASS 112 -> 131
        self.max_cells = max_cells
        self.max_url_length = max_url_length
        self.shuffle_seed = shuffle_seed
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self.unrelated_per_day = unrelated_per_day
        self.log: list[Request] = []

    # The transport calls this.
    def __call__(self, request: Request, timeout: float) -> Response:
        self.log.append(request)
        parsed = urllib.parse.urlsplit(request.url)
        if len(request.full_url()) > self.max_url_length:
            return Response(404, b"", {})
        parts = [p for p in parsed.path.split("/") if p]
        if "klass" in parts:
            return self._klass(parts, request)
        if "codelists" in parts:
            return self._codelist(parts[parts.index("codelists") + 1:])
        if "tables" not in parts:
            return _error(404, "Not found")
        rest = parts[parts.index("tables") + 1:]
        if not rest:
            return self._listing(request)
        table = self.tables.get(rest[0])
        if table is None:
            return _error(404, "Non-existent table")
        if len(rest) == 1:
            return self._json(self.table_info(table))
        if rest[1] == "metadata":
            return self._json(self.metadata(table))
        if rest[1] == "data":
            return self._data(table, request)
        return _error(404, "Not found")

    def listing_requests(self) -> list[Request]:
        return [r for r in self.log if r.url.rstrip("/").endswith("/tables")]

    def data_requests(self) -> list[Request]:
        return [r for r in self.log if r.url.endswith("/data")]

    @staticmethod
    def _json(document: Any) -> Response:
        return Response(200, json.dumps(document, ensure_ascii=False).encode("utf-8"), JSON_HEADERS)

    # -- documents ------------------------------------------------------
    def table_info(self, table: FakeTable) -> dict[str, Any]:
        time_dim = next(d for d in table.dimensions if d.role == "time")
        return {
            "type": "Table",
            "id": table.table_id,
            "label": table.label,
            "description": "",
            "updated": table.updated,
            "firstPeriod": time_dim.categories[0][0],
            "lastPeriod": time_dim.categories[-1][0],
            "category": "public",
            "variableNames": [d.label for d in table.dimensions],
            "source": "Statistisk sentralbyrå",
            "subjectCode": "al",
            "timeUnit": "Quarterly" if "K" in time_dim.categories[0][0] else "Annual",
            "discontinued": False,
            "links": [{"rel": "metadata", "hreflang": "no",
                       "href": f"https://data.ssb.no/api/pxwebapi/v2/tables/{table.table_id}/metadata?lang=no"}],
        }

    def _listing(self, request: Request) -> Response:
        params = {k.lower(): v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(request.full_url()).query)}
        try:
            past_days = int(params["pastdays"]) if "pastdays" in params else None
            page_size = int(params.get("pagesize", "20"))
            page_number = int(params.get("pagenumber", "1"))
        except ValueError:
            return _error(400, "Parameter error")
        if "query" in params:
            return _error(400, "the fake answers pastDays listings only")
        now = self.now()
        # SSB's index compares `updated` from now minus pastDays, cut to the hour (DateResolution.HOUR).
        since = (now - dt.timedelta(days=past_days)).replace(minute=0, second=0, microsecond=0) if past_days else None
        entries = [self.table_info(t) for t in self.tables.values()] + self._unrelated(now, past_days or 30)
        listed = sorted((e for e in entries if since is None or _utc(e["updated"]) >= since),
                        key=lambda e: (e["updated"], e["id"]), reverse=True)
        pages = math.ceil(len(listed) / page_size)
        if page_number > pages and pages != 0:
            return _error(404, "Page number out of range")
        base = "https://data.ssb.no/api/pxwebapi/v2/tables"
        links = [{"rel": "next", "hreflang": "no",
                  "href": f"{base}?lang=no&pastDays={past_days}&pageSize={page_size}&pageNumber={page_number + 1}"}] \
            if page_number < pages else []
        start = (page_number - 1) * page_size
        return self._json({
            "language": "no",
            "tables": listed[start:start + page_size],
            "page": {"pageNumber": page_number, "pageSize": page_size, "totalElements": len(listed),
                     "totalPages": pages, "links": links},
            "links": [{"rel": "self", "hreflang": "no", "href": request.full_url()}],
        })

    def _unrelated(self, now: dt.datetime, days: int) -> list[dict[str, Any]]:
        """Tables that are not ours, published at 08:00 Oslo time on each of the past `days` days."""
        out = []
        for day in range(days):
            moment = (now - dt.timedelta(days=day)).replace(hour=6, minute=0, second=0, microsecond=0)
            if moment > now:
                continue
            for n in range(self.unrelated_per_day):
                table_id = f"{90000 + (day * self.unrelated_per_day + n) % 10000:05d}"
                out.append({"type": "Table", "id": table_id, "label": f"{table_id}: Another table",
                            "updated": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "category": "public",
                            "source": "Statistisk sentralbyrå", "discontinued": False})
        return out

    def _codelist(self, rest: list[str]) -> Response:
        """`GET /codelists/{id}`, shaped as PxWebApi v2's CodeListResponse."""
        found = next((c for t in self.tables.values() for d in t.dimensions for c in d.codelists
                      if rest and c.codelist_id == rest[0]), None)
        if found is None:
            return _error(404, "Non-existent codelist")
        return self._json({
            "id": found.codelist_id, "label": found.label, "language": "no", "type": found.kind,
            "values": [{"code": code, "label": label, "valueMap": members} for code, label, members in found.groups],
            "links": [{"rel": "self", "hreflang": "no",
                       "href": f"https://data.ssb.no/api/pxwebapi/v2/codelists/{found.codelist_id}?lang=no"}],
        })

    def _dimension_document(self, dim: FakeDimension, codes: Sequence[str],
                            labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        labels = dict(dim.categories) | dict(labels or {})
        positions = list(enumerate(codes))
        # SSB's object index is not in position order; shuffle key order so
        # nothing downstream can lean on it.
        shuffled = positions[:]
        random.Random(f"{self.shuffle_seed}{dim.code}").shuffle(shuffled)
        category: dict[str, Any] = {
            "index": {code: i for i, code in shuffled},
            "label": {code: labels[code] for _, code in shuffled},
        }
        if dim.units:
            category["unit"] = {code: dim.units[code] for code in codes if code in dim.units}
        extension: dict[str, Any] = {"elimination": dim.elimination, "show": "value"}
        if dim.role != "metric":
            extension["codeLists"] = [
                {"id": c.codelist_id, "label": c.label, "type": c.kind,
                 "links": [{"rel": "metadata", "hreflang": "no",
                            "href": f"https://data.ssb.no/api/pxwebapi/v2/codelists/{c.codelist_id}?lang=no"}]}
                for c in dim.codelists]
        return {"label": dim.label, "category": category, "extension": extension}

    def _document(self, table: FakeTable, selection: Mapping[str, Sequence[str]],
                  group_labels: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
        ids = [d.code for d in table.dimensions]
        return {
            "version": "2.0",
            "class": "dataset",
            "label": table.label,
            "source": "Statistisk sentralbyrå",
            "updated": table.updated,
            "note": table.notes,
            "role": {
                "time": [d.code for d in table.dimensions if d.role == "time"],
                "metric": [d.code for d in table.dimensions if d.role == "metric"],
            },
            "id": ids,
            "size": [len(selection[c]) for c in ids],
            "dimension": {d.code: self._dimension_document(d, selection[d.code], (group_labels or {}).get(d.code))
                          for d in table.dimensions},
            "extension": {"px": {"tableid": table.table_id, "decimals": 1, "official-statistics": True,
                                 "aggregallowed": False, "language": "no"}},
        }

    def metadata(self, table: FakeTable) -> dict[str, Any]:
        document = self._document(table, {d.code: [c for c, _ in d.categories] for d in table.dimensions})
        document["value"] = []
        return document

    # -- data -------------------------------------------------------------
    def _selection(self, table: FakeTable, request: Request,
                   lists: dict[str, tuple[FakeCodelist, str]]) -> dict[str, list[str]] | Response:
        """The codes asked for per dimension; `lists` is filled with the code list (and outputValues) of each
        dimension selected through one."""
        wanted: dict[str, list[str]] = {}
        asked_lists: dict[str, tuple[str, str]] = {}
        if request.method == "POST":
            for item in (request.json_body or {}).get("selection", []):
                wanted[item["variableCode"]] = list(item["valueCodes"])
                if item.get("codeList"):
                    asked_lists[item["variableCode"]] = (item["codeList"], item.get("outputValues") or "aggregated")
        else:
            # What the server sees after URL decoding: a literal '+' is a space.
            query = urllib.parse.parse_qsl(urllib.parse.urlsplit(request.full_url()).query, keep_blank_values=True)
            outputs = {}
            for key, value in query:
                name = key[key.index("[") + 1:-1] if "[" in key else ""
                if key.lower().startswith("valuecodes["):
                    wanted[name] = value.split(",")
                elif key.lower().startswith("codelist["):
                    asked_lists[name] = (value, "aggregated")
                elif key.lower().startswith("outputvalues["):
                    outputs[name] = value
            asked_lists = {v: (c, outputs.get(v, o)) for v, (c, o) in asked_lists.items()}
        selection: dict[str, list[str]] = {}
        for var, (codelist_id, output) in asked_lists.items():
            dim = next((d for d in table.dimensions if d.code == var), None)
            if dim is None:
                return _error(400, "Non-existent variable")
            found = dim.codelist(codelist_id)
            if found is None:
                return _error(400, "Non-existent codelist")
            lists[var] = (found, output)
        for dim in table.dimensions:
            known = [c for c, _ in dim.categories]
            if dim.code in lists:
                known = [c for c, _, _ in lists[dim.code][0].groups]
            if dim.code not in wanted:
                if not dim.elimination:
                    return _error(400, "Missing selection for mandantory variable")
                selection[dim.code] = [known[0]]  # the eliminated total
                continue
            codes = wanted.pop(dim.code)
            if len(set(codes)) != len(codes):
                return Response(500, b"", {})
            expanded: list[str] = []
            for code in codes:
                if code == "*":
                    expanded += known
                elif code not in known:
                    return _error(400, "Non-existent value")
                else:
                    expanded.append(code)
            selection[dim.code] = expanded
        if wanted:
            return _error(400, "Non-existent variable")
        return selection

    def _data(self, table: FakeTable, request: Request) -> Response:
        lists: dict[str, tuple[FakeCodelist, str]] = {}
        selection = self._selection(table, request, lists)
        if isinstance(selection, Response):
            return selection
        dims = table.dimensions
        # As PxWebApi does (its data controller's GetSelection): with outputValues=single the groups asked for
        # are expanded to the table values they hold, in the order asked; aggregated answers with the groups,
        # each the sum of its values.
        for var, (codelist, output) in list(lists.items()):
            if output == "single":
                selection[var] = list(dict.fromkeys(m for g in selection[var] for m in codelist.members(g)))
                del lists[var]
        # Keep SSB's order: the table's own category order (a code list's, for its groups), not the request's.
        for dim in dims:
            categories = [c for c, _, _ in lists[dim.code][0].groups] if dim.code in lists else \
                [c for c, _ in dim.categories]
            order = {c: i for i, c in enumerate(categories)}
            selection[dim.code] = sorted(selection[dim.code], key=order.__getitem__)
        cells = math.prod(len(selection[d.code]) for d in dims)
        if cells > self.max_cells:
            return _error(403, "Too many cells selected")
        values: list[float | None] = []
        status: dict[str, str] = {}
        for flat, combo in enumerate(_product([selection[d.code] for d in dims])):
            value, symbol = self._cell(table, dict(zip((d.code for d in dims), combo)), lists)
            values.append(value)
            if symbol is not None:
                status[str(flat)] = symbol
        document = self._document(table, selection, {var: {c: label for c, label, _ in codelist.groups}
                                                      for var, (codelist, _) in lists.items()})
        document["value"] = values
        if status:
            document["status"] = status
        return self._json(document)

    @staticmethod
    def _cell(table: FakeTable, combo: dict[str, str], lists: Mapping[str, tuple[FakeCodelist, str]]) -> Cell:
        """A cell, or for a group of an aggregation the sum of its values' cells (missing if any is)."""
        grouped = [var for var in combo if var in lists]
        if not grouped:
            return table.cells(combo)
        var = grouped[0]
        total, symbols = 0.0, []
        for member in lists[var][0].members(combo[var]):
            value, symbol = FakeSsb._cell(table, {**combo, var: member}, {k: v for k, v in lists.items() if k != var})
            if value is None:
                symbols.append(symbol or "..")
            else:
                total += value
        return (None, symbols[0]) if symbols else (total, None)

    # -- KLASS ------------------------------------------------------------
    def _klass(self, parts: list[str], request: Request) -> Response:
        accept = dict((k.lower(), v) for k, v in request.headers).get("accept", "")
        if "json" not in accept:
            return Response(200, b"<?xml version='1.0'?><codeChangeList/>", {"content-type": "application/xml"})
        if parts[-1] == "changes" and "131" in parts:
            return self._json({"codeChanges": self.klass_changes})
        if parts[-1] == "correspondsAt" and "112" in parts:
            params = dict(request.params)
            if params.get("targetClassificationId") != "131" or "date" not in params:
                return _error(400, "targetClassificationId and date are required")
            year = int(params["date"][:4])
            if year not in self.kostra_groups:
                return _error(404, f"no correspondence for {params['date']}")
            return self._json({"correspondenceItems": list(self.kostra_groups[year])})
        return _error(404, "Not found")


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _product(lists: Sequence[Sequence[str]]):
    # itertools.product keeps the last dimension fastest, as JSON-stat's row-major order wants.
    import itertools

    return itertools.product(*lists)
