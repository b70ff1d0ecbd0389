"""The package's layering: each module imports only from its own layer and the layers below it, and no import
circle exists. Every import counts, including those inside functions and under TYPE_CHECKING (a lazy import is
still a dependency; hiding a circle in a function was how the four circles of issue 24 survived).

The layers follow the data flow (sources -> raw -> quality / publishing / reporting -> runs -> defs -> cli), with
a foundation of modules every stage uses and that import nothing of the package above them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "styringsdata"

# Lowest first. A module belongs to the first entry whose prefix it has (module names without "styringsdata.").
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # Where the checkout is; the landing zone and the raw tables' write primitives every source writes into;
    # file locks, the work-file reader and the disk-full test, which publishing and reporting take too.
    ("foundation", ("paths", "raw.landing", "raw.tables", "runs.lock", "runs.work_file", "runs.failures")),
    ("sources", ("sources",)),
    ("settings", ("home", "settings")),
    ("raw", ("raw",)),
    ("quality", ("quality",)),
    ("publishing", ("publishing",)),
    ("reporting", ("reporting",)),  # reports describe the gate's result: above quality
    ("runs", ("runs",)),
    ("defs", ("defs",)),
    ("entry points", ("definitions", "cli")),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"styringsdata.{module} is in no layer of tests/test_layers.py: add it to one")


def imports(path: Path, modules: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("styringsdata."):
                short = name.removeprefix("styringsdata.")
                if short in modules:
                    found.add(short)
                    break
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports(path, modules) - {name} for name, path in paths.items()}


def test_every_import_goes_down_or_stays_in_its_layer():
    wrong = [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
             for a, deps in sorted(graph().items()) for b in sorted(deps) if layer_of(b) > layer_of(a)]
    assert wrong == []


def test_no_import_circles():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert circles == []


@pytest.mark.parametrize("code, expected", [
    ("from styringsdata.defs.quality import read_gate_result\n", {"defs.quality"}),
    ("def f():\n    from styringsdata import settings\n", {"settings"}),
    ("import styringsdata.runs.lock\n", {"runs.lock"}),
])
def test_the_import_reader_sees_every_kind_of_import(tmp_path, code, expected):
    path = tmp_path / "m.py"
    path.write_text(code, encoding="utf-8")
    assert imports(path, {"defs.quality", "settings", "runs.lock", "runs"}) == expected
