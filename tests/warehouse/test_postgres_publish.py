"""The PostgreSQL target on a real server: readers during a publish, readers that hold a publication, types.

The marts are the fault tests' generations (tests/faults/publishing.py): generation g has BASE_ROWS + g rows in
`big`, carries g in every row and in `small`, so a reader that sees two publications at once is caught.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import psycopg
import pytest

from styringsdata.publishing.publish import PublishError, publish
from styringsdata.publishing.publish_postgres import GateRecord, PostgresTarget, publish_postgres, published
from tools import pgserver
from tests.faults.publishing import MARTS, read_whole, write_marts

BASE_ROWS = 20_000


def gate(generation: int, passed: bool = True) -> GateRecord:
    checks = [{"name": "fct_unique_grain", "suite": "marts", "table": "big", "severity": "error", "passed": passed,
               "rows_checked": BASE_ROWS, "failing_rows": 0 if passed else 3, "description": "one row per key",
               "examples": []},
              {"name": "yoy_jumps", "suite": "marts", "table": "big", "severity": "warning", "passed": False,
               "rows_checked": BASE_ROWS, "failing_rows": 2, "description": "jumps", "examples": [{"id": 1}]}]
    return GateRecord(f"run-{generation}", "2026-03-15T08:00:00+00:00", passed, checks)


@pytest.fixture
def target(pg_warehouse, request, monkeypatch) -> PostgresTarget:
    monkeypatch.setenv("PGPASSWORD", pgserver.PUBLISHER_PASSWORD)
    schema = "t_" + request.node.name.removeprefix("test_")[:40].lower()
    return PostgresTarget(pg_warehouse.publisher_url, schema=schema, swap_wait=30)


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb", tmp_path / "parquet"


def publish_generation(paths, target: PostgresTarget, generation: int, **kwargs):
    work, warehouse, parquet = paths
    write_marts(work, generation, BASE_ROWS)
    return publish(work, warehouse, parquet, MARTS, postgres=target, gate=gate(generation), **kwargs)


def reader(warehouse: pgserver.Warehouse, schema: str) -> psycopg.Connection:
    con = warehouse.bi()
    con.execute(f"set search_path = {schema}")
    return con


# One statement over three tables: PostgreSQL resolves their names one after the other.
ONE_STATEMENT = """select (select count(*) from big), (select min(generation) from big),
    (select max(generation) from big), (select generation from small), (select max(run_id) from _publication),
    (select row_count from _publication where table_name = 'big')"""


@dataclass
class Observed:
    generations: list[int] = field(default_factory=list)
    mixes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    slowest: float = 0.0


def read_in_a_loop(con: psycopg.Connection, stop: threading.Event, seen: Observed, transactional: bool) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            if transactional:
                # A BI tool running two queries in one transaction must get both from one publication.
                with con.transaction():
                    con.execute("set transaction isolation level repeatable read")
                    (small,) = con.execute("select generation from small").fetchone()
                    time.sleep(0.02)
                    rows, low, high = con.execute("select count(*), min(generation), max(generation) from big").fetchone()
                    run_id, counted = con.execute("select max(run_id), max(row_count) filter (where table_name = "
                                                  "'big') from _publication").fetchone()
            else:
                rows, low, high, small, run_id, counted = con.execute(ONE_STATEMENT).fetchone()
        except psycopg.Error as exc:
            seen.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        seen.slowest = max(seen.slowest, time.monotonic() - started)
        if not (low == high == small and rows == counted == BASE_ROWS + small and run_id == f"run-{small}"):
            seen.mixes.append(f"big {rows} rows of generations {low}..{high}, small {small}, _publication {run_id} "
                              f"{counted}")
        seen.generations.append(small)


def test_readers_during_publishes_see_one_whole_publication_never_a_mix_or_an_error(paths, target, pg_warehouse):
    publish_generation(paths, target, 1)
    stop = threading.Event()
    readers = [(reader(pg_warehouse, target.schema), Observed(), transactional) for transactional in (False, False, True)]
    threads = [threading.Thread(target=read_in_a_loop, args=(con, stop, seen, transactional))
               for con, seen, transactional in readers]
    for thread in threads:
        thread.start()
    switches = []
    try:
        time.sleep(0.3)
        for generation in range(2, 7):
            publication = publish_generation(paths, target, generation)
            assert publication.postgres.endswith("(rows replaced)")
            switches.append(publication.seconds["postgres switch"])
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        for con, _, _ in readers:
            con.close()

    for _, seen, transactional in readers:
        kind = "transactional reader" if transactional else "single-statement reader"
        assert seen.errors == [], f"{kind}: {seen.errors[:3]}"
        assert seen.mixes == [], f"{kind}: {seen.mixes[:3]}"
        assert seen.generations == sorted(seen.generations), f"{kind} went back to an older publication"
        assert seen.generations[0] == 1 and seen.generations[-1] == 6, kind
        assert len(set(seen.generations)) >= 3, f"{kind} saw too few publications to show anything"
    queries = sum(len(seen.generations) for _, seen, _ in readers)
    print(f"\n{queries} reads during 5 publishes, 0 errors, 0 mixed; slowest read "
          f"{max(s.slowest for _, s, _ in readers) * 1000:.0f} ms; switches {', '.join(f'{s * 1000:.0f}' for s in switches)} ms")


def test_an_open_reader_transaction_keeps_its_publication_and_the_next_one_lands_without_waiting(paths, target,
                                                                                                pg_warehouse):
    publish_generation(paths, target, 1)
    holder = reader(pg_warehouse, target.schema)
    try:
        holder.execute("begin isolation level repeatable read")
        assert holder.execute("select generation from small").fetchone() == (1,)

        publication = publish_generation(paths, target, 2)

        assert publication.postgres.endswith("(rows replaced)")
        assert publication.seconds["postgres switch"] < 10  # did not sit out a swap_wait
        # the open transaction still reads publication 1, whole, from every table
        assert holder.execute("select count(*), min(generation), max(generation) from big").fetchone() == (
            BASE_ROWS + 1, 1, 1)
        assert holder.execute("select distinct run_id from _publication").fetchall() == [("run-1",)]
        holder.execute("commit")
        assert holder.execute("select count(*), min(generation) from big").fetchone() == (BASE_ROWS + 2, 2)
    finally:
        holder.close()


def change_shape(paths, generation: int) -> None:
    """The marts of `generation` with one more column, as after a changed dbt model."""
    work, _, _ = paths
    write_marts(work, generation, BASE_ROWS)
    with duckdb.connect(str(work)) as con:
        con.execute("alter table marts.small add column note varchar default 'new column'")


def test_a_changed_shape_waits_for_an_open_reader_and_a_timeout_names_it(paths, target, pg_warehouse):
    work, warehouse, parquet = paths
    publish_generation(paths, target, 1)
    holder = reader(pg_warehouse, target.schema)
    try:
        holder.execute("begin")
        assert holder.execute("select generation from small").fetchone() == (1,)
        impatient = PostgresTarget(target.url, target.schema, swap_wait=1.0)
        change_shape(paths, 2)

        with pytest.raises(PublishError, match=r"gave up; held by: pid \d+ user bi_reader application bi-reader-test "
                                               r"from 127.0.0.1 \(idle in transaction, transaction open since"):
            publish(work, warehouse, parquet, MARTS, postgres=impatient, gate=gate(2))

        # Neither target changed: PostgreSQL is switched first, the DuckDB file only after it.
        assert read_whole(warehouse, BASE_ROWS) == 1
        assert holder.execute("select count(*), min(generation) from big").fetchone() == (BASE_ROWS + 1, 1)
        holder.execute("commit")
        with reader(pg_warehouse, target.schema) as fresh:
            assert fresh.execute("select generation from small").fetchone() == (1,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the staged one is not readable
                fresh.execute(f"select count(*) from {target.incoming_schema}.small")
    finally:
        holder.close()

    change_shape(paths, 3)
    publication = publish(work, warehouse, parquet, MARTS, postgres=target, gate=gate(3))
    assert publication.postgres.endswith("(schema switched)")
    with reader(pg_warehouse, target.schema) as fresh:
        assert fresh.execute("select generation, note from small").fetchone() == (3, "new column")
    with pg_warehouse.admin() as admin:
        assert admin.execute("select nspname from pg_namespace where nspname like %s",
                             [target.schema + "%"]).fetchall() == [(target.schema,)]


def test_a_failed_gate_publishes_nothing_to_postgres(paths, target):
    work, warehouse, parquet = paths
    publish_generation(paths, target, 1)
    before = published(target)
    write_marts(work, 2, BASE_ROWS)

    with pytest.raises(PublishError, match="did not pass"):
        publish(work, warehouse, parquet, MARTS, postgres=target, gate=gate(2, passed=False))

    assert published(target) == before
    assert read_whole(warehouse, BASE_ROWS) == 1


def test_the_publication_records_its_gate_and_time_beside_the_marts(paths, target, pg_warehouse):
    publication = publish_generation(paths, target, 4)
    with reader(pg_warehouse, target.schema) as con:
        rows = con.execute("select published_at, run_id, gate_checked_at, gate_passed, gate_errors, gate_warnings, "
                           "table_name, row_count from _publication order by table_name").fetchall()
        checks = con.execute("select check_name, severity, passed, failing_rows, details->'examples' "
                             "from _quality_gate order by check_name").fetchall()
    published_at = dt.datetime.fromisoformat(publication.published_at).replace(tzinfo=dt.timezone.utc)
    checked = dt.datetime(2026, 3, 15, 8, tzinfo=dt.timezone.utc)
    assert rows == [(published_at, "run-4", checked, True, 0, 1, "big", BASE_ROWS + 4),
                    (published_at, "run-4", checked, True, 0, 1, "small", 1)]
    assert checks == [("fct_unique_grain", "error", True, 0, []), ("yoy_jumps", "warning", False, 2, [{"id": 1}])]


def test_without_the_reader_role_and_the_right_to_create_it_nothing_is_published(paths, target, pg_warehouse):
    work, warehouse, parquet = paths
    publish_generation(paths, target, 1)
    no_role = PostgresTarget(target.url, target.schema, reader_role="bi_nobody")

    with pytest.raises(PublishError, match=r"bi_nobody does not exist .*\(deploy/postgres/setup.sql\)"):
        publish_generation(paths, no_role, 2)

    assert read_whole(warehouse, BASE_ROWS) == 1
    assert {r[1] for r in published(target)} == {"run-1"}


def test_a_view_on_the_marts_survives_publications_and_stops_a_shape_change_by_name(paths, target, pg_warehouse):
    work, warehouse, parquet = paths
    publish_generation(paths, target, 1)
    view = f"public.kpi_{target.schema}"
    with pg_warehouse.admin() as admin:
        admin.execute(f"create view {view} as select generation from {target.schema}.small")
        try:
            publish_generation(paths, target, 2)
            assert admin.execute(f"select generation from {view}").fetchall() == [(2,)]

            change_shape(paths, 3)
            with pytest.raises(PublishError, match=f"{view} depend"):
                publish(work, warehouse, parquet, MARTS, postgres=target, gate=gate(3))
            assert admin.execute(f"select generation from {view}").fetchall() == [(2,)]
        finally:
            admin.execute(f"drop view {view}")
    publish(work, warehouse, parquet, MARTS, postgres=target, gate=gate(3))
    assert {r[1] for r in published(target)} == {"run-3"}


def test_a_bad_url_fails_without_showing_the_password(paths, target):
    secret = "n0t-Th1s-0ne"
    wrong = PostgresTarget(target.url.replace("@", f":{secret}@"), target.schema)
    with pytest.raises(PublishError) as raised:
        publish_generation(paths, wrong, 1)
    assert secret not in str(raised.value) and "***" in str(raised.value)


# Every DuckDB type the target maps, with the values CSV could get wrong.
TYPED = """select * from (values
    (1, true, 1::tinyint, 255::utinyint, (-32768)::smallint, 65535::usmallint, 2147483647, 4294967295::uinteger,
     (-9223372036854775808)::bigint, 18446744073709551615::ubigint, 170141183460469231731687303715884105727::hugeint,
     1.5::float, 0.1::double, 123456.789012::decimal(18,6), 'Bærum "kommune", 3201
ny linje', date '2024-01-01', time '23:59:59.999999', timestamp '2024-02-29 12:34:56.123456',
     timestamptz '2024-06-01 10:00:00+02', interval '1 year 2 months 3 days 04:05:06',
     '8f14e45f-ceea-467f-a0e6-a1b2c3d4e5f6'::uuid, '{"a": [1, 2]}'::json),
    (2, null, null, null, null, null, null, null, null, null, null, 'nan'::float, 'inf'::double, null, '', null,
     null, null, null, null, null, null),
    (3, false, (-128)::tinyint, 0::utinyint, 0::smallint, 0::usmallint, -1, 0::uinteger, 0::bigint, 0::ubigint,
     0::hugeint, -0.0::float, 5e-324::double, -0.000001::decimal(18,6), '\\N', date '0001-01-01', time '00:00:00',
     timestamp '1970-01-01 00:00:00', timestamptz '1970-01-01 00:00:00+00', interval '-1 day', null, 'null'::json)
) v(id, b, ti, uti, si, usi, i, ui, bi, ubi, hi, f, d, dec, txt, dt, tm, ts, tstz, iv, uid, js)"""


def test_every_mapped_type_arrives_with_its_values(tmp_path, target, pg_warehouse):
    source = tmp_path / "typed.duckdb"
    con = duckdb.connect(str(source))
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"create table typed as {TYPED}")
    con.execute("comment on table typed is 'Alle typer'")
    con.execute("comment on column typed.txt is 'Tekst med ''sitat'''")
    expected = con.execute("select * from typed order by id").fetchall()
    con.close()

    publish_postgres(target, source, "2026-01-01T00:00:00", gate(1))

    with pg_warehouse.admin() as pg:
        pg.execute("set TimeZone = 'UTC'")
        got = pg.execute(f"select * from {target.schema}.typed order by id").fetchall()
        comments = pg.execute(f"select obj_description('{target.schema}.typed'::regclass), "
                              f"col_description('{target.schema}.typed'::regclass, 15)").fetchone()
        # Python's timedelta has no months, and the two drivers count a year differently: compare in PostgreSQL.
        intervals = pg.execute(f"select id, iv = any(array[interval '1 year 2 months 3 days 04:05:06', "
                               f"interval '-1 day']) from {target.schema}.typed where iv is not null").fetchall()
    assert intervals == [(1, True), (3, True)]
    assert comments == ("Alle typer", "Tekst med 'sitat'")
    assert len(got) == len(expected) == 3
    for want_row, got_row in zip(expected, got):
        for column, want, have in zip(TYPED_COLUMNS, want_row, got_row):
            assert same(want, have, column), f"row {want_row[0]} column {column}: DuckDB {want!r}, PostgreSQL {have!r}"


TYPED_COLUMNS = "id b ti uti si usi i ui bi ubi hi f d dec txt dt tm ts tstz iv uid js".split()


def same(want, have, column: str) -> bool:
    if column == "js":
        import json

        return want == have if want is None else json.loads(want) == have
    if isinstance(want, float) and math.isnan(want):
        return isinstance(have, float) and math.isnan(have)
    if column == "iv":
        return (want is None) == (have is None)  # compared in PostgreSQL above
    if isinstance(have, Decimal):
        return Decimal(want) == have
    if column == "f" and want is not None:
        return math.copysign(1, want) == math.copysign(1, have) and want == have
    return want == have


def test_a_type_without_a_counterpart_is_refused_by_name(tmp_path, target):
    source = tmp_path / "listy.duckdb"
    with duckdb.connect(str(source)) as con:
        con.execute("create table listy as select 1 as id, [1, 2] as codes")
    with pytest.raises(PublishError, match=r"listy.codes: DuckDB type INTEGER\[\]"):
        publish_postgres(target, source, "2026-01-01T00:00:00", gate(1))


def test_a_killed_runs_leftover_session_is_named_within_the_swap_wait_not_waited_on(paths, target, pg_warehouse):
    """A publish killed mid-way can leave its staged schema and a session still holding a lock in it; the next
    publish's `drop schema ... __incoming` used to wait for it without end or message (issue 22)."""
    publish_generation(paths, target, 1)
    impatient = PostgresTarget(target.url, target.schema, swap_wait=2.0)
    leftover = psycopg.connect(pg_warehouse.publisher_url, password=pgserver.PUBLISHER_PASSWORD,
                               application_name="styringsdata-publish")
    try:
        leftover.execute(f"create schema {target.incoming_schema}")
        leftover.execute(f"create table {target.incoming_schema}.big (x int)")
        leftover.commit()
        leftover.execute(f"lock table {target.incoming_schema}.big in access exclusive mode")
        (pid,) = leftover.execute("select pg_backend_pid()").fetchone()
        work, warehouse, _ = paths
        write_marts(work, 2, BASE_ROWS)
        started = time.monotonic()
        with pytest.raises(PublishError, match=rf"waited 2 s, STYRINGSDATA_POSTGRES_SWAP_WAIT, for a lock; blocked by "
                                               rf"pid {pid} user {pgserver.PUBLISHER} application styringsdata-publish"):
            publish_postgres(impatient, warehouse, "2026-03-15T08:00:00", gate(2))
        assert time.monotonic() - started < 15
    finally:
        leftover.close()
    staged, _ = publish_postgres(impatient, warehouse, "2026-03-15T08:00:00", gate(2), publication_id="p-2")
    assert dict(published(target)[0:1] and [(r[2], r[3]) for r in published(target)]) == staged.tables


def test_every_publish_statement_runs_under_timeouts_derived_from_the_swap_wait(target):
    with PostgresTarget(target.url, target.schema, swap_wait=7.5).connect() as con:
        assert con.execute("show lock_timeout").fetchone() == ("7500ms",)
        assert con.execute("show statement_timeout").fetchone() == ("1min",)
    with PostgresTarget(target.url, target.schema, swap_wait=300).connect() as con:
        assert con.execute("show lock_timeout").fetchone() == ("5min",)
        assert con.execute("show statement_timeout").fetchone() == ("20min",)
