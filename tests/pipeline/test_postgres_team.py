"""The team setup for real: PostgreSQL from deploy/postgres/setup.sql, the pipeline publishing into it, Dagster's
instance on it (dagster_home/postgres/dagster.yaml), and the code location, webserver and daemon started with
the commands of deploy/docker-compose.yml as separate processes.

Not covered here: the containers themselves (no container runtime on these machines), deploy/Dockerfile, the
postgres image's init script, Kubernetes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
import yaml
from psycopg import sql

from styringsdata.settings import PROJECT_ROOT
from tools import pgserver
from tests.pipeline.conftest import run_cli

COMPOSE = PROJECT_ROOT / "deploy" / "docker-compose.yml"
SCHEMA = "styringsdata"


@dataclass
class Team:
    env: dict[str, str]
    data: Path
    dagster_home: Path
    warehouse: pgserver.Warehouse
    run: subprocess.CompletedProcess
    run_id: str


def dagster_env(server: pgserver.PgServer, home: Path) -> dict[str, str]:
    """The compose file's Dagster settings, pointed at the test server."""
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    env = dict(compose["x-dagster-instance"])
    assert env["DAGSTER_HOME"].endswith("dagster_home/postgres")
    env.update(DAGSTER_HOME=str(home), DAGSTER_PG_HOST="127.0.0.1", DAGSTER_PG_PORT=str(server.port),
               DAGSTER_PG_PASSWORD=pgserver.DAGSTER_PASSWORD)
    return env


@pytest.fixture(scope="module")
def team(offline_run, pg_warehouse, tmp_path_factory) -> Team:
    root = tmp_path_factory.mktemp("team")
    data = root / "data"
    shutil.copytree(offline_run.data_dir, data)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "postgres" / "dagster.yaml", home)
    env = dict(offline_run.env, **dagster_env(pg_warehouse.server, home))
    # The password inside the URL, the worst place a user could put it: it must still appear nowhere.
    env.update(STYRINGSDATA_DATA_DIR=str(data), STYRINGSDATA_REBUILD="on",
               STYRINGSDATA_POSTGRES_URL=pg_warehouse.publisher_url_with_password())
    result = run_cli(env)
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    with pg_warehouse.admin() as con:
        (run_id,) = con.execute(f"select distinct run_id from {SCHEMA}._publication").fetchone()
    return Team(env, data, home, pg_warehouse, result, run_id)


