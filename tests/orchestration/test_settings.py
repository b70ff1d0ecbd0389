"""Every setting is documented in one place, and the two halves of the peer set agree."""

from __future__ import annotations

import re

import yaml

from styringsdata.home import asss_members

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
    compared = set(asss_members())  # seed peer_groups, passed to dbt with --vars
    fetched = set(load_table_specs().municipalities)
    assert len(compared) == 12 and "home_municipality" not in dbt_vars  # the setting passes it (--vars)
    assert compared <= fetched, f"compared but never fetched: {sorted(compared - fetched)}"


# -- STYRINGSDATA_SSB_TABLES: some of the bundled tables -------------------------------------------------------

def _subset_file(tmp_path, edit=None):
    """The fault worlds' two-table configuration (a cut of the bundled file), changed by `edit` if given."""
    from tests.faults.runs import mini_ssb_tables

    document = yaml.safe_load(mini_ssb_tables().read_text(encoding="utf-8"))
    if edit:
        edit(document)
    path = tmp_path / "ssb_tables.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _refusal(path) -> str:
    import pytest

    from styringsdata.settings import Settings, SettingsError

    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"STYRINGSDATA_SSB_TABLES": str(path)})
    return str(caught.value)


def test_by_default_a_run_fetches_every_bundled_table_and_dbt_gets_no_table_list():
    from styringsdata.settings import Settings

    settings = Settings.from_env({})
    assert settings.chosen_ssb_tables is None
    assert settings.table_specs == load_table_specs()


def test_a_cut_of_the_bundled_configuration_is_fetched_alone(tmp_path):
    from styringsdata.settings import Settings
    from tests.faults.runs import MINI_TABLES

    settings = Settings.from_env({"STYRINGSDATA_SSB_TABLES": str(_subset_file(tmp_path))})
    assert settings.chosen_ssb_tables == MINI_TABLES
    assert [t.table_id for t in settings.table_specs.tables] == list(MINI_TABLES)
    assert {i.indicator_id for i in settings.table_specs.indicators} == {"OKO02", "BYS09"}


def test_a_table_that_is_not_bundled_is_refused_naming_it(tmp_path):
    def rename(document):
        document["tables"][0]["id"] = "99999"

    message = _refusal(_subset_file(tmp_path, rename))
    assert message.startswith("STYRINGSDATA_SSB_TABLES=") and "table 99999 is not one" in message, message
    assert "make snapshots" in message


def test_a_bundled_table_with_another_series_code_is_refused(tmp_path):
    def recode(document):
        document["tables"][0]["series"][0]["select"]["ContentsCode"] = "KOSannet0000"

    message = _refusal(_subset_file(tmp_path, recode))
    assert "expected table 12143 as the bundled ssb_tables.yaml has it" in message, message


def test_a_file_that_is_no_configuration_is_refused_with_the_parse_problem(tmp_path):
    path = tmp_path / "ssb_tables.yaml"
    path.write_text("tables: [{id: '12143'}]\n", encoding="utf-8")
    message = _refusal(path)
    assert "expected an SSB configuration in the form of the bundled ssb_tables.yaml" in message, message


def test_a_cut_of_a_table_that_is_not_bundled_is_refused_naming_it():
    import pytest

    from styringsdata.sources.ssb import SsbError, subset_configuration

    with pytest.raises(SsbError, match="no SSB table 99999 in ssb_tables.yaml"):
        subset_configuration(["12143", "99999"])


def test_every_bundled_table_with_other_regions_is_no_cut(tmp_path):
    """bench/bench_pipeline.py's national configuration: the same tables for every municipality."""
    from styringsdata.settings import Settings
    from styringsdata.sources.ssb import TABLE_SPECS_PATH

    document = yaml.safe_load(TABLE_SPECS_PATH.read_text(encoding="utf-8"))
    document["regions"]["asss_municipalities"].append("1804")  # Bodø
    path = tmp_path / "ssb_tables.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = Settings.from_env({"STYRINGSDATA_SSB_TABLES": str(path)})
    assert settings.chosen_ssb_tables is None and "1804" in settings.table_specs.municipalities
