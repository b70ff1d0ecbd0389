"""One home-municipality setting: any ASSS member, checked before anything is built, one default."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import subprocess
import sys

import pytest
import yaml

from styringsdata.home import MEMBER_NAMES, asss_members, check_home_municipality, dbt_vars
from styringsdata.reporting.report import RunInfo
from styringsdata.settings import DEFAULT_HOME_MUNICIPALITY, PROJECT_ROOT, SETTINGS, Settings


@pytest.mark.parametrize("code", sorted(MEMBER_NAMES))
def test_every_member_is_a_valid_home(code):
    assert Settings.from_env({"STYRINGSDATA_HOME_MUNICIPALITY": code}).home_municipality == code


@pytest.mark.parametrize("value, expected", [
    ("9999", r"STYRINGSDATA_HOME_MUNICIPALITY='9999': not the code of an ASSS member .*3203 Asker"),
    ("abc", r"STYRINGSDATA_HOME_MUNICIPALITY='abc': expected the four-digit code of an ASSS member"),
    ("", r"STYRINGSDATA_HOME_MUNICIPALITY='': expected the four-digit code"),
    ("0220", r"STYRINGSDATA_HOME_MUNICIPALITY='0220': 0220 Asker is a retired municipality code \(KLASS: changed "
             r"2020-01-01\); today's code is 3203 Asker; set STYRINGSDATA_HOME_MUNICIPALITY=3203"),
    ("3024", r"3024 Bærum is a retired .* today's code is 3201 Bærum"),
    ("1129", r"1129 Forsand is a retired .* today's codes are 1108 Sandnes and 1130 Strand; set "
             r"STYRINGSDATA_HOME_MUNICIPALITY=1108"),
    ("3207", r"not the code of an ASSS member"),  # a real municipality (Nordre Follo), but not a member
])
def test_invalid_home_is_refused_naming_the_setting(value, expected):
    with pytest.raises(ValueError, match=expected):
        Settings.from_env({"STYRINGSDATA_HOME_MUNICIPALITY": value})


def test_successor_comes_from_the_newest_landed_klass_answer(tmp_path):
    landed = tmp_path / "landing" / "klass" / "131-changes" / "20300101T000000Z-abc"
    landed.mkdir(parents=True)
    (landed / "changes.json").write_text('{"codeChanges": [{"oldCode": "3203", "oldName": "Asker", "newCode": "3299", '
                                         '"newName": "Asker og Bærum", "changeOccurred": "2030-01-01"}, {"oldCode": '
                                         '"3201", "oldName": "Bærum", "newCode": "3299", "newName": "Asker og Bærum", '
                                         '"changeOccurred": "2030-01-01"}]}', encoding="utf-8")
    with pytest.raises(ValueError, match="0220"):  # not in this answer: no successor named, still refused
        check_home_municipality("0220", tmp_path / "landing")
    assert check_home_municipality("3203", tmp_path / "landing") == "3203"  # membership is the dbt project's


def test_one_default_and_one_member_list():
    dbt = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    assert "home_municipality" not in dbt["vars"], "dbt must get the home municipality from the setting (--vars)"
    # The member list lives in seed peer_groups; dbt gets it from dbt_vars, not from a second list.
    assert "asss_municipalities" not in dbt["vars"]
    assert set(MEMBER_NAMES) == set(asss_members()) == set(dbt_vars("3203", dt.date(2026, 1, 1))["asss_municipalities"])
    assert dict((n, d) for n, d, _ in SETTINGS)["STYRINGSDATA_HOME_MUNICIPALITY"] == DEFAULT_HOME_MUNICIPALITY
    assert not any(f.name == "home_municipality" and f.default is not dataclasses.MISSING
                   for f in dataclasses.fields(RunInfo)), "the report must be told the home municipality"
    # the code itself is written once as a default: in settings.py (home.py lists the members' names)
    for folder in ("src/styringsdata",):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            if path.name in ("settings.py", "home.py"):
                continue
            assert not re.search(r"""(default|=)\s*["']3203["']""", path.read_text(encoding="utf-8")), path


def test_dbt_gets_home_and_date():
    assert dbt_vars("3201", dt.date(2026, 6, 15)) == {"home_municipality": "3201", "as_of_date": "2026-06-15",
                                                      "asss_municipalities": list(asss_members())}


def test_run_with_a_retired_code_stops_before_anything_is_built(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STYRINGSDATA_", "DAGSTER_HOME"))}
    env.update({"STYRINGSDATA_DATA_DIR": str(data), "STYRINGSDATA_HOME_MUNICIPALITY": "0220"})
    result = subprocess.run([sys.executable, "-m", "styringsdata.cli", "run"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "STYRINGSDATA_HOME_MUNICIPALITY='0220'" in result.stderr and "today's code is 3203 Asker" in result.stderr
    assert "Traceback" not in result.stderr
    assert not data.exists(), "nothing may be fetched or built for a wrong home municipality"


def test_the_bundled_klass_answer_is_read_from_the_snapshot_folder_setting(tmp_path):
    """No KLASS answer under STYRINGSDATA_SNAPSHOT_DIR (and none landed): still refused, but no successor named."""
    env = {"STYRINGSDATA_HOME_MUNICIPALITY": "0220", "STYRINGSDATA_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
           "STYRINGSDATA_DATA_DIR": str(tmp_path / "data")}
    with pytest.raises(ValueError, match="not the code of an ASSS member") as refused:
        Settings.from_env(env)
    assert "retired" not in str(refused.value)
