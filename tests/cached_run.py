"""Published runs built once per code fingerprint and shared between test sessions (issue 24, item 5).

A whole offline run takes 1-3 minutes on the 2-core machine, and the suite's session fixtures (`offline_run` in
tests/pipeline/conftest.py, `published_data` in tests/faults/conftest.py) each started one in every session. Now
each is built once for what it is made of, and kept outside the repository:

    $TMPDIR/styringsdata-test-cache/<variant>-<fingerprint>/
        data/            the run's data directory, as the run left it
        dagster_home/    the Dagster instance the run recorded into
        result.json      its exit status, stdout and stderr, and the two paths above as the run saw them

The fingerprint covers what could make the run come out differently: the code and configuration the pre-check
fingerprints (src/styringsdata/runs/precheck.py CODE: the package, the dbt project, pyproject, the lock file), the
recorded answers and bundled files (snapshots/), the Dagster instance's configuration, the recipe's source and
what it calls, FORMAT below (how an entry is built), the versions of Python and of the libraries the run is made
of, and today's date in Oslo (dbt's `as_of_date`, the report's date). Anything else is a new entry.

A session never works in the cache: `load` copies the data directory and the Dagster instance to the session's
own place and rewrites the two paths in the run's output, so a test sees what it saw when the session made the run
itself. The run's records stay in their own instance, not the session's: copying ~3 000 events into another
sqlite instance one by one, the only public way, takes longer than the run. Every session takes this path, built
now or earlier, so a test cannot pass on a cache hit and fail on a miss.

`TEST_RUN_CACHE=off` builds a private entry for the session (nothing shared, nothing kept); `TEST_RUN_CACHE=<dir>`
keeps the cache there. When a new entry is built, entries unused for two days go, and all but the four most
recently used of its variant.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
SETTING = "TEST_RUN_CACHE"  # not STYRINGSDATA_*: the runs' environments drop those, and it is no product setting
# The instance's configuration and the answers a replay run reads, besides the pre-check's CODE.
INPUTS = ("snapshots", "dagster_home/dagster.yaml", "catalogue")
LIBRARIES = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "pandas",
             "pyarrow")
UNUSED_DAYS = 2
KEPT = 4  # entries per variant: a few branches or commits in use on one machine
FORMAT = "1"  # the entry's layout and how it is built here: raise it when `entry` builds differently


# A recipe builds the run: (data directory to create, Dagster home to record into) -> the CLI's result.
Recipe = Callable[[Path, Path], subprocess.CompletedProcess]


def cache_root() -> Path | None:
    chosen = os.environ.get(SETTING, "")
    if chosen == "off":
        return None
    return Path(chosen) if chosen else Path(tempfile.gettempdir()) / "styringsdata-test-cache"


def fingerprint(recipe: str) -> str:
    from styringsdata.runs.precheck import CODE, SKIPPED_PARTS

    digest = hashlib.sha256()
    files: list[Path] = []
    for name in (*CODE, *INPUTS):
        path = ROOT / name
        files += [path] if path.is_file() else [
            p for p in path.rglob("*") if p.is_file() and not SKIPPED_PARTS & set(p.relative_to(path).parts)
            and p.suffix != ".pyc"]
    for path in sorted(set(files)):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"recipe {recipe}\0format {FORMAT}\0{sys.version}".encode())
    for library in LIBRARIES:
        try:
            digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{library} absent".encode())
    digest.update(dt.datetime.now(ZoneInfo("Europe/Oslo")).date().isoformat().encode())
    return digest.hexdigest()[:16]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder per entry across sessions (another engineer's session may be building the same one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def entry(variant: str, recipe: Recipe, recipe_text: str, private_root: Path) -> Path:
    """The cache entry for this recipe and code, built now if there is none. A failed run is never kept: the
    recipe's result is then returned in an entry under `private_root` for the fixture to report. `recipe_text`:
    the recipe's source and what it reads (its constants, the helpers it calls), for the fingerprint."""
    root = cache_root() or private_root
    found = root / f"{variant}-{fingerprint(recipe_text)}"
    with _locked(root / f".{found.name}.lock"):
        if (found / "result.json").is_file():
            os.utime(found / "result.json")  # used: kept from pruning
            return found
        building = root / f".{found.name}.building"
        shutil.rmtree(building, ignore_errors=True)  # a session killed while building left it
        (building / "dagster_home").mkdir(parents=True)
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", building / "dagster_home" / "dagster.yaml")
        result = recipe(building / "data", building / "dagster_home")
        (building / "result.json").write_text(json.dumps({
            "args": [str(a) for a in result.args] if isinstance(result.args, list) else str(result.args),
            "returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr,
            "data_dir": str(building / "data"), "dagster_home": str(building / "dagster_home")}), encoding="utf-8")
        if result.returncode != 0:
            private_root.mkdir(parents=True, exist_ok=True)
            failed = private_root / f"{found.name}.failed"
            shutil.rmtree(failed, ignore_errors=True)
            shutil.move(str(building), str(failed))
            return failed
        os.rename(building, found)
    _prune(root, keep=found)
    return found


def _prune(root: Path, keep: Path) -> None:
    """Entries unused for UNUSED_DAYS, and beyond the KEPT most recently used of a variant (each is ~80 MB)."""
    cutoff = time.time() - UNUSED_DAYS * 86400
    variant = keep.name.rsplit("-", 1)[0]

    def used(path: Path) -> float:
        return (path / "result.json").stat().st_mtime if (path / "result.json").exists() else 0.0

    entries = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep),
                     key=used, reverse=True)
    same = [p for p in entries if p.name.rsplit("-", 1)[0] == variant]
    for old in entries:
        if used(old) < cutoff or old in same[KEPT - 1:]:
            with _locked(root / f".{old.name}.lock"):
                shutil.rmtree(old, ignore_errors=True)
            (root / f".{old.name}.lock").unlink(missing_ok=True)


def load(found: Path, data_dir: Path, dagster_home: Path) -> subprocess.CompletedProcess:
    """The entry's run as if it had run in `data_dir`, recording into `dagster_home` (a copy of the instance the
    run recorded into: its run, events, materializations and checks, as the UI reads them)."""
    recorded = json.loads((found / "result.json").read_text(encoding="utf-8"))
    shutil.copytree(found / "data", data_dir, symlinks=True)  # copy2: sizes and mtimes as the pre-check saw them
    shutil.copytree(found / "dagster_home", dagster_home, symlinks=True)
    replace = {recorded["data_dir"]: str(data_dir), recorded["dagster_home"]: str(dagster_home)}

    def moved(text: str) -> str:
        for old, new in replace.items():
            text = text.replace(old, new)
        return text

    return subprocess.CompletedProcess(recorded["args"], recorded["returncode"], moved(recorded["stdout"]),
                                       moved(recorded["stderr"]))
