"""Client for SSB KLASS (https://data.ssb.no/api/klass/v1), classification 131 (kommuner).

KLASS answers XML unless asked for JSON. The `changes` endpoint lists every
renumbering, merger and split; chained transitively it tells, for any
municipality code that once existed, which of today's codes it became
(0220 Asker, 0627 Røyken, 0628 Hurum → 3025 → 3203).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from styringsdata.raw.landing import LandingZone, Payload, utc_now
from styringsdata.sources.transport import Response, SourceMode, Transport

KLASS_BASE_URL = "https://data.ssb.no/api/klass/v1"
MUNICIPALITY_CLASSIFICATION = "131"
# Municipality changes are asked for from this date (the first year the indicators reach back to).
CHANGES_FROM = dt.date(2018, 1, 1)
CHANGES_TABLE = f"{MUNICIPALITY_CLASSIFICATION}-changes"
KLASS_HOST = "data.ssb.no"
# The vintage name and manifest origin of an answer taken from the bundled snapshots because KLASS itself failed
# and this installation had no answer of its own yet (src/styringsdata/defs/klass.py).
BUNDLED = "bundled"


class KlassError(ValueError):
    pass


@dataclass(frozen=True)
class CodeChange:
    old_code: str
    old_name: str
    new_code: str
    new_name: str
    change_occurred: dt.date


@dataclass(frozen=True)
class LineageRow:
    """`from_code` flowed into today's `to_code`; `successor_count` > 1 means a split."""

    from_code: str
    from_name: str
    to_code: str
    to_name: str
    changed_on: dt.date
    successor_count: int


class KlassClient:
    def __init__(self, transport: Transport, base_url: str = KLASS_BASE_URL) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")

    def changes_request(self, from_date: dt.date, to_date: dt.date | None = None) -> tuple[str, list[tuple[str, str]]]:
        params = [("from", from_date.isoformat())]
        if to_date is not None:
            params.append(("to", to_date.isoformat()))
        params.append(("includeFuture", "true"))
        return f"{self.base_url}/classifications/{MUNICIPALITY_CLASSIFICATION}/changes", params

    def fetch_changes(self, from_date: dt.date, to_date: dt.date | None = None) -> Response:
        url, params = self.changes_request(from_date, to_date)
        return self.transport.get(url, params, headers={"Accept": "application/json"})


