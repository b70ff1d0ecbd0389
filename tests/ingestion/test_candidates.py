"""Candidate series (grade C or -, kostra-candidates.csv) in a table with confirmed ones: live, SSB has no
`UNSEEN-<key figure>` placeholder, and a wrong candidate must not take the table's confirmed series down with it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from styringsdata.raw.landing import LandingZone
from styringsdata.sources.ssb import SsbClient, SsbError, load_table_specs, refresh_table
from styringsdata.sources.transport import SourceMode, Transport
from tests.ingestion.fakes import FakeClock

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import snapshots.build as build  # noqa: E402

SPECS = load_table_specs()


def live_12209(without: set[str]):
    """12209 as the bundled world serves it, without the ContentsCodes in `without` (as the real table lacks them)."""
    fake = build.fake_ssb(SPECS)
    contents = fake.tables["12209"].dimension("ContentsCode")
    contents.categories = [(c, label) for c, label in contents.categories if c not in without]
    return fake, SsbClient(Transport(SourceMode.LIVE, sender=fake, clock=FakeClock()))


def test_missing_candidate_codes_are_left_out_and_named_and_the_rest_loads(tmp_path):
    placeholders = {"UNSEEN-KVEL07", "UNSEEN-KVEL09", "UNSEEN-KVEL10"}
    fake, client = live_12209(placeholders)
    result = refresh_table(client, LandingZone(tmp_path), SPECS, SPECS.table("12209"))
    [request] = fake.data_requests()
    asked = dict(request.params)["valueCodes[ContentsCode]"].split(",")
    assert asked == ["KOSsykhjand80aar0000", "KOShjtj80aarover0001", "KOSANDELNDUPLOM0000"]
    manifest = json.loads((result.landing_path / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["dropped_series"]) == ["KVEL07", "KVEL09", "KVEL10"]
    assert manifest["dropped_series"]["KVEL07"] == ("grade C candidate: the metadata has no "
                                                    "ContentsCode=UNSEEN-KVEL07; run `styringsdata doctor --live "
                                                    "--write`")


def test_a_missing_confirmed_code_still_fails_the_table(tmp_path):
    _, client = live_12209({"KOShjtj80aarover0001"})  # KVEL11, grade A
    with pytest.raises(SsbError, match="table 12209, variable ContentsCode: code 'KOShjtj80aarover0001' does not "
                                       "exist in the table's metadata"):
        refresh_table(client, LandingZone(tmp_path), SPECS, SPECS.table("12209"))
