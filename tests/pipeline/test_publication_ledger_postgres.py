"""The PostgreSQL rows of issue 22's table, on a real server (tools/pgserver.py): a target switched on, dropped,
down during a run, a reader role recreated, a killed run's session holding a lock. Each ends with every target
matching the ledger and the next pre-check saying "current" (src/styringsdata/publishing/ledger.py).

Each test has its own schema on the session's server and a copy of the offline run's data directory. Where a
test needs PostgreSQL to hold the publication before the fault, it is published in this process the way a run
starts (ledger.reconcile) and recorded for the pre-check (precheck.remember), instead of a whole run.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import duckdb
import psycopg
import pytest

from styringsdata.settings import Settings
from tools import pgserver
from tests.pipeline.conftest import REGISTRY_HEADER
from tests.pipeline.test_publication_ledger import cli, ends_current, env_for, repaired, run


@pytest.fixture
def data(offline_run, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, copy, symlinks=True)
    return copy


@pytest.fixture
def pg_env(data, pg_warehouse, request) -> dict[str, str]:
    schema = "ledger_" + request.node.name.removeprefix("test_")[:30].lower()
    return env_for(data, STYRINGSDATA_POSTGRES_URL=pg_warehouse.publisher_url, PGPASSWORD=pgserver.PUBLISHER_PASSWORD,
                   STYRINGSDATA_POSTGRES_SCHEMA=schema, STYRINGSDATA_POSTGRES_SWAP_WAIT="3")


def settings_of(env: dict[str, str]) -> Settings:
    return Settings.from_env({k: v for k, v in env.items() if k.startswith("STYRINGSDATA_")})


def published_to_postgres(env: dict[str, str]) -> Settings:
    """PostgreSQL holds the approved publication and the pre-check's record knows these settings."""
    import os

    from styringsdata.publishing import ledger  # here, so this module imports (and its tests fail) on older code
    from styringsdata.runs import precheck

    saved = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = env["PGPASSWORD"]
    try:
        settings = settings_of(env)
        lines = ledger.reconcile(settings, logging.getLogger("test"))
        assert any(line.startswith("PostgreSQL") for line in lines), lines
        precheck.remember(settings)
    finally:
        if saved is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = saved
    return settings


def approved_id(data: Path) -> str:
    return json.loads((data / "publication" / "ledger.json").read_text())["approved"]["id"]


def held_in_postgres(warehouse: pgserver.Warehouse, schema: str) -> set[str]:
    with warehouse.admin() as con:
        return {r[0] for r in con.execute(f"select publication_id from {schema}._publication").fetchall()}


def without_dbt(data: Path) -> bool:
    """The run's log says it republished from the approved build: dbt, the gate and publish were skipped."""
    log = (data / "logs").joinpath(sorted(p.name for p in (data / "logs").iterdir())[-1])
    return "dbt build, gate and publish skipped" in log.read_text(errors="replace")


def partial_run(env: dict[str, str]):
    """A run that published to every target but PostgreSQL: exit 6, a partial publication (src/styringsdata/cli.py)."""
    from styringsdata.cli import EXIT_PARTIAL

    result = cli(env, "run", timeout=900)
    assert result.returncode == EXIT_PARTIAL, result.stdout + result.stderr[-4000:]
    return result


def first_line(env: dict[str, str]) -> str:
    result = cli(env, "run", timeout=900)
    return result.stdout.splitlines()[0]


def test_postgres_switched_on_for_an_existing_install_receives_the_current_publication(data, pg_env, pg_warehouse):
    schema = pg_env["STYRINGSDATA_POSTGRES_SCHEMA"]

    result = run(pg_env)

    assert "has never received a publication" in repaired(result, "PostgreSQL"), \
        result.stdout
    assert held_in_postgres(pg_warehouse, schema) == {approved_id(data)}
    with pg_warehouse.bi() as bi:
        assert bi.execute(f"select count(*) from {schema}.fct_indicator_values").fetchone()[0] > 0
    ends_current(pg_env)


def test_a_dropped_schema_is_seen_by_the_precheck_and_published_again(data, pg_env, pg_warehouse):
    schema = pg_env["STYRINGSDATA_POSTGRES_SCHEMA"]
    published_to_postgres(pg_env)
    with pg_warehouse.admin() as con:
        con.execute(f"drop schema {schema} cascade")

    result = run(pg_env)

    # the pre-check itself names the broken target (before precheck.remember recorded the settings of whatever
    # pre-check ran last in this process, and the run said "the settings changed" first)
    assert f"schema {schema} has no _publication table" in result.stdout.splitlines()[0], result.stdout
    assert repaired(result, "PostgreSQL") and without_dbt(data), result.stdout
    assert held_in_postgres(pg_warehouse, schema) == {approved_id(data)}
    ends_current(pg_env)


