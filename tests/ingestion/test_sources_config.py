"""The source configuration, the dbt project and the bundled snapshots agree, and no stand-in is left anywhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ingestion.seeds import SEEDS, expected_seeds
from ingestion.ssb import load_table_specs

ROOT = Path(__file__).resolve().parents[2]


def test_seeds_are_written_from_the_configuration():
    for name, text in expected_seeds().items():
        assert (SEEDS / name).read_text(encoding="utf-8") == text, f"{name} is stale: run python -m ingestion.seeds"


def test_staging_and_sources_cover_exactly_the_configured_tables():
    configured = [t.table_id for t in load_table_specs().tables]
    model = (ROOT / "dbt_project" / "models" / "staging" / "ssb" / "stg_ssb__series_values.sql").read_text()
    listed = re.search(r"set tables = \[(.*?)\]", model, re.S).group(1)
    assert re.findall(r"'(\w+)'", listed) == configured
    sources = yaml.safe_load((ROOT / "dbt_project" / "models" / "staging" / "ssb" / "_ssb__sources.yml").read_text())
    declared = {t["name"] for t in sources["sources"][0]["tables"]}
    assert declared == {f"ssb_{t}" for t in configured} | {"ssb_categories", "ssb_tables"}


def test_every_key_figure_has_a_series_or_a_reason():
    seed = (SEEDS / "kostra_key_figures.csv").read_text(encoding="utf-8").splitlines()
    assert len(seed) == 92  # header + the document's 85 key figures + the macro group's 6 (KOKO01-KOKO06)
    specs = load_table_specs()
    mapped = {s.key_figure for s in specs.series() if s.key_figure}
    unmapped = {w.key_figure for w in specs.without_known_table if w.key_figure}
    assert not mapped & unmapped and len(mapped | unmapped) == 91
    # the macro group's figures all come from a known table: they are what its report is about
    assert {f"KOKO0{n}" for n in range(1, 7)} <= mapped


def _repository_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return [ROOT / n for n in names if (ROOT / n).is_file()]


def test_no_file_names_the_stand_in_table_or_invented_fhi_table_ids():
    stand_in = "kostra_" + "nokkeltall"
    # An FHI table id from the invented block (100n) in any FHI context: a URL path, a YAML or test table id,
    # a "table 100n" mention.
    # (Kristiansand's old municipality code, the same four digits, is real and stays.)
    invented = re.compile(r"(?i)(fhi[^\n]{0,80}\b100[1-9]\b|table(_id)?[\s:=/\"'(]+100[1-9]\b|Table/100[1-9])")
    offenders = []
    for path in _repository_files():
        relative = path.relative_to(ROOT).as_posix()
        if stand_in in relative or re.search(r"/Table/100[1-9]/", relative):
            offenders.append(relative)
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if stand_in in text:
            offenders.append(f"{relative}: {stand_in}")
        match = invented.search(text)
        if match:
            offenders.append(f"{relative}: {match.group(0)[:60]!r}")
    assert not offenders, offenders


def test_a_macro_group_key_figure_without_a_configured_series_is_refused():
    from ingestion.seeds import macro_key_figure_rows

    with pytest.raises(ValueError, match=r"asss_macro_key_figures.csv row 2: key figure KOKO01 is not a series"):
        macro_key_figure_rows({})
