"""An in-process stand-in for FHI Statistikk's open API, answering in FHI's JSON-stat2 dialect.

Used to build the bundled snapshots and by tests; the figures come from a caller-supplied function.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ingestion.transport import Request, Response

HEADERS = {"content-type": "application/json; charset=utf-8"}
Cell = tuple[float | None, str | None]


@dataclass
class FakeFhiTable:
    table_id: str
    title: str
    modified: str  # ISO date of the last change, for ?modifiedAfter=
    updated: str  # publication time carried in the data response
    geo: Sequence[tuple[str, str]]
    years: Sequence[int]
    measures: Sequence[tuple[str, str]]
    cells: Callable[[str, int, str], float | None]


class FakeFhi:
    def __init__(self, source_id: str, tables: Sequence[FakeFhiTable]) -> None:
        self.source_id = source_id
        self.tables = {t.table_id: t for t in tables}
        self.log: list[Request] = []

    def __call__(self, request: Request, timeout: float) -> Response:
        self.log.append(request)
        parts = [p for p in urllib.parse.urlsplit(request.url).path.split("/") if p]
        try:
            at = parts.index(self.source_id)
        except ValueError:
            return Response(404, b'{"title": "Unknown source"}', HEADERS)
        rest = parts[at + 1:]
        if rest == ["table"]:
            after = dict(request.params).get("modifiedAfter")
            listed = [{"tableId": int(t.table_id), "title": t.title, "publishedAt": t.updated, "modifiedAt": t.modified}
                      for t in self.tables.values() if after is None or t.modified > after]
            return Response(200, json.dumps(listed, ensure_ascii=False).encode(), HEADERS)
        if len(rest) >= 3 and rest[0].lower() == "table" and rest[1] in self.tables:
            table = self.tables[rest[1]]
            if rest[2] == "query":
                return Response(200, json.dumps(self._query(table)).encode(), HEADERS)
            if rest[2] == "data" and request.method == "POST":
                return self._data(table, request.json_body or {})
        return Response(404, b'{"title": "Not found"}', HEADERS)

    @staticmethod
    def _query(table: FakeFhiTable) -> dict:
        return {"dimensions": [
            {"code": "GEO", "filter": "item", "values": [table.geo[0][0]]},
            {"code": "AAR", "filter": "bottom", "values": ["1"]},
            {"code": "KJONN", "filter": "item", "values": ["0"]},
            {"code": "ALDER", "filter": "item", "values": ["0_120"]},
            {"code": "MEASURE_TYPE", "filter": "item", "values": [table.measures[0][0]]},
        ], "response": {"format": "json-stat2", "maxRowCount": 50000}}

    def _data(self, table: FakeFhiTable, body: Mapping) -> Response:
        wanted = {d["code"]: d for d in body.get("dimensions", [])}
        geo_codes = dict(table.geo)
        geo = [g for g in wanted["GEO"]["values"] if g in geo_codes]
        if len(geo) != len(wanted["GEO"]["values"]):
            return Response(400, json.dumps({"title": "Unknown GEO value"}).encode(), HEADERS)
        years = [f"{y}_{y}" for y in table.years]
        measures = [m for m, _ in table.measures if m in wanted["MEASURE_TYPE"]["values"]]
        values: list[float | None] = []
        for g in geo:
            for y in table.years:
                for m in measures:
                    values.append(table.cells(g, y, m))
        labels = dict(table.measures)
        document = {
            "class": "dataset", "version": "2.0", "label": table.title, "updated": table.updated,
            "id": ["GEO", "AAR", "KJONN", "ALDER", "MEASURE_TYPE"], "size": [len(geo), len(years), 1, 1, len(measures)],
            "role": {"time": None, "geo": None, "metric": ["MEASURE_TYPE"]},
            "dimension": {
                "GEO": {"label": "Geografi", "category": {"index": geo, "label": {g: geo_codes[g] for g in geo}}},
                "AAR": {"label": "År", "category": {"index": years, "label": {y: y[:4] for y in years}}},
                "KJONN": {"label": "Kjønn", "category": {"index": ["0"], "label": {"0": "kjønn samlet"}}},
                "ALDER": {"label": "Alder", "category": {"index": ["0_120"], "label": {"0_120": "alle aldre"}}},
                "MEASURE_TYPE": {"label": "Måltall", "category": {"index": measures, "label": {m: labels[m] for m in measures},
                                 "unit": {m: {"decimals": 1, "label": labels[m], "symbol": None, "position": None}
                                          for m in measures}}},
            },
            "value": values, "status": "",
        }
        return Response(200, json.dumps(document, ensure_ascii=False).encode(), HEADERS)
