"""When may a run skip dbt, the gate and the publish? Only when it would publish exactly what is published.

That holds when no source loaded anything new into raw in this run, the dbt project and the gate are the
ones the last build used, the last build was published, and it was built today (lateness and the
scorecard are judged against today's date, so the marts are rebuilt at least once a day).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from orchestration.settings import PROJECT_ROOT

# Every file whose change changes what dbt builds or what the gate lets through.
BUILD_INPUTS = (("dbt_project", ("models", "seeds", "macros", "tests")), ("expectations", (".",)))
BUILD_FILES = ("dbt_project/dbt_project.yml",)
# Metadata every source asset reports: True when this step loaded a vintage raw did not have.
RAW_CHANGED = "raw_changed"


@dataclass(frozen=True)
class BuildState:
    fingerprint: str  # of the dbt project and the gate
    built_on: str  # ISO date, Europe/Oslo
    run_id: str
    published: bool


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


def load(path: Path) -> BuildState | None:
    try:
        return BuildState(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a build state ({exc}); delete it to force a rebuild") from exc


def save(path: Path, state: BuildState) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=1), encoding="utf-8")
    tmp.replace(path)


def mark_published(path: Path, run_id: str) -> None:
    state = load(path)
    if state is not None and state.run_id == run_id:
        save(path, BuildState(state.fingerprint, state.built_on, state.run_id, True))


def decide(state: BuildState | None, *, fingerprint: str, today: dt.date, sources: Iterable[tuple[str, object]],
           marts_exist: bool, warehouse_exists: bool, forced: bool) -> Decision:
    """`sources`: (asset, its raw_changed metadata or None when it did not report one) for this run."""
    if forced:
        return Decision(True, "a rebuild was asked for (STYRINGSDATA_REBUILD=on)")
    sources = list(sources)
    if not sources:
        return Decision(True, "no source step in this run: dbt was asked for directly")
    changed = [name for name, flag in sources if flag is not False]
    if changed:
        return Decision(True, f"new data in raw from {', '.join(sorted(changed))}")
    if state is None or not marts_exist or not warehouse_exists:
        return Decision(True, "no earlier build and publication to reuse")
    if state.fingerprint != fingerprint:
        return Decision(True, "the dbt project or the quality gate changed since the last build")
    if not state.published:
        return Decision(True, f"the last build (run {state.run_id}) was not published")
    if state.built_on != today.isoformat():
        return Decision(True, f"the marts were built on {state.built_on}; lateness is judged against today")
    return Decision(False, f"no source loaded anything new, and run {state.run_id} published today's build of "
                    "the same project")
