"""When may a run skip dbt, the gate and the publish? Only when it would publish exactly what is published.

That holds when no source loaded anything new into raw in this run, raw holds exactly what the last
build was made from, that build finished and was published, the dbt project and the gate are the ones
it used, and it was built today (lateness and the scorecard are judged against today's date, so the
marts are rebuilt at least once a day).

The state file (`data/work.build.json`) is the pipeline's memory between runs, whoever starts them. Its
"pending publication" is everything a run did not finish: raw data a killed, blocked or out-of-disk run
loaded but never built (raw differs from what the last build recorded), a build that never finished
(`built` false), a build that was never published, and a publication whose report was never written
(`reported` false; the next run writes it: src/styringsdata/defs/resources.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, TypeGuard

from styringsdata.settings import PROJECT_ROOT

if TYPE_CHECKING:  # the CLI's pre-check reads the state without paying for DuckDB's import
    import duckdb

# Every file whose change changes what dbt builds or what the gate lets through.
BUILD_INPUTS = (("dbt_project", ("models", "seeds", "macros", "tests")), ("src/styringsdata/quality", (".",)))
BUILD_FILES = ("dbt_project/dbt_project.yml",)
# Metadata every source asset reports: True when this step loaded a vintage raw did not have, or when the source's
# outcome changed (it failed now, answered again): either way the marts must be rebuilt.
RAW_CHANGED = "raw_changed"
# Only the first of the two: what the terminal's sources stage calls "new in raw" (a failing source is not new
# there, it has its own `source failed:` line). Assets without outcomes report RAW_CHANGED alone.
NEW_IN_RAW = "new_in_raw"
# The flag decide() gets for a source asset that loaded nothing new but whose outcome changed (it failed now, or
# answered again): a reason to rebuild, never called new data.
OUTCOME_CHANGED = "outcome_changed"


@dataclass(frozen=True)
class BuildState:
    fingerprint: str  # of the dbt project and the gate
    built_on: str  # ISO date, Europe/Oslo
    run_id: str  # the run that built the marts
    published: bool
    built: bool = True  # False from the start of `dbt build` until it finished
    reported: bool = True  # False from the publication until its report is written
    raw: dict[str, list[str]] = field(default_factory=dict)  # what raw held when the build started
    published_by: str = ""  # the run that published this build, and when it started (for a late report)
    published_run_started_at: str = ""


@dataclass(frozen=True)
class Decision:
    rebuild: bool
    reason: str


def project_fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    files = [root / f for f in BUILD_FILES]
    for top, folders in BUILD_INPUTS:
        for folder in folders:
            files += [p for p in (root / top / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted(set(files)):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_fingerprint(home_municipality: str, root: Path = PROJECT_ROOT) -> str:
    """What a build is made of: the dbt project and the gate, and the home member (another home is another build)."""
    return f"{project_fingerprint(root)}-{home_municipality}"


def load(path: Path) -> BuildState | None:
    try:
        return parse(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        return None


def parse(text: str | None, path: Path) -> BuildState | None:
    if text is None:
        return None
    try:
        return BuildState(**json.loads(text))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a build state ({exc}); delete it to force a rebuild") from exc


def save(path: Path, state: BuildState) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(asdict(state), indent=1), encoding="utf-8")
    except OSError as exc:  # a full disk: name the file (Python's write errors do not)
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(tmp)) from None
    tmp.replace(path)


def build_started(path: Path, *, run_id: str, fingerprint: str, today: dt.date, raw: Mapping[str, list[str]]) -> None:
    """Saved before `dbt build` starts, so a build that is killed or fails is known as unfinished."""
    save(path, BuildState(fingerprint, today.isoformat(), run_id, published=False, built=False, reported=False,
                          raw={k: list(v) for k, v in raw.items()}))


def build_finished(path: Path, run_id: str) -> None:
    state = load(path)
    if state is not None and state.run_id == run_id:
        save(path, replace(state, built=True))


def mark_published(path: Path, run_id: str, started_at: str = "") -> None:
    """The publish step copied the marts of the last finished build (whichever run built them)."""
    state = load(path)
    if state is not None and state.built:
        save(path, replace(state, published=True, reported=False, published_by=run_id,
                           published_run_started_at=started_at))


def mark_reported(path: Path, run_id: str) -> None:
    state = load(path)
    if state is not None and state.published and state.published_by == run_id:
        save(path, replace(state, reported=True))


def unreported_publication(state: BuildState | None) -> TypeGuard[BuildState]:
    return state is not None and state.published and not state.reported and bool(state.published_by)


def raw_inventory(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every vintage in raw, per table: what a build made now would be made from."""
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.columns where table_schema = 'raw' and column_name = '_vintage' "
        "order by table_name").fetchall()]
    return {table: [r[0] for r in con.execute(
        f'select distinct _vintage from raw."{table}" where _vintage is not null order by 1').fetchall()]
        for table in tables}


def _not_built(built: Mapping[str, list[str]], now: Mapping[str, list[str]]) -> list[str]:
    """'raw.table (vintages)' for what raw holds beyond the last build, and tables that lost vintages."""
    out = []
    for table in sorted(set(built) | set(now)):
        new = sorted(set(now.get(table, [])) - set(built.get(table, [])))
        gone = sorted(set(built.get(table, [])) - set(now.get(table, [])))
        if new:
            out.append(f"raw.{table} ({', '.join(new[-3:])}{', ...' if len(new) > 3 else ''})")
        elif gone:
            out.append(f"raw.{table} (lost {', '.join(gone[-3:])})")
    return out


def decide(state: BuildState | None, *, fingerprint: str, today: dt.date, sources: Iterable[tuple[str, object]],
           marts_exist: bool, warehouse_exists: bool, forced: bool,
           raw: Mapping[str, list[str]] | None = None) -> Decision:
    """`sources`: (asset, its raw_changed metadata or None when it did not report one, or OUTCOME_CHANGED) for
    this run;
    `raw`: raw_inventory() of the work file now (None: not known, which never allows a skip)."""
    if forced:
        return Decision(True, "a rebuild was asked for (STYRINGSDATA_REBUILD=on)")
    sources = list(sources)
    if not sources:
        return Decision(True, "no source step in this run: dbt was asked for directly")
    changed = [name for name, flag in sources if flag is not False and flag != OUTCOME_CHANGED]
    outcomes = [name for name, flag in sources if flag == OUTCOME_CHANGED]
    if changed or outcomes:
        return Decision(True, "; ".join(
            ([f"new data in raw from {', '.join(sorted(changed))}"] if changed else [])
            + ([f"a source failed, or answered again: {', '.join(sorted(outcomes))}"] if outcomes else [])))
    if state is None or not marts_exist or not warehouse_exists:
        return Decision(True, "no earlier build and publication to reuse")
    if not state.built:
        return Decision(True, f"the build of run {state.run_id} did not finish (the run was stopped or failed)")
    if not state.raw:
        return Decision(True, f"the last build (run {state.run_id}) did not record what raw held")
    pending = _not_built(state.raw, raw) if raw is not None else ["(raw not inspected)"]
    if pending:
        return Decision(True, "pending publication: an earlier run loaded data it did not build and publish: "
                        + ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else ""))
    if state.fingerprint != fingerprint:
        return Decision(True, "the dbt project or the quality gate changed since the last build")
    if not state.published:
        return Decision(True, f"pending publication: the last build (run {state.run_id}) was not published")
    if state.built_on != today.isoformat():
        return Decision(True, f"the marts were built on {state.built_on}; lateness is judged against today")
    return Decision(False, f"no source loaded anything new, and run {state.run_id} published today's build of "
                    "the same project")
