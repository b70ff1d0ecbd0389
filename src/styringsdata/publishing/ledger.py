"""The publication ledger: which publication each target holds, and whether it still does.

A publication is what one gate approved: its id names the moment and the run (`20260315T080102Z-1a2b3c4d`). The
approved publication's DuckDB file is kept in `<data>/publication/approved.duckdb` (a copy, not a link: a file
copied over the warehouse in place would change a hard-linked copy too), with the gate record beside it. That
copy is "the approved build": the work file may have been rebuilt since (a gate that failed, a build that was
stopped), but the copy is exactly what was approved, so every target can be republished from it without dbt.

Targets, each with the publication it holds and a fingerprint of its content:
- `duckdb`: the published DuckDB file (size, times, inode and SHA-256; the hash equals the approved copy's);
- `parquet`: every Parquet file, by the same fingerprint;
- `postgres` (when STYRINGSDATA_POSTGRES_URL is set): where it is, the `publication_id` of its `_publication`
  table, the rows of every table, and the reader role's grants, read in one query;
- `report:<audience>`: that audience's report files and how they were delivered, with a digest of what they
  depend on besides the publication (number format, mail server and recipients).

Verification is cheap: file metadata first, a hash only when the metadata changed (the metadata is then
refreshed, so the next check is cheap again), one query for PostgreSQL. A target that does not match is
republished from the approved build by `reconcile`, which every run calls when it starts
(src/styringsdata/runs/recovery.py); one that cannot be reached is marked behind and does not hold back the rest.

Imports neither DuckDB nor Dagster at module level: the pre-check (src/styringsdata/runs/precheck.py) uses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from styringsdata.publishing.publish_postgres import GateRecord, PostgresTarget
    from styringsdata.settings import Settings

LEDGER_DIR = "publication"
LEDGER_FILE = "ledger.json"
APPROVED_FILE = "approved.duckdb"
APPROVED_GATE = "approved.gate.json"
HISTORY = 20  # earlier publications remembered by their DuckDB file's hash, to name what an old file holds
# How long verification waits for PostgreSQL to answer (the publish itself uses connect_timeout 30 s).
VERIFY_CONNECT_TIMEOUT = 5
REPORT_AUDIENCES = ("data-team", "makrogruppen")  # reporting/mail.py DATA_TEAM, MACRO_GROUP (not imported: cheap)
HASH_CHUNK = 1 << 20


class LedgerError(RuntimeError):
    pass


@dataclass(frozen=True)
class TargetCheck:
    name: str  # duckdb, parquet, postgres, report:<audience>
    label: str  # for people
    matches: bool
    holds: str | None  # the publication the ledger (or the target itself) says it holds
    at: str  # when the ledger recorded it
    problem: str = ""  # why it does not match
    reachable: bool = True


# -- where things are ----------------------------------------------------------------------------------------

def ledger_dir(settings: "Settings") -> Path:
    return settings.data_dir / LEDGER_DIR


def ledger_path(settings: "Settings") -> Path:
    return ledger_dir(settings) / LEDGER_FILE


def approved_file(settings: "Settings") -> Path:
    return ledger_dir(settings) / APPROVED_FILE


def publication_id(published_at: str, run_id: str) -> str:
    """`2026-03-15T08:01:02` (UTC) and the run -> `20260315T080102Z-1a2b3c4d`."""
    moment = dt.datetime.fromisoformat(published_at)
    return f"{moment:%Y%m%dT%H%M%S}Z-{run_id[:8]}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


# -- the file ------------------------------------------------------------------------------------------------

def load(settings: "Settings") -> dict[str, Any]:
    path = ledger_path(settings)
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"approved": None, "history": [], "targets": {}, "repairs": []}
    except (OSError, ValueError) as exc:
        raise LedgerError(f"{path} cannot be read ({exc.__class__.__name__}: {exc}); delete it and the next run "
                          "rebuilds and republishes every target") from None
    if not isinstance(ledger, dict) or "targets" not in ledger:
        raise LedgerError(f"{path} is not a publication ledger; delete it and the next run rebuilds and republishes")
    return ledger


def save(settings: "Settings", ledger: dict[str, Any]) -> None:
    path = ledger_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    ledger["about"] = ("which publication each target holds and the fingerprint of its content; the approved "
                       "build is approved.duckdb beside it (src/styringsdata/publishing/ledger.py). `styringsdata "
                       "status` prints it")
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(ledger, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


# -- fingerprints --------------------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _meta(path: Path) -> list[int] | None:
    """Size, modification and change time, inode: ctime cannot be set back by a tool that keeps the mtime."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def file_fingerprint(path: Path) -> dict[str, Any]:
    return {"meta": _meta(path), "sha256": _sha256(path)}


