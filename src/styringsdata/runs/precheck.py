"""Before `styringsdata run` starts Dagster: is it certain that the whole job would change nothing?

Starting Dagster and building the definitions costs seconds; a run with nothing new upstream then asks the
sources' change markers and skips dbt, the gate and publish anyway (src/styringsdata/runs/build_state.py). This
asks the same change markers first, the way the change sensor does (one SSB listing, FHI's
`table?modifiedAfter=`, KLASS's answers by hash, Miljødirektoratet's conditional GET), and looks at the inboxes.
Only when every answer says "nothing new" and the data directory is exactly as the last successful run left
it is the job not started; anything else, including a source that cannot answer, runs the whole job.

"Exactly as left" is the record `<work file>.precheck.json`, written by the CLI after a run that succeeded
and deleted when any run starts (src/styringsdata/runs/recovery.py), whoever starts it: a failed, killed or
Dagster-launched run leaves none. It holds what the run was made with (settings, code and configuration,
bundled files) and what it left (work file, build state, publication, Parquet, landing zone).

Imports no Dagster, dbt or DuckDB: on a run with nothing new this module is all that runs.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from styringsdata.publishing import ledger
from styringsdata.queries import one_value
from styringsdata.runs import build_state
from styringsdata.runs.lock import LockHeld, run_lock
from styringsdata.settings import INTERNAL_VARIABLES, PROJECT_ROOT, SETTINGS, Settings
from styringsdata.sources.ssb import TableSpecs

RECORD_SUFFIX = ".precheck.json"
OSLO = ZoneInfo("Europe/Oslo")
# What the job is made of, besides the dbt project and the gate (build_state.project_fingerprint, also checked).
CODE = ("src/styringsdata", "dbt_project/models", "dbt_project/seeds", "dbt_project/macros",
        "dbt_project/tests", "dbt_project/dbt_project.yml", "dbt_project/profiles.yml", "pyproject.toml",
        "requirements.lock")
# Bundled files the job lands once (under the snapshot directory; the registry's from its own setting).
BUNDLED = ("kommune_nm", "municipal_deflator", "expense_need_index", "udir")
# Drop zones under data/inbox/ besides the registry's and Udir's (their own settings): every file leaves the
# inbox when a run takes it (src/styringsdata/sources/drop_zone.py).
CONTRACT_INBOXES = ("kommune_nm", "municipal_deflator", "expense_need_index")
SKIPPED_PARTS = {"__pycache__", "target", "logs"}
# Settings that are paths: what they point at is checked itself (files, inboxes, answers, bundled files).
PATH_FIELDS = {"data_dir", "snapshot_dir", "work_db", "warehouse", "registry_inbox", "quarantine", "registry_seed",
               "udir_inbox", "dagster_home"}


@dataclass(frozen=True)
class Verdict:
    skip: bool  # True: certainly nothing new; the job is not started
    line: str  # what the CLI prints
    # The settings and code the job is made with, as the pre-check saw them, for `remember` after the job. Handed
    # back, not kept in the module: a process that pre-checks one data directory and records a run on another
    # (the test suite) recorded the first one's settings, and the next run said "the settings changed".
    made_with: dict[str, Any] = field(default_factory=dict)


def record_path(settings: Settings) -> Path:
    return settings.work_db.with_name(settings.work_db.stem + RECORD_SUFFIX)


def forget(settings: Settings) -> None:
    """A run starts: until it has succeeded, nothing may be skipped."""
    record_path(settings).unlink(missing_ok=True)


def answer(settings: Settings, *, forced: bool, root: Path = PROJECT_ROOT,
           today: dt.date | None = None) -> Verdict:
    """Skip the job only when it is certain that it would change nothing; else say why it runs."""
    started = time.monotonic()
    if forced or settings.rebuild:
        why = "--force" if forced else "STYRINGSDATA_REBUILD=on"
        return Verdict(False, f"styringsdata: the whole job runs ({why}); no pre-check")
    if settings.source_mode.value == "record":
        return Verdict(False, "styringsdata: the whole job runs (record mode saves every answer); no pre-check")
    made_with = {"settings": settings_digests(settings), "code": code_fingerprint(settings, root)}
    try:
        # A run writing the data directory meanwhile would make any answer stale; the job then says who it is.
        with run_lock(settings.data_dir, what="the pre-check of `styringsdata run`"):
            try:
                reason, asked, record = _check(settings, root, today or dt.datetime.now(OSLO).date(), made_with)
            except Exception as exc:  # noqa: BLE001 - whatever the pre-check cannot judge, the job does
                reason, asked, record = f"the pre-check failed ({exc.__class__.__name__}: {exc})", [], {}
            if reason is not None:
                forget(settings)
    except LockHeld:
        return Verdict(False, "styringsdata: pre-check: another process holds the data directory", made_with)
    if reason is not None:
        return Verdict(False, f"styringsdata: pre-check: {reason}; the whole job runs", made_with)
    seconds = time.monotonic() - started
    return Verdict(True, f"styringsdata: nothing new at {', '.join(asked)}; publication {record['publication']} "
                   f"({record['published_at']}, run {record['run_id'][:8]}) is current on every target "
                   f"({', '.join(record['targets'])}). Checked in {seconds:.1f} s "
                   "without starting Dagster (`styringsdata run --force` runs the whole job)", made_with)


def remember(settings: Settings, made_with: dict[str, Any] | None = None) -> None:
    """After a run that succeeded: record what it was made with (`made_with`: the pre-check's `Verdict.made_with`
    for these settings; default: as they are now) and what it left, for the next pre-check."""
    made_with = made_with or {}
    state = build_state.load(settings.build_state_path)
    if state is None or not (state.built and state.published and state.reported):
        forget(settings)
        return
    record = {
        "about": "what the last successful `styringsdata run` was made with and left; `styringsdata run` skips "
                 "the job while all of it holds and no source has anything new (src/styringsdata/runs/precheck.py). "
                 "Delete it to have the next run do the whole job",
        "run_id": state.published_by or state.run_id,
        "published_at": _published_at(settings.warehouse),
        "settings": made_with.get("settings") or settings_digests(settings),
        "code": made_with.get("code") or code_fingerprint(settings),
        "landing": landing_digest(settings.landing_dir),
        "files": {name: _stat(path) for name, path in output_files(settings).items()},
    }
    path = record_path(settings)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:  # a full disk: the next run then does the whole job, which is always right
        tmp.unlink(missing_ok=True)


# -- what the record compares -----------------------------------------------------------------------------

def settings_digests(settings: Settings) -> dict[str, str]:
    """Per setting, a digest of its value (never the value: a URL may hold a password)."""
    values: dict[str, str] = {}
    for name in type(settings).model_fields:
        if name in PATH_FIELDS or name in ("rebuild", "smtp_password"):
            continue
        value = getattr(settings, name)
        if name == "ssb_tables":  # the configuration by content: a file edited in place is a new configuration
            value = value.read_bytes()
        if name == "postgres_url" and value:
            parts = urllib.parse.urlsplit(value)
            value = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()
        values[name] = _digest(repr(value))
    known = {name for name, _, _ in SETTINGS}
    for name, value in os.environ.items():  # a setting added to the environment before it is added to Settings
        if name.startswith("STYRINGSDATA_") and name not in known and "PASSWORD" not in name \
                and name not in INTERNAL_VARIABLES:
            values[name] = _digest(value)
    return values


def code_fingerprint(settings: Settings, root: Path = PROJECT_ROOT) -> str:
    """The code, configuration and bundled files the job is made of, by content."""
    labelled: list[tuple[str, Path]] = []
    for name in CODE:
        labelled += [(str(p.relative_to(root)), p) for p in _files(root / name)]
    bundled = {"registry": settings.registry_seed, **{n: settings.snapshot_dir / n for n in BUNDLED}}
    for name, folder in bundled.items():
        labelled += [(f"bundled:{name}/{p.relative_to(folder)}", p) for p in _files(folder)]
    digest = hashlib.sha256()
    for label, path in sorted(labelled):
        digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def landing_digest(landing: Path) -> str:
    """Every vintage in the landing zone, by name (runs only add vintages; the work file loads what is new)."""
    names = sorted(str(p.relative_to(landing)) for p in landing.glob("*/*/*") if p.is_dir())
    return _digest("\n".join(names))


def output_files(settings: Settings) -> dict[str, Path]:
    # The published DuckDB file and Parquet are publication targets: the ledger verifies them (_targets).
    return {"work file": settings.work_db, "build state": settings.build_state_path,
            "registry reference": settings.data_dir / "registry_reference.json"}


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return [p for p in path.rglob("*") if p.is_file() and not SKIPPED_PARTS & set(p.relative_to(path).parts)
            and p.suffix != ".pyc"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stat(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _published_at(warehouse: Path) -> str:
    import duckdb  # after a run only: the job has imported it already

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        moment = one_value(con, "select max(published_at) from _publication")
    finally:
        con.close()
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if isinstance(moment, dt.datetime) else str(moment)


# -- the checks, cheapest first; the first that fails names the reason ------------------------------------

def _check(settings: Settings, root: Path, today: dt.date,
           made_with: dict[str, Any]) -> tuple[str | None, list[str], dict[str, Any]]:
    record, reason = _read_record(record_path(settings))
    if reason is None:
        reason = (_settings_changed(record, made_with["settings"]) or _build_pending(settings, root, today)
                  or _code_changed(record, made_with["code"])
                  or _files_changed(settings, record) or _targets(settings, record) or _inboxes(settings))
    if reason is not None:
        return reason, [], record
    reason, asked = _sources(settings)
    return reason, [*asked, "the inboxes"], record


def _read_record(path: Path) -> tuple[dict[str, Any], str | None]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        for key in ("run_id", "published_at", "settings", "code", "landing", "files"):
            record[key]  # noqa: B018 - a record without them cannot vouch for anything
        return record, None
    except FileNotFoundError:
        return {}, ("no successful `styringsdata run` is recorded since the last run started (it failed, was "
                    f"stopped, was started from Dagster, or this is the first run): {path} is missing")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {}, f"{path} cannot be read ({exc.__class__.__name__}: {exc})"


def _settings_changed(record: dict[str, Any], now: dict[str, str]) -> str | None:
    then = record["settings"]
    changed = sorted(name for name in set(now) | set(then) if now.get(name) != then.get(name))
    if not changed:
        return None
    return "the settings changed since the last run: " + ", ".join(_setting_name(n) for n in changed)


def _setting_name(field_name: str) -> str:
    return field_name if field_name.startswith("STYRINGSDATA_") else f"STYRINGSDATA_{field_name.upper()}"


def _build_pending(settings: Settings, root: Path, today: dt.date) -> str | None:
    try:
        state = build_state.load(settings.build_state_path)
    except ValueError as exc:
        return str(exc)
    if state is None:
        return f"no build state ({settings.build_state_path})"
    if not state.built:
        return f"pending publication: the build of run {state.run_id} did not finish"
    if not state.published:
        return f"pending publication: the build of run {state.run_id} was not published"
    if not state.reported:
        return f"the publication of run {state.published_by or state.run_id} has no report yet"
    if state.built_on != today.isoformat():
        return f"the marts were built on {state.built_on}; lateness is judged against today ({today})"
    if state.fingerprint != build_state.build_fingerprint(settings.home_municipality, root):
        return "the dbt project or the quality gate changed since the last build"
    return None


def _code_changed(record: dict[str, Any], now: str) -> str | None:
    if now != record["code"]:
        return "the code, the configuration or a bundled file changed since the last run"
    return None


def _files_changed(settings: Settings, record: dict[str, Any]) -> str | None:
    now = output_files(settings)
    for name in sorted(set(now) | set(record["files"])):
        if name not in now:
            continue  # a record from before the ledger listed the published files too
        path = now[name]
        then, stat = record["files"].get(name), _stat(path)
        if stat is None:
            return f"{name} {path} is missing"
        if then is None or stat != then:
            return f"{name} {path} changed since the last run"
    if settings.work_db.with_name(settings.work_db.name + ".wal").exists():
        return f"the work file {settings.work_db} has a write-ahead log: a write did not finish"
    if landing_digest(settings.landing_dir) != record["landing"]:
        return f"the landing zone {settings.landing_dir} changed since the last run"
    return None


def _targets(settings: Settings, record: dict[str, Any]) -> str | None:
    """Every configured target against the ledger: file metadata, a hash only where it changed, one query for
    PostgreSQL. Names the targets that do not hold the approved publication (the job republishes them)."""
    try:
        book = ledger.load(settings)
        checks = ledger.verify(settings, book)
    except ledger.LedgerError as exc:
        return str(exc)
    if not ledger.current(checks):
        approved = (book.get("approved") or {}).get("id")
        return f"not every target holds the approved publication {approved}: {ledger.summary(checks)}"
    record["publication"] = book["approved"]["id"]
    record["targets"] = [c.name.replace("report:", "report ") for c in checks]
    return None


def _inboxes(settings: Settings) -> str | None:
    """A file in any drop zone is news; temporary and lock names and subfolders are not (the drop zone's own
    listing decides, so the pre-check never runs a job that would ignore what it saw)."""
    from styringsdata.sources.drop_zone import listing

    inbox = settings.data_dir / "inbox"
    zones = {"registry inbox": settings.registry_inbox, "Udir inbox": settings.udir_inbox_dir,
             **{f"{name} inbox": inbox / name for name in CONTRACT_INBOXES}}
    for label, folder in zones.items():
        files = [p.name for p in listing(folder)]
        if files:
            return f"{len(files)} file(s) in the {label} ({', '.join(files[:5])}): {folder}"
    return None


def _sources(settings: Settings) -> tuple[str | None, list[str]]:
    """Each source's change marker, asked as a run asks it; the first with news (or no answer) ends the check."""
    from styringsdata.raw.landing import LandingZone
    from styringsdata.sources.transport import Transport

    transport = Transport(settings.source_mode, settings.snapshot_dir,
                          rate_limits={"data.ssb.no": (settings.ssb_requests_per_minute, 60.0)},
                          timeout=settings.http_timeout)
    landing = LandingZone(settings.landing_dir)
    specs = settings.table_specs
    checks: tuple[tuple[str, Callable[[Any, LandingZone], tuple[str | None, str]]], ...] = (
        ("SSB", functools.partial(_ssb, specs=specs)), ("KLASS", functools.partial(_klass, specs=specs)),
        ("FHI", _fhi), ("Miljødirektoratet", _miljodirektoratet))
    asked: list[str] = []
    for name, check in checks:
        try:
            news, how = check(transport, landing)
        except Exception as exc:  # noqa: BLE001 - any source that cannot answer: the job asks again and says why
            text = " ".join(str(exc).split())[:300]
            return f"{name} did not answer the change check ({exc.__class__.__name__}: {text})", asked
        if news is not None:
            return f"{name}: {news}", asked
        asked.append(f"{name} ({how})")
    return None, asked


