"""The dbt project as Dagster assets: staging, intermediate and marts on the work file.

Importing this module does no work (no `dbt parse`, no environment variable set): the manifest is prepared the
first time the Definitions are built (`dbt_models()`, cached for the process), as dagster-open-platform does.
"""


import datetime as dt
import functools
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.publishing import ledger
from styringsdata.queries import one_value
from styringsdata.runs import build_state
from styringsdata.quality.check_descriptions import dbt_test_description
from styringsdata.home import dbt_vars
from styringsdata.settings import DBT_PROJECT_DIR, Settings

OSLO = ZoneInfo("Europe/Oslo")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The dbt installed next to this Python, so an unactivated virtualenv (`.venv/bin/styringsdata`) works.
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")
# dbt is started through this launcher, which makes it die with the process that started it (no orphaned
# `dbt build` holding the work file after the pipeline was killed); it execs DBT_EXECUTABLE.
DBT_CHILD = Path(__file__).resolve().parents[1] / "runs" / "dbt_child.py"


class PipelineDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two things it does before every dbt command and this pipeline never uses.

    - `dbt --version` in a subprocess (a whole dbt interpreter start, 1.5 s idle, 7 s on a loaded machine) to
      learn the version: the dbt next to this Python (directly or through DBT_CHILD) is the installed dbt-core.
    - A dbt adapter opened in this process, used only to fetch row counts and column metadata, which this
      pipeline does not ask for (the raw assets report their own row counts).
    """

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) in (_VENV_DBT, DBT_CHILD) and _VENV_DBT.exists():
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version  # some other dbt on PATH: ask it

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None


def dbt_resource() -> DbtCliResource:
    # DbtCliResource's own __init__ takes a DbtProject, but Dagster's dataclass_transform makes mypy type a
    # subclass's __init__ from the field `project_dir: str`
    return PipelineDbtCliResource(project_dir=dbt_project,  # type: ignore[arg-type]  # the stubs, not the call
                                  dbt_executable=str(DBT_CHILD))


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What dbt, a subprocess, needs from the settings in its environment: the DuckDB path profiles.yml reads.

    A variable of its own, not STYRINGSDATA_WORK_DB, and given to the dbt process only (never written into this
    process's environment, where it would freeze the setting for every later Settings.from_env()).

    The profile gets the work file's name only, and DBT_CHILD starts dbt in the file's directory: dbt keeps its
    parse of the project only while the profile is unchanged, and with the absolute path in it every new data
    directory (a first run, a test's, the national bench's) parsed all models and tests again (~6 s of CPU).
    """
    return {"STYRINGSDATA_DBT_WORK_DB": settings.work_db.name}


def child_arguments(settings: Settings) -> list[str]:
    """DBT_CHILD's own arguments (it removes them before starting dbt): dagster-dbt passes them as global flags."""
    return [f"--styringsdata-dbt={shutil.which(DBT_EXECUTABLE) or DBT_EXECUTABLE}",
            f"--styringsdata-parent={os.getpid()}", f"--styringsdata-work-db={settings.work_db.name}",
            f"--styringsdata-work-dir={settings.work_db.parent}"]


def run_resource(dbt: DbtCliResource, settings: Settings) -> DbtCliResource:
    """The dbt resource for one build: the Definitions' one, with DBT_CHILD told this run's work file."""
    return PipelineDbtCliResource(project_dir=dbt.project_dir, dbt_executable=dbt.dbt_executable,
                                  profiles_dir=dbt.profiles_dir, profile=dbt.profile, target=dbt.target,
                                  global_config_flags=[*child_arguments(settings), *dbt.global_config_flags])


