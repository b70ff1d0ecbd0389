from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from styringsdata.sources.ssb import load_table_specs
from tests.pipeline.conftest import run_cli

SPECS = load_table_specs()


def published(run) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(run.data_dir / "warehouse.duckdb"), read_only=True)


def fingerprint(run) -> dict[str, str]:
    """Contents of every published table and of the landing zone, hashed."""
    con = published(run)
    try:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'main' and table_name <> '_publication'").fetchall()]
        out = {t: hashlib.sha256(repr(con.execute(f"select * from {t} order by all").fetchall()).encode()).hexdigest()
               for t in tables}
    finally:
        con.close()
    for path in sorted((run.data_dir / "landing").rglob("*")):
        if path.is_file():
            out[str(path.relative_to(run.data_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_offline_run_publishes_warehouse_and_parquet(offline_run):
    con = published(offline_run)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        assert {"fct_indicator_values", "_publication"} <= tables
        n = con.execute("select count(*) from fct_indicator_values").fetchone()[0]
        indicators = con.execute("select count(distinct indicator_id) from fct_indicator_values").fetchone()[0]
        comments = con.execute("select count(*) from duckdb_columns() where table_name = 'fct_indicator_values' "
                               "and comment is not null").fetchone()[0]
    finally:
        con.close()
    assert indicators == 88  # every indicator of the catalogue has a route into the warehouse
    assert n > 22 * 12 * 4
    assert comments > 5  # column descriptions from the dbt YAML travel with the publication
    assert (offline_run.data_dir / "parquet" / "fct_indicator_values.parquet").is_file()
    parquet = offline_run.data_dir / "parquet" / "fct_indicator_values.parquet"
    assert duckdb.connect().execute(f"select count(*) from '{parquet}'").fetchall()[0][0] == n


def test_one_vintage_per_table_with_manifest(offline_run):
    for spec in SPECS.tables:
        vintages = [p for p in (offline_run.data_dir / "landing" / "ssb" / spec.table_id).iterdir()]
        assert len(vintages) == 1, spec.table_id
        manifest = json.loads((vintages[0] / "manifest.json").read_text())
        assert manifest["source_updated"] and manifest["payloads"]
    assert len(list((offline_run.data_dir / "landing" / "klass" / "131-changes").iterdir())) == 1
    assert len(list((offline_run.data_dir / "landing" / "klass" / "112-kostra-groups").iterdir())) == 1
    landing = offline_run.data_dir / "landing"
    # FHI: 370 (HEL03 and HEL07), 360, 809, 173; the other four indicators have no known table
    for source, tables in (("fhi", 4), ("miljodirektoratet", 1), ("kommune_nm", 1), ("registry", 2)):
        found = [t for t in (landing / source).iterdir()]
        assert len(found) == tables, (source, found)
        for table in found:
            vintages = list(table.iterdir())
            assert len(vintages) == 1 and (vintages[0] / "manifest.json").is_file(), (source, table)


def test_raw_tables_carry_provenance(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "work.duckdb"), read_only=True)
    try:
        for spec in SPECS.tables:
            rows, vintages, updated, vintage, paths, path = con.execute(
                f"select count(*), count(distinct _vintage), min(_source_updated), min(_vintage), "
                f"count(distinct _landing_path), min(_landing_path) from raw.ssb_{spec.table_id}").fetchone()
            assert rows > 0 and vintages == 1 and updated is not None, spec.table_id
            # every row points at the landed payloads it was loaded from: this table's vintage, with its manifest. The
            # path is absolute, in the data directory the run ran in; the shared run is made once per code fingerprint
            # and copied here (tests/cached_run.py), so it is compared from the data directory down.
            landed = offline_run.data_dir / "landing" / "ssb" / spec.table_id / vintage
            assert paths == 1 and Path(path).is_absolute() and Path(path).parts[-4:] == landed.parts[-4:], \
                (spec.table_id, path)
            manifest = json.loads((landed / "manifest.json").read_text())
            assert manifest["source_updated"] and updated == _timestamp(manifest["source_updated"]), spec.table_id
    finally:
        con.close()


def _timestamp(text: str):
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def test_second_run_makes_no_data_requests_and_changes_nothing(offline_run):
    before = fingerprint(offline_run)
    warehouse = offline_run.data_dir / "warehouse.duckdb"
    published_file = hashlib.sha256(warehouse.read_bytes()).hexdigest()

    # the job itself, past the pre-check that answers such a run without it (tests/pipeline/test_nothing_new.py)
    second = run_cli(offline_run.env, "--force")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "nothing new upstream: dbt, the gate and publish were skipped (0 data request(s))" in second.stdout
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == published_file, "not even republished"
    assert fingerprint(offline_run) == before

    # asked to rebuild anyway: dbt, the gate and publish run, and publish the same data
    forced = run_cli({**offline_run.env, "STYRINGSDATA_REBUILD": "on"})
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert "0 data request(s)" in forced.stdout and f"published: {warehouse}" in forced.stdout
    assert "a rebuild was asked for" in forced.stdout  # the dbt stage's line says why it ran
    assert fingerprint(offline_run) == before
    assert (offline_run.data_dir / "warehouse.previous.duckdb").is_file()


def test_live_mode_without_network_fails_fast_naming_the_host(monkeypatch, capsys):
    from styringsdata import cli

    # ".invalid" never resolves (RFC 2606), so this fails the way a machine without network does.
    monkeypatch.setattr(cli, "LIVE_HOSTS", ("data.ssb.invalid",))
    monkeypatch.setenv("STYRINGSDATA_SOURCE_MODE", "replay")
    assert cli.main(["run", "--live"]) == 3
    err = capsys.readouterr().err
    assert "cannot reach data.ssb.invalid:443" in err and "styringsdata run" in err
