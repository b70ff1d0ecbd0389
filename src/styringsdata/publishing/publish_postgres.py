"""Publish the marts to PostgreSQL too, for BI servers that need a database they can reach over the network.

What is published is the DuckDB publication file itself (after the gate passed): every table with its table
and column comments, plus `_publication` (publication time, run, gate result, rows per table) and
`_quality_gate` (every check of the gate that let it through).

Readers switch from one publication to the next in one step, without waiting:
1. stage: the tables are copied into the schema `<schema>__incoming` and committed; readers have no privilege
   on it;
2. switch, one transaction: when the marts have the same tables and columns as the live publication (every
   publication but a changed dbt model's), every row of `<schema>` is replaced from the staged copy (DELETE +
   INSERT ... SELECT, with changed comments). Those take ROW EXCLUSIVE locks, which conflict with no reader:
   readers never wait, each statement sees the publication before the commit or the one after, never a mix,
   and a REPEATABLE READ transaction keeps the one it started with. The dead rows are vacuumed afterwards.
3. when the marts changed shape (or on the first publish), the staged schema takes the live one's name
   instead. That needs ACCESS EXCLUSIVE locks on the live tables: a statement that needs one waits for the
   commit and then resolves every name anew, so it reads the new publication whole; a reader's open
   transaction holds the switch back. The LOCK statement gives up after a fraction of `deadlock_timeout` and
   is retried, so no reader is chosen as a deadlock victim; after `swap_wait` the publish fails naming the
   sessions that held it, and nothing was switched. Views in other schemas on the marts survive (2) and make
   (3) refuse with their names (dropping the old tables would drop them).

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

from styringsdata.publishing.common import PublishError
from styringsdata.publishing.common import sql_string as _sql_string
from styringsdata.queries import one_row, one_value

COPY_CHUNK = 1 << 20
APPLICATION_NAME = "styringsdata-publish"
PUBLICATION_TABLE = "_publication"
GATE_TABLE = "_quality_gate"


@dataclass(frozen=True)
class PostgresTarget:
    url: str = field(repr=False)  # libpq URL or key=value conninfo; may hold the password
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

    @property
    def lock_timeout_ms(self) -> int:
        """No statement of the publish waits longer than the swap wait for a lock (a reader, a killed run's
        leftover session): it fails naming who holds it (`blocked_by`)."""
        return max(1, int(self.swap_wait * 1000))

    @property
    def statement_timeout_ms(self) -> int:
        """No statement runs longer than four swap waits (at least a minute: a COPY of the marts takes time)."""
        return max(60_000, 4 * self.lock_timeout_ms)

    def connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, application_name=APPLICATION_NAME, connect_timeout=30,
                                   options=f"-c lock_timeout={self.lock_timeout_ms} "
                                           f"-c statement_timeout={self.statement_timeout_ms}")
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
    how: str  # "rows replaced" or "schema switched"
    attempts: int
    seconds: float
    vacuum_error: str | None = None  # the switch stands; only the clean-up of the replaced rows failed


def redact(url: str) -> str:
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(an unparsable PostgreSQL URL)"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


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


def stage(target: PostgresTarget, publication_file: Path, published_at: str, gate: GateRecord,
          publication_id: str = "") -> StagedPublication:
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
                    rows[table.name] = one_value(cur, sql.SQL("select count(*) from {}").format(
                        _ident(incoming, table.name)))
                    expected = one_value(duck, f'select count(*) from main."{table.name}"')
                    if rows[table.name] != expected:
                        raise PublishError(f"PostgreSQL received {rows[table.name]} rows of {table.name}, "
                                           f"the DuckDB publication has {expected}")
                _record(cur, incoming, published_at, gate, rows, publication_id)
                for name in [*rows, PUBLICATION_TABLE, GATE_TABLE]:
                    cur.execute(sql.SQL("analyze {}").format(_ident(incoming, name)))
                con.commit()
            except psycopg.Error as exc:
                raise PublishError(f"staging the publication in {target.describe()} failed: {_first_line(exc)}"
                                   f"{blocked_by(target, exc)}; what readers see was not changed") from None
    finally:
        duck.close()
    return StagedPublication(target, rows, published_at)


def _record(cur: psycopg.Cursor, schema: str, published_at: str, gate: GateRecord, rows: dict[str, int],
            publication_id: str = "") -> None:
    cur.execute(sql.SQL(
        "create table {} (published_at timestamptz not null, run_id text not null, gate_checked_at timestamptz, "
        "gate_passed boolean not null, gate_errors integer not null, gate_warnings integer not null, "
        "table_name text not null, row_count bigint not null, publication_id text not null)").format(
        _ident(schema, PUBLICATION_TABLE)))
    failed = [c for c in gate.checks if not c.get("passed")]
    errors = sum(1 for c in failed if c.get("severity") == "error")
    warnings = sum(1 for c in failed if c.get("severity") == "warning")
    published = dt.datetime.fromisoformat(published_at).replace(tzinfo=dt.timezone.utc)
    checked = dt.datetime.fromisoformat(gate.checked_at) if gate.checked_at else None
    if checked is not None and checked.tzinfo is None:
        checked = checked.replace(tzinfo=dt.timezone.utc)
    cur.executemany(sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s, %s, %s)").format(
        _ident(schema, PUBLICATION_TABLE)),
        [(published, gate.run_id, checked, gate.passed, errors, warnings, name, n, publication_id)
         for name, n in rows.items()])
    _comment(cur, "table", _ident(schema, PUBLICATION_TABLE),
             "This publication: when it was published (UTC), by which pipeline run, the quality gate that let it "
             "through (errors are always 0 here: a failed gate publishes nothing), the rows of every mart, and its "
             "id in the publication ledger (`styringsdata status`).")
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


def _layout(cur: psycopg.Cursor, schema: str) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, type)] in column order, as PostgreSQL has it."""
    cur.execute("""select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
                   from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = %s and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
                   order by c.relname, a.attnum""", [schema])
    layout: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in cur.fetchall():
        layout.setdefault(table, []).append((column, type_))
    return layout


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
        select distinct a.pid, a.usename, a.application_name, host(a.client_addr), a.state, a.xact_start
        from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
        join pg_stat_activity a on a.pid = l.pid
        where n.nspname = any(%s) and l.granted and a.pid <> pg_backend_pid() order by a.xact_start""",
                       [schemas]).fetchall()
    # Without pg_read_all_stats (deploy/postgres/setup.sql grants it) other users' sessions show only pid and user.
    return [f"pid {pid} user {user} application {app or '-'} from {addr or 'local socket'} ({state or 'state hidden'}"
            + (f", transaction open since {start:%Y-%m-%d %H:%M:%S %Z})" if start else ")")
            for pid, user, app, addr, state, start in rows]


def blocked_by(target: PostgresTarget, exc: BaseException) -> str:
    """For a statement that gave up waiting for a lock: '; blocked by pid … user … application …', naming every
    session that holds a lock in the publication's schemas (a reader, or the session of a run that was killed).
    Asked on a connection of its own: the failed one is in an aborted transaction."""
    if not isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)):
        return ""
    try:
        with psycopg.connect(target.url, application_name=APPLICATION_NAME, connect_timeout=10,
                             options="-c statement_timeout=10000") as con:
            held = _blockers(con, [target.schema, target.incoming_schema, target.previous_schema])
    except psycopg.Error as again:
        return f" (waited {target.swap_wait:g} s for a lock; who holds it could not be read: {_first_line(again)})"
    return (f" (waited {target.swap_wait:g} s, STYRINGSDATA_POSTGRES_SWAP_WAIT, for a lock; blocked by "
            + ("; ".join(held) or "a session that has since ended") + ")")


def swap(staged: StagedPublication) -> SwapResult:
    """Make the staged publication the one readers see, in one transaction (see the module's docstring)."""
    target = staged.target
    started = time.monotonic()
    with target.connect() as con:
        con.autocommit = True  # every transaction below is an explicit block
        cur = con.cursor()
        live, incoming = _layout(cur, target.schema), _layout(cur, target.incoming_schema)
        if not incoming:
            raise PublishError(f"no staged publication in schema {target.incoming_schema} of {target.describe()}")
        try:
            if live == incoming:
                _replace_rows(con, target, list(incoming))
                result = SwapResult("rows replaced", 1, time.monotonic() - started)
            else:
                attempts = _switch_schemas(con, target, started)
                result = SwapResult("schema switched", attempts, time.monotonic() - started)
            con.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(target.incoming_schema)))
        except psycopg.Error as exc:
            raise PublishError(f"the switch to the new publication in {target.describe()} failed: {_first_line(exc)}"
                               f"{blocked_by(target, exc)}; readers keep the previous publication") from None
    problem = _vacuum(target, list(incoming))
    return SwapResult(result.how, result.attempts, result.seconds, problem)


def _replace_rows(con: psycopg.Connection, target: PostgresTarget, tables: list[str]) -> None:
    """Same tables and columns as the live publication: replace every row in one transaction.

    DELETE and INSERT take ROW EXCLUSIVE locks, which no reader's lock conflicts with: nobody waits, and every
    statement (every transaction, in REPEATABLE READ) sees all tables before the commit or all after it."""
    live, incoming = target.schema, target.incoming_schema
    with con.transaction():
        cur = con.cursor()
        for table in tables:
            cur.execute(sql.SQL("delete from {}").format(_ident(live, table)))
            cur.execute(sql.SQL("insert into {} select * from {}").format(_ident(live, table), _ident(incoming, table)))
        # Comments and grants only where they differ: both are catalog updates readers need not wait for.
        cur.execute("""select 'table', c.relname, null::text, obj_description(c.oid, 'pg_class')
                       from pg_class c where c.relnamespace = %(incoming)s::regnamespace and c.relkind = 'r'
                         and obj_description(c.oid, 'pg_class') is distinct from
                             obj_description(format('%%I.%%I', %(live)s::text, c.relname)::regclass, 'pg_class')
                       union all
                       select 'column', c.relname, a.attname, col_description(c.oid, a.attnum)
                       from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0
                       where c.relnamespace = %(incoming)s::regnamespace and c.relkind = 'r'
                         and col_description(c.oid, a.attnum) is distinct from
                             col_description(format('%%I.%%I', %(live)s::text, c.relname)::regclass, a.attnum)""",
                    {"incoming": incoming, "live": live})
        for kind, table, column, text in cur.fetchall():
            target_object = _ident(live, table) if kind == "table" else _ident(live, table, column)
            cur.execute(sql.SQL("comment on {} {} is {}").format(sql.SQL(kind), target_object, sql.Literal(text)))
        _grant_where_missing(cur, target, tables)


def _grant_where_missing(cur: psycopg.Cursor, target: PostgresTarget, tables: list[str]) -> None:
    role, live = target.reader_role, target.schema
    # A reader role dropped and created again has lost CONNECT too (deploy/postgres/setup.sql granted it once);
    # the publisher owns the database, so it may give it back.
    may_connect, database = one_row(
        cur, "select has_database_privilege(%s::name, current_database(), 'CONNECT'), current_database()", [role])
    if not may_connect:
        cur.execute(sql.SQL("grant connect on database {} to {}").format(_ident(database), _ident(role)))
    if not one_value(cur, "select has_schema_privilege(%s::name, %s::text, 'USAGE')", [role, live]):
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(live), _ident(role)))
    for table in tables:
        if not one_value(cur, "select has_table_privilege(%s::name, format('%%I.%%I', %s::text, %s::text), 'SELECT')",
                         [role, live, table]):
            cur.execute(sql.SQL("grant select on {} to {}").format(_ident(live, table), _ident(role)))


def _switch_schemas(con: psycopg.Connection, target: PostgresTarget, started: float) -> int:
    """The marts changed shape (or this is the first publication): the staged schema takes the live one's name.

    Renaming needs ACCESS EXCLUSIVE locks on every live table, taken in one LOCK statement that gives up after a
    fraction of deadlock_timeout and is retried in another order, so a reader never loses a deadlock to us.
    Returns the number of attempts."""
    live, incoming, previous = target.schema, target.incoming_schema, target.previous_schema
    deadlock_ms = one_value(con, "select extract(epoch from current_setting('deadlock_timeout')::interval) * 1000")
    attempt_ms = max(10, min(200, int(deadlock_ms) // 4))
    attempts = 0
    while True:
        attempts += 1
        try:
            with con.transaction():
                cur = con.cursor()
                relations = _relations(cur, [live])
                random.shuffle(relations)
                if relations:
                    cur.execute(sql.SQL("set local statement_timeout = {}").format(sql.Literal(attempt_ms)))
                    cur.execute(sql.SQL("lock table {} in access exclusive mode").format(
                        sql.SQL(", ").join(_ident(s, r) for s, r in relations)))
                    cur.execute(sql.SQL("set local statement_timeout = {}").format(
                        sql.Literal(target.statement_timeout_ms)))
                    dependents = _outside_dependents(cur, live)
                    if dependents:
                        raise PublishError(
                            f"{', '.join(dependents)} depend on tables of {live}, whose columns changed in this "
                            "publication, and would be dropped with them; drop them, publish, and create them again "
                            "(nothing was switched)")
                    cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(previous)))
                    cur.execute(sql.SQL("alter schema {} rename to {}").format(_ident(live), _ident(previous)))
                cur.execute(sql.SQL("alter schema {} rename to {}").format(_ident(incoming), _ident(live)))
                _grant_where_missing(cur, target, [r for _, r in _relations(cur, [live])])
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(previous)))
            return attempts
        except psycopg.errors.QueryCanceled:
            if time.monotonic() - started > target.swap_wait:
                busy = "; ".join(_blockers(con, [live])) or "sessions that have since ended"
                raise PublishError(
                    f"the marts changed shape, and switching {target.describe()} to them waited "
                    f"{target.swap_wait:.0f} s for readers to finish and gave up; held by: {busy}. Readers keep the "
                    f"previous publication; the new one stays, unreadable, in {incoming} until the next publish") from None
            time.sleep(random.uniform(0.02, 0.1))


def _vacuum(target: PostgresTarget, tables: list[str]) -> str | None:
    """The replaced rows are dead tuples until vacuumed; VACUUM waits for no reader. Outside any transaction.

    Returns what went wrong rather than raising: the publication has been switched by now, and failing the
    publish here would leave the DuckDB file behind it. Autovacuum cleans up later anyway."""
    try:
        with target.connect() as con:
            con.autocommit = True
            for table in tables:
                con.execute(sql.SQL("vacuum (analyze) {}").format(_ident(target.schema, table)))
    except (psycopg.Error, PublishError) as exc:
        return f"VACUUM after the switch failed ({_first_line(exc)}); autovacuum will reclaim the space"
    return None


def publish_postgres(target: PostgresTarget, publication_file: Path, published_at: str,
                     gate: GateRecord, publication_id: str = "") -> tuple[StagedPublication, SwapResult]:
    """Stage and switch in one go (the pipeline publishes the approved build this way: src/styringsdata/publishing/
    ledger.py)."""
    staged = stage(target, publication_file, published_at, gate, publication_id)
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
