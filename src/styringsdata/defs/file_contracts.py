"""The sources that arrive as files in a documented contract, as assets: one factory, one spec per contract.

A file contract (docs/sources.md: "Municipal deflator and expense-need index", "Udir") is bundled in snapshots/<source>/
and dropped in an inbox; `styringsdata.sources.file_contract.refresh` validates each file whole, lands it as a vintage
or quarantines it with a row-level error report, and loads every landed vintage raw lacks. The assets differ only in
what the spec below says, so they are made by `build_file_contract_asset` (Dagster's asset-factory pattern,
docs.dagster.io "Creating asset factories"): adding a contract is adding a spec, not another asset function.
"""

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Protocol

import dagster as dg
import duckdb

from styringsdata.defs.keys import WAITS_FOR_CODES
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.home import asss_members
from styringsdata.queries import one_value
from styringsdata.raw.tables import LoadResult
from styringsdata.runs.build_state import RAW_CHANGED
from styringsdata.settings import Settings
from styringsdata.sources import expense_need_index, municipal_deflator, udir
from styringsdata.sources.catalogue import registry_reference
from styringsdata.sources.drop_zone import DropZoneResult, Plausible, ReleaseDelta, Validate
from styringsdata.sources.file_contract import RefreshResult, refresh
from styringsdata.sources.registry import keyed_release_delta


@dataclass(frozen=True)
class ContractRules:
    """What a file is checked against; built each run, since some rules read today's codes from the work file."""
    validate: Validate
    plausible: Plausible | None = None
    release_delta: ReleaseDelta | None = None


class ContractModule(Protocol):
    """What a contract's module in styringsdata.sources declares (municipal_deflator, expense_need_index, udir)."""
    SOURCE: str  # the landing zone's and quarantine's name, snapshots/<SOURCE>/, and the word the log uses
    TABLE: str  # the raw table, schema-qualified: the asset's key and the row count it reports

    def ensure_table(self, con: duckdb.DuckDBPyConnection) -> None: ...

    def load_vintage(self, con: duckdb.DuckDBPyConnection, vintage_dir: Path, manifest: dict,
                     rows: list[Any]) -> LoadResult: ...


@dataclass(frozen=True)
class FileContract:
    module: ContractModule
    group: str
    description: str
    rules: Callable[[duckdb.DuckDBPyConnection, Settings], ContractRules]
    inbox: Callable[[Settings], Path] | None = None  # None: data/inbox/<SOURCE>/
    deps: tuple[dg.AssetKey, ...] = ()
    freshness_source: str | None = None  # the source's name in marts.source_freshness, when that mart follows it

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(self.module.TABLE.split("."))  # raw.udir_values -> raw/udir_values

    def inbox_dir(self, settings: Settings) -> Path:
        return self.inbox(settings) if self.inbox else settings.data_dir / "inbox" / self.module.SOURCE