def duckdb_tables(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {}
        for name, comment in con.execute("select table_name, comment from duckdb_tables() where database_name = "
                                         "current_database() and schema_name = 'main' and table_name <> "
                                         "'_publication' order by 1").fetchall():
            columns = con.execute("select column_name, data_type, comment from duckdb_columns() where database_name "
                                  "= current_database() and schema_name = 'main' and table_name = ? order by column_index",
                                  [name]).fetchall()
            order = ", ".join(str(i + 1) for i in range(len(columns)))
            rows = con.execute(f'select * from "{name}" order by {order}').fetchall()
            tables[name] = {"comment": comment, "columns": columns, "rows": rows}
        return tables
    finally:
        con.close()


def test_the_marts_in_postgres_equal_the_duckdb_warehouse(team):
    from styringsdata.publishing.publish_postgres import TYPES, postgres_type

    expected = duckdb_tables(team.data / "warehouse.duckdb")
    assert len(expected) >= 7 and {"fct_indicator_values", "indicator_catalogue"} <= set(expected)
    with team.warehouse.admin() as pg:
        pg.execute("set TimeZone = 'UTC'")
        found = {r[0] for r in pg.execute("select tablename from pg_tables where schemaname = %s", [SCHEMA])}
        assert found == set(expected) | {"_publication", "_quality_gate"}
        for name, want in expected.items():
            (comment,) = pg.execute("select obj_description(%s::regclass)", [f"{SCHEMA}.{name}"]).fetchone()
            assert comment == want["comment"], name
            columns = pg.execute("select attname, format_type(atttypid, atttypmod), col_description(attrelid, attnum) "
                                 "from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped "
                                 "order by attnum", [f"{SCHEMA}.{name}"]).fetchall()
            assert columns == [(c, postgres_type(t, name), d) for c, t, d in want["columns"]], name
            order = ", ".join(str(i + 1) for i in range(len(columns)))
            rows = pg.execute(sql.SQL("select * from {} order by " + order).format(sql.Identifier(SCHEMA, name))).fetchall()
            assert len(rows) == len(want["rows"]), name
            assert rows == want["rows"], f"{name}: first difference " + next(
                (f"{a} != {b}" for a, b in zip(rows, want["rows"]) if a != b), "")
        recorded = dict(pg.execute(f"select table_name, row_count from {SCHEMA}._publication").fetchall())
        gate = pg.execute(f"select bool_and(gate_passed), max(gate_errors) from {SCHEMA}._publication").fetchone()
        checks = pg.execute(f"select count(*), count(*) filter (where severity = 'error') from {SCHEMA}._quality_gate"
                            ).fetchone()
    assert recorded == {name: len(want["rows"]) for name, want in expected.items()}
    assert gate == (True, 0) and checks[0] >= 10 and checks[1] >= 5
    assert {t for want in expected.values() for _, t, _ in want["columns"]} <= set(TYPES)
    with duckdb.connect(str(team.data / "warehouse.duckdb"), read_only=True) as con:
        (duck_published,) = con.execute("select max(published_at) from _publication").fetchone()
    with team.warehouse.admin() as pg:
        (pg_published,) = pg.execute(f"select max(published_at) at time zone 'UTC' from {SCHEMA}._publication").fetchone()
    assert pg_published == duck_published


def test_a_bi_login_reads_the_publication_and_cannot_change_it(team):
    with team.warehouse.bi() as bi:
        assert bi.execute("select count(*) from fct_indicator_values").fetchone()[0] > 1000
        assert bi.execute("select count(distinct indicator_id) from indicator_catalogue").fetchone() == (88,)
        for statement in ("delete from fct_indicator_values", "create table mine (a int)",
                          "create schema mine", "drop table indicator_catalogue"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(statement)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_command(service: str, ports: dict[str, int], workspace: Path) -> list[str]:
    """The compose file's command for a service, on loopback and free ports, run from this virtualenv."""
    command = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"][service]["command"]
    replaced = {"0.0.0.0": "127.0.0.1", "4000": str(ports["code"]), "3000": str(ports["webserver"]),
                "deploy/workspace.yaml": str(workspace)}
    command = [replaced.get(part, part) for part in command]
    return [str(Path(sys.executable).with_name(command[0])), *command[1:]]


def graphql(port: int, query: str, variables: dict | None = None) -> dict | None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except OSError:
        return None


LOCATION = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename
  ... on PythonError { message } } } } } }"""
RUNS = """{ runsOrError { ... on Runs { results { runId jobName status } } } }"""
LAUNCH = """mutation($selector: JobOrPipelineSelector!) { launchRun(executionParams: {selector: $selector}) {
  __typename ... on LaunchRunSuccess { run { runId status } } ... on PythonError { message } } }"""
RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


def wait_for(what: str, probe, timeout: float, processes: list[subprocess.Popen]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p for p in processes if p.poll() is not None]
        assert not dead, f"{dead[0].args[:3]} exited while waiting for {what}"
        value = probe()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def test_webserver_daemon_and_code_location_share_the_postgres_instance(team, tmp_path):
    ports = {"code": free_port(), "webserver": free_port()}
    workspace = tmp_path / "workspace.yaml"
    entry = yaml.safe_load((PROJECT_ROOT / "deploy" / "workspace.yaml").read_text())
    entry["load_from"][0]["grpc_server"].update(host="127.0.0.1", port=ports["code"])
    workspace.write_text(yaml.safe_dump(entry))
    processes = []
    logs = {}
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    health = [str(Path(sys.executable).with_name("dagster")),
              *[str(ports["code"]) if p == "4000" else p for p in compose["services"]["code"]["healthcheck"]["test"][2:]]]

    def code_healthy() -> bool:
        return subprocess.run(health, env=team.env, capture_output=True, timeout=60).returncode == 0

    try:
        for service in ("code", "webserver", "daemon"):
            logs[service] = open(tmp_path / f"{service}.log", "w")
            processes.append(subprocess.Popen(service_command(service, ports, workspace), cwd=PROJECT_ROOT,
                                              env=team.env, stdout=logs[service], stderr=subprocess.STDOUT,
                                              start_new_session=True))
            if service == "code":  # as compose's depends_on: service_healthy
                wait_for("the code location's health check", code_healthy, 240, processes)
        location = wait_for("the code location in the webserver", lambda: next(
            (e["locationOrLoadError"] for e in ((graphql(ports["webserver"], LOCATION) or {}).get("data") or {})
             .get("workspaceOrError", {}).get("locationEntries", []) if e["locationOrLoadError"]), None), 240, processes)
        assert location["__typename"] == "RepositoryLocation", location.get("message")

        # The run the CLI recorded in PostgreSQL, read back by another process.
        runs = graphql(ports["webserver"], RUNS)["data"]["runsOrError"]["results"]
        assert {"runId": team.run_id, "jobName": "full_refresh", "status": "SUCCESS"} in runs

        # A run launched through the webserver: queued, started by the daemon next to the code location.
        selector = {"repositoryLocationName": "styringsdata", "repositoryName": "__repository__",
                    "jobName": "audit_and_publish"}
        launched = graphql(ports["webserver"], LAUNCH, {"selector": selector})["data"]["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status = wait_for("the launched run to finish", lambda: (lambda s: s if s in ("SUCCESS", "FAILURE", "CANCELED")
                          else None)(graphql(ports["webserver"], RUN, {"id": run_id})["data"]["runOrError"]["status"]),
                          420, processes)
        assert status == "SUCCESS", (tmp_path / "daemon.log").read_text()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in logs.values():
            log.close()
    with team.warehouse.admin() as pg:
        assert pg.execute(f"select distinct run_id from {SCHEMA}._publication").fetchall() == [(run_id,)]
    with psycopg.connect(team.warehouse.server.admin_url("dagster")) as dagster_db:
        statuses = dict(dagster_db.execute("select run_id, status from runs").fetchall())
    assert statuses[team.run_id] == "SUCCESS" and statuses[run_id] == "SUCCESS"


def postgres_state(warehouse: pgserver.Warehouse) -> dict:
    with warehouse.admin() as pg:
        schemas = [r[0] for r in pg.execute("select nspname from pg_namespace where nspname like 'styringsdata%' "
                                            "order by 1").fetchall()]
        tables = {}
        for (name,) in pg.execute("select tablename from pg_tables where schemaname = %s order by 1", [SCHEMA]):
            tables[name] = pg.execute(sql.SQL("select count(*), md5(coalesce(string_agg(t::text, '|' order by "
                                              "t::text), '')) from {} t").format(sql.Identifier(SCHEMA, name))).fetchone()
    return {"schemas": schemas, "tables": tables}


def audit_and_publish() -> dg.ExecuteInProcessResult:
    from styringsdata.definitions import defs

    return defs.resolve_job_def("audit_and_publish").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_a_held_back_run_changes_nothing_in_postgres(team, tmp_path, monkeypatch):
    share_indicator = "MED01"  # sykefraværsprosent, a share: 140 fails the gate's 0-100 check

    data = tmp_path / "data"
    shutil.copytree(team.data, data)
    with duckdb.connect(str(data / "work.duckdb")) as con:
        con.execute("update marts.fct_indicator_values set value = 140 where indicator_id = ? "
                    "and municipality_code = '3203' and year = 2022", [share_indicator])
    for name in [k for k in os.environ if k.startswith("STYRINGSDATA_")]:
        monkeypatch.delenv(name)
    for name, value in team.env.items():
        if name.startswith(("STYRINGSDATA_", "DAGSTER_PG_")):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("STYRINGSDATA_DATA_DIR", str(data))
    before = postgres_state(team.warehouse)
    assert before["tables"]["fct_indicator_values"][0] > 1000

    result = audit_and_publish()

    assert not result.success
    failed = {e.asset_check_evaluation_data.check_name for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed}
    assert "fct_shares_within_0_100" in failed
    assert dg.AssetKey(["published", "warehouse"]) not in {e.asset_key for e in result.get_asset_materialization_events()}
    assert postgres_state(team.warehouse) == before


def test_the_postgres_password_is_written_nowhere(team):
    secret = pgserver.PUBLISHER_PASSWORD
    quoted = team.env["STYRINGSDATA_POSTGRES_URL"].split(":")[2].split("@")[0]  # as it stands in the URL
    needles = {secret.encode(), quoted.encode()}
    assert not any(n in (team.run.stdout + team.run.stderr).encode() for n in needles)
    searched = 0
    for root in (team.data, team.dagster_home):
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                content = path.read_bytes()
                assert not any(n in content for n in needles), f"the PostgreSQL password was written to {path}"
                searched += 1
    assert searched > 50
    with psycopg.connect(team.warehouse.server.admin_url("dagster")) as dagster_db:
        for table, column in (("event_logs", "event"), ("runs", "run_body")):
            hits = dagster_db.execute(sql.SQL("select count(*) from {} where strpos({}, %s) > 0 or strpos({}, %s) > 0")
                                      .format(sql.Identifier(table), sql.Identifier(column), sql.Identifier(column)),
                                      [secret, quoted]).fetchone()[0]
            assert hits == 0, f"the password is in Dagster's {table}"
        assert dagster_db.execute("select count(*) from event_logs").fetchone()[0] > 100
