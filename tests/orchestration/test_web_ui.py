"""`make dev` for real: the Dagster UI loads the code location from an unactivated virtualenv, on loopback only.

The command is the one `make dev` runs (read with `make -n`), so a change to the Makefile is what is tested.
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

from styringsdata.settings import PROJECT_ROOT

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


def make_dev_command() -> str:
    """The shell line `make dev` runs, with this interpreter's virtualenv as BIN."""
    dry_run = subprocess.run(["make", "-n", "--no-print-directory", "dev", f"BIN={Path(sys.executable).parent}"],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    (line,) = [line for line in dry_run.splitlines() if "dagster dev" in line]
    return line


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on the TCP port (Linux /proc/net/tcp and tcp6, hex)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, port_hex = local.split(":")
                if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                    addresses.add(address)
    return addresses


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 as /proc writes them


def test_dagster_dev_serves_the_code_location_on_loopback(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    env.update(DAGSTER_HOME=str(home), STYRINGSDATA_DATA_DIR=str(tmp_path / "data"),
               PATH=os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin))
    port = free_port()
    command = make_dev_command()
    assert " -p " not in command and "--port" not in command  # the port is the test's (a free one)
    server = subprocess.Popen(["sh", "-c", f"{command} -p {port}"], cwd=PROJECT_ROOT, env=env,
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
        assert [e["name"] for e in entries] == ["styringsdata"]  # not the module path styringsdata.definitions
        assert entry["__typename"] == "RepositoryLocation", entry.get("message")
        (repository,) = entry["repositories"]
        assert {s["name"] for s in repository["schedules"]} == {
            "kostra_unrevised_release", "kostra_revised_release", "weekly_full_refresh"}
        assert {s["name"] for s in repository["sensors"]} == {
            "source_change_sensor", "registry_inbox_sensor", "failed_run_notification"}
        assert {"ssb", "fhi", "registry", "dbt_marts", "publish"} <= {g["groupName"] for g in repository["assetGroups"]}
        listening = listening_addresses(port)
        assert listening and listening <= LOOPBACK, f"the UI listens on {listening}, not only on loopback"
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
