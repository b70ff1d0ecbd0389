"""Importing Great Expectations without the modules it loads only for expectations the gate never runs.

`import great_expectations` imports every core expectation, and three of them import `scipy.stats` and `altair` at
module level (expect_column_kl_divergence_to_be_less_than and the two Kolmogorov-Smirnov metrics; altair draws the
KL divergence's charts). On the pipeline's interpreter those two are 81 of the 138 MB and about 1 s of the 2.4 s
that GX's import adds to the process that runs the gate (bench/bench_gate.py), and the gate uses neither: its
expectations are row counts, nulls, sets, ranges, regexes and uniqueness. So until GX is imported they stand in
`sys.modules` as modules that import the real one on the first attribute anything reads: GX's module-level names
(`stats`, `alt`) then reach the real modules, and any later `import scipy.stats` gets the real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

DEFERRED = ("scipy.stats", "altair")


class _Deferred(types.ModuleType):
    """A module's stand-in: the first attribute read that the stand-in lacks imports the real module."""

    def __init__(self, name: str, spec: importlib.machinery.ModuleSpec | None) -> None:
        super().__init__(name)
        self.__spec__ = spec  # importlib.util.find_spec and pkgutil read it without loading the module
        self._real: types.ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self._real = importlib.import_module(self.__name__)
        return getattr(real, attribute)


def import_great_expectations() -> types.ModuleType:
    """`great_expectations`, imported with DEFERRED standing in for the modules not yet imported."""
    if "great_expectations" not in sys.modules:
        for name in DEFERRED:
            if name not in sys.modules:
                spec = importlib.util.find_spec(name)  # imports a parent package (scipy: 0.5 MB), not the module
                if spec is not None:
                    sys.modules[name] = _Deferred(name, spec)
    import great_expectations

    return great_expectations
