"""One offline pipeline run into a temporary data directory, shared by the end-to-end tests."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_HEADER = "indicator_id;municipality_code;period;value;unit;status;source;comment\n"
UDIR_HEADER = "indicator_id;Skoleaarnavn;Kommunekode;Kommune;Trinnnavn;Score;AndelMobbet;AntallBesvart;Sidenummer\n"
# Codes as they were in the school year's autumn (2023-24 is 2023: Asker 3025, Bærum 3024; 3203 and 3201 from 2024)
UDIR_GOOD = ("UTD04;2023-24;3025;Asker;7. og 10. trinn;4,3;;1850;1\n"
             "UTD02;2023-24;3024;Bærum;7. trinn;;5,9;1200;1\n"
             "UTD03;2022-23;3024;Bærum;10. trinn;;*;;1\n")   # suppressed by Udir
UDIR_BAD = "UTD09;2023-24;3203;Asker;7. og 10. trinn;3,6;;;1\nUTD09;2023-24;3205;Lillestrøm;;3,5 ;;abc;1\n"


@dataclass
class PipelineRun:
    data_dir: Path
    env: dict[str, str]
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess | None = None
    dagster_home: Path | None = None  # the instance `first` recorded into (its DAGSTER_HOME), when not env's


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "styringsdata.cli", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def _offline_run_recipe(data_dir: Path, dagster_home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    env.update({"STYRINGSDATA_DATA_DIR": str(data_dir), "STYRINGSDATA_SOURCE_MODE": "replay",
                "DAGSTER_HOME": str(dagster_home)})
    inbox = data_dir / "inbox" / "registry"
    inbox.mkdir(parents=True)
    # One good extract and one malformed file dropped before the run.
    (inbox / "sykefravaer_2023.csv").write_text(REGISTRY_HEADER + "MED01;3203;2023;8,9;percent;measured;HR;\n")
    (inbox / "bad_extract.csv").write_text(REGISTRY_HEADER + "MED01;3203;2023;8,9;percent;measured;HR;\n"
                                           "OKO01;3025;2023;abc;percent;measured;;\n")
    # A Udir export (Elevundersøkelsen, README "Udir") and one that must be refused whole (tests/pipeline/test_udir_route.py).
    udir_inbox = data_dir / "inbox" / "udir"
    udir_inbox.mkdir(parents=True)
    (udir_inbox / "elevundersokelsen_2023.csv").write_bytes((UDIR_HEADER + UDIR_GOOD).encode("cp1252"))
    (udir_inbox / "elevundersokelsen_feil.csv").write_text(UDIR_HEADER + UDIR_BAD, encoding="utf-8")
    dropped = time.time() - 120  # dropped two minutes ago: past the inbox's settle time
    for path in [*inbox.iterdir(), *udir_inbox.iterdir()]:
        os.utime(path, (dropped, dropped))
    # The settle rule reads the change time (ctime) too, which no test can set back (sources/drop_zone.py): the
    # drops must really be 30 s old when the run looks, as a user's would be.
    time.sleep(max(0.0, 31 - (time.time() - max(p.stat().st_ctime for p in [*inbox.iterdir(),
                                                                            *udir_inbox.iterdir()]))))
    return run_cli(env)


@pytest.fixture(scope="session")
def offline_run(tmp_path_factory) -> PipelineRun:
    """The offline run, built once per code fingerprint (tests/cached_run.py) and copied into this session: its
    data directory and the Dagster instance it recorded into are the session's own copies, and its output names
    them. Tests that write to it share this copy, as they shared the session's own run before. Later runs on
    `env` record into the suite's temporary instance (DAGSTER_HOME, tests/conftest.py)."""
    from tests import cached_run

    session = tmp_path_factory.mktemp("pipeline")
    recipe = "\n".join([inspect.getsource(_offline_run_recipe), inspect.getsource(run_cli), REGISTRY_HEADER,
                        UDIR_HEADER, UDIR_GOOD, UDIR_BAD])
    found = cached_run.entry("offline_run", _offline_run_recipe, recipe, session / "private")
    data_dir = session / "data"
    first = cached_run.load(found, data_dir, session / "dagster_home")
    assert first.returncode == 0, f"offline run failed:\n{first.stdout}\n{first.stderr[-5000:]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    env.update({"STYRINGSDATA_DATA_DIR": str(data_dir), "STYRINGSDATA_SOURCE_MODE": "replay"})
    return PipelineRun(data_dir, env, first, dagster_home=session / "dagster_home")
