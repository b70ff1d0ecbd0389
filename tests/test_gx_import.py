"""The gate imports Great Expectations without scipy.stats and altair, and both still work when something uses them.

Each case runs in a fresh interpreter: this test process may already hold GX, scipy or altair.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_gate_imports_great_expectations_without_scipy_stats_and_altair():
    found = _run("""
        import json, sys
        from styringsdata.quality import gate
        gx = gate.import_great_expectations()
        import great_expectations.expectations as gxe
        gxe.ExpectColumnValuesToMatchRegex(column="period", regex="^2024$")
        print(json.dumps({"gx": "great_expectations.expectations.core" in sys.modules,
                          "stats": "scipy.stats._stats_py" in sys.modules,
                          "altair": "altair.vegalite" in sys.modules}))
    """)
    assert found == {"gx": True, "stats": False, "altair": False}


def test_the_deferred_modules_load_when_used_by_gx_or_anyone_else():
    found = _run("""
        import json, sys
        from styringsdata.quality.gx_import import import_great_expectations
        import_great_expectations()
        # GX's own module-level names reach the real modules on first use
        from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
        entropy = float(kl.stats.entropy([0.5, 0.5], [0.9, 0.1]))
        chart = kl.alt.Chart.__name__
        import scipy.stats
        from scipy.stats import norm
        import altair
        print(json.dumps({"entropy": round(entropy, 4), "chart": chart, "cdf": float(norm.cdf(0)),
                          "same": scipy.stats.norm is norm, "real": type(sys.modules["scipy.stats"]).__name__,
                          "altair": altair.Chart.__name__}))
    """)
    assert found == {"entropy": 0.5108, "chart": "Chart", "cdf": 0.5, "same": True, "real": "module",
                     "altair": "Chart"}
