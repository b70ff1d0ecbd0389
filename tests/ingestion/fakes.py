"""Small fixtures shared by the source-client tests."""

from __future__ import annotations

from ingestion.fake_ssb import FakeDimension, FakeTable
from ingestion.transport import Request, Response


class FakeClock:
    """Time that only moves when someone sleeps: retries and rate limits are tested without waiting."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def small_table(table_id: str = "99999", regions: int = 3, years: int = 3, extra_codes: tuple[str, ...] = ()) -> FakeTable:
    region_codes = [(f"{i:04d}", f"Kommune {i}") for i in range(1, regions + 1)]
    return FakeTable(
        table_id=table_id,
        label=f"{table_id}: Test table",
        updated="2026-03-15T07:00:00Z",
        dimensions=[
            FakeDimension("Region", "region", region_codes, elimination=True),
            FakeDimension("Alder", "alder", [("15-74", "15-74 år"), ("105+", "105 år og over"), *((c, c) for c in extra_codes)],
                          elimination=True),
            FakeDimension("ContentsCode", "statistikkvariabel", [("Personer", "Personer")], role="metric",
                          units={"Personer": {"base": "personer", "decimals": 0}}),
            FakeDimension("Tid", "år", [(str(2020 + i), str(2020 + i)) for i in range(years)], role="time"),
        ],
        cells=lambda combo: (None, ":") if combo["Region"] == "0002" and combo["Tid"] == "2021"
        else (float(int(combo["Region"]) * 1000 + int(combo["Tid"]) - 2000), None),
    )


class ScriptedSender:
    """Answers from a list, one per call: Responses or exceptions to raise."""

    def __init__(self, answers: list) -> None:
        self.answers = list(answers)
        self.calls: list[Request] = []

    def __call__(self, request: Request, timeout: float) -> Response:
        self.calls.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer
