"""Publish the marts to PostgreSQL too, for BI servers that need a database they can reach over the network.

What is published is the DuckDB publication file itself (after the gate passed): every table with its table
and column comments, plus `_publication` (publication time, run, gate result, rows per table) and
`_quality_gate` (every check of the gate that let it through).

Readers switch from one publication to the next in one step:
1. stage: the tables are built in the schema `<schema>__incoming` and committed; readers never see it
   (the reader role gets no privilege on it);
2. swap, one transaction: lock every table of `<schema>` and `<schema>__previous` (ACCESS EXCLUSIVE), drop
   `<schema>__previous`, rename `<schema>` to `<schema>__previous` and `<schema>__incoming` to `<schema>`, grant.

Why lock before renaming: PostgreSQL resolves each table of a statement by name one after the other, so a
rename that commits between two of them would give one statement an old table and a new one. A statement
that needs a locked table waits until the swap commits and then resolves every name again, so it reads the
new publication whole; a statement or an open transaction that already holds a table keeps the swap waiting
until it ends, so it reads the old publication whole. The swap never waits while holding locks for longer
than a fraction of `deadlock_timeout` (the LOCK statement has a short statement timeout and is retried), so a
reader that touches tables in another order is never chosen as a deadlock victim: the swap gives way first.
A reader holding a transaction open for longer than `swap_wait` makes the publish fail naming that session.

Credentials: the URL comes from the environment (STYRINGSDATA_POSTGRES_URL); the password is best left out
of it and given to libpq as PGPASSWORD or in a ~/.pgpass file. No message built here contains the password.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from orchestration.lib.publish import PublishError, _sql_string

COPY_CHUNK = 1 << 20
APPLICATION_NAME = "styringsdata-publish"
PUBLICATION_TABLE = "_publication"
GATE_TABLE = "_quality_gate"


@dataclass(frozen=True)
class PostgresTarget:
    url: str  # libpq URL or key=value conninfo
    schema: str = "styringsdata"
    reader_role: str = "styringsdata_reader"
    swap_wait: float = 300.0  # seconds the swap may wait for readers before the publish fails

    @property
    def incoming_schema(self) -> str:
        return f"{self.schema}__incoming"

    @property
    def previous_schema(self) -> str:
        return f"{self.schema}__previous"

    def describe(self) -> str:
        """Where this target is, for messages: never the password."""
        return redact(self.url) + f" schema {self.schema}"

    def connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, application_name=APPLICATION_NAME, connect_timeout=30)
        except psycopg.Error as exc:
            raise PublishError(f"cannot connect to PostgreSQL at {redact(self.url)}: {_first_line(exc)}") from None


@dataclass(frozen=True)
class GateRecord:
    """The gate result that let this publication through, as recorded beside the marts."""
    run_id: str
    checked_at: str
    passed: bool
    checks: list[dict[str, Any]] = field(default_factory=list)  # name, suite, table, severity, passed, ...


@dataclass(frozen=True)
class StagedPublication:
    target: PostgresTarget
    tables: dict[str, int]
    published_at: str


@dataclass(frozen=True)
class SwapResult:
    attempts: int
    waited: float  # seconds from the first lock attempt to the commit


def redact(url: str) -> str:
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(an unparsable PostgreSQL URL)"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# DuckDB type -> PostgreSQL type. Anything else is refused by name rather than converted approximately.
TYPES = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "UTINYINT": "smallint", "SMALLINT": "smallint",
    "USMALLINT": "integer", "INTEGER": "integer", "UINTEGER": "bigint", "BIGINT": "bigint",
    "UBIGINT": "numeric(20,0)", "HUGEINT": "numeric(39,0)", "FLOAT": "real", "DOUBLE": "double precision",
    "VARCHAR": "text", "DATE": "date", "TIME": "time without time zone",
    "TIMESTAMP": "timestamp without time zone", "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval", "UUID": "uuid", "JSON": "jsonb",
}


def postgres_type(duckdb_type: str, where: str) -> str:
    if duckdb_type in TYPES:
        return TYPES[duckdb_type]
    if duckdb_type.startswith("DECIMAL("):
        return "numeric" + duckdb_type[len("DECIMAL"):].replace(" ", "")
    raise PublishError(f"{where}: DuckDB type {duckdb_type} has no PostgreSQL counterpart here; cast it in the "
                       "mart to one of " + ", ".join(sorted(TYPES)) + " or DECIMAL(p,s)")


@dataclass(frozen=True)
class TableLayout:
    name: str
    comment: str | None
    columns: list[tuple[str, str, str | None]]  # (name, PostgreSQL type, comment)


def read_layout(con: duckdb.DuckDBPyConnection) -> list[TableLayout]:
    """The tables of a DuckDB publication (its own `_publication` aside), with their comments."""
    tables = con.execute("select table_name, comment from duckdb_tables() where database_name = current_database() "
                         "and schema_name = 'main' and table_name <> ? order by table_name",
                         [PUBLICATION_TABLE]).fetchall()
    layouts = []
    for name, comment in tables:
        columns = con.execute("select column_name, data_type, comment from duckdb_columns() "
                              "where database_name = current_database() and schema_name = 'main' "
                              "and table_name = ? order by column_index", [name]).fetchall()
        layouts.append(TableLayout(name, comment, [(c, postgres_type(t, f"{name}.{c}"), d) for c, t, d in columns]))
    return layouts


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _comment(cur: psycopg.Cursor, kind: str, target: sql.Composable, text: str | None) -> None:
    if text:
        # COMMENT takes no bind parameters: the text goes in as a quoted literal.
        cur.execute(sql.SQL("comment on {} {} is {}").format(sql.SQL(kind), target, sql.Literal(text)))


def _copy_table(duck: duckdb.DuckDBPyConnection, cur: psycopg.Cursor, schema: str, table: TableLayout,
                scratch: Path) -> None:
    # DuckDB writes CSV in C++ and PostgreSQL parses it in C, so no row passes through Python. DuckDB quotes
    # an empty string and leaves NULL bare, which is exactly how PostgreSQL's CSV format tells them apart.
    csv_file = scratch / f"{table.name}.csv"
    columns = ", ".join('"' + c.replace('"', '""') + '"' for c, _, _ in table.columns)
    duck.execute(f'copy (select {columns} from main."{table.name}") to {_sql_string(str(csv_file))} '
                 "(format csv, header false)")
    statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        _ident(schema, table.name), sql.SQL(", ").join(_ident(c) for c, _, _ in table.columns))
    with cur.copy(statement) as copy, open(csv_file, "rb") as source:
        while chunk := source.read(COPY_CHUNK):
            copy.write(chunk)
    csv_file.unlink()


def ensure_reader_role(target: PostgresTarget) -> None:
    with target.connect() as con:
        if con.execute("select 1 from pg_roles where rolname = %s", [target.reader_role]).fetchone():
            return
        try:
            con.execute(sql.SQL("create role {} nologin").format(_ident(target.reader_role)))
        except psycopg.errors.InsufficientPrivilege:
            raise PublishError(
                f"the BI reader role {target.reader_role} does not exist on {target.describe()} and the publishing "
                "user may not create roles: create it once as an administrator (deploy/postgres/setup.sql) or set "
                "STYRINGSDATA_POSTGRES_READER_ROLE to an existing role; nothing was published to PostgreSQL"
            ) from None
        except psycopg.errors.DuplicateObject:
            pass  # created by someone else meanwhile


def stage(target: PostgresTarget, publication_file: Path, published_at: str, gate: GateRecord) -> StagedPublication:
    """Copy the DuckDB publication into `<schema>__incoming` and commit it; readers do not see it yet."""
    if not gate.passed:
        raise PublishError(f"the quality gate of run {gate.run_id} did not pass: nothing is published to PostgreSQL")
    ensure_reader_role(target)
    duck = duckdb.connect(str(publication_file), read_only=True)
    rows: dict[str, int] = {}
    try:
        layouts = read_layout(duck)
        with target.connect() as con, con.cursor() as cur, tempfile.TemporaryDirectory(prefix="pgcopy-") as tmp:
            incoming = target.incoming_schema
            try:
                # Left by a publish that stopped before its swap; no reader has a privilege on it.
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(incoming)))
                cur.execute(sql.SQL("create schema {}").format(_ident(incoming)))
                for table in layouts:
                    cur.execute(sql.SQL("create table {} ({})").format(
                        _ident(incoming, table.name),
                        sql.SQL(", ").join(sql.SQL("{} {}").format(_ident(c), sql.SQL(t)) for c, t, _ in table.columns)))
                    _copy_table(duck, cur, incoming, table, Path(tmp))
                    _comment(cur, "table", _ident(incoming, table.name), table.comment)
                    for column, _, comment in table.columns:
                        _comment(cur, "column", _ident(incoming, table.name, column), comment)
                    cur.execute(sql.SQL("select count(*) from {}").format(_ident(incoming, table.name)))
                    rows[table.name] = cur.fetchone()[0]
                    expected = duck.execute(f'select count(*) from main."{table.name}"').fetchone()[0]
                    if rows[table.name] != expected:
                        raise PublishError(f"PostgreSQL received {rows[table.name]} rows of {table.name}, "
                                           f"the DuckDB publication has {expected}")
                _record(cur, incoming, published_at, gate, rows)
                for name in [*rows, PUBLICATION_TABLE, GATE_TABLE]:
                    cur.execute(sql.SQL("analyze {}").format(_ident(incoming, name)))
                con.commit()
            except psycopg.Error as exc:
                raise PublishError(f"staging the publication in {target.describe()} failed: {_first_line(exc)}; "
                                   "what readers see was not changed") from None
    finally:
        duck.close()
    return StagedPublication(target, rows, published_at)


def _record(cur: psycopg.Cursor, schema: str, published_at: str, gate: GateRecord, rows: dict[str, int]) -> None:
    cur.execute(sql.SQL(
        "create table {} (published_at timestamptz not null, run_id text not null, gate_checked_at timestamptz, "
        "gate_passed boolean not null, gate_errors integer not null, gate_warnings integer not null, "
        "table_name text not null, row_count bigint not null)").format(_ident(schema, PUBLICATION_TABLE)))
    failed = [c for c in gate.checks if not c.get("passed")]
    errors = sum(1 for c in failed if c.get("severity") == "error")
    warnings = sum(1 for c in failed if c.get("severity") == "warning")
    published = dt.datetime.fromisoformat(published_at).replace(tzinfo=dt.timezone.utc)
    checked = dt.datetime.fromisoformat(gate.checked_at) if gate.checked_at else None
    if checked is not None and checked.tzinfo is None:
        checked = checked.replace(tzinfo=dt.timezone.utc)
    cur.executemany(sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s, %s)").format(
        _ident(schema, PUBLICATION_TABLE)),
        [(published, gate.run_id, checked, gate.passed, errors, warnings, name, n) for name, n in rows.items()])
    _comment(cur, "table", _ident(schema, PUBLICATION_TABLE),
             "This publication: when it was published (UTC), by which pipeline run, the quality gate that let it "
             "through (errors are always 0 here: a failed gate publishes nothing), and the rows of every mart.")
    cur.execute(sql.SQL(
        "create table {} (check_name text not null, suite text, table_name text, severity text not null, "
        "passed boolean not null, rows_checked bigint, failing_rows bigint, description text, details jsonb)"
    ).format(_ident(schema, GATE_TABLE)))
    keys = ("name", "suite", "table", "severity", "passed", "rows_checked", "failing_rows", "description")
    cur.executemany(sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s, %s, %s)").format(
        _ident(schema, GATE_TABLE)),
        [(*(c.get(k) for k in keys), json.dumps({"examples": c.get("examples", [])}, ensure_ascii=False, default=str))
         for c in gate.checks])
    _comment(cur, "table", _ident(schema, GATE_TABLE),
             "Every check of the quality gate that audited this publication, with its severity and how many rows "
             "failed (a warning does not hold a publication back).")


def _relations(cur: psycopg.Cursor, schemas: list[str]) -> list[tuple[str, str]]:
    cur.execute("select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1, 2", [schemas])
    return cur.fetchall()


def _outside_dependents(cur: psycopg.Cursor, schema: str) -> list[str]:
    """Views and other objects elsewhere that depend on this schema's tables (DROP ... CASCADE would drop them)."""
    cur.execute("""
        select distinct coalesce(vn.nspname || '.' || v.relname, d.classid::regclass::text || ' ' || d.objid)
        from pg_depend d
        join pg_class t on t.oid = d.refobjid and d.refclassid = 'pg_class'::regclass
        join pg_namespace tn on tn.oid = t.relnamespace
        left join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and r.oid = d.objid
        left join pg_class v on v.oid = r.ev_class
        left join pg_namespace vn on vn.oid = v.relnamespace
        where tn.nspname = %s and d.deptype = 'n' and coalesce(vn.nspname, '') <> %s""", [schema, schema])
    return [r[0] for r in cur.fetchall()]


def _blockers(con: psycopg.Connection, schemas: list[str]) -> list[str]:
    rows = con.execute("""
        select distinct a.pid, a.usename, a.application_name, a.client_addr::text, a.state, a.xact_start
        from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
        join pg_stat_activity a on a.pid = l.pid
        where n.nspname = any(%s) and l.granted and a.pid <> pg_backend_pid() order by a.xact_start""",
                       [schemas]).fetchall()
    return [f"pid {pid} user {user} application {app or '-'} from {addr or 'local socket'} ({state}, transaction "
            f"open since {start:%Y-%m-%d %H:%M:%S %Z})" for pid, user, app, addr, state, start in rows]


def swap(staged: StagedPublication) -> SwapResult:
    """Make the staged publication the one readers see, in one transaction (see the module's docstring)."""
    target = staged.target
    live, incoming, previous = target.schema, target.incoming_schema, target.previous_schema
    started = time.monotonic()
    attempts = 0
    with target.connect() as con:
        deadlock_ms = _milliseconds(con.execute("select setting, unit from pg_settings "
                                                "where name = 'deadlock_timeout'").fetchone())
        attempt_ms = max(10, min(200, deadlock_ms // 4))
        while True:
            attempts += 1
            try:
                with con.transaction():
                    cur = con.cursor()
                    relations = _relations(cur, [live, previous])
                    if relations:
                        cur.execute(sql.SQL("set local statement_timeout = {}").format(sql.Literal(attempt_ms)))
                        cur.execute(sql.SQL("lock table {} in access exclusive mode").format(
                            sql.SQL(", ").join(_ident(s, r) for s, r in relations)))
                        cur.execute("set local statement_timeout = 0")
                    _switch(cur, target, live, incoming, previous)
                return SwapResult(attempts, time.monotonic() - started)
            except psycopg.errors.QueryCanceled:
                if time.monotonic() - started > target.swap_wait:
                    busy = "; ".join(_blockers(con, [live, previous])) or "sessions that have since ended"
                    raise PublishError(
                        f"the switch to the new publication in {target.describe()} waited {target.swap_wait:.0f} s "
                        f"for readers to finish and gave up; held by: {busy}. Readers keep the previous publication; "
                        f"the new one stays unreadable in {incoming} until the next publish replaces it") from None
                time.sleep(random.uniform(0.02, 0.1))
            except psycopg.errors.UndefinedObject as exc:
                raise PublishError(f"the switch in {target.describe()} failed: {_first_line(exc)}") from None


def _switch(cur: psycopg.Cursor, target: PostgresTarget, live: str, incoming: str, previous: str) -> None:
    cur.execute("select nspname from pg_namespace where nspname = any(%s)", [[live, incoming, previous]])
    present = {r[0] for r in cur.fetchall()}
    if incoming not in present:
        raise PublishError(f"no staged publication in schema {incoming} of {target.describe()}")
    if previous in present:
        dependents = _outside_dependents(cur, previous)
        if dependents:
            raise PublishError(
                f"{', '.join(dependents)} depend on tables of {previous} (they followed the tables when the "
                f"publication before was replaced) and would be dropped with it; recreate them on {live} after "
                "each publication or keep them in the BI tool; nothing was switched")
        cur.execute(sql.SQL("drop schema {} cascade").format(_ident(previous)))
    if live in present:
        dependents = _outside_dependents(cur, live)
        if dependents:
            raise PublishError(
                f"{', '.join(dependents)} depend on tables of {live} by identity and would keep reading the old "
                "publication; recreate them after each publication or keep them in the BI tool; nothing was switched")
        cur.execute(sql.SQL("alter schema {} rename to {}").format(_ident(live), _ident(previous)))
        cur.execute(sql.SQL("revoke all on schema {} from {}").format(_ident(previous), _ident(target.reader_role)))
    cur.execute(sql.SQL("alter schema {} rename to {}").format(_ident(incoming), _ident(live)))
    cur.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(live), _ident(target.reader_role)))
    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(_ident(live),
                                                                                 _ident(target.reader_role)))


def _milliseconds(setting: tuple[str, str | None]) -> int:
    value, unit = setting
    return int(value) * {"ms": 1, "s": 1000, "min": 60_000}.get(unit or "ms", 1)


def publish_postgres(target: PostgresTarget, publication_file: Path, published_at: str,
                     gate: GateRecord) -> tuple[StagedPublication, SwapResult]:
    """Stage and switch in one go (the pipeline interleaves the two with the DuckDB publish instead)."""
    staged = stage(target, publication_file, published_at, gate)
    return staged, swap(staged)


def published(target: PostgresTarget) -> list[tuple[dt.datetime, str, str, int]]:
    """(published_at, run_id, table, rows) of what readers see now; empty when nothing was ever published."""
    with target.connect() as con:
        found = con.execute("select 1 from pg_tables where schemaname = %s and tablename = %s",
                            [target.schema, PUBLICATION_TABLE]).fetchone()
        if found is None:
            return []
        return con.execute(sql.SQL("select published_at, run_id, table_name, row_count from {} order by table_name")
                           .format(_ident(target.schema, PUBLICATION_TABLE))).fetchall()
