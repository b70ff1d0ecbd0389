"""The check that the suite leaves the repository as it found it (tests/conftest.py, run around the whole session
by the process that started it) names what a test or a run wrote there."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import git_status, repository_changes, repository_dagster_home

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_a_file_written_into_the_repository_or_its_dagster_home_is_named():
    at_start = (git_status(), repository_dagster_home())
    assert repository_changes(at_start) == []
    stray = ROOT / f"stray-{uuid.uuid4().hex[:8]}.txt"
    recorded = ROOT / "dagster_home" / f"stray-{uuid.uuid4().hex[:8]}.db"
    try:
        stray.write_text("written by a test\n")
        recorded.parent.mkdir(exist_ok=True)
        recorded.write_text("a run recorded into the repository's instance\n")
        assert repository_changes(at_start) == [f"git status: ?? {stray.name}", f"dagster_home/{recorded.name}"]
    finally:
        stray.unlink(missing_ok=True)
        recorded.unlink(missing_ok=True)
    assert repository_changes(at_start) == []