def _file_problem(path: Path, recorded: dict[str, Any], refreshed: list[bool]) -> tuple[str | None, str | None]:
    """(None, None) when `path` still has the recorded content; else (problem, the file's hash or None)."""
    meta = _meta(path)
    if meta is None:
        return f"{path.name} is missing", None
    if meta == recorded.get("meta"):
        return None, None
    digest = _sha256(path)
    if digest == recorded.get("sha256"):
        recorded["meta"] = meta  # the same content with other metadata (a copy, a restore): cheap next time
        refreshed[0] = True
        return None, None
    return f"{path.name} has other content", digest


# -- what is configured --------------------------------------------------------------------------------------

def postgres_target(settings: "Settings") -> "PostgresTarget | None":
    if not settings.postgres_url:
        return None
    from styringsdata.publishing.publish_postgres import PostgresTarget

    return PostgresTarget(settings.postgres_url, settings.postgres_schema, settings.postgres_reader_role,
                          settings.postgres_swap_wait)


def postgres_where(settings: "Settings") -> str:
    """Where the PostgreSQL target is, without the password: another URL or schema is another target."""
    from styringsdata.publishing.publish_postgres import redact

    return f"{redact(settings.postgres_url or '')} schema {settings.postgres_schema}"


def report_config(settings: "Settings", audience: str) -> str:
    """A digest of what an audience's report and its delivery depend on besides the publication."""
    mail = settings.mail
    parts = [audience, settings.home_municipality,
             settings.number_format if audience == "data-team" else "",
             "" if mail is None else f"{mail.host}:{mail.port}:{mail.security}:{mail.sender}",
             "" if mail is None else ",".join(mail.recipients_for(audience))]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def configured(settings: "Settings") -> list[tuple[str, str]]:
    targets = [("duckdb", f"DuckDB file {settings.warehouse}"), ("parquet", f"Parquet set {settings.parquet_dir}")]
    if settings.postgres_url:
        targets.append(("postgres", f"PostgreSQL {postgres_where(settings)}"))
    targets += [(f"report:{a}", f"report for {a}") for a in REPORT_AUDIENCES]
    return targets


# -- verification --------------------------------------------------------------------------------------------

def verify(settings: "Settings", ledger: dict[str, Any] | None = None, *, refresh: bool = True) -> list[TargetCheck]:
    """Every configured target against the approved publication. With `refresh`, metadata that changed while
    the content did not is written back to the ledger (the caller holds the run lock)."""
    ledger = load(settings) if ledger is None else ledger
    approved = ledger.get("approved") or {}
    want = approved.get("id")
    refreshed = [False]
    checks = []
    for name, label in configured(settings):
        entry = ledger["targets"].get(name)
        holds, at = (entry or {}).get("publication"), (entry or {}).get("at", "")
        if want is None:
            checks.append(TargetCheck(name, label, False, holds, at, "no approved publication is recorded yet"))
            continue
        if entry is None:
            checks.append(TargetCheck(name, label, False, None, "", "has never received a publication"))
            continue
        if entry.get("behind"):
            checks.append(TargetCheck(name, label, False, holds, at, f"behind: {entry['behind']}"))
            continue
        if name == "duckdb":
            problem = _verify_duckdb(settings, ledger, entry, refreshed)
        elif name == "parquet":
            problem = _verify_parquet(settings, entry, refreshed)
        elif name == "postgres":
            problem, reachable = _verify_postgres(settings, ledger, entry)
            if not reachable:
                checks.append(TargetCheck(name, label, False, holds, at, problem or "", reachable=False))
                continue
        else:
            problem = _verify_report(settings, name.split(":", 1)[1], entry, refreshed)
        if problem is None and holds != want:
            problem = f"holds publication {holds}, not the approved {want}"
        checks.append(TargetCheck(name, label, problem is None, holds, at, problem or ""))
    if refreshed[0] and refresh:
        save(settings, ledger)
    return checks


