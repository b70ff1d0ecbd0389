"""Write-audit-publish: a corrupted mart fails the gate, nothing is published, the last publication stays."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
from html.parser import HTMLParser
from dataclasses import asdict, replace
from pathlib import Path

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
    from styringsdata.definitions import defs

    return defs.resolve_job_def("audit_and_publish").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_corrupted_marts_fail_the_gate_and_keep_the_last_publication(corrupted_copy):
    warehouse = corrupted_copy / "warehouse.duckdb"
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()

    result = audit_and_publish()

    assert not result.success
    evaluations = {(e.asset_check_evaluation_data.asset_key.to_user_string(), e.asset_check_evaluation_data.check_name):
                   e.asset_check_evaluation_data
                   for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    failed = {key for key, ev in evaluations.items() if not ev.passed}
    fct = "marts/fct_indicator_values"
    # each check hangs on the asset it checks: the retired code is in raw/ssb_12143, and only there
    assert {(fct, "fct_unique_grain"), (fct, "fct_shares_within_0_100"), (fct, "fct_missing_is_never_a_number"),
            (fct, "fct_covers_catalogue"), ("raw/ssb_12143", "raw_municipality_codes_valid")} <= failed
    assert not {key for key in failed if key[1] == "raw_municipality_codes_valid"} - {("raw/ssb_12143",
                                                                                      "raw_municipality_codes_valid")}
    assert evaluations[("marts/indicator_catalogue", "catalogue_complete")].passed
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


def test_gate_checks_hang_on_the_tables_they_check_and_say_what_they_check():
    from styringsdata.quality.gate import RULES, GateConfig
    from styringsdata.sources.ssb import load_table_specs
    from styringsdata.definitions import defs
    from styringsdata.defs.quality import SPECS

    graph_checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    specs = {(s.asset_key.to_user_string(), s.name): s for s in SPECS}
    assert set(specs) <= graph_checks
    ssb_assets = {f"raw/ssb_{t.table_id}" for t in load_table_specs().tables}
    for rule in ("raw_keys_not_null", "raw_periods_well_formed"):
        assert {asset for asset, name in specs if name == rule} == ssb_assets
    assert {asset for asset, name in specs if name == "raw_municipality_codes_valid"} == \
        ssb_assets | {"raw/registry_values"}
    assert {asset for asset, name in specs if name == "raw_units_known"} == {"raw/ssb_categories"}
    assert {asset for asset, name in specs if name == "kostra_home_present"} == {"marts/kostra_comparison"}
    assert {name for _, name in specs} == set(RULES) == set(GateConfig.load().severities)
    for (asset, name), spec in specs.items():
        assert spec.description.startswith(RULES[name].description.split("{")[0][:40])
        assert "Great Expectations check" not in spec.description and "Severity" in spec.description
        # raw checks cannot block (the gate runs after dbt); error marts checks do
        assert spec.blocking == (asset.startswith("marts/") and GateConfig.load().severities[name] == "error")


def test_gate_threshold_is_configurable_and_errors_block_warnings_do_not(corrupted_copy):
    from styringsdata.quality.gate import GateConfig

    config = GateConfig.load()
    # a jump may be real; a failing source keeps its last data (issue 21): both warn, everything else blocks
    warnings = {"fct_year_on_year_jumps", "sources_answered"}
    assert {config.severities[n] for n in warnings} == {"warning"}
    assert {s for n, s in config.severities.items() if n not in warnings} == {"error"}
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

    result = subprocess.run([sys.executable, "-m", "styringsdata.cli", "report"], cwd=ROOT, env=offline_run.env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "quality report written" in result.stdout and "mail skipped" in result.stdout


GATE_GOLDEN = Path(__file__).with_name("golden") / "gate_corrupted_marts.json"


def _comparable(result) -> list[dict]:
    """What the gate found, without when it ran or where it wrote its docs: every check's verdict, counts and
    failing rows. Rows as sorted JSON: the old gate's violation queries (joins, distinct) had no order."""
    checks = []
    for check in result.checks:
        found = {k: v for k, v in asdict(check).items() if k != "description"}
        for key in ("examples", "failing_sample"):
            found[key] = sorted(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str) for row in found[key])
        checks.append(found)
    return checks


