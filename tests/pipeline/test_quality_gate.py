"""Write-audit-publish: a corrupted mart fails the gate, nothing is published, the last publication stays."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil

import dagster as dg
import duckdb
import pytest


SHARE_INDICATOR = "MED01"  # sykefraværsprosent: unit "percent", a share


@pytest.fixture
def corrupted_copy(offline_run, tmp_path, monkeypatch):
    """A copy of the offline run's data directory whose work-file marts carry four kinds of damage."""
    data = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, data)
    con = duckdb.connect(str(data / "work.duckdb"))
    try:
        # duplicate grain
        con.execute("insert into marts.fct_indicator_values select * from marts.fct_indicator_values "
                    "where indicator_id = 'OKO02' and municipality_code = '3203' and year = 2022")
        # a share of 140 %
        con.execute("update marts.fct_indicator_values set value = 140 where indicator_id = ? "
                    "and municipality_code = '3203' and year = 2022", [SHARE_INDICATOR])
        # a suppressed figure stored as 0
        con.execute("update marts.fct_indicator_values set status = 'suppressed', value = 0 "
                    "where indicator_id = 'OKO01' and municipality_code = '3203' and year = 2021")
        # an indicator gone missing
        con.execute("delete from marts.fct_indicator_values where indicator_id = 'HEL01'")
        # a raw figure on Asker's pre-2020 code (0220, retired 2020-01-01 by KLASS) for 2022
        con.execute("""insert into raw.ssb_12143 select * replace ('0220' as "KOKkommuneregion0000")
                       from raw.ssb_12143 where "Tid" = '2022' and value is not null limit 1""")
    finally:
        con.close()
    monkeypatch.setenv("STYRINGSDATA_DATA_DIR", str(data))
    monkeypatch.setenv("STYRINGSDATA_SOURCE_MODE", "replay")
    for name in [k for k in os.environ if k.startswith("STYRINGSDATA_SMTP")]:
        monkeypatch.delenv(name)
    return data


def audit_and_publish() -> dg.ExecuteInProcessResult:
    from orchestration.definitions import defs

    return defs.resolve_job_def("audit_and_publish").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_corrupted_marts_fail_the_gate_and_keep_the_last_publication(corrupted_copy):
    warehouse = corrupted_copy / "warehouse.duckdb"
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()

    result = audit_and_publish()

    assert not result.success
    evaluations = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
                   for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    failed = {name for name, ev in evaluations.items() if not ev.passed}
    assert {"fct_unique_grain", "fct_shares_within_0_100", "fct_missing_is_never_a_number",
            "fct_covers_catalogue", "raw_municipality_codes_valid"} <= failed
    assert evaluations["catalogue_complete"].passed
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["published", "warehouse"]) not in materialized
    assert dg.AssetKey(["reports", "quality_report"]) not in materialized

    # the previous publication is untouched and still opens with the old data
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select count(distinct indicator_id) from fct_indicator_values").fetchone()[0] == 88
        assert con.execute("select max(value) from fct_indicator_values where indicator_id = ?",
                           [SHARE_INDICATOR]).fetchone()[0] < 100
    finally:
        con.close()

    # the gate wrote the held-back report, naming the failed checks, with the failing rows attached
    (context,) = [p for p in (corrupted_copy / "reports").glob(f"quality-report_*_{result.run_id[:8]}.json")]
    markdown = context.with_suffix(".md").read_text(encoding="utf-8")
    assert "HELD BACK" in markdown and "fct_shares_within_0_100" in markdown
    assert json.loads(context.read_text())["outcome"] == "held_back"
    failing = context.with_name(context.stem + ".failing_rows.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(failing), delimiter=";"))  # for Norwegian Excel: ';', one column per field
    assert any(r["check"] == "fct_shares_within_0_100" and r["value"] == "140" and r["indicator_id"] == SHARE_INDICATOR
               for r in rows)
    assert any(r["check"] == "fct_unique_grain" for r in rows) and any(r["indicator_id"] == "HEL01" for r in rows)
    assert any(r["region"] == "0220" and r["table"] == "raw.ssb_12143" for r in rows)
    html = context.with_suffix(".html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2
    assert (corrupted_copy / "reports" / "gx" / "index.html").exists()


def test_gate_threshold_is_configurable_and_errors_block_warnings_do_not(corrupted_copy):
    from expectations.gate import GateConfig

    config = GateConfig.load()
    assert config.severities["fct_year_on_year_jumps"] == "warning"
    assert {s for n, s in config.severities.items() if n != "fct_year_on_year_jumps"} == {"error"}
    assert config.thresholds["year_on_year_jump_pct"] > 0


def test_clean_run_report_lists_the_right_counts(offline_run):
    reports = offline_run.data_dir / "reports"
    published = sorted((p for p in reports.glob("quality-report_*.json")
                        if json.loads(p.read_text())["outcome"] == "published"), key=lambda p: p.stat().st_mtime)
    assert published, "a published run writes a report"
    context = published[0]  # the first run's (a later test may run the pipeline again)
    markdown = context.with_suffix(".md").read_text(encoding="utf-8")
    gate = json.loads((reports / "gate" / f"{json.loads(context.read_text())['run_id']}.json").read_text())
    passed = sum(c["passed"] for c in gate["checks"])
    assert f"Quality gate: {passed} of {len(gate['checks'])} checks passed, 0 failed (blocking)" in markdown
    landed = [m for m in (offline_run.data_dir / "landing").rglob("manifest.json")]
    assert f"Fetched in this run: {len(landed)} new vintage(s)" in markdown
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        late = con.execute("select count(*) from indicator_scorecard "
                           "where is_late and is_home_municipality").fetchone()[0]
    finally:
        con.close()
    assert f"late for their frequency: {late}" in markdown
    coverage = re.search(r"^\| All \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", markdown, re.M)
    assert coverage and int(coverage.group(5)) == 88 == sum(int(coverage.group(i)) for i in range(1, 5))


def test_report_command_rebuilds_the_latest_report(offline_run):
    import subprocess
    import sys

    from tests.pipeline.conftest import ROOT

    result = subprocess.run([sys.executable, "-m", "orchestration.cli", "report"], cwd=ROOT, env=offline_run.env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "quality report written" in result.stdout and "mail skipped" in result.stdout
