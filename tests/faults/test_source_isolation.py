"""One failing source never stops the others (issue 21).

A recorded world with four faults at once, run as real `styringsdata run` processes (tests/faults/world_child.py):
- SSB 12143 published again, and its metadata lacks the configured code AGD23 of KOKartkap0000 (a copy of the
  recorded metadata answer with that code removed, as when SSB renames a KOSTRA series code);
- FHI table 173 answers 503 to every data request;
- Miljødirektoratet's workbook answers 503;
- SSB 11787 first answers 429 with Retry-After, then its data (that one must simply succeed).

One module-scoped sequence of runs serves every assertion (a full run takes 1-3 minutes here):
1. a first run in the four-fault world: exit 6 (published with failing sources), every other figure published;
2. a second run in the same world: the published figures stay;
3. a run in the normal world: the missing sources load and the statuses clear (exit 0);
4. the four-fault world again, now with an earlier good vintage of each failing source: their figures stay
   published, and source_freshness shows the table stale, with the error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.faults.runs import ROOT, pipeline_env

WORLD_CHILD = "tests.faults.world_child"  # run as a module from the root (cwd=ROOT): no sys.path insert
SNAPSHOTS = ROOT / "snapshots"
SSB = "https://data.ssb.no/api/pxwebapi/v2"
FAILING_SSB, REMOVED_VARIABLE, REMOVED_CODE = "12143", "KOKartkap0000", "AGD23"
REPUBLISHED = "2026-08-31T06:00:00Z"  # after the recorded vintage, before the recording (2026-09-01)
RATE_LIMITED_SSB = "11787"
FAILING_FHI = "173"
WORKBOOK = "https://www.miljodirektoratet.no/sharepoint/downloaditem/?id=01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA"
EXIT_PARTIAL = 6
HOME = "3203"


def recorded(url: str, method: str = "GET") -> dict:
    for path in (SNAPSHOTS / url.split("://", 1)[1].split("?", 1)[0]).glob(f"{method}-*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        if document["request"]["url"] == url and not document["request"].get("headers"):
            return document
    raise AssertionError(f"no recorded {method} {url} in {SNAPSHOTS}")


def metadata_without_code(target: Path) -> Path:
    """The recorded metadata of 12143 with one configured code removed (and SSB's `updated` moved on)."""
    document = json.loads(recorded(f"{SSB}/tables/{FAILING_SSB}/metadata")["response"]["body"])
    category = document["dimension"][REMOVED_VARIABLE]["category"]
    order = sorted(category["index"], key=category["index"].get)
    order.remove(REMOVED_CODE)
    category["index"] = {code: n for n, code in enumerate(order)}
    del category["label"][REMOVED_CODE]
    document["size"][document["id"].index(REMOVED_VARIABLE)] -= 1
    document["updated"] = REPUBLISHED
    target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return target


def four_faults(tmp: Path) -> Path:
    info = json.loads(recorded(f"{SSB}/tables/{FAILING_SSB}")["response"]["body"])
    info["updated"] = REPUBLISHED
    info_file = tmp / "12143-info.json"
    info_file.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    unavailable = {"status": 503, "headers": {"content-type": "text/html"},
                   "body": "<html><body>503 Service Unavailable</body></html>"}
    rules = [
        {"method": "GET", "url": f"{SSB}/tables/{FAILING_SSB}/metadata", "then": "repeat",
         "answers": [{"status": 200, "headers": {"content-type": "application/json"},
                      "body_file": str(metadata_without_code(tmp / "12143-metadata.json"))}]},
        {"method": "GET", "url": f"{SSB}/tables/{FAILING_SSB}", "then": "repeat",
         "answers": [{"status": 200, "headers": {"content-type": "application/json"}, "body_file": str(info_file)}]},
        {"method": "GET", "url": f"{SSB}/tables", "table_updated": {FAILING_SSB: REPUBLISHED}},
        {"method": "GET", "url": f"{SSB}/tables/{RATE_LIMITED_SSB}/data", "then": "recorded",
         "answers": [{"status": 429, "headers": {"retry-after": "7", "content-type": "application/json"},
                      "body": '{"type":"Too Many Requests","title":"Rate limit exceeded","status":429}'}]},
        {"method": "POST", "url": f"https://statistikk-data.fhi.no/api/open/v1/nokkel/Table/{FAILING_FHI}/data",
         "then": "repeat", "answers": [unavailable]},
        {"method": "GET", "url": WORKBOOK, "then": "repeat", "answers": [unavailable]},
        {"method": "HEAD", "url": WORKBOOK, "then": "repeat", "answers": [unavailable]},
    ]
    path = tmp / "four-faults.json"
    path.write_text(json.dumps(rules, indent=1), encoding="utf-8")
    return path


@dataclass
class Run:
    returncode: int
    output: str  # stdout and stderr as a terminal shows them
    calls: dict
    marts: dict[str, list[tuple]]  # the published marts this test compares
    counts: dict[str, int]
    freshness: list[tuple]


def run_in(world: Path | None, data: Path, tmp: Path, name: str, *args: str) -> Run:
    calls = tmp / f"{name}-calls.json"
    command = [sys.executable, "-m", WORLD_CHILD, "--faults", str(world or tmp / "no-faults.json"),
               "--calls", str(calls), "--", "run", *args]
    if world is None:
        (tmp / "no-faults.json").write_text("[]", encoding="utf-8")
    env = pipeline_env(data, DAGSTER_HOME=str(tmp / f"dagster-home-{name}"))
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=900)
    (tmp / f"{name}.out").write_text(done.stdout, encoding="utf-8")
    marts, counts, freshness = {}, {}, []
    if (data / "warehouse.duckdb").exists():
        con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
        try:
            for table in [r[0] for r in con.execute("select table_name from information_schema.tables "
                                                    "where table_schema = 'main' and table_name not like '\\_%' "
                                                    "escape '\\'").fetchall()]:
                counts[table] = con.execute(f'select count(*) from "{table}"').fetchone()[0]
            marts["fct_indicator_values"] = con.execute(
                "select indicator_id, municipality_code, year, value, status, note, source_table, vintage "
                "from fct_indicator_values order by all").fetchall()
            marts["kostra_comparison"] = con.execute(
                "select key_figure_id, region_code, year, value, status, note, source_table, vintage "
                "from kostra_comparison order by all").fetchall()
            freshness = con.execute("select * from source_freshness order by source, source_table").fetchall()
            marts["emissions_by_sector"] = con.execute(
                "select sector, year, tonnes_co2e, status, note, target_2030_pct from emissions_by_sector "
                "order by all").fetchall()
            marts["source_freshness_columns"] = [r[0] for r in con.execute("describe source_freshness").fetchall()]
        finally:
            con.close()
    (tmp / f"{name}-mart-rows.json").write_text(json.dumps(counts, indent=1), encoding="utf-8")  # for the notes
    return Run(done.returncode, done.stdout, json.loads(calls.read_text()) if calls.exists() else {}, marts, counts,
               freshness)


