"""What `styringsdata run` shows while a run goes: one line per stage, a progress indicator on the long ones.

The stages are read from Dagster's own events as the instance stores them (`DagsterInstance.add_event_listener`),
so what the terminal says is what the UI's run page holds. Every event, whatever its level, also goes to the
run's log file (src/styringsdata/runs/run_log.py); the terminal gets the stage lines, warnings and errors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Mapping, TypeVar

import dagster as dg

from styringsdata.runs.build_state import NEW_IN_RAW, RAW_CHANGED
from styringsdata.runs.run_log import level_number
from styringsdata.runs.source_outcomes import CHECK_NAME as SOURCE_CHECK
from styringsdata.runs.source_outcomes import SOURCE_ERRORS_KEY, SourceFailure, one_line_per_source

if TYPE_CHECKING:  # rich is imported only when a terminal shows the bar
    from rich.progress import Progress, TaskID

J = TypeVar("J", list[Any], dict[str, Any])  # what a JSON metadata entry holds

STAGES = ("sources", "dbt", "gate", "publish", "report")
KEY_PREFIX_STAGE = {"raw": "sources", "staging": "dbt", "intermediate": "dbt", "marts": "dbt", "seeds": "dbt",
                    "published": "publish", "reports": "report"}


def stage_of_steps(defs: dg.Definitions) -> dict[str, str]:
    """Step key (op name) -> stage, from the assets each op materializes; ops that only check assets are the gate."""
    stages: dict[str, str] = {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if not assets_def.is_executable:
            continue
        keys = sorted(assets_def.keys, key=lambda k: k.to_user_string())
        stage = KEY_PREFIX_STAGE.get(keys[0].path[0], "sources") if keys else "gate"
        stages[assets_def.node_def.name] = stage
    return stages


def expected_results(defs: dg.Definitions) -> dict[str, int]:
    """How many materializations and check results a stage yields when it runs whole: the progress bar's total."""
    totals = dict.fromkeys(STAGES, 0)
    stage_of = stage_of_steps(defs)
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if assets_def.is_executable:
            totals[stage_of[assets_def.node_def.name]] += len(assets_def.keys) + len(assets_def.check_keys)
    return totals


@dataclass
class Stage:
    name: str
    total: int
    steps: set[str] = field(default_factory=set)  # steps of this stage that started
    finished: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    failed: list[str] = field(default_factory=list)  # "step: message"
    results: int = 0  # materializations and check evaluations so far
    warnings: list[str] = field(default_factory=list)  # check names that did not pass, severity warning
    started_at: float | None = None
    ended_at: float | None = None
    notes: list[str] = field(default_factory=list)  # the step's own log lines that say what it decided

    @property
    def seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.started_at