def test_postgres_down_holds_back_nothing_else_and_the_next_run_catches_it_up(data, pg_env, pg_warehouse):
    schema = pg_env["STYRINGSDATA_POSTGRES_SCHEMA"]
    published_to_postgres(pg_env)
    before = approved_id(data)
    inbox = data / "inbox" / "registry"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "sykefravaer_2024.csv").write_text(REGISTRY_HEADER + "MED01;3203;2024;7,7;percent;measured;HR;\n")
    then = time.time() - 120
    import os

    os.utime(inbox / "sykefravaer_2024.csv", (then, then))
    # The settle rule reads the change time too, which no test can set back (sources/drop_zone.py; conftest.py).
    time.sleep(max(0.0, 31 - (time.time() - (inbox / "sykefravaer_2024.csv").stat().st_ctime)))
    pg_warehouse.server.pause()
    try:
        result = partial_run(pg_env)
        after = approved_id(data)
        assert after != before
        assert "PostgreSQL is behind" in result.stdout, result.stdout
        assert "targets: NOT every target holds publication" in result.stdout, result.stdout
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            assert con.execute("select value from fct_indicator_values where indicator_id = 'MED01' and "
                               "municipality_code = '3203' and period = 2024").fetchone() == (7.7,)
        status = cli(pg_env, "status")
        assert status.returncode == 1 and "cannot connect to PostgreSQL" in status.stdout or "behind" in status.stdout
    finally:
        pg_warehouse.server.resume()
    assert held_in_postgres(pg_warehouse, schema) == {before}

    caught_up = run(pg_env)

    assert repaired(caught_up, "PostgreSQL"), caught_up.stdout
    assert held_in_postgres(pg_warehouse, schema) == {after}
    ends_current(pg_env)


def test_a_recreated_reader_role_gets_its_grants_back(data, pg_env, pg_warehouse):
    schema = pg_env["STYRINGSDATA_POSTGRES_SCHEMA"]
    role, login = "ledger_reader", "ledger_bi"
    pg_env["STYRINGSDATA_POSTGRES_READER_ROLE"] = role
    with pg_warehouse.admin() as con:
        con.execute(f"create role {role} nologin")
        con.execute(f"create role {login} login password 'bi-pw' in role {role}")
    try:
        published_to_postgres(pg_env)
        with pg_warehouse.admin() as con:  # dropped (with its grants) and created again, as an administrator does
            con.execute(f"drop owned by {role}")
            con.execute(f"drop role {role}")
            con.execute(f"create role {role} nologin")
            con.execute(f"grant {role} to {login}")

        def read() -> int:
            with psycopg.connect(pg_warehouse.server.tcp_url(login, pg_warehouse.database), password="bi-pw") as bi:
                return bi.execute(f"select count(*) from {schema}.fct_indicator_values").fetchone()[0]

        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.OperationalError)):  # CONNECT went too
            read()

        result = run(pg_env)

        assert f"the reader role {role} lacks its grants" in result.stdout.splitlines()[0], result.stdout
        assert "grants for ledger_reader restored" in result.stdout and without_dbt(data), result.stdout
        assert read() > 0
        ends_current(pg_env)
    finally:
        with pg_warehouse.admin() as con:
            con.execute(f"drop owned by {role}")
            con.execute(f"drop role if exists {login}")
            con.execute(f"drop role if exists {role}")


def test_a_killed_runs_session_holding_a_lock_is_named_not_waited_on(data, pg_env, pg_warehouse):
    """The run killed during the switch left its staged schema and a session still holding a lock in it (its
    connection not yet noticed gone); a BI reader holds the live publication in an open transaction."""
    schema = pg_env["STYRINGSDATA_POSTGRES_SCHEMA"]
    published_to_postgres(pg_env)
    with pg_warehouse.admin() as con:  # the killed run had approved a publication PostgreSQL never got
        con.execute(f"update {schema}._publication set publication_id = 'an-older-publication'")
    leftover = psycopg.connect(pg_warehouse.publisher_url, password=pgserver.PUBLISHER_PASSWORD,
                               application_name="styringsdata-publish")
    reader = pg_warehouse.bi()
    try:
        leftover.execute(f"create schema {schema}__incoming")
        leftover.execute(f"create table {schema}__incoming.fct_indicator_values (x int)")
        leftover.commit()
        leftover.execute(f"lock table {schema}__incoming.fct_indicator_values in access exclusive mode")
        (leftover_pid,) = leftover.execute("select pg_backend_pid()").fetchone()
        reader.execute("begin")
        reader.execute(f"select count(*) from {schema}.fct_indicator_values").fetchone()

        started = time.monotonic()
        result = partial_run(pg_env)
        seconds = time.monotonic() - started

        assert seconds < 240, seconds  # it used to hang at `drop schema ... __incoming` for more than 4 minutes
        assert (f"blocked by pid {leftover_pid} user {pgserver.PUBLISHER} application styringsdata-publish"
                in result.stdout), result.stdout
        assert "PostgreSQL is behind" in result.stdout or "marked behind" in result.stdout, result.stdout
    finally:
        leftover.close()
        reader.close()

    run(pg_env)
    assert held_in_postgres(pg_warehouse, schema) == {approved_id(data)}
    ends_current(pg_env)
