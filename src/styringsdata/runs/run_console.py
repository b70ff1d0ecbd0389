"""`styringsdata run` in a terminal: the job executed on the project's Dagster instance, stage lines while it runs,
the full log in a file, and a summary at the end."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from styringsdata.runs.progress import RunProgress, TerminalProgress, expected_results, stage_of_steps, \
    step_count_by_stage
from styringsdata.runs.run_log import log_path, run_output_to_file
from styringsdata.settings import PROJECT_ROOT, Settings


def project_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance every run is recorded in, the one `make dev`'s UI reads (settings.dagster_home)."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    configuration = settings.dagster_home / "dagster.yaml"
    if not configuration.exists():
        # A new DAGSTER_HOME gets the project's instance configuration (the duckdb_writer pool, no telemetry)
        # instead of Dagster's defaults and its notice about the missing file on the user's terminal.
        shutil.copyfile(PROJECT_ROOT / "dagster_home" / "dagster.yaml", configuration)
    return dg.DagsterInstance.from_config(str(settings.dagster_home))


@dataclass
class ConsoleRun:
    result: dg.ExecuteInProcessResult
    progress: RunProgress
    log_path: Path


def execute_with_progress(defs: dg.Definitions, job_name: str, instance: dg.DagsterInstance, settings: Settings,
                          *, verbose: bool = False) -> ConsoleRun:
    from dagster._core.utils import make_new_run_id

    job = defs.resolve_job_def(job_name)
    run_id = make_new_run_id()
    path = log_path(settings.logs_dir, run_id)
    stage_of = stage_of_steps(defs)
    terminal_is_tty = sys.stdout.isatty()
    with run_output_to_file(path, verbose=verbose) as log:
        # a live bar only on a terminal, and not under the verbose log's own lines
        display = TerminalProgress(log.terminal, live=terminal_is_tty and not verbose)
        display.line(f"styringsdata: run {run_id[:8]} of {job_name}; full log: {path}")
        progress = RunProgress(stage_of, expected_results(defs),
                               step_count_by_stage(stage_of, (node.name for node in job.graph.node_defs)),
                               on_change=display.on_change,
                               on_warning=(lambda line: None) if verbose else
                               (lambda line: display.line(f"  warning: {line}")))

        def listen(entry: dg.EventLogEntry) -> None:
            log.write_event(entry)
            progress.on_event(entry)

        instance.add_event_listener(run_id, listen)
        try:
            # Dagster's console logger would print every event at DEBUG: the listener writes them to the file
            result = job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False,
                                            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
                                                        # the mode this command chose (--live, --record)
                                                        "resources": {"pipeline": {"config": {
                                                            "source_mode": settings.source_mode.value}}}})
        finally:
            display.close(progress)
    return ConsoleRun(result, progress, path)
