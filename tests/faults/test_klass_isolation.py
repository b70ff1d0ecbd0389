"""KLASS failing on a first run never stops the rest (issue 21): classification 131's changes and 112's KOSTRA
groups both answer 503, in the recorded world (tests/faults/world_child.py).

The run lands the bundled KLASS answers as a vintage marked `bundled`, says so in one `source failed:` line with
what to do, builds, gates and publishes everything else, and exits 6: every figure is as in the normal world,
since the bundled answers are the ones the normal (offline) world uses. source_freshness shows KLASS stale with
the error. One run (the behaviour needs it: the exit code and the terminal are the whole command's)."""

from __future__ import annotations

import json

import duckdb

from tests.faults.test_source_isolation import EXIT_PARTIAL, HOME, run_in

KLASS = "https://data.ssb.no/api/klass/v1/classifications"
UNAVAILABLE = {"status": 503, "headers": {"content-type": "text/html"},
               "body": "<html><body>503 Service Unavailable</body></html>"}


def test_a_first_run_with_klass_down_publishes_on_the_bundled_classification_and_says_so(tmp_path):
    world = tmp_path / "klass-down.json"
    world.write_text(json.dumps([
        {"method": "GET", "url": f"{KLASS}/131/changes", "then": "repeat", "answers": [UNAVAILABLE]},
        {"method": "GET", "url": f"{KLASS}/112/correspondsAt", "then": "repeat", "answers": [UNAVAILABLE]},
    ]), encoding="utf-8")
    data = tmp_path / "data"
    run = run_in(world, data, tmp_path, "klass-down")
    out = run.output
    assert run.returncode == EXIT_PARTIAL, out[-6000:]
    failing = [line for line in out.splitlines() if line.startswith("styringsdata: source failed:")]
    assert len(failing) == 1, failing
    (line,) = failing
    assert line.startswith("styringsdata: source failed: KLASS classifications 112-kostra-groups, 131-changes: ")
    assert "503" in line and "try again later" in line and "bundled one recorded 2026-09-01" in line, line
    assert "published with 1 source(s) failing" in out, out[-3000:]
    for noise in ("CatalogException", "Not executing", "Dependencies for step", "Traceback"):
        assert noise not in out, f"{noise!r} in:\n{out}"
    # Asker before 2020 (0220 + 0627 + 0628) is on today's code: the lineage came from the bundled answer
    home_2019 = [r for r in run.marts["fct_indicator_values"] if r[1] == HOME and r[2] == 2019 and r[4] == "measured"]
    assert home_2019, "no measured figure for the home member in 2019: the codes were not harmonised"
    assert not [r for r in run.marts["fct_indicator_values"] if r[4] == "source_error"]
    assert any(r[1] == "EKG12" for r in run.marts["kostra_comparison"]), "the KOSTRA group figures are missing"
    con = duckdb.connect(str(data / "work.duckdb"), read_only=True)
    try:
        freshness = con.execute("""select source_table, latest_vintage, is_stale, last_error
                                   from marts.source_freshness where source = 'KLASS' order by 1""").fetchall()
        vintages = con.execute("select distinct _vintage from raw.klass_municipality_changes").fetchall()
    finally:
        con.close()
    assert [r[0] for r in freshness] == ["112-kostra-groups", "131-changes"], freshness
    assert all("bundled" in r[1] and r[2] is True and "503" in r[3] for r in freshness), freshness
    assert len(vintages) == 1 and "bundled" in vintages[0][0], vintages
