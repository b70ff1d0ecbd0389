"""Any ASSS member as home: the marts, the gate and both reports name the same member and show its figures.

Asker (3203) is the shared offline run; Bærum (3201, renumbered in 2024) and Kristiansand (4204, merged with
Songdalen and Søgne in 2020) run on a copy of it with only STYRINGSDATA_HOME_MUNICIPALITY changed: nothing
new upstream, but another home is another build.
"""

from __future__ import annotations

import html
import json
import re
import shutil

import duckdb
import pytest

from styringsdata.home import member_name
from tests.pipeline.conftest import run_cli

MEMBERS = ("3203", "3201", "4204")


class _MemberRuns(dict):
    """member -> (data dir after its run, the run's stdout); each member's run on its own copy, made when first asked
    for (a test about one member does not wait for the others)."""

    def __init__(self, offline_run, tmp_path_factory) -> None:
        super().__init__({"3203": (offline_run.data_dir, offline_run.first.stdout)})
        self._offline_run, self._tmp = offline_run, tmp_path_factory

    def __missing__(self, code: str) -> tuple:
        data = self._tmp.mktemp(f"home_{code}") / "data"
        shutil.copytree(self._offline_run.data_dir, data)
        env = {**self._offline_run.env, "STYRINGSDATA_DATA_DIR": str(data), "STYRINGSDATA_HOME_MUNICIPALITY": code}
        result = run_cli(env)
        assert result.returncode == 0, f"run for {code} failed:\n{result.stdout}\n{result.stderr[-5000:]}"
        # the summary lines, for the record (pytest -s)
        print(f"\n--- home {code} ---\n" + "\n".join(line for line in result.stdout.splitlines()
                                                     if line.startswith("styringsdata")))
        self[code] = (data, result.stdout)
        return self[code]


@pytest.fixture(scope="module")
def member_runs(offline_run, tmp_path_factory):
    return _MemberRuns(offline_run, tmp_path_factory)


def _run_id(stdout: str) -> str:
    (report,) = re.findall(r"quality report: \S+quality-report_\S+_([0-9a-f]{8})\.html", stdout)
    return report


@pytest.mark.parametrize("code", MEMBERS)
def test_marts_gate_and_reports_are_about_the_home_member(member_runs, code):
    data, stdout = member_runs[code]
    name = member_name(code)
    assert f"published: {data / 'warehouse.duckdb'} (" in stdout
    run8 = _run_id(stdout)
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        homes = con.execute("select distinct region_code from kostra_comparison where is_home_municipality").fetchall()
        scorecard_homes = con.execute("select distinct municipality_code, municipality_name from indicator_scorecard "
                                      "where is_home_municipality").fetchall()
        members = con.execute("select count(distinct municipality_code) from indicator_scorecard").fetchone()[0]
        latest = dict(con.execute("select municipality_code, latest_value from indicator_scorecard "
                                  "where indicator_id = 'OKO02'").fetchall())
        per_member = con.execute("""select municipality_code, count(*) from fct_indicator_values
                                    where municipality_code in (select region_code from kostra_comparison
                                                                where region_kind = 'municipality')
                                    group by all""").fetchall()
        registry = dict(con.execute("""select status, count(*) from fct_indicator_values
                                       where municipality_code = ? and route = 'registry' group by all""",
                                    [code]).fetchall())
        kostra_home = con.execute("""select value from kostra_comparison where is_home_municipality
                                     and key_figure_id = 'KOKO02' and year = 2025""").fetchone()[0]
    finally:
        con.close()
    assert homes == [(code,)] and scorecard_homes == [(code, name)]
    assert members == 12 and len({n for _, n in per_member}) == 1 and len(per_member) == 12, per_member
    assert len(set(latest.values())) > 1, "members must have their own figures"
    if code == "3203":
        assert registry.get("measured", 0) > 0 and "not_delivered" not in registry
    else:  # no registry file from this member: every registry indicator is "not delivered", not a gap
        assert set(registry) == {"not_delivered"}

    (gate_file,) = (data / "reports" / "gate").glob(f"{run8}*.json")
    (home_check,) = [c for c in json.loads(gate_file.read_text())["checks"] if c["name"] == "kostra_home_present"]
    assert f"({code})" in home_check["description"] and home_check["passed"] and home_check["rows_checked"] > 0

    (markdown,) = (data / "reports").glob(f"quality-report_*_{run8}.md")
    text = markdown.read_text(encoding="utf-8")
    assert f"# Quality report: styringsdata, {name} ({code})," in text
    assert f"## Scorecard ({name} ({code}))" in text
    (oko02,) = [line for line in text.splitlines() if line.startswith("| OKO02 | Netto")]
    assert f"| {latest[code]:g} |" in oko02, (oko02, latest[code])
    page = (data / "reports" / markdown.name.replace(".md", ".html")).read_text(encoding="utf-8")
    assert f"<title>styringsdata {html.escape(name)} ({code}): published" in page

    (macro,) = (data / "reports").glob(f"makrogruppen_*_{run8}.html")
    macro_text = macro.read_text(encoding="utf-8")
    assert f"fra {name} kommune" in macro_text and f"<h3>{name} (hjemkommune for denne rapporten)</h3>" in macro_text
    homes_in_tables = set(re.findall(r"<tr class='home'><td>([^<]+)</td>", macro_text))
    assert homes_in_tables == {name}
    decimals = f"{kostra_home:.1f}".replace(".", ",")
    assert re.search(rf"<tr class='home'><td>{name}</td>(<td class='n'>[^<]*</td>){{3}}<td class='n'>{decimals}</td>",
                     macro_text), "the home row shows the member's own netto lånegjeld"


