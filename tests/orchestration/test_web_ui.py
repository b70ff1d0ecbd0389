"""`make dev` for real: the Dagster UI loads the code location from an unactivated virtualenv.

The CI shell, like `make dev`, does not put .venv/bin on PATH; the code location once failed to load
there because dagster-dbt looked for `dbt` on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  __typename ... on PythonError { message } ... on RepositoryLocation { repositories {
  schedules { name } sensors { name } assetGroups { groupName } } } } } } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(port: int) -> dict | None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": QUERY}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.load(answer)
    except OSError:
        return None


def test_dagster_dev_serves_the_code_location_on_loopback(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    env.update(DAGSTER_HOME=str(home), STYRINGSDATA_DATA_DIR=str(tmp_path / "data"),
               PATH=os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin))
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("dagster")), "dev", "-h", "127.0.0.1", "-p",
                               str(port), "-w", "workspace.yaml"], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        entry = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            answer = ask(port)
            entries = (answer or {}).get("data", {}).get("workspaceOrError", {}).get("locationEntries", [])
            if entries and entries[0]["locationOrLoadError"] is not None:
                entry = entries[0]["locationOrLoadError"]
                break
            time.sleep(2)
        assert entry is not None, "the UI never answered with the code location"
        assert [e["name"] for e in entries] == ["styringsdata"]  # not the module path orchestration.definitions
        assert entry["__typename"] == "RepositoryLocation", entry.get("message")
        (repository,) = entry["repositories"]
        assert {s["name"] for s in repository["schedules"]} == {
            "kostra_unrevised_release", "kostra_revised_release", "weekly_full_refresh"}
        assert {s["name"] for s in repository["sensors"]} == {
            "source_change_sensor", "registry_inbox_sensor", "failed_run_notification"}
        assert {"ssb", "fhi", "registry", "dbt_marts", "publish"} <= {g["groupName"] for g in repository["assetGroups"]}
        with socket.socket() as probe:  # not reachable on another address of this machine
            other = socket.gethostbyname(socket.gethostname())
            if other != "127.0.0.1" and not other.startswith("127."):
                assert probe.connect_ex((other, port)) != 0
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