def _which(ledger: dict[str, Any], digest: str | None) -> str:
    """Name the publication a DuckDB file with this hash is, when the ledger remembers it."""
    approved = ledger.get("approved") or {}
    for earlier in ledger.get("history", []):
        if digest is not None and earlier.get("sha256") == digest and earlier.get("id") != approved.get("id"):
            newer = earlier.get("id", "") > approved.get("id", "")
            return f" (it is the {'newer' if newer else 'older'} publication {earlier['id']})"
    return " (damaged, or a file from elsewhere)"


def _verify_duckdb(settings: "Settings", ledger: dict[str, Any], entry: dict[str, Any],
                   refreshed: list[bool]) -> str | None:
    problem, digest = _file_problem(settings.warehouse, entry["fingerprint"], refreshed)
    if problem is None:
        return None
    return problem + (_which(ledger, digest) if digest else "")


def _verify_parquet(settings: "Settings", entry: dict[str, Any], refreshed: list[bool]) -> str | None:
    files: dict[str, dict[str, Any]] = entry["fingerprint"]["files"]
    folder = settings.parquet_dir
    for name in sorted(files):
        problem, _ = _file_problem(folder / name, files[name], refreshed)
        if problem is not None:
            return problem
    extra = sorted(p.name for p in folder.glob("*.parquet") if p.name not in files) if folder.is_dir() else []
    if extra:
        return f"{', '.join(extra[:3])} is not part of the publication"
    return None


def _verify_report(settings: "Settings", audience: str, entry: dict[str, Any], refreshed: list[bool]) -> str | None:
    if entry.get("config") != report_config(settings, audience):
        return "the number format, mail server or recipients changed since it was written and delivered"
    for name, recorded in sorted(entry["fingerprint"]["files"].items()):
        problem, _ = _file_problem(settings.reports_dir / name, recorded, refreshed)
        if problem is not None:
            return problem
    return None


# One statement: the publication PostgreSQL holds, the rows every table has now, and the reader's grants.
POSTGRES_CHECK = """
select p.publication_id, p.table_name, p.row_count,
       case when to_regclass(format('%%I.%%I', %(schema)s::text, p.table_name)) is null then null
            else (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from %%I.%%I', %(schema)s::text,
                  p.table_name), false, true, '')))[1]::text::bigint end,
       case when exists (select 1 from pg_roles where rolname = %(role)s)
                 and to_regclass(format('%%I.%%I', %(schema)s::text, p.table_name)) is not null
            then has_database_privilege(%(role)s, current_database(), 'CONNECT')
                 and has_schema_privilege(%(role)s, %(schema)s::text, 'USAGE')
                 and has_table_privilege(%(role)s, format('%%I.%%I', %(schema)s::text, p.table_name), 'SELECT')
       end
from {publication} p order by p.table_name"""


def _verify_postgres(settings: "Settings", ledger: dict[str, Any], entry: dict[str, Any]) -> tuple[str | None, bool]:
    """(problem, reachable)."""
    import psycopg
    from psycopg import sql

    from styringsdata.publishing.publish_postgres import APPLICATION_NAME, PUBLICATION_TABLE, _first_line, redact

    if entry["fingerprint"].get("where") != postgres_where(settings):
        return f"it was published to {entry['fingerprint'].get('where')}, not here", True
    assert settings.postgres_url, "only a configured PostgreSQL target is verified"
    try:
        con = psycopg.connect(settings.postgres_url, application_name=APPLICATION_NAME + "-verify",
                              connect_timeout=VERIFY_CONNECT_TIMEOUT, autocommit=True)
    except psycopg.Error as exc:
        return f"cannot connect to PostgreSQL at {redact(settings.postgres_url or '')}: {_first_line(exc)}", False
    try:
        with con:
            query = sql.SQL(POSTGRES_CHECK).format(
                publication=sql.Identifier(settings.postgres_schema, PUBLICATION_TABLE))
            rows = con.execute(query, {"schema": settings.postgres_schema,
                                       "role": settings.postgres_reader_role}).fetchall()
    except psycopg.errors.UndefinedTable:
        return f"schema {settings.postgres_schema} has no {PUBLICATION_TABLE} table (it was dropped?)", True
    except psycopg.errors.UndefinedColumn:
        return f"{settings.postgres_schema}.{PUBLICATION_TABLE} was written by an older version", True
    except psycopg.Error as exc:
        return f"the check query failed: {_first_line(exc)}", True
    want = (ledger.get("approved") or {}).get("id")
    held = {r[0] for r in rows}
    if held != {want}:
        return f"holds publication {', '.join(sorted(str(h) for h in held)) or 'none'}, not the approved {want}", True
    recorded = entry["fingerprint"]["rows"]
    for _, table, row_count, counted, granted in rows:
        if counted is None:
            return f"table {table} is missing", True
        if counted != row_count or recorded.get(table) != counted:
            return f"table {table} has {counted} rows, the publication {recorded.get(table, row_count)}", True
        if not granted:
            return (f"the reader role {settings.postgres_reader_role} lacks its grants on {table} (or does not "
                    "exist)"), True
    if set(recorded) != {r[1] for r in rows}:
        return "its tables are not the publication's", True
    return None, True


