"""Every setting is documented in one place, and the two halves of the peer set agree."""

from __future__ import annotations

import re

import yaml

from styringsdata.sources.ssb import load_table_specs
from styringsdata.settings import INTERNAL_VARIABLES, PROJECT_ROOT, SETTINGS, configuration_table

CONFIGURATION = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def test_every_variable_the_code_reads_is_declared_once_in_settings():
    """Declared in settings.py, read from an environment nowhere else (the rest gets Settings)."""
    read = set()
    reads_environment = re.compile(r"""(environ|env)(\.get\(|\[)\s*["'](STYRINGSDATA_|DAGSTER_HOME)""")
    elsewhere = []
    for path in (PROJECT_ROOT / "src" / "styringsdata").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"STYRINGSDATA_[A-Z_]+[A-Z]", text))
        if path.name != "settings.py" and reads_environment.search(text):
            elsewhere.append(path.name)
    assert read - INTERNAL_VARIABLES <= {name for name, _, _ in SETTINGS}
    assert elsewhere == []


def test_the_documented_table_is_the_declared_one():
    assert configuration_table() in CONFIGURATION, \
        "docs/configuration.md differs from the settings: run `.venv/bin/python -m styringsdata.settings --write-docs`"


def test_nothing_in_the_package_writes_the_process_environment():
    writes = re.compile(r"os\.environ\[[^]]+\]\s*=|os\.environ\.(update|setdefault|pop)\(|os\.putenv\(|del os\.environ")
    found = [f"{path.relative_to(PROJECT_ROOT)}:{number}"
             for path in (PROJECT_ROOT / "src" / "styringsdata").rglob("*.py")
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if writes.search(line)]
    assert found == []


def test_peer_set_fetched_covers_the_peer_set_compared():
    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    compared = set(dbt_vars["asss_municipalities"])
    fetched = set(load_table_specs().municipalities)
    assert len(compared) == 12 and "home_municipality" not in dbt_vars  # the setting passes it (--vars)
    assert compared <= fetched, f"compared but never fetched: {sorted(compared - fetched)}"