def parse_changes(body: bytes, source: str = "KLASS changes") -> list[CodeChange]:
    if body.lstrip().startswith(b"<"):
        raise KlassError(f"{source}: got XML/HTML, expected JSON (send Accept: application/json)")
    try:
        document: Any = json.loads(body)
    except ValueError as exc:
        raise KlassError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("codeChanges"), list):
        raise KlassError(f"{source}: expected an object with a 'codeChanges' list")
    changes = []
    for i, row in enumerate(document["codeChanges"]):
        try:
            changes.append(
                CodeChange(
                    old_code=(row.get("oldCode") or "").strip(),
                    old_name=(row.get("oldName") or "").strip(),
                    new_code=(row.get("newCode") or "").strip(),
                    new_name=(row.get("newName") or "").strip(),
                    change_occurred=dt.date.fromisoformat(row["changeOccurred"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KlassError(f"{source}: codeChanges[{i}] is malformed ({exc!r}): {row!r}") from exc
    return changes


def build_lineage(changes: Iterable[CodeChange]) -> list[LineageRow]:
    """Chain changes transitively to today's codes.

    A change that keeps the number (Stavanger 1103 → 1103 in 2020, when it
    absorbed Finnøy and Rennesøy) is kept: KLASS lists such rows because the
    territory changed, so pre-change data covers a smaller area. An empty new code
    means the code ceased without successor; an empty old code is a creation.
    """
    edges: dict[str, list[CodeChange]] = defaultdict(list)
    for change in changes:
        if not change.old_code or not change.new_code:
            continue
        edges[change.old_code].append(change)

    def successors(code: str, after: dt.date, seen: frozenset[str]) -> set[tuple[str, str]]:
        later = [c for c in edges.get(code, []) if c.change_occurred > after]
        if not later:
            return set()
        first_date = min(c.change_occurred for c in later)
        result: set[tuple[str, str]] = set()
        for change in (c for c in later if c.change_occurred == first_date):
            if change.new_code in seen and change.new_code != code:
                raise KlassError(f"KLASS changes form a cycle through {change.new_code}")
            onward = successors(change.new_code, first_date, seen | {change.new_code})
            result |= onward or {(change.new_code, change.new_name)}
        return result

    rows = []
    for code, outgoing in sorted(edges.items()):
        first = min(outgoing, key=lambda c: c.change_occurred)
        targets = successors(code, dt.date.min, frozenset({code}))
        for to_code, to_name in sorted(targets):
            rows.append(
                LineageRow(
                    from_code=code,
                    from_name=first.old_name,
                    to_code=to_code,
                    to_name=to_name,
                    changed_on=first.change_occurred,
                    successor_count=len(targets),
                )
            )
    return rows


@dataclass(frozen=True)
class CodeValidity:
    """When municipality codes began and ceased, as far as the changes KLASS was asked for reach: a code in
    neither map was valid throughout. A code is valid in calendar year Y when it began in Y or earlier and
    ceased after Y (a change takes effect on 1 January)."""

    started_on: dict[str, dt.date]  # a code that first appears as the new code of a change
    ceased_on: dict[str, dt.date]  # a code changed away and not given back later
    predecessors: dict[str, tuple[str, ...]]  # the old codes of the change a code began with


def code_validity(changes: Iterable[CodeChange]) -> CodeValidity:
    """One reading of KLASS 131's changes for every check of a code against a year (Udir's files; the registry's
    reference). A code kept through a change (Stavanger 1103 -> 1103 in 2020, when it absorbed Finnøy and
    Rennesøy) neither began nor ceased."""
    changes = [c for c in changes if c.old_code and c.new_code]
    started: dict[str, dt.date] = {}
    ceased: dict[str, dt.date] = {}
    for change in changes:
        if change.new_code != change.old_code and not any(
                earlier.old_code == change.new_code and earlier.change_occurred <= change.change_occurred
                for earlier in changes):
            started[change.new_code] = min(started.get(change.new_code, change.change_occurred),
                                           change.change_occurred)
        if not any(later.new_code == change.old_code and later.change_occurred >= change.change_occurred
                   for later in changes):
            ceased[change.old_code] = min(ceased.get(change.old_code, change.change_occurred), change.change_occurred)
    predecessors = {code: tuple(sorted({c.old_code for c in changes
                                        if c.new_code == code and c.change_occurred == day and c.old_code != code}))
                    for code, day in started.items()}
    return CodeValidity(started, ceased, predecessors)


def today_codes(lineage: Iterable[LineageRow], code: str) -> list[str]:
    mapped = sorted({row.to_code for row in lineage if row.from_code == code})
    return mapped or [code]


@dataclass(frozen=True)
class KlassRefresh:
    vintage: str
    changed: bool
    landing_path: Path
    changes: int


def bundled_client(snapshot_dir: Path) -> KlassClient:
    """KLASS as the bundled snapshots recorded it: what a first run falls back on when KLASS fails."""
    return KlassClient(Transport(SourceMode.REPLAY, snapshot_dir))


def _vintage(fetched_at: str, digest: str, bundled: bool) -> str:
    # the fetch time first, so vintages sort; the hash last, the change marker (KLASS has no `updated`)
    return f"{fetched_at.replace(':', '').replace('-', '')}-{BUNDLED + '-' if bundled else ''}{digest[:12]}"


def _origin(responses: Iterable[Response], bundled: bool) -> str:
    if bundled:
        return BUNDLED
    return "snapshot" if all(r.from_snapshot for r in responses) else "live"


def refresh_changes(client: KlassClient, landing: LandingZone, from_date: dt.date, *,
                    bundled: bool = False) -> KlassRefresh:
    """Fetch classification 131 changes; a new vintage only when the answer differs.

    KLASS has no `updated` stamp, so the payload's hash decides: the vintage
    name starts with the fetch time (so vintages sort) and ends with the hash.
    `bundled`: the client answers from the bundled snapshots, and the vintage and its manifest say so.
    """
    response = client.fetch_changes(from_date)
    changes = parse_changes(response.body, source=response.url)
    digest = hashlib.sha256(response.body).hexdigest()
    table = CHANGES_TABLE
    latest = landing.latest_vintage("klass", table)
    if latest is not None and latest.endswith(digest[:12]):
        return KlassRefresh(latest, False, landing.vintage_dir("klass", table, latest), len(changes))
    fetched_at = utc_now()
    vintage = _vintage(fetched_at, digest, bundled)
    url, params = client.changes_request(from_date)
    payload = Payload("changes.json", url, "GET", tuple(params), None, response.body, fetched_at)
    path = landing.write_vintage("klass", table, vintage, [payload], source_updated=None,
                                 extra={"origin": _origin([response], bundled)})
    return KlassRefresh(vintage, True, path, len(changes))


# -- KOSTRA groups: classification 112 ------------------------------------------------------------

KOSTRA_GROUP_CLASSIFICATION = "112"
KOSTRA_GROUPS_TABLE = f"{KOSTRA_GROUP_CLASSIFICATION}-kostra-groups"


@dataclass(frozen=True)
class GroupMembership:
    """In `year`, municipality `municipality_code` belonged to KOSTRA group `group_code` (EKG01-EKG17)."""

    year: int
    group_code: str
    group_name: str
    municipality_code: str
    municipality_name: str


def kostra_groups_request(base_url: str, year: int) -> tuple[str, list[tuple[str, str]]]:
    # The grouping valid on 1 January of the statistical year (KOSTRA regrouped from 2020 data onwards).
    return (f"{base_url}/classifications/{KOSTRA_GROUP_CLASSIFICATION}/correspondsAt",
            [("targetClassificationId", MUNICIPALITY_CLASSIFICATION), ("date", f"{year}-01-01")])


def fetch_kostra_groups(client: KlassClient, year: int) -> Response:
    url, params = kostra_groups_request(client.base_url, year)
    return client.transport.get(url, params, headers={"Accept": "application/json"})


def parse_kostra_groups(body: bytes, year: int, source: str = "KLASS 112") -> list[GroupMembership]:
    """`{"correspondenceItems": [{"sourceCode": "EKG12", "sourceName", "targetCode": "4601", "targetName"}]}`."""
    if body.lstrip().startswith(b"<"):
        raise KlassError(f"{source}: got XML/HTML, expected JSON (send Accept: application/json)")
    try:
        document: Any = json.loads(body)
    except ValueError as exc:
        raise KlassError(f"{source}: not valid JSON ({exc})") from exc
    items = document.get("correspondenceItems") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise KlassError(f"{source}: expected an object with a 'correspondenceItems' list")
    out = []
    for i, item in enumerate(items):
        try:
            group, municipality = str(item["sourceCode"]).strip(), str(item["targetCode"]).strip()
        except (KeyError, TypeError) as exc:
            raise KlassError(f"{source}: correspondenceItems[{i}] lacks {exc}: {item!r}") from exc
        if not group or not municipality:
            raise KlassError(f"{source}: correspondenceItems[{i}] has an empty code: {item!r}")
        out.append(GroupMembership(year, group, str(item.get("sourceName") or "").strip(), municipality.zfill(4),
                                   str(item.get("targetName") or "").strip()))
    if not out:
        raise KlassError(f"{source}: no KOSTRA group membership for {year}")
    return out


def refresh_kostra_groups(client: KlassClient, landing: LandingZone, years: Iterable[int], *,
                          bundled: bool = False) -> KlassRefresh:
    """KOSTRA group membership for every year, one call per year; a new vintage only when an answer changed.
    `bundled` as in refresh_changes."""
    payloads, count, responses = [], 0, []
    fetched_at = utc_now()
    for year in years:
        response = fetch_kostra_groups(client, year)
        responses.append(response)
        count += len(parse_kostra_groups(response.body, year, source=response.url))
        url, params = kostra_groups_request(client.base_url, year)
        payloads.append(Payload(f"groups-{year}.json", url, "GET", tuple(params), None, response.body, fetched_at))
    digest = hashlib.sha256(b"".join(p.body for p in payloads)).hexdigest()
    table = KOSTRA_GROUPS_TABLE
    latest = landing.latest_vintage("klass", table)
    if latest is not None and latest.endswith(digest[:12]):
        return KlassRefresh(latest, False, landing.vintage_dir("klass", table, latest), count)
    vintage = _vintage(fetched_at, digest, bundled)
    path = landing.write_vintage("klass", table, vintage, payloads, source_updated=None,
                                 extra={"origin": _origin(responses, bundled)})
    return KlassRefresh(vintage, True, path, count)


def changed_tables(client: KlassClient, landing: LandingZone, from_date: dt.date, years: Iterable[int]) -> list[str]:
    """The KLASS tables whose answer differs from their latest landed vintage; lands nothing.

    KLASS has no `updated`: the answer's hash is its change marker, compared exactly as refresh_changes and
    refresh_kostra_groups compare it (the same calls, the same digests). An answer that does not parse
    raises, as it would in the run.
    """
    changed = []
    response = client.fetch_changes(from_date)
    parse_changes(response.body, source=response.url)
    if not _is_latest(landing, CHANGES_TABLE, hashlib.sha256(response.body).hexdigest()):
        changed.append(CHANGES_TABLE)
    bodies = []
    for year in years:
        answer = fetch_kostra_groups(client, year)
        parse_kostra_groups(answer.body, year, source=answer.url)
        bodies.append(answer.body)
    if not _is_latest(landing, KOSTRA_GROUPS_TABLE, hashlib.sha256(b"".join(bodies)).hexdigest()):
        changed.append(KOSTRA_GROUPS_TABLE)
    return changed


def _is_latest(landing: LandingZone, table: str, digest: str) -> bool:
    latest = landing.latest_vintage("klass", table)
    return latest is not None and latest.endswith(digest[:12])
