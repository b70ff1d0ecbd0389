"""An in-process stand-in for FHI Statistikk's open API, answering in FHI's JSON-stat2 dialect.

It serves the table list (`{source}/table[?modifiedAfter=]`), a table's `/dimension` answer (categories as a
tree: `{"value", "label", "children"}`), and `POST /data` with FHI's refusals: a dimension left out or an
unknown code (400), more rows than `maxRowCount` (400). Values may be numbers, null or a symbol such as "k"
(FHI writes suppressed cells that way, inside `value`). Used to build the bundled snapshots and by tests; the
figures come from a caller-supplied function.
"""

from __future__ import annotations

import itertools
import json
import math
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from styringsdata.sources.transport import Request, Response

HEADERS = {"content-type": "application/json; charset=utf-8"}
FhiCell = float | str | None  # a number, null, or a symbol written into `value`


@dataclass
class FakeFhiDimension:
    code: str
    label: str
    categories: Sequence[tuple[str, str]]  # (code, label) in table order
    parent: Mapping[str, str] = field(default_factory=dict)  # child code -> parent code (FHI's category tree)
    units: Mapping[str, str] = field(default_factory=dict)  # MEASURE_TYPE: code -> unit label


@dataclass
class FakeFhiTable:
    table_id: str
    title: str
    modified: str  # ISO date of the last change, for ?modifiedAfter=
    updated: str  # publication time carried in the data response
    dimensions: Sequence[FakeFhiDimension]
    cells: Callable[[Mapping[str, str]], FhiCell]

    def dimension(self, code: str) -> FakeFhiDimension:
        return next(d for d in self.dimensions if d.code == code)


def _error(title: str) -> Response:
    return Response(400, json.dumps({"title": title, "status": 400}).encode(), HEADERS)


class FakeFhi:
    def __init__(self, source_id: str, tables: Sequence[FakeFhiTable], listed_only: Sequence[tuple[int, str]] = ()
                 ) -> None:
        self.source_id = source_id
        self.tables = {t.table_id: t for t in tables}
        self.listed_only = list(listed_only)  # (id, title) of tables that are listed but not served
        self.log: list[Request] = []

    def __call__(self, request: Request, timeout: float) -> Response:
        self.log.append(request)
        parts = [p for p in urllib.parse.urlsplit(request.url).path.split("/") if p]
        try:
            at = parts.index(self.source_id)
        except ValueError:
            return Response(404, b'{"title": "Unknown source"}', HEADERS)
        rest = parts[at + 1:]
        if [r.lower() for r in rest] == ["table"]:
            after = dict(request.params).get("modifiedAfter")
            listed = [{"tableId": int(t.table_id), "title": t.title, "publishedAt": t.updated, "modifiedAt": t.modified}
                      for t in self.tables.values() if after is None or t.modified > after]
            if after is None:
                listed += [{"tableId": i, "title": title, "publishedAt": "2025-11-10T08:00:00+00:00",
                            "modifiedAt": "2025-11-10"} for i, title in self.listed_only]
            return Response(200, json.dumps(listed, ensure_ascii=False).encode(), HEADERS)
        if len(rest) >= 3 and rest[0].lower() == "table":
            table = self.tables.get(rest[1])
            if table is None:
                return Response(404, json.dumps({"title": f"Table {rest[1]} not found"}).encode(), HEADERS)
            if rest[2] == "dimension":
                return Response(200, json.dumps(self._dimensions(table), ensure_ascii=False).encode(), HEADERS)
            if rest[2] == "data" and request.method == "POST":
                return self._data(table, request.json_body or {})
        return Response(404, b'{"title": "Not found"}', HEADERS)

    @staticmethod
    def _dimensions(table: FakeFhiTable) -> dict:
        def tree(dim: FakeFhiDimension, parent: str | None) -> list[dict]:
            return [{"value": code, "label": label, "children": tree(dim, code)}
                    for code, label in dim.categories if dim.parent.get(code) == parent]

        return {"dimensions": [{"code": d.code, "label": d.label, "categories": tree(d, None)}
                               for d in table.dimensions]}

    def _data(self, table: FakeFhiTable, body: Mapping) -> Response:
        wanted = {d.get("code"): d for d in body.get("dimensions", [])}
        selection: list[list[str]] = []
        for dim in table.dimensions:
            if dim.code not in wanted:
                return _error(f"Dimension {dim.code} must be filtered")
            known = [c for c, _ in dim.categories]
            spec = wanted.pop(dim.code)
            if spec.get("filter") == "all":
                codes = known
            else:
                codes = list(spec.get("values", []))
                unknown = [c for c in codes if c not in known]
                if unknown:
                    return _error(f"Unknown value {unknown[0]} in dimension {dim.code}")
            selection.append([c for c in known if c in codes])  # FHI answers in the table's order
        if wanted:
            return _error(f"Unknown dimension {next(iter(wanted))}")
        rows = math.prod(len(s) for s in selection)
        cap = (body.get("response") or {}).get("maxRowCount")
        if cap and rows > cap:
            return _error(f"The query returns {rows} rows, more than maxRowCount {cap}")
        codes = [d.code for d in table.dimensions]
        values = [table.cells(dict(zip(codes, combo))) for combo in itertools.product(*selection)]
        dimension = {}
        for dim, chosen in zip(table.dimensions, selection):
            labels = dict(dim.categories)
            category = {"index": chosen, "label": {c: labels[c] for c in chosen}}
            if dim.units:
                category["unit"] = {c: {"decimals": 1, "label": dim.units.get(c, c), "symbol": None, "position": None}
                                    for c in chosen}
            dimension[dim.code] = {"label": dim.label, "category": category}
        document = {
            "class": "dataset", "version": "2.0", "label": table.title, "updated": table.updated,
            "id": codes, "size": [len(s) for s in selection],
            "role": {"time": None, "geo": None, "metric": ["MEASURE_TYPE"]},
            "dimension": dimension, "value": values, "status": "",
        }
        # FHI's answers start with a UTF-8 byte order mark.
        return Response(200, b"\xef\xbb\xbf" + json.dumps(document, ensure_ascii=False).encode(), HEADERS)
