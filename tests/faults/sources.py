"""Fault injection around the in-process fakes of SSB and FHI (snapshots/fakes/fake_ssb.py, snapshots/fakes/fake_fhi.py).

`FaultySender` wraps a fake: requests whose path ends with a given suffix are answered from a list of
faults first (a Response to return or an exception to raise), then by the fake itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from snapshots.fakes.fake_ssb import FakeSsb
from styringsdata.raw.landing import LandingZone
from styringsdata.raw.raw_store import load_ssb_vintage
from styringsdata.sources.ssb import table_spec, SsbClient, TableSpec, TableSpecs, refresh_table
from styringsdata.sources.transport import Request, Response, RetryPolicy, SourceMode, Transport
from tests.ingestion.fakes import FakeClock, small_table

SSB_DATA_URL = "https://data.ssb.no/api/pxwebapi/v2/tables/99999/data"
SPEC = table_spec("99999", "test_table", "Test", "statbank", "Region",
                 {"ContentsCode": ("Personer",), "Alder": ("15-74",)})
SPECS = TableSpecs((SPEC,), ("0001", "0002", "0003"), (), (), 2020, 2022)
FIRST_UPDATED = "2026-03-15T07:00:00Z"
SECOND_UPDATED = "2026-06-15T06:00:00Z"


class FaultySender:
    def __init__(self, inner, faults: dict[str, list]) -> None:
        self.inner = inner
        self.faults = {suffix: list(answers) for suffix, answers in faults.items()}
        self.calls: list[Request] = []
        self.answered: list[Response] = []  # what the client received, faults included

    def __call__(self, request: Request, timeout: float) -> Response:
        self.calls.append(request)
        self.answered.append(self._answer(request, timeout))
        return self.answered[-1]

    def _answer(self, request: Request, timeout: float) -> Response:
        path = request.url.split("?")[0]
        for suffix, answers in self.faults.items():
            if path.endswith(suffix) and answers:
                answer = answers.pop(0)
                if isinstance(answer, BaseException):
                    raise answer
                if callable(answer):  # a function of the real answer, e.g. one that cuts the body
                    return answer(self.inner(request, timeout))
                return answer
        return self.inner(request, timeout)


@dataclass
class SsbWorld:
    """A landing zone and work file holding one loaded vintage of table 99999, and a way to fetch the next."""

    root: Path
    landing: LandingZone
    con: duckdb.DuckDBPyConnection
    first_vintage: str

    def client(self, faults: dict[str, list] | None = None, *, updated: str = SECOND_UPDATED, table=None,
               attempts: int = 3) -> tuple[SsbClient, FaultySender, FakeClock]:
        table = table or next_table(updated)
        sender = FaultySender(FakeSsb([table]), faults or {})
        clock = FakeClock()
        transport = Transport(SourceMode.LIVE, sender=sender, clock=clock, retry=RetryPolicy(max_attempts=attempts))
        return SsbClient(transport), sender, clock

    def refresh(self, client: SsbClient, spec: TableSpec = SPEC):
        return refresh_table(client, self.landing, SPECS, spec)

    def raw_state(self) -> tuple:
        return (
            self.con.execute('select "Region", "Tid", value, status, _vintage from raw.ssb_99999 order by all').fetchall(),
            self.con.execute("select table_id, _vintage, rows from raw.ssb_tables order by all").fetchall(),
        )

    def incomplete_dirs(self) -> list[Path]:
        return [p for p in self.root.rglob(".incomplete-*")]


def next_table(updated: str = SECOND_UPDATED):
    """Table 99999 after SSB published again: new `updated`, revised figures."""
    table = small_table()
    table.updated = updated
    base = table.cells
    table.cells = lambda combo: (lambda v, s: (None if v is None else v + 0.5, s))(*base(combo))
    return table


def ssb_world(tmp_path: Path) -> SsbWorld:
    landing = LandingZone(tmp_path / "landing")
    transport = Transport(SourceMode.LIVE, sender=FakeSsb([small_table()]), clock=FakeClock())
    first = refresh_table(SsbClient(transport), landing, SPECS, SPEC)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    load_ssb_vintage(con, first.landing_path)
    return SsbWorld(tmp_path, landing, con, first.vintage)


def cut(fraction: float = 0.5):
    """An answer whose body stops partway, as when a proxy or the connection gives up."""
    return lambda response: Response(response.status, response.body[: int(len(response.body) * fraction)],
                                     response.headers, response.url)


def mutate_json(change):
    """An answer whose JSON document is altered by `change(document)`."""
    def apply(response: Response) -> Response:
        document = json.loads(response.body)
        change(document)
        return Response(response.status, json.dumps(document).encode(), response.headers, response.url)
    return apply