def current(checks: list[TargetCheck]) -> bool:
    return bool(checks) and all(c.matches for c in checks)


def summary(checks: list[TargetCheck]) -> str:
    """One line: which targets do not match and why."""
    bad = [c for c in checks if not c.matches]
    return "; ".join(f"{c.label}: {c.problem}" for c in bad)


# -- recording -----------------------------------------------------------------------------------------------

def approve(settings: "Settings", publication_file: Path, *, published_at: str, run_id: str, build_run_id: str,
            run_started_at: str, tables: dict[str, int], gate: "GateRecord") -> str:
    """Keep `publication_file` (a publication the gate approved, not yet renamed into place) as the approved
    build, before any target changes: a run killed after this republishes it on the next start."""
    from dataclasses import asdict

    folder = ledger_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    ident = publication_id(published_at, run_id)
    ledger = load(settings)
    kept = approved_file(settings)
    tmp = kept.with_name(kept.name + f".{os.getpid()}.tmp")
    shutil.copyfile(publication_file, tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(kept)
    gate_file = folder / APPROVED_GATE
    gate_file.write_text(json.dumps(asdict(gate), default=str), encoding="utf-8")
    digest = _sha256(kept)
    ledger["approved"] = {"id": ident, "run_id": run_id, "build_run_id": build_run_id,
                          "run_started_at": run_started_at, "published_at": published_at, "tables": tables,
                          "sha256": digest, "meta": _meta(kept)}
    ledger["history"] = ([h for h in ledger.get("history", []) if h.get("id") != ident]
                         + [{"id": ident, "sha256": digest}])[-HISTORY:]
    save(settings, ledger)
    return ident


def approved_problem(settings: "Settings", ledger: dict[str, Any] | None = None) -> str | None:
    """Why the approved build cannot be republished from, or None."""
    try:
        ledger = load(settings) if ledger is None else ledger
    except LedgerError as exc:
        return str(exc)
    approved = ledger.get("approved")
    if not approved:
        return f"no approved publication is kept in {ledger_dir(settings)}"
    problem, _ = _file_problem(approved_file(settings), approved, [False])
    if problem is not None:
        return f"the kept approved publication {approved['id']} is damaged or missing ({problem})"
    return None


def _set(ledger: dict[str, Any], name: str, publication: str, fingerprint: dict[str, Any], **extra: Any) -> None:
    ledger["targets"][name] = {"publication": publication, "at": _now(), "fingerprint": fingerprint, **extra}


def _behind(ledger: dict[str, Any], name: str, why: str) -> None:
    entry = ledger["targets"].setdefault(name, {"publication": None, "at": _now(), "fingerprint": {}})
    entry["behind"] = why


def record_files(settings: "Settings", ledger: dict[str, Any], which: tuple[str, ...] = ("duckdb", "parquet")) -> None:
    ident = ledger["approved"]["id"]
    if "duckdb" in which:
        _set(ledger, "duckdb", ident, file_fingerprint(settings.warehouse))
    if "parquet" in which:
        files = sorted(settings.parquet_dir.glob("*.parquet"))
        _set(ledger, "parquet", ident, {"files": {p.name: file_fingerprint(p) for p in files}})


def record_published(settings: "Settings") -> None:
    """After the publish step renamed the approved publication into place: the DuckDB file and Parquet hold it."""
    ledger = load(settings)
    record_files(settings, ledger)
    save(settings, ledger)


def record_report(settings: "Settings", audience: str, files: list[Path], delivery: str, failed: str | None = None,
                  publication: str | None = None) -> None:
    """An audience's report (its files, and how it went out) as a target holding the approved publication
    (src/styringsdata/reporting/report_delivery.py record_delivery). `failed`: why its mail was not sent; the
    outbox sends it again on the next run, and until then the audience is behind."""
    ledger = load(settings)
    ident = publication or (ledger.get("approved") or {}).get("id")
    if ident is None:
        return
    # Named within the reports folder: a data directory copied or moved elsewhere is verified where it is now.
    _set(ledger, f"report:{audience}", ident, {"files": {_in_reports(settings, p): file_fingerprint(p) for p in files}},
         config=report_config(settings, audience), delivery=delivery)
    if failed:
        _behind(ledger, f"report:{audience}", f"mail not sent ({failed})")
    save(settings, ledger)


def _in_reports(settings: "Settings", path: Path) -> str:
    try:
        return str(path.relative_to(settings.reports_dir))
    except ValueError:
        raise LedgerError(f"{path} is not in the reports folder {settings.reports_dir}") from None


def mark_behind(settings: "Settings", name: str, why: str) -> None:
    ledger = load(settings)
    _behind(ledger, name, why)
    save(settings, ledger)


# -- PostgreSQL ----------------------------------------------------------------------------------------------

def publish_postgres_target(settings: "Settings", log: logging.Logger | logging.LoggerAdapter,
                            ledger: dict[str, Any] | None = None) -> str:
    """Publish the approved build to PostgreSQL, or mark the target behind; returns the line that says which."""
    from styringsdata.publishing import publish_postgres
    from styringsdata.publishing.publish import PublishError

    own = ledger is None
    if ledger is None:
        ledger = load(settings)
    target = postgres_target(settings)
    assert target is not None
    approved = ledger["approved"]
    gate = publish_postgres.GateRecord(**json.loads((ledger_dir(settings) / APPROVED_GATE).read_text(encoding="utf-8")))
    try:
        staged, switched = publish_postgres.publish_postgres(target, approved_file(settings), approved["published_at"],
                                                             gate, publication_id=approved["id"])
    except PublishError as exc:
        _behind(ledger, "postgres", str(exc))
        if own:
            save(settings, ledger)
        line = (f"PostgreSQL is behind: {exc}. The DuckDB file and Parquet hold publication {approved['id']}; "
                "the next run catches PostgreSQL up")
        log.warning(line)
        return line
    _set(ledger, "postgres", approved["id"], {"where": postgres_where(settings), "rows": staged.tables})
    if own:
        save(settings, ledger)
    return f"{target.describe()} holds publication {approved['id']} ({switched.how})"


# -- repair --------------------------------------------------------------------------------------------------

# Writes (and delivers) one audience's report of the approved publication again and records it; returns the line
# that says so. The reports are written above this layer (src/styringsdata/runs/recovery.py report_writer).
ReportWriter = Callable[[TargetCheck, dict[str, Any]], str]


def reconcile(settings: "Settings", log: logging.Logger | logging.LoggerAdapter, run_id: str = "",
              write_report: ReportWriter | None = None) -> list[str]:
    """Republish every configured target that does not hold the approved publication, from the approved build.

    Never raises: a target that cannot be repaired is marked behind and named; the others go ahead."""
    try:
        ledger = load(settings)
    except LedgerError as exc:
        log.warning(str(exc))
        return [str(exc)]
    if not ledger.get("approved"):
        return []  # nothing approved yet: the first build publishes (build_state's decision rebuilds)
    checks = [c for c in verify(settings, ledger) if not c.matches]
    if not checks:
        _remember_repairs(settings, ledger, run_id, [])
        return []
    ident = ledger["approved"]["id"]
    problem = approved_problem(settings, ledger)
    lines = []
    if problem is not None:
        lines.append(f"{problem}: {', '.join(c.label for c in checks)} cannot be republished from it; this run "
                     "rebuilds and publishes anew")
        log.warning(lines[-1])
        _remember_repairs(settings, ledger, run_id, lines)
        return lines
    for check in checks:
        try:
            line = _republish(settings, ledger, check, log, write_report)
        except Exception as exc:  # noqa: BLE001 - one target's trouble never holds back the others
            text = " ".join(str(exc).split())[:400]
            _behind(ledger, check.name, f"{exc.__class__.__name__}: {text}")
            line = (f"{check.label} does not hold publication {ident} ({check.problem}) and could not be "
                    f"republished ({exc.__class__.__name__}: {text}); marked behind, the next run tries again")
            log.warning(line)
        lines.append(line)
        save(settings, ledger)
    _remember_repairs(settings, ledger, run_id, lines)
    return lines


def _remember_repairs(settings: "Settings", ledger: dict[str, Any], run_id: str, lines: list[str]) -> None:
    if run_id or lines or ledger.get("repairs"):
        ledger["repairs"] = [{"run_id": run_id, "line": line} for line in lines]
        save(settings, ledger)


def _republish(settings: "Settings", ledger: dict[str, Any], check: TargetCheck,
               log: logging.Logger | logging.LoggerAdapter, write_report: ReportWriter | None) -> str:
    ident = ledger["approved"]["id"]
    why = check.problem
    if check.name == "duckdb":
        _republish_duckdb(settings)
        record_files(settings, ledger, ("duckdb",))
    elif check.name == "parquet":
        from styringsdata.publishing.publish import export_parquet, publish_lock_path
        from styringsdata.runs.lock import exclusive_lock

        with exclusive_lock(publish_lock_path(settings.warehouse), "republishing Parquet", wait=600):
            export_parquet(approved_file(settings), settings.parquet_dir, list(ledger["approved"]["tables"]))
        record_files(settings, ledger, ("parquet",))
    elif check.name == "postgres":
        ledger["targets"].get("postgres", {}).pop("behind", None)
        if check.problem.startswith("the reader role") and _regrant(settings):
            _set(ledger, "postgres", ident, {**ledger["targets"]["postgres"]["fingerprint"]})
            line = f"{check.label}: {why}; grants for {settings.postgres_reader_role} restored"
            log.info(line)
            return line
        line = publish_postgres_target(settings, log, ledger)
        if "behind" in (ledger["targets"].get("postgres") or {}):
            return line
    else:
        if write_report is None:
            raise LedgerError("reports are written again only when a run starts")
        save(settings, ledger)  # the writer records the report in the ledger file itself
        line = write_report(check, ledger["approved"])
        ledger.clear()
        ledger.update(load(settings))
        return line
    line = f"{check.label} did not hold publication {ident} ({why}): republished from the approved build"
    log.info(line)
    return line


def _republish_duckdb(settings: "Settings") -> None:
    from styringsdata.publishing.publish import publish_lock_path
    from styringsdata.runs.lock import exclusive_lock

    warehouse = settings.warehouse
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(publish_lock_path(warehouse), "republishing the DuckDB file", wait=600):
        incoming = warehouse.with_name(f".{warehouse.name}.incoming-{os.getpid()}")
        try:
            shutil.copyfile(approved_file(settings), incoming)
            with open(incoming, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(incoming, warehouse)  # readers see the damaged file or the whole approved one
        finally:
            incoming.unlink(missing_ok=True)


def _regrant(settings: "Settings") -> bool:
    """A reader role recreated since the publish: grant it what it lacks. False when that did not do it."""
    from styringsdata.publishing import publish_postgres

    target = postgres_target(settings)
    assert target is not None
    try:
        publish_postgres.ensure_reader_role(target)
        with target.connect() as con, con.cursor() as cur:
            cur.execute("select tablename from pg_tables where schemaname = %s", [target.schema])
            publish_postgres._grant_where_missing(cur, target, [r[0] for r in cur.fetchall()])
            con.commit()
    except Exception:  # noqa: BLE001 - a full republish follows
        return False
    return True


def repairs_of(settings: "Settings", run_id: str) -> list[str]:
    try:
        ledger = load(settings)
    except LedgerError:
        return []
    return [r["line"] for r in ledger.get("repairs", []) if r.get("run_id") == run_id]