def _ssb(transport: Any, landing: Any, specs: TableSpecs) -> tuple[str | None, str]:
    from styringsdata.sources.ssb import SsbClient, check_ssb

    tables = [t.table_id for t in specs.tables]
    check = check_ssb(SsbClient(transport), landing, tables)
    if check.changed:
        changed = sorted(check.changed)
        return (f"{len(changed)} table(s) updated or never landed ({', '.join(changed[:5])}"
                f"{', ...' if len(changed) > 5 else ''})"), check.how
    return None, f"{len(tables)} tables, {check.calls} call(s)"


def _klass(transport: Any, landing: Any, specs: TableSpecs) -> tuple[str | None, str]:
    from styringsdata.sources.klass import CHANGES_FROM, KlassClient, changed_tables

    changed = changed_tables(KlassClient(transport), landing, CHANGES_FROM, range(specs.first_year, specs.last_year + 1))
    return (f"a new answer for {', '.join(changed)}" if changed else None), "answers unchanged"


def _fhi(transport: Any, landing: Any) -> tuple[str | None, str]:
    from styringsdata.sources.changes import fhi_changes
    from styringsdata.sources.fhi import FhiClient, load_fhi_specs

    specs = load_fhi_specs()
    changed = fhi_changes(FhiClient(transport), landing, specs)
    return (f"table(s) {', '.join(changed)} modified" if changed else None), f"{len(specs.tables)} tables"


def _miljodirektoratet(transport: Any, landing: Any) -> tuple[str | None, str]:
    from styringsdata.sources.miljodirektoratet import is_current

    current, how = is_current(transport, landing)
    return (None if current else how), how
