"""What a person sees of `styringsdata run`, and what the Dagster UI finds of it afterwards (issue 14).

Both from the real offline run the pipeline tests share (tests/pipeline/conftest.py), started as `make run` starts
it, recording into the suite's temporary Dagster instance (tests/conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

STAGES = ("sources", "dbt", "gate", "publish", "report")


def run_id_of(output: str) -> str:
    return re.search(r"styringsdata: run ([0-9a-f]{8}) of full_refresh", output).group(1)


def report_markdown(run) -> str:
    (report,) = (run.data_dir / "reports").glob(f"quality-report_*_{run_id_of(run.first.stdout)}.md")
    return report.read_text(encoding="utf-8")


def test_the_terminal_shows_one_line_per_stage_and_no_debug_events(offline_run):
    out = offline_run.first.stdout + offline_run.first.stderr
    assert " - DEBUG - " not in out and "STEP_START" not in out and " of 2" not in out  # no events, no dbt lines
    for stage in STAGES:
        lines = [line for line in out.splitlines() if line.startswith(f"  {stage} ")]
        assert len(lines) == 1, (stage, lines)
    assert "skipped" not in "\n".join(line for line in out.splitlines() if line.startswith("  "))
    assert len(out.splitlines()) < 25, out


def test_the_summary_states_the_gate_result_with_its_warnings_named(offline_run):
    out = offline_run.first.stdout
    (gate,) = [line for line in out.splitlines() if line.startswith("styringsdata: gate: ")]
    warnings = re.search(r"Quality gate: (\d+) of (\d+) checks passed, 0 failed \(blocking\), (\d+) warning",
                         report_markdown(offline_run))
    assert gate.startswith(f"styringsdata: gate: passed; {warnings.group(1)} of {warnings.group(2)} rules passed")
    assert f"{warnings.group(3)} warning(s)" in gate
    if int(warnings.group(3)):
        assert "fct_year_on_year_jumps" in gate  # the warning's rule by name, as in the report


def test_the_counts_are_the_reports_counts(offline_run):
    """The CLI once said "22 new source vintage(s)" where the report said 32: it counted assets, the report
    raw table vintages. Both now state the report's number."""
    fetched = re.search(r"Fetched in this run: (\d+) new vintage\(s\), (\d+) rows", report_markdown(offline_run))
    changed = re.search(r"Changed figures since the previous vintage: (\d+)", report_markdown(offline_run))
    out = offline_run.first.stdout
    assert f"sources changed: {fetched.group(1)} new vintage(s), {fetched.group(2)} rows" in out, out
    assert f"figures changed since the previous vintage: {changed.group(1)}" in out
    assert f"published: {offline_run.data_dir / 'warehouse.duckdb'}" in out
    assert re.search(r"quality report: .*quality-report_.*\.html", out)


def test_the_full_log_is_a_file_per_run_under_the_data_directory(offline_run):
    out = offline_run.first.stdout
    (line,) = [line for line in out.splitlines() if line.startswith("styringsdata: full log: ")]
    log = Path(line.removeprefix("styringsdata: full log: "))
    assert log.parent == offline_run.data_dir / "logs" and run_id_of(out) in log.name
    text = log.read_text(encoding="utf-8")
    assert " - DEBUG - " in text and "STEP_START" in text and "RUN_SUCCESS" in text  # every event
    assert "Done. PASS=" in text  # and dbt's own output


def test_the_cli_run_is_in_the_instance_the_ui_reads(offline_run, dagster_home):
    """`make dev` reads DAGSTER_HOME: the CLI's run, its materializations with metadata and its checks are there.
    The shared run was made once per code fingerprint with its own DAGSTER_HOME (tests/cached_run.py), which the
    session has a copy of; every later run on `env` records into the suite's temporary instance."""
    assert offline_run.env["DAGSTER_HOME"] == str(dagster_home)
    prefix = run_id_of(offline_run.first.stdout)
    with dg.DagsterInstance.from_config(str(offline_run.dagster_home or dagster_home)) as instance:
        (run,) = [r for r in instance.get_runs() if r.run_id.startswith(prefix)]
        assert run.job_name == "full_refresh" and run.status == dg.DagsterRunStatus.SUCCESS
        materializations = {
            r.event_log_entry.asset_materialization.asset_key: r.event_log_entry.asset_materialization.metadata
            for r in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION,
                                                  limit=10_000).records}
        ssb = materializations[dg.AssetKey(["raw", "ssb_12143"])]
        assert ssb["vintage"].value and ssb["source_updated"].value and ssb["dagster/row_count"].value > 0
        assert materializations[dg.AssetKey(["reports", "quality_report"])]["new_vintages"].value > 0
        assert dg.AssetKey(["marts", "fct_indicator_values"]) in materializations
        checks = {(r.event_log_entry.dagster_event.event_specific_data.asset_key,
                   r.event_log_entry.dagster_event.event_specific_data.check_name)
                  for r in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION,
                                                        limit=10_000).records}
        assert (dg.AssetKey(["marts", "fct_indicator_values"]), "fct_unique_grain") in checks  # the gate
        assert (dg.AssetKey(["raw", "ssb_12143"]), "raw_keys_not_null") in checks  # on the raw table it checks
        assert (dg.AssetKey(["raw", "ssb_12143"]), "source_publishes_on_time") in checks  # freshness
        # and the run's log: every event, as the UI's run page lists them
        assert len(instance.all_logs(run.run_id)) > 500


def test_the_suite_never_records_into_the_repositorys_instance(offline_run, dagster_home):
    from styringsdata.settings import PROJECT_ROOT

    ran_in = offline_run.dagster_home or dagster_home
    assert "Dagster instance " + str(ran_in) in offline_run.first.stdout
    assert str(PROJECT_ROOT / "dagster_home") not in {str(ran_in), str(dagster_home)}


def test_verbose_shows_the_full_log_as_it_is_written(offline_run):
    from tests.pipeline.conftest import run_cli

    # nothing new upstream by now: a short run (forced past the pre-check, which would answer without the job)
    result = run_cli(offline_run.env, "--verbose", "--force")
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("styringsdata: full log: ")]
    log = Path(line.removeprefix("styringsdata: full log: ")).read_text(encoding="utf-8").splitlines()
    assert " - DEBUG - " in result.stdout and any("RUN_SUCCESS" in line for line in log)
    assert set(log) <= set(result.stdout.splitlines())  # every line of the file, on the terminal too
    assert [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ") and
            line.split()[0] in STAGES] == list(STAGES)
