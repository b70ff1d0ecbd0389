"""One period model: years, quarters, SSB's two-year intervals, FHI's rolling periods; a value shows on the last year."""

from __future__ import annotations

import datetime as dt

import pytest

from styringsdata.sources.periods import PeriodError, parse_period, periods_within


@pytest.mark.parametrize("code, kind, start, end, year", [
    ("2022", "year", dt.date(2022, 1, 1), dt.date(2022, 12, 31), 2022),
    ("2022K3", "quarter", dt.date(2022, 7, 1), dt.date(2022, 9, 30), 2022),
    ("2022K4", "quarter", dt.date(2022, 10, 1), dt.date(2022, 12, 31), 2022),
    ("2021-2022", "interval", dt.date(2021, 1, 1), dt.date(2022, 12, 31), 2022),   # 08487's Tid
    ("2016_2018", "interval", dt.date(2016, 1, 1), dt.date(2018, 12, 31), 2018),   # FHI's rolling AAR
    ("2024_2024", "year", dt.date(2024, 1, 1), dt.date(2024, 12, 31), 2024),       # FHI's single year
])
def test_periods_and_the_year_they_show_on(code, kind, start, end, year):
    period = parse_period(code)
    assert (period.kind, period.start, period.end, period.reference_year) == (kind, start, end, year)


@pytest.mark.parametrize("code", ["2022M01", "22", "2022K5", "2023-2021", "2021 - 2022", ""])
def test_unknown_shapes_are_refused_naming_the_code(code):
    with pytest.raises(PeriodError, match="period"):
        parse_period(code)


def test_a_request_asks_only_for_periods_the_table_has():
    intervals = ["2014-2015", "2015-2016", "2016-2017", "2017-2018", "2018-2019", "2019-2020"]
    assert periods_within(intervals, 2018, 2025) == ("2017-2018", "2018-2019", "2019-2020")
    assert periods_within(["2016_2018", "2019_2021", "2022_2024"], 2020, 2021) == ("2019_2021",)
    assert periods_within(["2015", "2016"], 2018, 2025) == ()
