"""One offline pipeline run into a temporary data directory, shared by the end-to-end tests."""

from __future__ import annotations

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


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "styringsdata.cli", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def offline_run(tmp_path_factory) -> PipelineRun:
    data_dir = tmp_path_factory.mktemp("pipeline") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    env.update({"STYRINGSDATA_DATA_DIR": str(data_dir), "STYRINGSDATA_SOURCE_MODE": "replay"})
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
    first = run_cli(env)
    assert first.returncode == 0, f"offline run failed:\n{first.stdout}\n{first.stderr[-5000:]}"
    return PipelineRun(data_dir, env, first)
