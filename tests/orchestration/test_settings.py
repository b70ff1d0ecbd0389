"""Every setting is documented in one place, and the two halves of the peer set agree."""

from __future__ import annotations

import re

import yaml

from styringsdata.home import asss_members

from styringsdata.sources.ssb import load_table_specs
from styringsdata.settings import INTERNAL_VARIABLES, PROJECT_ROOT, SETTINGS

CONFIGURATION = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def test_every_variable_the_code_reads_is_in_the_readme_and_in_settings():
    read = set()
    for folder in ("src/styringsdata",):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r"STYRINGSDATA_[A-Z_]+", path.read_text(encoding="utf-8")))
    read -= INTERNAL_VARIABLES
    declared = {name for name, _, _ in SETTINGS}
    assert read <= declared, read - declared
    for name in declared:
        assert f"`{name}`" in CONFIGURATION, f"{name} is not in docs/configuration.md"


def test_peer_set_fetched_covers_the_peer_set_compared():
    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    compared = set(asss_members())  # seed peer_groups, passed to dbt with --vars
    fetched = set(load_table_specs().municipalities)
    assert len(compared) == 12 and "home_municipality" not in dbt_vars  # the setting passes it (--vars)
    assert compared <= fetched, f"compared but never fetched: {sorted(compared - fetched)}"
