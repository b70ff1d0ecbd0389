"""GX's Data Docs page views with one Jinja bytecode cache for the whole process.

Each of GX's page views (`DefaultJinjaPageView` for suites and validations, `DefaultJinjaIndexPageView` for the
index) makes its own Jinja environment, and each environment compiles every template it renders again: about
35 templates three times per build, 0.2-0.6 s of the gate on this machine. The views here are GX's, with one
in-memory bytecode cache shared by every environment, so a template is compiled once per process. Jinja checks
each cached template against a checksum of its source, so the pages are the same bytes.

GX instantiates these from the Data Docs site configuration that src/styringsdata/quality/gate.py writes (by
module and class name), so this module, which imports GX, is imported only when Data Docs are built.
"""

from __future__ import annotations

from typing import Any

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _InMemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # rejected (left empty) if the template's checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


BYTECODE = _InMemoryBytecodeCache()


class PageView(DefaultJinjaPageView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = BYTECODE


class IndexPageView(DefaultJinjaIndexPageView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = BYTECODE


VIEWS = {"page": {"module_name": __name__, "class_name": PageView.__name__},
         "index": {"module_name": __name__, "class_name": IndexPageView.__name__}}