@pytest.fixture(scope="module")
def sequence(tmp_path_factory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("isolation")
    world = four_faults(tmp)
    data = tmp / "data"
    runs = {"first": run_in(world, data, tmp, "first")}
    runs["second"] = run_in(world, data, tmp, "second")
    runs["normal"] = run_in(None, data, tmp, "normal")
    runs["stale"] = run_in(world, data, tmp, "stale", "--force")
    return runs




def rows_by_indicator(rows: list[tuple]) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return out


AFFECTED = {"OKO02": FAILING_SSB, "HEL01": FAILING_FHI, "KLI01": "Miljødirektoratet"}


def test_a_first_run_with_four_faults_publishes_everything_else(sequence):
    first, normal = sequence["first"], sequence["normal"]
    assert first.returncode == EXIT_PARTIAL, first.output[-6000:]
    assert first.counts, f"nothing was published:\n{first.output[-6000:]}"
    # The 429 was honoured (Retry-After, fake clock) and the table's data arrived on the second try.
    statuses = [c["status"] for c in first.calls["calls"] if c["url"] == f"{SSB}/tables/{RATE_LIMITED_SSB}/data"]
    assert statuses[:2] == [429, 200] and 7.0 in first.calls["sleeps"]
    # Every other figure is published exactly as in the normal world.
    mine = rows_by_indicator(first.marts["fct_indicator_values"])
    theirs = rows_by_indicator(normal.marts["fct_indicator_values"])
    assert set(mine) == set(theirs)
    for indicator in set(theirs) - set(AFFECTED):
        assert mine[indicator] == theirs[indicator], indicator
    # The same for the KOSTRA key figures; those of 12143 (KOKO01-06) keep every member's rows as source_error.
    kmine, ktheirs = rows_by_indicator(first.marts["kostra_comparison"]), \
        rows_by_indicator(normal.marts["kostra_comparison"])
    failed_figures = {k for k, rows in ktheirs.items() if rows[0][6] == FAILING_SSB}
    assert "KOKO01" in failed_figures
    for figure in set(ktheirs) - failed_figures:
        assert kmine[figure] == ktheirs[figure], figure
    for figure in failed_figures:
        home = [r for r in kmine[figure] if r[1] == HOME]
        assert {r[2] for r in home} == {r[2] for r in ktheirs[figure] if r[1] == HOME}, figure
        assert all(r[3] is None and r[4] == "source_error" and FAILING_SSB in r[5] for r in home), home[:2]
        # every region and year it has in the normal world: the members, the ASSS figures, SSB's groups, the country
        assert {r[1:3] for r in kmine[figure]} >= {r[1:3] for r in ktheirs[figure]}, figure
        assert all(r[3] is None and r[4] == "source_error" for r in kmine[figure]
                   if r[1:3] not in {k[1:3] for k in ktheirs[figure] if k[4] != "measured"}), figure
    # Every affected indicator keeps all its rows, without a value, with the status and the reason.
    for indicator, source in AFFECTED.items():
        home = [r for r in mine[indicator] if r[1] == HOME]
        assert [r[2] for r in home] == [r[2] for r in theirs[indicator] if r[1] == HOME], indicator
        # every municipality and aggregate and year it has in the normal world
        assert {r[1:3] for r in mine[indicator]} >= {r[1:3] for r in theirs[indicator]}, indicator
        for r in home:
            if r[3] is None:
                assert r[4] == "source_error", r
            else:  # a figure the Handlingsprogram prints stays published, from the document (issue 23)
                assert r[4] == "measured" and "printed in the Handlingsprogram" in r[5], r
        assert any(r[3] is None for r in home), home  # the years the document does not print have no value
        assert all(source in r[5] and "failed" in r[5] for r in home), home[:2]


def test_emissions_by_sector_keeps_every_row_as_source_error_on_a_first_run(sequence):
    first, normal = sequence["first"], sequence["normal"]
    mine, theirs = first.marts["emissions_by_sector"], normal.marts["emissions_by_sector"]
    assert theirs and all(r[3] == "measured" and r[2] is not None for r in theirs), theirs[:3]
    # every sector and year the workbook gives in the normal world, and the years up to the lag after it
    assert {r[:2] for r in mine} >= {r[:2] for r in theirs}, sorted({r[:2] for r in theirs} - {r[:2] for r in mine})
    assert {r[0] for r in mine} == {r[0] for r in theirs}
    assert all(r[2] is None and r[3] == "source_error" and "Miljødirektoratet failed" in r[4] and "503" in r[4]
               for r in mine), mine[:2]
    targets = {r[0]: r[5] for r in theirs}
    assert all(r[5] == targets[r[0]] for r in mine)  # the climate budget's targets are known without the workbook
    # a run that loads the workbook has only measured rows again
    assert not [r for r in normal.marts["emissions_by_sector"] if r[3] != "measured"]


def test_the_terminal_says_what_failed_and_what_to_do(sequence):
    out = sequence["first"].output
    failing = [line for line in out.splitlines() if line.startswith("styringsdata: source failed:")]
    assert len(failing) == 3, out[-5000:]
    assert any(FAILING_SSB in line and REMOVED_CODE in line and "styringsdata doctor --live" in line
               for line in failing), failing
    assert any(f"FHI table {FAILING_FHI}" in line and "503" in line and "try again later" in line
               for line in failing), failing
    assert any("Miljødirektoratet" in line and "503" in line and "try again later" in line for line in failing)
    assert "published with 3 source(s) failing" in out
    # a failing source is only in its own line: not "new in raw" in the sources stage line
    (sources,) = [line for line in out.splitlines() if line.strip().startswith("sources ")]
    assert "ssb_12143" not in sources and "miljodirektoratet" not in sources and "3 failing" in sources, sources
    # a failure line names the request, never its body (FHI's POST lists every region code and year)
    assert not [line for line in failing if "body=" in line or '"dimensions"' in line], failing
    for noise in ("CatalogException", "No dagster instance configuration file", "Not executing",
                  "Dependencies for step", "Traceback"):
        assert noise not in out, f"{noise!r} in:\n{out}"


def test_a_second_run_in_the_same_world_keeps_the_published_figures(sequence):
    first, second = sequence["first"], sequence["second"]
    assert second.returncode == EXIT_PARTIAL, second.output[-5000:]
    assert second.marts["fct_indicator_values"] == first.marts["fct_indicator_values"]


def test_the_normal_world_afterwards_loads_the_missing_sources_and_the_statuses_clear(sequence):
    normal = sequence["normal"]
    assert normal.returncode == 0, normal.output[-5000:]
    rows = rows_by_indicator(normal.marts["fct_indicator_values"])
    for indicator in AFFECTED:
        home = [r for r in rows[indicator] if r[1] == HOME]
        assert any(r[4] == "measured" and r[3] is not None for r in home), home
    assert not [r for r in normal.marts["fct_indicator_values"] if r[4] == "source_error"]
    assert "failing" not in normal.output


def test_with_an_earlier_good_vintage_the_figures_stay_and_freshness_shows_the_error(sequence):
    normal, stale = sequence["normal"], sequence["stale"]
    assert stale.returncode == EXIT_PARTIAL, stale.output[-5000:]
    mine, theirs = rows_by_indicator(stale.marts["fct_indicator_values"]), \
        rows_by_indicator(normal.marts["fct_indicator_values"])
    assert mine["OKO02"] == theirs["OKO02"]  # the last good vintage stays published
    columns = stale.marts["source_freshness_columns"]
    row = next(dict(zip(columns, r)) for r in stale.freshness if r[columns.index("source_table")] == FAILING_SSB)
    assert row["is_stale"] is True and REMOVED_CODE in row["last_error"], row
    fine = next(dict(zip(columns, r)) for r in stale.freshness
                if r[columns.index("source_table")] == RATE_LIMITED_SSB)
    assert fine["is_stale"] is False and fine["last_error"] is None