def build_file_contract_asset(contract: FileContract) -> dg.AssetsDefinition:
    @dg.asset(
        key=contract.key,
        group_name=contract.group,
        kinds={"python", "duckdb"},
        pool=DUCKDB_WRITER_POOL,
        deps=list(contract.deps),
        description=contract.description,
    )
    def _asset(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
        settings, module = pipeline.settings, contract.module
        with pipeline.work_db() as con:
            rules = contract.rules(con, settings)
            module.ensure_table(con)
            result = refresh(con, pipeline.landing(), module.SOURCE, rules.validate,
                             bundled=settings.snapshot_dir / module.SOURCE, inbox=contract.inbox_dir(settings),
                             quarantine=settings.quarantine, load_vintage=module.load_vintage,
                             max_bytes=settings.registry_max_bytes, settle_seconds=settings.registry_settle_seconds,
                             plausible=rules.plausible, release_delta=rules.release_delta)
            total = one_value(con, f"select count(*) from {module.TABLE}")
        log_inbox(context, module.SOURCE, result.inbox)
        return dg.MaterializeResult(metadata=_metadata(result, total))

    return _asset


def log_inbox(context: dg.AssetExecutionContext, label: str, inbox: DropZoneResult) -> None:
    """What the shared drop zone did with an inbox's files: every file source's asset says it in these words."""
    for name, report in inbox.rejected:
        context.log.warning(f"{label} file {name} rejected, moved to quarantine (the last good vintage stays in use); "
                            f"report: {report}")
    for name, why in inbox.skipped:
        context.log.info(f"{label} file {name} left in the inbox: {why}")


def inbox_metadata(inbox: DropZoneResult) -> dict[str, dg.MetadataValue]:
    return {
        "accepted_files": dg.MetadataValue.json([name for name, _ in inbox.accepted]),
        "rejected_files": dg.MetadataValue.json({name: str(path) for name, path in inbox.rejected}),
        "already_landed_files": dg.MetadataValue.json(inbox.already_landed),
        "waiting_files": dg.MetadataValue.json(dict(inbox.skipped)),
    }


def _metadata(result: RefreshResult, total: int) -> dict[str, Any]:
    return {
        **inbox_metadata(result.inbox),
        "vintages": result.vintages,
        "new_vintages_loaded": result.newly_loaded,
        RAW_CHANGED: result.newly_loaded > 0,
        "rows_loaded": result.rows_loaded,
        "dagster/row_count": total,
    }


def _deflator_rules(con: duckdb.DuckDBPyConnection, settings: Settings) -> ContractRules:
    return ContractRules(municipal_deflator.validate, municipal_deflator.plausibility())


def _need_index_rules(con: duckdb.DuckDBPyConnection, settings: Settings) -> ContractRules:
    codes = registry_reference(con, settings.catalogue_path)
    areas = expense_need_index.load_areas(settings.seeds_dir / expense_need_index.AREAS_SEED)
    reference = expense_need_index.NeedIndexReference(areas, codes.municipalities, codes.retired,
                                                      members=frozenset(asss_members()), names=codes.names)
    return ContractRules(partial(expense_need_index.validate, reference=reference),
                         expense_need_index.plausibility(reference),
                         keyed_release_delta(("year", "municipality_code", "need_area")))


def _udir_rules(con: duckdb.DuckDBPyConnection, settings: Settings) -> ContractRules:
    reference = registry_reference(con, settings.catalogue_path, max_bytes=settings.registry_max_bytes)
    return ContractRules(partial(udir.validate, reference=reference), udir.plausibility(reference),
                         keyed_release_delta(("indicator_id", "kommunekode", "skoleaarnavn")))


# The ASSS way of comparing needs two inputs no API serves: the municipal deflator and the expense-need index.
MUNICIPAL_DEFLATOR = FileContract(
    module=municipal_deflator,
    group="asss_inputs",
    description=(
        "The municipal deflator (kommunal deflator) per year and estimate (NBnn, RNBnn, ...), from files in the "
        "documented contract: bundled in snapshots/municipal_deflator/ (published figures with their citation, "
        "illustrative ones marked), dropped in data/inbox/municipal_deflator/. The newest valid file wins whole."
    ),
    rules=_deflator_rules,
)

EXPENSE_NEED_INDEX = FileContract(
    module=expense_need_index,
    group="asss_inputs",
    description=(
        "The expense-need index (indeks for beregnet utgiftsbehov, Grønt hefte) per municipality, year and cost-key "
        "sector, national average = 100, from files in the documented contract: bundled in "
        "snapshots/expense_need_index/, dropped in data/inbox/expense_need_index/. The newest file wins per figure."
    ),
    rules=_need_index_rules,
    deps=WAITS_FOR_CODES,
)

# Elevundersøkelsen figures exported from Udir's statistikkbanken (its inbox is a setting: STYRINGSDATA_UDIR_INBOX).
UDIR = FileContract(
    module=udir,
    group="udir",
    description=(
        "Udir's figures (Elevundersøkelsen: mobbing, trivsel, vurdering for læring, motivasjon) from files exported "
        "from Udir's statistikkbanken with an indicator_id column (docs/sources.md, 'Udir'): bundled in snapshots/udir/, dropped "
        "in data/inbox/udir/. Accepted files land as vintages; rejected ones go to quarantine with an error report."
    ),
    rules=_udir_rules,
    inbox=lambda settings: settings.udir_inbox_dir,
    deps=WAITS_FOR_CODES,
    freshness_source="Udir",
)

FILE_CONTRACTS = (MUNICIPAL_DEFLATOR, EXPENSE_NEED_INDEX, UDIR)
file_contract_assets = [build_file_contract_asset(contract) for contract in FILE_CONTRACTS]