def test_report_command_builds_the_macro_group_report_for_todays_home(offline_run, tmp_path):
    import subprocess
    import sys

    from tests.pipeline.conftest import ROOT

    data = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, data)
    for old in (data / "reports").glob("makrogruppen_*"):
        old.unlink()
    env = {**offline_run.env, "STYRINGSDATA_DATA_DIR": str(data), "STYRINGSDATA_HOME_MUNICIPALITY": "3301"}
    result = subprocess.run([sys.executable, "-m", "styringsdata.cli", "report", "--audience", "makrogruppen"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "macro group report (makrogruppen) written" in result.stdout and "mail skipped" in result.stdout
    (page,) = [p for p in (data / "reports").glob("makrogruppen_*.html") if not p.name.endswith(".mail.html")]
    assert "<h3>Drammen (hjemkommune for denne rapporten)</h3>" in page.read_text(encoding="utf-8")


# Asker's codes: today's and the one it had in 2020–2023 (DESIGN.md §4). Only rows about Asker may name it.
ASKER_CODES = ("3203", "3025")
# Columns that say whose row it is; a row is Asker's own when one of them holds an Asker code.
ROW_OWNER_COLUMNS = ("municipality_code", "region_code")


def asker_in_published_texts(warehouse) -> list[tuple[str, str, int, str]]:
    """(table, column or '(comment)', rows, an example) for every text in the published file that names Asker outside
    Asker's own rows: every text column of every mart, and the tables' and columns' comments."""
    found: list[tuple[str, str, int, str]] = []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute("select table_name, comment from duckdb_tables() where schema_name = 'main' "
                             "and not starts_with(table_name, '_') order by 1").fetchall()
        for table, comment in tables:
            if comment and "asker" in comment.lower():
                found.append((table, "(comment)", 1, comment))
            columns = con.execute("select column_name, data_type, comment from duckdb_columns() "
                                  "where schema_name = 'main' and table_name = ?", [table]).fetchall()
            for column, _, column_comment in columns:
                if column_comment and "asker" in column_comment.lower():
                    found.append((table, f"{column} (comment)", 1, column_comment))
            owners = [c for c, _, _ in columns if c in ROW_OWNER_COLUMNS]
            not_asker = " and ".join(f"coalesce({c}, '') not in {ASKER_CODES}" for c in owners) or "true"
            for column, data_type, _ in columns:
                if data_type != "VARCHAR":
                    continue
                n, example = con.execute(f'select count(*), any_value("{column}") from main."{table}" '
                                         f'where "{column}" ilike \'%asker%\' and {not_asker}').fetchone()
                if n:
                    found.append((table, column, n, example))
    finally:
        con.close()
    return found


def test_another_home_reads_in_neutral_words_not_askers(member_runs):
    """Issue 23, item 4: with Bærum at home, no mart text and no comment speaks as Asker (names, sub-goals, targets,
    sources); Asker's own wording is Asker's alone (seed member_indicator_texts) and appears only when Asker is home."""
    data, _ = member_runs["3201"]
    found = asker_in_published_texts(data / "warehouse.duckdb")
    print(f"\n'Asker' outside Asker's rows, home 3201: {sum(n for *_, n, _ in found)} texts in {len(found)} "
          "columns/comments")
    for table, column, n, example in found:
        print(f"  {table}.{column}: {n} ({example[:100]!r})")
    assert not found, found


@pytest.mark.parametrize("code", ["3203", "3201"])
def test_askers_own_words_and_targets_only_when_asker_is_home(member_runs, code):
    """Asker's names and targets (the Handlingsprogram's, seed member_indicator_texts) are the catalogue's when Asker
    is home; with Bærum home, which gave no texts of its own, the names are neutral and no member's target is
    Bærum's, while Asker's own rows in the scorecard keep Asker's targets."""
    data, _ = member_runs[code]
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        oko01 = con.execute("select indicator_name, target_rule, name_from from indicator_catalogue "
                            "where indicator_id = 'OKO01'").fetchone()
        sources = {r[0] for r in con.execute("select distinct name_from from indicator_catalogue").fetchall()}
        targets = dict(con.execute("select municipality_code, target_rule from indicator_scorecard "
                                   "where indicator_id = 'OKO01'").fetchall())
    finally:
        con.close()
    assert targets["3203"] == "> 10 %" and {t for m, t in targets.items() if m != "3203"} == {None}
    if code == "3203":
        assert oko01 == ("Disposisjonsfond som andel av brutto driftsinntekter (> 10 %)", "> 10 %", "home_member")
        assert sources == {"home_member"}
    else:
        assert oko01 == ("Disposisjonsfond som andel av brutto driftsinntekter", None, "neutral")
        assert sources == {"neutral"}
