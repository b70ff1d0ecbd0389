"""Client for FHI Statistikk's open API (https://statistikk-data.fhi.no/api/open/v1).

FHI answers JSON-stat2 too, but in its own dialect: array `category.index`, `role` entries null,
`status: ""`, years coded "2021_2021". Change detection uses `GET {source}/table?modifiedAfter=`:
a table not listed as modified since our last vintage costs that one listing and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingestion.jsonstat import JsonStatError, decode
from ingestion.landing import LandingZone, Payload, safe_name, utc_now
from ingestion.transport import Response, Transport

FHI_BASE_URL = "https://statistikk-data.fhi.no/api/open/v1"
SPECS_PATH = Path(__file__).with_name("fhi_tables.yaml")


class FhiError(ValueError):
    pass


@dataclass(frozen=True)
class FhiTable:
    indicator_id: str
    table_id: str
    measure: str
    title: str


@dataclass(frozen=True)
class FhiSpecs:
    source_id: str
    geo: tuple[str, ...]
    first_year: int
    last_year: int
    tables: tuple[FhiTable, ...]


def load_fhi_specs(path: Path = SPECS_PATH) -> FhiSpecs:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables = tuple(FhiTable(str(t["indicator_id"]), safe_name(str(t["table_id"]), "FHI table id"), str(t["measure"]),
                            t.get("title", "")) for t in document["tables"])
    return FhiSpecs(safe_name(document["source_id"], "FHI source id"), tuple(str(g) for g in document["geo"]),
                    int(document["years"]["first"]), int(document["years"]["last"]), tables)


class FhiClient:
    def __init__(self, transport: Transport, base_url: str = FHI_BASE_URL) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")

    def modified_tables(self, source_id: str, modified_after: dt.date | None) -> tuple[set[str], Response]:
        params = [("modifiedAfter", modified_after.isoformat())] if modified_after else []
        response = self.transport.get(f"{self.base_url}/{source_id}/table", params)
        body = _json(response, f"FHI {source_id} table list")
        if not isinstance(body, list):
            raise FhiError(f"{response.url}: expected a list of tables, got {type(body).__name__}")
        return {str(t.get("tableId")) for t in body}, response

    def query(self, source_id: str, table_id: str) -> dict[str, Any]:
        response = self.transport.get(f"{self.base_url}/{source_id}/Table/{table_id}/query")
        body = _json(response, f"FHI table {table_id} query")
        if not isinstance(body, dict) or not isinstance(body.get("dimensions"), list):
            raise FhiError(f"{response.url}: the ready-made query has no 'dimensions' list")
        return body

    def data(self, source_id: str, table_id: str, body: dict[str, Any]) -> Response:
        return self.transport.post(f"{self.base_url}/{source_id}/Table/{table_id}/data", body)


def build_request(query: dict[str, Any], specs: FhiSpecs, table: FhiTable) -> dict[str, Any]:
    """FHI's own ready-made body, narrowed to our municipalities, years and measure."""
    dimensions = []
    for dim in query["dimensions"]:
        code = dim.get("code")
        if code == "GEO":
            dim = {"code": "GEO", "filter": "item", "values": list(specs.geo)}
        elif code == "AAR":
            dim = {"code": "AAR", "filter": "all", "values": ["*"]}
        elif code == "MEASURE_TYPE":
            dim = {"code": "MEASURE_TYPE", "filter": "item", "values": [table.measure]}
        dimensions.append(dim)
    if not {"GEO", "AAR", "MEASURE_TYPE"} <= {d["code"] for d in dimensions}:
        raise FhiError(f"FHI table {table.table_id}: the query lacks GEO, AAR or MEASURE_TYPE")
    return {"dimensions": dimensions, "response": {"format": "json-stat2", "maxRowCount": 50000}}


@dataclass(frozen=True)
class FhiRefresh:
    table_id: str
    vintage: str
    changed: bool
    landing_path: Path | None


def refresh_table(client: FhiClient, landing: LandingZone, specs: FhiSpecs, table: FhiTable,
                  modified: set[str] | None) -> FhiRefresh:
    """Fetch a table when it is new to us or FHI lists it as modified since our last vintage."""
    latest = landing.latest_vintage("fhi", table.table_id)
    if latest is not None and modified is not None and table.table_id not in modified:
        return FhiRefresh(table.table_id, latest, False, landing.vintage_dir("fhi", table.table_id, latest))
    fetched_at = utc_now()
    query = client.query(specs.source_id, table.table_id)
    body = build_request(query, specs, table)
    response = client.data(specs.source_id, table.table_id, body)
    url = f"{client.base_url}/{specs.source_id}/Table/{table.table_id}/data"
    try:
        dataset = decode(response.body, source=response.url or url)
        for dim in ("GEO", "AAR", "MEASURE_TYPE"):
            dataset.dimension(dim)  # raises naming the dimensions FHI did send
    except JsonStatError as exc:
        kept = landing.write_rejected("fhi", table.table_id, [Payload("data-001.json", url, "POST", (), body,
                                                                       response.body, fetched_at)], reason=str(exc))
        raise FhiError(f"FHI table {table.table_id} ({table.indicator_id}): the data answer cannot be used: {exc}. "
                       f"Nothing was landed or loaded; the answer is kept in {kept}; the next run fetches again.") from exc
    digest = hashlib.sha256(response.body).hexdigest()[:12]
    if latest is not None and latest.endswith(digest):
        return FhiRefresh(table.table_id, latest, False, landing.vintage_dir("fhi", table.table_id, latest))
    stamp = (dataset.updated or fetched_at)[:19].replace(":", "").replace("-", "")
    vintage = f"{stamp}-{digest}"
    path = landing.write_vintage("fhi", table.table_id, vintage,
                                 [Payload("data-001.json", url, "POST", (), body, response.body, fetched_at)],
                                 source_updated=dataset.updated, extra={"indicator_id": table.indicator_id,
                                                                        "title": table.title})
    return FhiRefresh(table.table_id, vintage, True, path)


def modified_since(landing: LandingZone, specs: FhiSpecs) -> dt.date | None:
    """The date to ask `modifiedAfter=` with: the oldest publication date among our latest vintages.

    None (list everything) while any table has no vintage yet. Dating by FHI's own publication time,
    not our fetch time, keeps the question the same from run to run until FHI changes something.
    """
    from ingestion.landing import read_manifest

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


def _json(response: Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise FhiError(f"{what}: {response.url} did not answer JSON ({exc}); first bytes {response.body[:80]!r}") from exc
