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


@dataclass
class PipelineRun:
    data_dir: Path
    env: dict[str, str]
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess | None = None


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def offline_run(tmp_path_factory) -> PipelineRun:
    data_dir = tmp_path_factory.mktemp("pipeline") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STYRINGSDATA_", "DAGSTER_HOME"))}
    env.update({"STYRINGSDATA_DATA_DIR": str(data_dir), "STYRINGSDATA_SOURCE_MODE": "replay"})
    inbox = data_dir / "inbox" / "registry"
    inbox.mkdir(parents=True)
    # One good extract and one malformed file dropped before the run.
    (inbox / "sykefravaer_2023.csv").write_text(REGISTRY_HEADER + "MED01;3203;2023;8,9;percent;measured;HR;\n")
    (inbox / "bad_extract.csv").write_text(REGISTRY_HEADER + "MED01;3203;2023;8,9;percent;measured;HR;\n"
                                           "OKO01;3025;2023;abc;percent;measured;;\n")
    dropped = time.time() - 120  # dropped two minutes ago: past the inbox's settle time
    for path in inbox.iterdir():
        os.utime(path, (dropped, dropped))
    first = run_cli(env)
    assert first.returncode == 0, f"offline run failed:\n{first.stdout}\n{first.stderr[-5000:]}"
    return PipelineRun(data_dir, env, first)