class RunProgress:
    """Folds a run's Dagster events into the five stages; `on_event` is given to the instance as a listener."""

    def __init__(self, stage_of: dict[str, str], totals: dict[str, int], step_count: dict[str, int],
                 on_change: Callable[["RunProgress", Stage, bool], None] | None = None,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.stage_of = stage_of
        self.step_count = step_count  # steps of each stage in this run's plan
        self.stages = {name: Stage(name, totals.get(name, 0)) for name in STAGES}
        self.on_change = on_change or (lambda progress, stage, done: None)
        self.on_warning = on_warning or (lambda line: None)
        self.data_requests = 0
        self.changed_sources: list[str] = []
        self.materializations: dict[dg.AssetKey, dict[str, object]] = {}

    def on_event(self, entry: dg.EventLogEntry) -> None:
        step = entry.step_key
        stage = self.stages.get(self.stage_of.get(step, "")) if step else None
        event = entry.dagster_event
        if event is None:  # a step's own log line
            if level_number(entry) >= 30 and entry.user_message:  # WARNING and above are shown as they happen
                first = entry.user_message.strip().splitlines()[0] if entry.user_message.strip() else ""
                self.on_warning(f"{step or 'run'}: {first}")  # the whole message is in the log file
            if stage is not None and stage.name == "dbt" and entry.user_message.startswith("dbt build"):
                stage.notes.append(entry.user_message)
            return
        if step is None or stage is None:  # a run-level event (no step), or a step of no stage
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            if stage.started_at is None:
                stage.started_at = time.monotonic()
            stage.steps.add(step)
        elif kind in (dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            stage.results += 1
            if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialization = event.materialization  # Dagster's accessor asserts the event type
                self._materialized(materialization.asset_key, materialization.metadata)
            else:
                evaluation = event.asset_check_evaluation_data
                # a source that failed alone is said once per source at the end (cli.py, source_failures), not
                # as a stage failure
                if not evaluation.passed and evaluation.check_name != SOURCE_CHECK:
                    severity = "warning" if evaluation.severity == dg.AssetCheckSeverity.WARN else "error"
                    name = f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
                    (stage.warnings if severity == "warning" else stage.failed).append(name)
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            stage.finished.add(step)
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            stage.skipped.add(step)
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            stage.finished.add(step)
            error = event.step_failure_data.error
            stage.failed.append(f"{step}: {error.message.strip().splitlines()[0] if error else 'failed'}")
        else:
            return
        done = len(stage.finished | stage.skipped) >= self.step_count.get(stage.name, 0)
        if done and stage.ended_at is None:
            stage.ended_at = time.monotonic()
        self.on_change(self, stage, done)

    def source_failures(self) -> list[SourceFailure]:
        """The sources that failed alone in this run, one per `source failed:` line, from their assets' metadata
        (src/styringsdata/runs/source_outcomes.py)."""
        return one_line_per_source([SourceFailure(**entry) for key, values in self.materializations.items()
                                    for entry in json_metadata(key, values, SOURCE_ERRORS_KEY, list)])

    def _materialized(self, key: dg.AssetKey, metadata: Mapping[str, object]) -> None:
        values = {name: getattr(value, "value", value) for name, value in metadata.items()}
        self.materializations[key] = values
        requests = values.get("data_requests")
        if isinstance(requests, int):
            self.data_requests += requests
        # a vintage raw lacked; assets without source outcomes say so in RAW_CHANGED alone (what dbt reads too)
        if values.get(NEW_IN_RAW, values.get(RAW_CHANGED)):
            self.changed_sources.append(key.path[-1])


def json_metadata(key: dg.AssetKey, values: Mapping[str, object], name: str, kind: type[J]) -> J:
    """A materialization's JSON metadata entry, empty when the step wrote none; a clear error when it is not the
    list or dict its step writes."""
    value = values.get(name) or kind()
    if not isinstance(value, kind):
        raise TypeError(f"{key.to_user_string()}: metadata {name} is {value!r}; expected a {kind.__name__}")
    return value


def step_count_by_stage(stage_of: dict[str, str], step_keys: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(STAGES, 0)
    for step in step_keys:
        counts[stage_of.get(step, "sources")] += 1
    return counts


def stage_line(stage: Stage, detail: str) -> str:
    return f"  {stage.name:<8} {detail}  ({_duration(stage.seconds)})" if stage.started_at else \
        f"  {stage.name:<8} {detail}"


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


def stage_detail(progress: RunProgress, stage: Stage) -> str:
    """What a finished stage did, in a few words; the numbers come from the events and the steps' metadata."""
    if stage.failed and stage.name != "gate":
        return "FAILED: " + "; ".join(stage.failed)
    if not stage.steps:
        return "skipped" + (f": {stage.notes[-1]}" if stage.notes else "")
    if stage.name == "sources":
        changed = _grouped(progress.changed_sources)
        # named once, in its `source failed:` line at the end (cli.py), not here
        failures = progress.source_failures()
        failing = f"; {len(failures)} failing (below)" if failures else ""
        new = f"new in raw: {changed}" if changed else "nothing new"
        return f"{len(stage.finished)} checked, {progress.data_requests} data request(s); {new}{failing}"
    if stage.name == "dbt":
        if stage.results == 0:
            note = stage.notes[-1] if stage.notes else "nothing to build"
            return "skipped: " + _shorten(note.removeprefix("dbt build, gate and publish skipped: "))
        why = _shorten(stage.notes[-1].removeprefix("dbt build: ")) if stage.notes else ""
        return f"{stage.results} models and tests built" + (f" ({why})" if why else "")
    if stage.name == "gate":
        failed = f"{len(stage.failed)} failed ({', '.join(stage.failed)})" if stage.failed else "0 failed"
        named = ", ".join(stage.warnings[:5]) + (f" and {len(stage.warnings) - 5} more" if len(stage.warnings) > 5 else "")
        return f"{stage.results} checks, {failed}, {len(stage.warnings)} warning(s)" + (f": {named}" if named else "")
    if stage.name == "publish":
        return "published" if stage.results else "nothing published"
    return "written" if stage.results else "not written"


def _grouped(assets: list[str]) -> str:
    """ssb_01222, ssb_04861, fhi_nokkel -> "ssb (2 tables), fhi_nokkel": a first run changes every table."""
    by_source: dict[str, list[str]] = {}
    for name in sorted(assets):
        by_source.setdefault(name.split("_", 1)[0], []).append(name)
    return ", ".join(names[0] if len(names) == 1 else f"{source} ({len(names)} tables)"
                     for source, names in by_source.items())


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TerminalProgress:
    """Stage lines on the terminal: a live bar for the running stage on a TTY, plain lines otherwise."""

    def __init__(self, stream: IO[str], live: bool) -> None:
        self.stream = stream
        self.live = live
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._current: str | None = None
        self._printed: set[str] = set()
        self._done: set[str] = set()
        if live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, \
                TimeElapsedColumn

            self._console = Console(file=stream, force_terminal=True)
            self._bar = Progress(SpinnerColumn(), TextColumn("  {task.description:<8}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=self._console, transient=True,
                                 redirect_stdout=False, redirect_stderr=False)
            self._bar.start()

    def line(self, text: str) -> None:
        if self.live:
            self._console.print(text, highlight=False, markup=False, soft_wrap=True)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def on_change(self, progress: RunProgress, stage: Stage, done: bool) -> None:
        if done:
            self.finish(progress, stage)
            return
        if self._bar is not None and stage.started_at is not None:  # a skipped step opens no bar
            if self._current != stage.name or self._task is None:  # the task is made with the stage's name
                if self._task is not None:
                    self._bar.remove_task(self._task)
                self._task = self._bar.add_task(stage.name, total=stage.total or None)
                self._current = stage.name
            self._bar.update(self._task, completed=stage.results)

    def finish(self, progress: RunProgress, stage: Stage) -> None:
        # every step ends in a success, failure or skip event, so a stage is printed once, when it is over, and
        # in STAGES order: the gate's freshness checks wait for the gate's blocking check on source_freshness
        # and may end after publish, whose line then waits for the gate's
        self._done.add(stage.name)
        for name in STAGES:
            if name not in self._done and progress.step_count.get(name, 0) > 0:  # a stage not in the job waits for none
                return
            if name not in self._printed:
                self._finish_one(progress, progress.stages[name])

    def _finish_one(self, progress: RunProgress, stage: Stage) -> None:
        self._printed.add(stage.name)
        if self._bar is not None and self._current == stage.name and self._task is not None:
            self._bar.remove_task(self._task)
            self._task, self._current = None, None
        self.line(stage_line(stage, stage_detail(progress, stage)))

    def close(self, progress: RunProgress) -> None:
        for name in STAGES:
            if name not in self._printed:
                self._finish_one(progress, progress.stages[name])
        if self._bar is not None:
            self._bar.stop()
