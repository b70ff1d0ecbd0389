"""Data Docs made readable offline: what src/styringsdata/quality/data_docs.py refuses, and which pages it rewrites.

The whole path on GX's real output (every page, the index rows, a failing validation) is tested in
tests/pipeline/test_quality_gate.py::test_data_docs_open_offline_and_show_the_failing_rows.
"""

from __future__ import annotations

import os

import pytest

from styringsdata.quality.data_docs import DataDocsError, make_offline

# The head GX 1.24's page.j2 and js_script_imports.j2 render (abridged to the tags that matter).
GX_HEAD = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" href="https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css">
<link href="../../../static/images/favicon.ico" rel="icon" type="image/png"/>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-JjSmVgyd0p3pXB1rRibZUAYoIIy6OrQ6VrjIEaFf/nJGzIxFDsf4x0xIM+B07jRM" crossorigin="anonymous"></script>
</head><body>{body}</body></html>"""  # noqa: E501 (GX's markup as rendered)


def page(path, body="<p>results</p>", mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GX_HEAD.format(body=body), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_rewrites_cdn_tags_to_bundled_files_at_any_depth(tmp_path):
    deep = page(tmp_path / "validations" / "suite" / "__none__" / "20260101T000000Z" / "batch.html")
    make_offline(tmp_path)
    text = deep.read_text(encoding="utf-8")
    assert "https://" not in text and "integrity=" not in text
    assert 'src="../../../../static/vendor/jquery-3.7.1/jquery.min.js"' in text
    assert 'href="../../../../static/vendor/bootstrap-4.6.2/bootstrap.min.css"' in text
    assert 'href="../../../../static/images/favicon.ico"' in text  # GX wrote one ../ too few
    assert (tmp_path / "static" / "vendor" / "jquery-3.7.1" / "jquery.min.js").is_file()


def test_only_pages_written_since_are_rewritten(tmp_path):
    old = page(tmp_path / "validations" / "old.html", mtime=1_000_000)
    new = page(tmp_path / "validations" / "new.html")
    assert make_offline(tmp_path, since=2_000_000) == [new]
    assert "https://code.jquery.com" in old.read_text(encoding="utf-8")
    assert "https://code.jquery.com" not in new.read_text(encoding="utf-8")


def test_an_unknown_remote_script_is_an_error_not_a_blank_page(tmp_path):
    page(tmp_path / "index.html", body='<script src="https://cdn.example.org/new-widget.js"></script>')
    with pytest.raises(DataDocsError, match="new-widget.js, which is neither bundled nor known"):
        make_offline(tmp_path)


def test_a_vega_chart_is_refused_because_vega_is_not_bundled(tmp_path):
    page(tmp_path / "index.html", body="<script>vegaEmbed('#chart', spec);</script>")
    with pytest.raises(DataDocsError, match="embeds a vega chart"):
        make_offline(tmp_path)
