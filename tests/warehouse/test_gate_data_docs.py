"""The gate builds its Data Docs once, into the reports folder, and nowhere else.

GX's ephemeral context comes with a default Data Docs site in a fresh temporary directory; `build_data_docs()`
builds every site, so each gate rendered every page twice and left the second copy in the temporary folder (488
such folders in /tmp on the shared machine after a day of runs). The marts are the hand-built ones of
test_gate_derived_figures.py (the columns the gate reads of resource_use_index and kostra_comparison).
"""

from __future__ import annotations

import tempfile

from styringsdata.quality.gate import run_gate
from tests.warehouse.test_gate_derived_figures import GATE_RULES, MEMBERS, kopp02, resource_use_rows, work_file


def test_data_docs_are_built_only_into_the_reports_folder(tmp_path, monkeypatch):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    docs = tmp_path / "reports" / "gx"
    con = work_file(resource_use_rows(MEMBERS), [kopp02(104.6)])
    try:
        result = run_gate(con, "3203", data_docs_dir=docs, only=GATE_RULES)
    finally:
        con.close()
    assert result.data_docs == str(docs / "index.html")
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.html"))
    assert "index.html" in pages
    assert [p for p in pages if p.startswith("validations/")], pages
    assert sorted(p.name for p in temporary.rglob("*")) == []