@pytest.mark.parametrize("batch_rows", [None, 500], ids=["configured-batches", "many-small-batches"])
def test_gate_results_and_failing_rows_match_the_golden(corrupted_copy, batch_rows):
    """The gate's verdicts and failing rows on the corrupted marts, captured from the gate that validated whole
    pandas frames (before the memory change); `STYRINGSDATA_WRITE_GATE_GOLDEN=1` rewrites the golden. With small
    batches every check of more than 2 048 rows, and the uniqueness check's key partitions, span several."""
    from styringsdata.quality.gate import GateConfig, run_gate

    config = GateConfig.load()
    if batch_rows is not None:
        config = replace(config, batch_rows=batch_rows)
    con = duckdb.connect(str(corrupted_copy / "work.duckdb"), read_only=True)
    try:
        actual = _comparable(run_gate(con, "3203", config=config))
    finally:
        con.close()
    if os.environ.get("STYRINGSDATA_WRITE_GATE_GOLDEN"):
        GATE_GOLDEN.parent.mkdir(exist_ok=True)
        GATE_GOLDEN.write_text(json.dumps(actual, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(GATE_GOLDEN.read_text(encoding="utf-8"))
    assert [c["name"] for c in actual] == [c["name"] for c in expected]
    for got, want in zip(actual, expected):
        # which rows become the examples was arbitrary where the query had no order: any of the failing rows
        assert len(got["examples"]) == len(want["examples"]) and set(got["examples"]) <= set(want["failing_sample"])
        if want["failing_rows"] <= len(want["examples"]):
            assert got["examples"] == want["examples"], got["name"]
        assert {k: v for k, v in got.items() if k != "examples"} == \
            {k: v for k, v in want.items() if k != "examples"}, got["name"]


class _Page(HTMLParser):
    """What a browser without network would load and show: script and stylesheet addresses, links, the text
    outside <script> and <style> (what is on the page without running any script)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._in_script = True
            if attrs.get("src"):
                self.loads.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._in_script = False

    def handle_data(self, data):
        if not self._in_script and data.strip():
            self.text.append(" ".join(data.split()))


def _read(page: Path) -> _Page:
    parsed = _Page()
    parsed.feed(page.read_text(encoding="utf-8"))
    return parsed


def test_data_docs_open_offline_and_show_the_failing_rows(corrupted_copy, tmp_path):
    """Every script and stylesheet of every page is a file in the docs folder (nothing from a CDN), the index
    lists the validations as HTML rows (GX fills them in with bootstrap-table, a script), and the validation
    page of the failed share check shows the expectation, the column and the unexpected value."""
    from styringsdata.quality.gate import run_gate

    docs = tmp_path / "gx"
    con = duckdb.connect(str(corrupted_copy / "work.duckdb"), read_only=True)
    try:
        result = run_gate(con, "3203", data_docs_dir=docs)
    finally:
        con.close()
    assert result.data_docs == str(docs / "index.html")
    pages = sorted(docs.rglob("*.html"))
    for page in pages:
        parsed = _read(page)
        assert parsed.loads, page
        for address in parsed.loads:
            assert not re.match(r"^(https?:)?//", address), f"{page} loads {address}"
            assert (page.parent / address).resolve().is_file(), f"{page} loads {address}, which is missing"
    fonts = docs / "static" / "vendor" / "fontawesome-6.6.0" / "css" / "all.min.css"
    for url in set(re.findall(r"url\(([^)]+)\)", fonts.read_text(encoding="utf-8"))):
        assert (fonts.parent / url).resolve().is_file(), url

    index = _read(docs / "index.html")
    validations = [link for link in index.links if link.startswith("validations/")]
    assert len(validations) == len(set(validations))
    assert all((docs / link).is_file() for link in validations)
    # one validation per rule (and per batch), not per table: a rule on every raw SSB table is one validation
    assert len(result.checks) <= len(validations) < len(result.by_table)
    assert all(any(f"__{check.name}/" in link for link in validations) for check in result.checks)
    shares = [docs / link for link in validations if "fct_shares_within_0_100" in link]
    assert len(shares) == 1
    text = " | ".join(_read(shares[0]).text)
    assert "Status: | Failed" in text
    assert "| value | Status | Expectation | Observed Value | values must be greater than or equal to | 0.0 | " \
           "and less than or equal to | 100.0 |" in text
    assert "Unexpected Value | Count | Index | 140.0 | 1 |" in text
