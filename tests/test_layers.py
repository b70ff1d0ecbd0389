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
    # the one-row query helper; file locks, the work-file reader and the disk-full test, which publishing and reporting take too;
    # the domain's vocabularies (read from the dbt seeds).
    ("foundation", ("paths", "queries", "vocabulary", "raw.landing", "raw.tables", "runs.lock", "runs.work_file",
                    "runs.failures")),
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


REPOSITORY = PACKAGE.parents[1]
# Python files of the repository's own (not the virtualenvs, not data a run wrote).
OWN_TREES = ("src", "tests", "snapshots", "tools", "bench", "catalogue", "deploy")


def repository_python_files() -> list[Path]:
    return sorted(p for tree in OWN_TREES for p in (REPOSITORY / tree).rglob("*.py"))


def top_level_imports(path: Path) -> set[str]:
    """Every module a file imports (lazy imports too), as written."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_nothing_outside_tests_imports_from_tests():
    """The product, the snapshot builder, the tools and the benchmarks stand without the test suite
    (the SSB and FHI fakes they share live in snapshots/fakes/)."""
    wrong = [f"{p.relative_to(REPOSITORY)} imports {m}" for p in repository_python_files()
             if p.relative_to(REPOSITORY).parts[0] != "tests"
             for m in sorted(top_level_imports(p)) if m == "tests" or m.startswith("tests.")]
    assert wrong == []


def sys_path_edits(path: Path) -> list[int]:
    """Lines that change sys.path: sys.path.insert / append / extend / assignment, in code or in a `-c` string."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) \
                and node.value.id == "sys":
            parent_call = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.value is node
                           and n.attr in ("insert", "append", "extend")]
            if parent_call:
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "path"
                                                  and isinstance(t.value, ast.Name) and t.value.id == "sys"
                                                  for t in node.targets):
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "sys.path." in node.value:
            lines.append(node.lineno)
    return sorted(set(lines))


def test_no_file_edits_sys_path():
    """Scripts run as modules from the root (`python -m bench.bench_gate`), the package is installed, and pytest
    puts the root on the path: nothing patches sys.path to find code."""
    this = Path(__file__).resolve()
    wrong = [f"{p.relative_to(REPOSITORY)}:{line}" for p in repository_python_files() if p.resolve() != this
             for line in sys_path_edits(p)]
    assert wrong == []


@pytest.mark.parametrize("code, edits", [
    ("import sys\nsys.path.insert(0, 'x')\n", [2]),
    ("import sys\n\ndef f():\n    sys.path.append('x')\n", [4]),
    ("import sys\nsys.path = ['x']\n", [2]),
    ("cmd = ['python', '-c', 'import sys; sys.path.insert(0, sys.argv[1])']\n", [1]),
    ("import sys\nprint(sys.path)\n", []),
])
def test_the_sys_path_reader_sees_each_kind_of_edit(tmp_path, code, edits):
    path = tmp_path / "m.py"
    path.write_text(code, encoding="utf-8")
    assert sys_path_edits(path) == edits
