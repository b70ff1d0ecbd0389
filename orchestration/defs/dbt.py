"""The dbt project as Dagster assets: staging, intermediate and marts on the work file."""


import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from orchestration.lib import build_state
from orchestration.lib.home import dbt_vars
from orchestration.settings import PROJECT_ROOT, Settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
OSLO = ZoneInfo("Europe/Oslo")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The dbt installed next to this Python, so an unactivated virtualenv (`.venv/bin/styringsdata`) works.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt")) if Path(sys.executable).with_name("dbt").exists() \
    else (shutil.which("dbt") or "dbt")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def export_dbt_environment(settings: Settings) -> None:
    """dbt runs as a subprocess and reads its DuckDB path from the environment (profiles.yml).

    A variable of its own, not STYRINGSDATA_WORK_DB: exporting the user's setting would freeze it for every
    later Settings.from_env() in this process (a test or a second run with another data directory).
    """
    os.environ["STYRINGSDATA_DBT_WORK_DB"] = str(settings.work_db)
    os.environ.setdefault("DBT_TARGET", "dev")


def ensure_manifest() -> None:
    """Parse the dbt project when the manifest is missing or older than a project file, before @dbt_assets
    reads it at import time (fresh clone, CI, the CLI, `dagster dev`).

    Not DbtProject.prepare_if_dev(): under `dagster dev` it runs a `dbt` found on PATH, which an unactivated
    virtualenv (`make dev`) does not have, and the code location failed to load.
    """
    if _manifest_is_stale():
        dbt_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()


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

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        if props["resource_type"] == "seed":
            return "seeds"
        fqn = props["fqn"]
        return fqn[1] if len(fqn) > 2 else "models"


export_dbt_environment(Settings.from_env())
ensure_manifest()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayeredTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    pool=DUCKDB_WRITER_POOL,
)
def styringsdata_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineResource):
    """dbt build: models, seeds, data tests and unit tests, in DAG order, on the work file.

    Skipped when it would rebuild what is already published (orchestration/lib/build_state.py); the gate,
    publish and report then skip too, because no mart was materialized.
    """
    settings = pipeline.settings
    # The marts depend on the home member too: another home is another build.
    fingerprint = f"{build_state.project_fingerprint()}-{settings.home_municipality}"
    today = dt.datetime.now(OSLO).date()
    decision = _rebuild_decision(context, pipeline, fingerprint, today)
    if not decision.rebuild:
        context.log.info(f"dbt build, gate and publish skipped: {decision.reason}")
        return
    context.log.info(f"dbt build: {decision.reason}")
    export_dbt_environment(settings)
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars(settings.home_municipality, today))],
                       context=context).stream()
    build_state.save(settings.build_state_path, build_state.BuildState(fingerprint, today.isoformat(),
                                                                       context.run_id, published=False))


def _rebuild_decision(context: dg.AssetExecutionContext, pipeline: PipelineResource, fingerprint: str,
                      today: dt.date) -> build_state.Decision:
    records = context.instance.get_records_for_run(
        run_id=context.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=10_000).records
    sources = []
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is not None and materialization.asset_key.path[0] == "raw":
            flag = materialization.metadata.get(build_state.RAW_CHANGED)
            sources.append((materialization.asset_key.to_user_string(), flag.value if flag is not None else None))
    settings = pipeline.settings
    with pipeline.work_db() as con:
        marts_exist = bool(con.execute("select count(*) from information_schema.tables where table_schema = "
                                       "'marts' and table_name = 'fct_indicator_values'").fetchone()[0])
    return build_state.decide(build_state.load(settings.build_state_path), fingerprint=fingerprint, today=today,
                              sources=sources, marts_exist=marts_exist, warehouse_exists=settings.warehouse.exists(),
                              forced=settings.rebuild)
