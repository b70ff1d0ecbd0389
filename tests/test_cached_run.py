"""The cache of published runs the full-run fixtures share (tests/cached_run.py), with a recipe that only writes
files: built once per fingerprint, never kept when it failed, copied out with its paths rewritten."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import cached_run


class Recipe:
    """Stands in for a pipeline run: writes a warehouse and a Dagster record, prints both paths as the CLI does."""

    def __init__(self, returncode: int = 0) -> None:
        self.calls = 0
        self.returncode = returncode

    def __call__(self, data: Path, dagster_home: Path) -> subprocess.CompletedProcess:
        self.calls += 1
        data.mkdir(parents=True)
        (data / "warehouse.duckdb").write_bytes(b"published")
        (dagster_home / "runs.db").write_bytes(b"run 1")
        out = f"styringsdata: Dagster instance {dagster_home}\nstyringsdata: published: {data / 'warehouse.duckdb'}\n"
        return subprocess.CompletedProcess(["styringsdata", "run"], self.returncode, out, "")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(cached_run.SETTING, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_recipe_is_built_once_per_fingerprint_and_each_load_is_a_private_copy(cache, tmp_path):
    recipe = Recipe()
    first = cached_run.entry("toy", recipe, "recipe v1", tmp_path / "private")
    again = cached_run.entry("toy", recipe, "recipe v1", tmp_path / "private")
    assert first == again and first.parent == cache and recipe.calls == 1

    result = cached_run.load(first, tmp_path / "session" / "data", tmp_path / "session" / "dagster_home")
    assert result.returncode == 0 and result.args == ["styringsdata", "run"]
    assert f"Dagster instance {tmp_path / 'session' / 'dagster_home'}\n" in result.stdout
    assert f"published: {tmp_path / 'session' / 'data' / 'warehouse.duckdb'}\n" in result.stdout
    assert str(cache) not in result.stdout
    (tmp_path / "session" / "data" / "warehouse.duckdb").write_bytes(b"changed by a test")
    assert (first / "data" / "warehouse.duckdb").read_bytes() == b"published"  # the entry is never written to
    assert (tmp_path / "session" / "dagster_home" / "runs.db").read_bytes() == b"run 1"

    other = cached_run.entry("toy", recipe, "recipe v2", tmp_path / "private")
    assert other != first and recipe.calls == 2


def test_the_fingerprint_follows_the_code_and_the_recipe(monkeypatch, tmp_path):
    assert cached_run.fingerprint("a") == cached_run.fingerprint("a") != cached_run.fingerprint("b")
    project = tmp_path / "project"
    (project / "src" / "styringsdata").mkdir(parents=True)
    (project / "src" / "styringsdata" / "cli.py").write_text("print('v1')\n")
    monkeypatch.setattr(cached_run, "ROOT", project)
    before = cached_run.fingerprint("a")
    (project / "src" / "styringsdata" / "cli.py").write_text("print('v2')\n")
    assert cached_run.fingerprint("a") != before
    (project / "src" / "styringsdata" / "__pycache__").mkdir()
    (project / "src" / "styringsdata" / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\0")
    assert cached_run.fingerprint("a") == cached_run.fingerprint("a")


def test_a_failed_run_is_not_kept_and_the_next_session_builds_again(cache, tmp_path):
    failing = Recipe(returncode=1)
    found = cached_run.entry("toy", failing, "recipe", tmp_path / "private")
    assert found.parent == tmp_path / "private" and not [p for p in cache.iterdir() if p.is_dir()]
    assert cached_run.load(found, tmp_path / "data", tmp_path / "home").returncode == 1
    working = Recipe()
    assert cached_run.entry("toy", working, "recipe", tmp_path / "private").parent == cache and working.calls == 1


def test_off_builds_a_private_entry_every_session(monkeypatch, tmp_path):
    monkeypatch.setenv(cached_run.SETTING, "off")
    recipe = Recipe()
    found = cached_run.entry("toy", recipe, "recipe", tmp_path / "session1")
    assert found.parent == tmp_path / "session1"
    assert cached_run.entry("toy", recipe, "recipe", tmp_path / "session2").parent == tmp_path / "session2"
    assert recipe.calls == 2


def test_old_entries_of_a_variant_are_pruned_beyond_the_kept_number(cache, tmp_path):
    recipe = Recipe()
    entries = [cached_run.entry("toy", recipe, f"recipe {n}", tmp_path / "private")
               for n in range(cached_run.KEPT + 2)]
    kept = sorted(p for p in cache.iterdir() if p.is_dir())
    assert len(kept) == cached_run.KEPT and entries[-1] in kept and entries[0] not in kept