def ensure_manifest(settings: Settings | None = None) -> Path:
    """The manifest @dbt_assets reads, parsed first when missing or older than a project file (fresh clone, CI,
    the CLI, `dagster dev`). Called when the Definitions are built, never at import.

    Not DbtProject.prepare_if_dev(): under `dagster dev` it runs a `dbt` found on PATH, which an unactivated
    virtualenv (`make dev`) does not have, and the code location failed to load. The parse gets the settings'
    DuckDB path in its environment only, so its partial-parse state matches the builds that follow.
    """
    if _manifest_is_stale():
        settings = settings or Settings.from_env()
        target = DBT_PROJECT_DIR / dbt_project.target_path
        subprocess.run([DBT_EXECUTABLE, "parse", "--quiet", "--target-path", str(target), "--log-path", str(target)],
                       cwd=DBT_PROJECT_DIR, check=True,  # parsing never opens the work file (the relative path)
                       env={**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
                            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **dbt_environment(settings)})
    return dbt_project.manifest_path


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [p for folder in ("models", "seeds", "macros", "tests") for p in (DBT_PROJECT_DIR / folder).rglob("*")]
    sources += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


class LayeredTranslator(DagsterDbtTranslator):
    """Models keyed and grouped by layer (staging / intermediate / marts); sources keep their meta asset keys."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return f"dbt_{self._layer(dbt_resource_props)}"
        return super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project: DbtProject | None) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=dbt_test_description(manifest["nodes"][unique_id]))

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        if props["resource_type"] == "seed":
            return "seeds"
        fqn = props["fqn"]
        return fqn[1] if len(fqn) > 2 else "models"


@functools.cache
def dbt_models() -> dg.AssetsDefinition:
    """The dbt models, seeds and tests as Dagster assets and checks, built from the manifest on first use."""

    @dbt_assets(
        manifest=ensure_manifest(),
        project=dbt_project,
        dagster_dbt_translator=LayeredTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=DUCKDB_WRITER_POOL,
    )
    def styringsdata_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineResource):
        """dbt build: models, seeds and data tests, in DAG order, on the work file.

        Skipped when it would rebuild what is already published (src/styringsdata/runs/build_state.py); the gate,
        publish and report then skip too, because no mart was materialized.
        """
        yield from build_models(context, dbt, pipeline)

    return styringsdata_dbt_models


def build_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineResource):
    settings = pipeline.settings
    fingerprint = build_state.build_fingerprint(settings.home_municipality)
    today = dt.datetime.now(OSLO).date()
    decision, raw = _rebuild_decision(context, pipeline, fingerprint, today)
    if not decision.rebuild:
        context.log.info(f"dbt build, gate and publish skipped: {decision.reason}")
        return
    context.log.info(f"dbt build: {decision.reason}")
    if context.is_subset:
        # Only part of the project is rebuilt: data pending for the other models stays pending.
        previous = build_state.load(settings.build_state_path)
        raw = previous.raw if previous is not None else {}
    build_state.build_started(settings.build_state_path, run_id=context.run_id, fingerprint=fingerprint, today=today,
                              raw=raw)
    target = _run_target_path(context, settings)
    # The home member and the date lateness is judged against reach dbt as vars (dbt_project.yml has no home).
    # dbt parses the whole project again when its vars differ from the kept parse's: once a day, as_of_date.
    # Unit tests are left out: their inputs are static, so a scheduled run would only repeat the test suite's
    # answer (tests/pipeline/test_dbt_unit_tests.py), at ~5 s of every run (docs.getdbt.com, "Unit tests").
    variables = dbt_vars(settings.home_municipality, today)
    if settings.chosen_ssb_tables is not None:  # staging reads only these tables' raw tables
        variables["ssb_tables"] = list(settings.chosen_ssb_tables)
    args = ["build", "--vars", json.dumps(variables), "--exclude-resource-type", "unit_test"]
    yield from run_resource(dbt, settings).cli(args, context=context, target_path=target).stream()
    _keep_partial_parse_state(target, settings)
    build_state.build_finished(settings.build_state_path, context.run_id)


def partial_parse_state_path(settings: Settings) -> Path:
    """dbt's parse of the project, kept per work file: dbt discards it when the profile (the DuckDB path) differs."""
    return settings.work_db.with_name(settings.work_db.stem + ".dbt-" + PARTIAL_PARSE_FILE)


