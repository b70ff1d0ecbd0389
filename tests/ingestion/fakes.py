"""Small fixtures shared by the source-client tests."""

from __future__ import annotations

from snapshots.fakes.fake_ssb import FakeDimension, FakeTable
from styringsdata.sources.transport import Request, Response


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


def fhi_vaccination_table(modified: str = "2026-05-04", updated: str = "2026-05-04T10:15:31.4470513+00:00",
                          cells=None, periods: tuple[str, ...] = ("2021_2021", "2022_2022")):
    """FHI's table 173 as a public query shows it: GEO, AAR and MEASURE_TYPE (RATE, SMR), nothing else."""
    from snapshots.fakes.fake_fhi import FakeFhiDimension, FakeFhiTable

    def default(combo):
        if combo["GEO"] == "0" and combo["AAR"] == "2022_2022":
            return None
        return 96.0 + int(combo["AAR"][:4]) - 2021

    return FakeFhiTable("173", "Vaksinasjonsdekning", modified, updated, [
        FakeFhiDimension("GEO", "Geografi", [("3203", "Asker"), ("0220", "Asker (-2019)"), ("0", "Hele landet")]),
        FakeFhiDimension("AAR", "År", [(p, p) for p in periods]),
        FakeFhiDimension("MEASURE_TYPE", "Måltall", [("RATE", "prosent"), ("SMR", "standardisert")]),
    ], cells or default)


def fhi_specs(geo: tuple[str, ...] = ("3203", "0"), first: int = 2019, last: int = 2022, pin=None, max_rows=50_000,
              measure: str = "RATE"):
    from styringsdata.sources.fhi import FhiIndicator, FhiSpecs

    return FhiSpecs("nokkel", geo, first, last, (FhiIndicator("HEL01", "173", measure, "Vaksinasjonsdekning",
                                                              pin or {}, "C", "test"),), max_rows)
