"""An in-process stand-in for SSB's PxWebApi v2 and KLASS.

It answers in the real formats (JSON-stat2 with object-style `category.index`
in shuffled key order, sparse `status` objects with null values, RFC 7807-like
errors) and with SSB's real refusals: unknown codes (400), too many cells
(403), URLs over ~2 100 characters (404), duplicate codes (500 with an empty
body), a literal '+' that arrives as a space (400). It is used to build the
bundled snapshots (snapshots/build.py), by the tests and by the benchmarks.
The figures it serves come from `FakeTable.cells`, supplied by the caller.
"""

from __future__ import annotations

import json
import math
import random
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ingestion.transport import Request, Response

Cell = tuple[float | None, str | None]  # (value, SSB status symbol)
CellFunction = Callable[[Mapping[str, str]], Cell]

JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}


@dataclass
class FakeDimension:
    code: str
    label: str
    categories: list[tuple[str, str]]  # (code, label) in table order
    elimination: bool = False
    role: str | None = None  # "time" or "metric"
    units: dict[str, dict[str, Any]] = field(default_factory=dict)


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
    ) -> None:
        self.tables = {t.table_id: t for t in tables}
        self.klass_changes = list(klass_changes)
        self.kostra_groups = dict(kostra_groups or {})  # year -> correspondenceItems of KLASS 112 -> 131
        self.max_cells = max_cells
        self.max_url_length = max_url_length
        self.shuffle_seed = shuffle_seed
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
        if "tables" not in parts:
            return _error(404, "Not found")
        rest = parts[parts.index("tables") + 1:]
        table = self.tables.get(rest[0]) if rest else None
        if table is None:
            return _error(404, "Non-existent table")
        if len(rest) == 1:
            return self._json(self.table_info(table))
        if rest[1] == "metadata":
            return self._json(self.metadata(table))
        if rest[1] == "data":
            return self._data(table, request)
        return _error(404, "Not found")

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

    def _dimension_document(self, dim: FakeDimension, codes: Sequence[str]) -> dict[str, Any]:
        labels = dict(dim.categories)
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
        return {"label": dim.label, "category": category,
                "extension": {"elimination": dim.elimination, "show": "value"}}

    def _document(self, table: FakeTable, selection: Mapping[str, Sequence[str]]) -> dict[str, Any]:
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
            "dimension": {d.code: self._dimension_document(d, selection[d.code]) for d in table.dimensions},
            "extension": {"px": {"tableid": table.table_id, "decimals": 1, "official-statistics": True,
                                 "aggregallowed": False, "language": "no"}},
        }

    def metadata(self, table: FakeTable) -> dict[str, Any]:
        document = self._document(table, {d.code: [c for c, _ in d.categories] for d in table.dimensions})
        document["value"] = []
        return document

    # -- data -------------------------------------------------------------
    def _selection(self, table: FakeTable, request: Request) -> dict[str, list[str]] | Response:
        wanted: dict[str, list[str]] = {}
        if request.method == "POST":
            for item in (request.json_body or {}).get("selection", []):
                wanted[item["variableCode"]] = list(item["valueCodes"])
        else:
            # What the server sees after URL decoding: a literal '+' is a space.
            query = urllib.parse.parse_qsl(urllib.parse.urlsplit(request.full_url()).query, keep_blank_values=True)
            for key, value in query:
                if key.lower().startswith("valuecodes["):
                    wanted[key[len("valueCodes["):-1]] = value.split(",")
        selection: dict[str, list[str]] = {}
        for dim in table.dimensions:
            known = [c for c, _ in dim.categories]
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
        selection = self._selection(table, request)
        if isinstance(selection, Response):
            return selection
        dims = table.dimensions
        # Keep SSB's order: the table's own category order, not the request's.
        for dim in dims:
            order = {c: i for i, (c, _) in enumerate(dim.categories)}
            selection[dim.code] = sorted(selection[dim.code], key=order.__getitem__)
        cells = math.prod(len(selection[d.code]) for d in dims)
        if cells > self.max_cells:
            return _error(403, "Too many cells selected")
        values: list[float | None] = []
        status: dict[str, str] = {}
        for flat, combo in enumerate(_product([selection[d.code] for d in dims])):
            value, symbol = table.cells(dict(zip((d.code for d in dims), combo)))
            values.append(value)
            if symbol is not None:
                status[str(flat)] = symbol
        document = self._document(table, selection)
        document["value"] = values
        if status:
            document["status"] = status
        return self._json(document)

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


def _product(lists: Sequence[Sequence[str]]):
    # itertools.product keeps the last dimension fastest, as JSON-stat's row-major order wants.
    import itertools

    return itertools.product(*lists)