def _run_target_path(context: dg.AssetExecutionContext, settings: Settings) -> Path:
    """This run's dbt target folder, in the data directory (never in the repository), seeded with the last
    build's parse of the project.

    dagster-dbt's default puts one folder per build under dbt_project/ (24 folders, 307 MB after one test
    suite); here the data directory keeps the newest build's folder only (its logs and run results), and the
    parse is kept beside the work file. Without a parse of its own (a new data directory), the one the last
    build anywhere left in dbt_project/target seeds it: the profile names the work file without its directory
    (dbt_environment), so that parse is valid here too, and dbt would otherwise parse all 42 models and 182
    tests again.
    """
    folder = settings.dbt_target_dir
    for old in folder.glob("*-*-*") if folder.is_dir() else ():
        shutil.rmtree(old, ignore_errors=True)  # an earlier build's: its results are in the Dagster instance
    target = folder / f"{context.op_execution_context.op.name}-{context.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True, exist_ok=True)
    state = partial_parse_state_path(settings)
    shared = DBT_PROJECT_DIR / dbt_project.target_path / PARTIAL_PARSE_FILE
    for seed in (state, shared):
        if seed.exists():
            shutil.copyfile(seed, target / PARTIAL_PARSE_FILE)
            break
    return target


def _keep_partial_parse_state(target: Path, settings: Settings) -> None:
    parsed = target / PARTIAL_PARSE_FILE
    if parsed.exists():
        state = partial_parse_state_path(settings)
        partial = state.with_name(state.name + ".partial")
        shutil.copyfile(parsed, partial)
        os.replace(partial, state)  # a reader never sees half a file
        # Also what seeds a work file without a state of its own (a new data directory): dbt_project/target is
        # git-ignored and holds the manifest Dagster reads (ensure_manifest); one file, replaced in place.
        shared = DBT_PROJECT_DIR / dbt_project.target_path / PARTIAL_PARSE_FILE
        shared.parent.mkdir(parents=True, exist_ok=True)
        partial = shared.with_name(f"{PARTIAL_PARSE_FILE}.{uuid.uuid4().hex[:8]}.partial")  # runs may finish at once
        shutil.copyfile(parsed, partial)
        os.replace(partial, shared)


def _rebuild_decision(context: dg.AssetExecutionContext, pipeline: PipelineResource, fingerprint: str,
                      today: dt.date) -> tuple[build_state.Decision, dict[str, list[str]]]:
    records = context.instance.get_records_for_run(
        run_id=context.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=10_000).records
    sources = []
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is not None and materialization.asset_key.path[0] == "raw":
            flag = materialization.metadata.get(build_state.RAW_CHANGED)
            new = materialization.metadata.get(build_state.NEW_IN_RAW)
            value = flag.value if flag is not None else None
            if value and new is not None and not new.value:  # it failed or answered again, and loaded nothing
                value = build_state.OUTCOME_CHANGED
            sources.append((materialization.asset_key.to_user_string(), value))
    settings = pipeline.settings
    with pipeline.work_db() as con:
        marts_exist = bool(one_value(con, "select count(*) from information_schema.tables where table_schema = "
                                          "'marts' and table_name = 'fct_indicator_values'"))
        raw = build_state.raw_inventory(con)
    decision = build_state.decide(build_state.load(settings.build_state_path), fingerprint=fingerprint, today=today,
                                  sources=sources, marts_exist=marts_exist,
                                  warehouse_exists=settings.warehouse.exists(), forced=settings.rebuild, raw=raw)
    if not decision.rebuild:
        # Every target is republished from the approved build: without one (an install from before the
        # ledger, a damaged copy) only a new build can give them an approved publication.
        problem = ledger.approved_problem(settings)
        if problem is not None:
            decision = build_state.Decision(True, f"{problem}; a new build gives every target an approved publication")
    return decision, raw
