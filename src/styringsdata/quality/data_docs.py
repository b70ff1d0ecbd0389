"""GX Data Docs that open without network: CDN scripts and styles replaced by bundled copies.

GX 1.x renders its pages with <script>/<link> tags pointing at CDNs, and builds the index page's tables in the
browser with bootstrap-table. After `build_data_docs()`, `make_offline(docs_dir)` copies src/styringsdata/quality/static/vendor
into the docs and rewrites every page: bundled files for jQuery, Popper, Bootstrap and Font Awesome; the index
tables written out as HTML rows; the scripts no PyPI package ships (bootstrap-table, datepicker, vega) removed.
A page that still names a remote script or stylesheet afterwards, or embeds a vega chart, is an error.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
from pathlib import Path

VENDOR = Path(__file__).with_name("static") / "vendor"
VENDOR_IN_DOCS = Path("static") / "vendor"

# CDN address (up to the end of the URL) -> bundled file, relative to <docs>/static/vendor
BUNDLED = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper-1/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.6.2/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.6.2/bootstrap.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-6.6.0/css/all.min.css",
}
# Not bundled (see static/vendor/README.md): the tags are dropped.
DROPPED = (
    "https://cdn.jsdelivr.net/npm/vega@5", "https://cdn.jsdelivr.net/npm/vega-lite@5",
    "https://cdn.jsdelivr.net/npm/vega-embed@6", "https://unpkg.com/bootstrap-table@",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@",
)
TAG = re.compile(r"<(script|link)\b[^>]*?\b(?:src|href)=\"(https?://[^\"]+)\"[^>]*>(?:\s*</script>)?", re.S)
BOOTSTRAP_TABLE = re.compile(
    r"<table\s+id=\"(?P<id>[^\"]+)\"(?P<attrs>[^>]*)>\s*</table>"  # the empty table bootstrap-table fills
    r"(?P<between>.*?)"
    r"<script>\s*\$\('#(?P=id)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*"
    r"columns: (?P<columns>\[.*?\]),\s*data: (?P<data>\[.*?\]),\s*toolbar: '[^']*'\s*\},\s*(?P<options>\{.*?\})\s*\)\s*\);"
    r"(?P<rest>.*?)</script>", re.S)
STATIC_REF = re.compile(r'\b(src|href)="(?:\./|(?:\.\./)+)static/([^"]+)"')
CLEAR_FILTERS = re.compile(r"<button class=\"btn btn-sm btn-secondary ml-1\" onclick=\"clearTableFilters\('[^']*'\)\">"
                           r"Clear Filters</button>")


class DataDocsError(RuntimeError):
    pass


def make_offline(docs_dir: Path, since: float | None = None) -> list[Path]:
    """Bundle the vendored assets into `docs_dir` and rewrite its pages to use them (only those written at or
    after `since`, epoch seconds: the docs folder keeps every earlier run's pages, already rewritten). Returns
    the pages rewritten."""
    target = docs_dir / VENDOR_IN_DOCS
    shutil.copytree(VENDOR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    pages = sorted(p for p in docs_dir.rglob("*.html") if since is None or p.stat().st_mtime >= since)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        rewritten = offline_page(text, page, docs_dir)
        if rewritten != text:
            partial = page.with_name(page.name + ".partial")
            partial.write_text(rewritten, encoding="utf-8")
            os.replace(partial, page)
    return pages


def offline_page(text: str, page: Path, docs_dir: Path) -> str:
    static = Path(os.path.relpath(docs_dir / "static", page.parent))
    vendor = Path(os.path.relpath(docs_dir / VENDOR_IN_DOCS, page.parent))
    if "vegaEmbed(" in text:
        raise DataDocsError(f"{page}: embeds a vega chart, and vega is not bundled (src/styringsdata/quality/static/vendor)")
    text = BOOTSTRAP_TABLE.sub(_static_table, text)
    text = CLEAR_FILTERS.sub("", text)

    def local(match: re.Match) -> str:
        kind, url = match.group(1), match.group(2)
        if url in BUNDLED:
            path = (vendor / BUNDLED[url]).as_posix()
            return f'<script src="{path}"></script>' if kind == "script" else f'<link rel="stylesheet" href="{path}">'
        if url.startswith(DROPPED):
            return ""
        raise DataDocsError(f"{page}: loads {url}, which is neither bundled nor known to be unneeded")

    text = TAG.sub(local, text)
    # GX counts one folder too few above validation pages (validations/<suite>/<run>/<time>/<batch>.html) for
    # its own static files (favicon, styles): point those at <docs>/static wherever the page is.
    return STATIC_REF.sub(lambda m: f'{m.group(1)}="{(static / m.group(2)).as_posix()}"', text)


def _static_table(match: re.Match) -> str:
    """bootstrap-table's in-browser table as plain HTML: the same columns, rows and links, in GX's order."""
    columns = ast.literal_eval(match.group("columns"))
    rows = ast.literal_eval(match.group("data"))
    options = ast.literal_eval(match.group("options"))
    sort = options.get("sortName")
    if sort:
        key = f"_{sort}_sort"
        rows = sorted(rows, key=lambda r: r.get(key, r.get(sort, "")), reverse=options.get("sortOrder") == "desc")
    head = "".join(f"<th>{html.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    body = []
    for row in rows:
        link = row.get("_table_row_link_path")  # GX makes the whole row a link with a script
        cells = []
        for column in columns:
            value = str(row.get(column["field"], ""))  # GX's own rendered HTML for the cell
            if link and "<a " not in value:
                value, link = f'<a href="{html.escape(link)}">{value}</a>', None
            cells.append(f"<td>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = (f'<table id="{match.group("id")}"{match.group("attrs")}><thead><tr>{head}</tr></thead>'
             f'<tbody>{"".join(body)}</tbody></table>')
    return table + match.group("between")
