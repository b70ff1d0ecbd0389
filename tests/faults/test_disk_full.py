"""Disk full: one line naming the path, no traceback, the last publication intact, the next run finishes the job.

The data directory lives on a tmpfs of about a hundred MB mounted in a private mount namespace
(`unshare --user --map-root-user --mount`: no root needed where unprivileged user namespaces are allowed,
which is the default on current Linux distributions) and is filled with a filler file, so every writer
(DuckDB, dbt, the report, Python) gets a real ENOSPC from the kernel. Where user namespaces are not
allowed, the test is skipped and says why.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.faults.runs import ROOT

DRIVER = "tests.faults.disk_full_driver"  # a module, run from the root


def namespaces_allowed() -> str | None:
    if not shutil.which("unshare"):
        return "unshare(1) is not installed"
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=1m tmpfs /tmp"],
                           capture_output=True, text=True)
    return None if probe.returncode == 0 else f"cannot mount a tmpfs in a user namespace: {probe.stderr.strip()}"


def on_small_disk(tmp_path, published, scenario: str, size_mb: int) -> dict:
    problem = namespaces_allowed()
    if problem:
        pytest.skip(problem)
    mount = tmp_path / "small-disk"
    mount.mkdir()
    script = 'mount -t tmpfs -o "size=$1" tmpfs "$2" && shift 2 && exec "$@"'
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh",
                             f"{size_mb}m", str(mount), sys.executable, "-m", DRIVER, str(mount), str(published),
                             scenario], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def one_line_naming_a_path_on(mount: str, stderr: str) -> str:
    assert "Traceback" not in stderr, stderr[-4000:]
    lines = [line for line in stderr.splitlines() if "no space left" in line.lower()
             and line.startswith("styringsdata: out of disk space")]
    assert len(lines) == 1, stderr[-4000:]
    assert re.search(re.escape(mount) + r"/\S+", lines[0]), lines[0]
    return lines[0]


def test_disk_full_during_the_report(published_data, tmp_path):
    # the disk holds the published data directory (about 70 MB since it keeps dbt's target and the approved
    # publication) with room to spare; the driver then fills it to the few bytes each step may have
    result = on_small_disk(tmp_path, published_data, "report", 112)

    no_copy, no_report, freed = result["steps"]
    for step in (no_copy, no_report):
        assert step["returncode"] == 5, step
        assert step["stderr"].strip().count("\n") == 0, step["stderr"]
        one_line_naming_a_path_on(result["mount"], step["stderr"])
    assert freed["returncode"] == 0, freed
    assert result["warehouse_unchanged"] and result["leftovers"] == []


def test_disk_full_during_a_run_keeps_the_publication_and_the_next_run_publishes(published_data, tmp_path):
    """A new registry figure to publish, and 16 MiB free: the sources load it, then dbt (its target is about 18 MB) or
    the run's log file beside it runs out of room, whichever writes the byte too many: both end the run with the
    documented exit code for a full disk (5) and one line naming a path on the full file system."""
    result = on_small_disk(tmp_path, published_data, "run:16384", 128)

    full, freed = result["steps"]
    assert full["returncode"] == 5, full
    assert full["warehouse_unchanged"]
    line = one_line_naming_a_path_on(result["mount"], full["stderr"])
    assert "\x1b[" not in line, line
    assert freed["returncode"] == 0, freed["stderr"][-4000:]
    assert "published" in freed["stdout"] and freed["value"] == pytest.approx(5.5), freed["stdout"][-3000:]
