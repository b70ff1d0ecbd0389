"""The macro group's report draws a member's tjenesteprofil as KS does (issue 25), from the shared offline run.

Bærum's barnehage profile for the latest bundled year: the index of netto driftsutgifter per innbygger 1-5 år
is recomputed by hand from the recorded 12367 and 11805 answers (A / B against sum A / sum B over the members
valid that year), with the network's minimum and maximum, and must be what the chart draws and the table
prints. `styringsdata report --member` with a code that is not a member's gives one line and exit 2.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys

import duckdb
import pytest

from styringsdata.reporting import macro_analyses, macro_report
from styringsdata.reporting.numbers import format_number
from styringsdata.reporting.report import RunInfo
from tests.pipeline.conftest import ROOT
from tests.pipeline.test_asss_analyses import _asss_members, _cells, _recorded

BAERUM = "3201"
KOPP04 = "Netto driftsutgifter barnehager per innbygger 1-5 år (kr)"


@pytest.fixture(scope="module")
def work(offline_run, tmp_path_factory):
    copy = tmp_path_factory.mktemp("profiles") / "work.duckdb"
    shutil.copy(offline_run.data_dir / "work.duckdb", copy)
    con = duckdb.connect(str(copy), read_only=True)
    yield con
    con.close()


def _by_hand() -> tuple[int, float, float, float]:
    """(year, Bærum's index, the lowest and the highest member's index) of KOPP04 from the recorded tables."""
    a = _cells(_recorded("12367"), KOKfunksjon0000=("201", "211", "221"), KOKart0000="AGD2", KOKregnskapsomfa0000="A")
    b = _cells(_recorded("11805"), KOKalder0000="F001-005")
    year = max(int(y) for (_, y) in a)
    members = _asss_members(year)
    asss = 1000 * sum(a[(m, str(year))] for m in members) / sum(b[(m, str(year))] for m in members)
    values = {m: 1000 * a[(m, str(year))] / b[(m, str(year))] for m in members}
    return year, 100 * values[BAERUM] / asss, 100 * min(values.values()) / asss, 100 * max(values.values()) / asss


def test_a_members_profile_draws_the_index_on_the_network_range(work):
    year, index, low, high = _by_hand()
    (profile,) = macro_analyses.gather_profiles(work, [BAERUM])
    assert profile.name == "Bærum" and profile.years == [year - 2, year - 1, year]
    barnehage = next(a for a in profile.areas if a.area == "Barnehage")
    drawn = {p[0]: p[1:] for area, points in macro_analyses.chart_points(profile) if area == "Barnehage" for p in points}
    assert drawn[KOPP04] == pytest.approx((index, low, high), rel=1e-9)
    # KS's first barnehage indicator, the ressursbruksindikator, is drawn too; one that cannot be computed is not
    assert "Ressursbruksindikator. Barnehager" in drawn
    not_computed = dict(barnehage.not_computed)
    assert "Barn 1-2 år i barnehage av innbyggere 1-2 år (%)" in not_computed
    assert "Barn 1-2 år i barnehage av innbyggere 1-2 år (%)" not in drawn
    assert "barnehagestatistikk" in not_computed["Barn 1-2 år i barnehage av innbyggere 1-2 år (%)"]
    assert macro_analyses.render_profile_chart(profile, "#1f5f8b").startswith(b"\x89PNG")

    run = RunInfo(run_id="0123456789abcdef", started_at="2026-06-15T07:00:00+00:00", outcome="published",
                  home_municipality="3203")
    data = macro_report.gather(work, run, None, (BAERUM,))
    assert [p.name for p in data.profiles] == ["Asker", "Bærum"], "the home member first, then the one asked for"
    page = macro_report.render_html(data, {})
    section = page[page.index("<h3>Tjenesteprofil for Bærum</h3>"):page.index("<h2>4.")]
    (row,) = [r for r in re.findall(r"<tr>.*?</tr>", section) if KOPP04 in html.unescape(r)]
    cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    indicator = next(i for i in barnehage.drawn if i.name == KOPP04)
    assert cells[0] == KOPP04 and cells[1] == "prioritering" and cells[2] == "kr"
    assert cells[6] == format_number(index, 0)
    assert cells[7] == format_number(indicator.asss, 0)
    assert cells[8].endswith(f"({indicator.min_members})") and cells[9].endswith(f"({indicator.max_members})")
    assert not re.search(r"\d{4}", indicator.min_members + indicator.max_members), "members by name, not code"
    text = html.unescape(re.sub(r"<[^>]+>", " ", section))
    assert "Ressursbruksindikatoren for Bærum" in text and "Effekt av avskrivninger" in text
    assert "Effekt av utgiftsbehov" in text and "Arbeidsgiveravgift og pensjon er ikke korrigert for" in text
    assert "sier ikke i seg selv om den gjør det bedre eller dårligere" in html.unescape(page)


def test_report_member_with_an_unknown_code_gives_one_line(offline_run):
    result = subprocess.run([sys.executable, "-m", "styringsdata.cli", "report", "--audience", "makrogruppen",
                             "--member", "9999"], cwd=ROOT, env=offline_run.env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("styringsdata: --member='9999': not the code of an ASSS member (today's codes: 0301 Oslo")


def test_the_calendar_names_a_changed_expense_need_file_and_the_origin_of_each_analysis():
    """The calendar row for a changed expense-need index (mart analysis_revisions, source_table expense_need_index)
    names the file, not an SSB table; each analysis says where its figures and the changed inputs come from."""
    import datetime as dt

    change = {"municipality_code": BAERUM, "year": 2025, "source_table": "expense_need_index",
              "measure_label": "Barnehage", "used_in": "Ressursbruksindikator. Barnehage (behovskorrigering)",
              "preliminary_updated": dt.datetime(2026, 4, 1, 9), "preliminary_value": 95.0,
              "final_updated": dt.datetime(2026, 6, 20, 9), "final_value": 97.5, "difference": 2.5,
              "origin": "illustrative"}
    calendar = [macro_analyses.AnalysisStatus("Ressursbruksindikatoren", 2025, {"final": 12}, 12, [change],
                                              {"illustrative"}),
                macro_analyses.AnalysisStatus("Produksjonsindeksen", 2025, {"final": 12}, 0, [], set())]
    page = re.sub(r"<[^>]+>", " ", html.unescape("".join(macro_analyses.render_calendar(calendar, lambda c: "Bærum"))))
    page = re.sub(r"\s+", " ", page.replace("\u00a0", " "))
    assert "Bærum Barnehage (indeks for beregnet utgiftsbehov, levert som fil) 2025 95,0 (1. april 2026) " \
           "97,5 (20. juni 2026) +2,5 Ressursbruksindikator. Barnehage (behovskorrigering)" in page, page
    assert "Opphav: illustrerende (analysens tall for 2025)." in page
    assert "Opphav: illustrerende (grunnlagstallene i tabellen)." in page
    assert "Opphav: ingen tall (analysens tall for 2025)." in page
