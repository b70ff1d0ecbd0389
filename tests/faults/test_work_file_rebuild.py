"""The work file is a cache of the landing zone: lost or corrupt, the next run rebuilds it with every vintage.

The fixture gives a data directory whose landing zone holds two vintages of SSB table 12143 (SSB revised
two figures: a snapshot copy with a later `updated` and two changed values) and two of a Kommune-NM file
(the corrected file was dropped, loaded, and has left the inbox), so `revisions` has rows to lose.
"""

from __future__ import annotations

import functools
import inspect
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.faults.runs import ROOT, cli, copy_data, pipeline_env, published_rows

TABLE = "12143"
UPDATED = "2026-08-31T06:00:00Z"


def _set_updated(answer_file: Path) -> None:
    answer = json.loads(answer_file.read_text())
    body = json.loads(answer["response"]["body"])
    body["updated"] = UPDATED
    answer["response"]["body"] = json.dumps(body, ensure_ascii=False)
    answer_file.write_text(json.dumps(answer, ensure_ascii=False))


def revised_snapshots(target: Path) -> Path:
    shutil.copytree(ROOT / "snapshots", target)
    table_dir = target / "data.ssb.no" / "api" / "pxwebapi" / "v2" / "tables" / TABLE
    # SSB announces the revision in its table listing (the one change check a run makes), in the table info
    # (the fallback) and in the metadata, whose `updated` names the new vintage. Within the listing's
    # pastDays=1 of the snapshot's recorded clock.
    for answer_file in [*table_dir.glob("GET-*.json"), *(table_dir / "metadata").glob("*.json")]:
        _set_updated(answer_file)
    (listing_file,) = (table_dir.parent).glob("GET-*.json")
    listing = json.loads(listing_file.read_text())
    body = json.loads(listing["response"]["body"])
    body["tables"].append({"type": "Table", "id": TABLE, "label": f"{TABLE}: revised", "updated": UPDATED,
                           "category": "public", "source": "Statistisk sentralbyrå", "discontinued": False})
    body["page"]["totalElements"] = len(body["tables"])
    listing["response"]["body"] = json.dumps(body, ensure_ascii=False)
    listing_file.write_text(json.dumps(listing, ensure_ascii=False))
    (data_file,) = (table_dir / "data").glob("*.json")
    answer = json.loads(data_file.read_text())
    cube = json.loads(answer["response"]["body"])
    cube["updated"] = UPDATED
    cube["value"][0] = cube["value"][0] + 1.0  # Oslo 2018
    cube["value"][1] = cube["value"][1] + 1.0  # Oslo 2019
    answer["response"]["body"] = json.dumps(cube, ensure_ascii=False)
    data_file.write_text(json.dumps(answer, ensure_ascii=False))
    return target


def corrected_kommune_nm(data: Path) -> Path:
    original = (ROOT / "snapshots" / "kommune_nm" / "kommune_nm_2019_2022.csv").read_text(encoding="utf-8")
    header, first, *rest = original.splitlines()
    fields = first.split(";")
    fields[3] = str(int(fields[3]) + 1)  # total_rank recomputed
    inbox = data / "inbox" / "kommune_nm"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / "kommune_nm_2019_2022_corrected.csv"
    path.write_text("\n".join([header, ";".join(fields), *rest]) + "\n", encoding="utf-8")
    return path


def _two_vintages_recipe(published: Path, data: Path, dagster_home: Path) -> subprocess.CompletedProcess:
    copy_data(published / "data", data)
    corrected_kommune_nm(data)
    snapshots = revised_snapshots(data.parent / "snapshots")
    return cli(pipeline_env(data, STYRINGSDATA_SNAPSHOT_DIR=str(snapshots), DAGSTER_HOME=str(dagster_home)), "run")


@pytest.fixture(scope="module")
def two_vintages(tmp_path_factory):
    """The published run, then a run with SSB 12143 revised and a corrected Kommune-NM file: built once per code
    fingerprint from the published run's entry (tests/cached_run.py), copied here."""
    from tests import cached_run
    from tests.faults.conftest import published_entry

    base = tmp_path_factory.mktemp("two_vintages")
    published = published_entry(base / "private")
    assert json.loads((published / "result.json").read_text())["returncode"] == 0, "the published run failed"
    recipe = "\n".join([published.name, *(inspect.getsource(f) for f in (
        _two_vintages_recipe, _set_updated, revised_snapshots, corrected_kommune_nm, copy_data))])
    found = cached_run.entry("two_vintages", functools.partial(_two_vintages_recipe, published), recipe,
                             base / "private")
    data = base / "data"
    result = cached_run.load(found, data, base / "dagster_home")
    assert result.returncode == 0, result.stderr[-3000:]
    # landed: the drop zone takes a file out of the inbox (issue 22)
    assert not (data / "inbox" / "kommune_nm" / "kommune_nm_2019_2022_corrected.csv").exists()
    snapshots = revised_snapshots(base / "snapshots")
    revisions = published_rows(data, "revisions")
    assert {r[0] for r in revisions} >= {"SSB", "NHO Kommune-NM"}, revisions
    return data, snapshots, revisions


def test_a_lost_work_file_is_rebuilt_with_every_vintage_and_revisions_survive(two_vintages, tmp_path):
    source, snapshots, revisions = two_vintages
    data = copy_data(source, tmp_path / "data")
    (data / "work.duckdb").unlink()

    result = cli(pipeline_env(data, STYRINGSDATA_SNAPSHOT_DIR=str(snapshots)), "run")

    assert result.returncode == 0, result.stderr[-3000:]
    assert published_rows(data, "revisions") == revisions


def test_a_truncated_work_file_is_moved_aside_and_rebuilt_from_landing(two_vintages, tmp_path):
    source, snapshots, revisions = two_vintages
    data = copy_data(source, tmp_path / "data")
    work = data / "work.duckdb"
    damaged = work.read_bytes()[: work.stat().st_size // 2]  # a copy that stopped halfway
    work.write_bytes(damaged)

    result = cli(pipeline_env(data, STYRINGSDATA_SNAPSHOT_DIR=str(snapshots)), "run")

    assert result.returncode == 0, result.stderr[-3000:]
    (aside,) = data.glob("work.duckdb.corrupt-*")
    assert aside.read_bytes() == damaged  # kept as it was, for whoever investigates
    output = result.stdout + result.stderr
    assert f"{work} cannot be opened" in output and str(aside) in output and "rebuilt from" in output
    assert published_rows(data, "revisions") == revisions
