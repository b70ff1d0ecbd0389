"""What `pip install` ships: the product packages, never the test doubles or the repository tools."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def shipped_modules() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    where = ROOT / find["where"][0]
    packages = find_packages(where=str(where), include=find["include"])
    return [path for package in packages for path in (where / package.replace(".", "/")).glob("*.py")]


def test_the_package_ships_no_fakes_tests_or_tools():
    modules = shipped_modules()
    assert any(p.name == "ssb.py" for p in modules)  # the product is there
    relative = sorted(p.relative_to(ROOT).as_posix() for p in modules)
    assert not [m for m in relative if m.startswith(("tests/", "tools/", "snapshots/", "bench/"))], relative
    doubles = [m for m in relative if any(word in Path(m).name for word in ("fake", "stub", "mock", "dummy"))]
    assert not doubles, f"test doubles in the shipped package: {doubles}"
