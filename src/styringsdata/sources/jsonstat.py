"""A strict, columnar JSON-stat 2.0 decoder.

Reads SSB's shape (object `category.index` whose key order is not position
order, sparse `status` object keyed by flat index with null values) and FHI's
(array `index`, `role` entries null, `status: ""`, years like `2021_2021`).
Both put symbols where numbers belong: FHI writes `"k"` (suppressed) and SSB's
`..`, `:`, `-`, `.` straight into `value`. A known symbol becomes the cell's
status with no value (never 0, never a rejected table); any other string in
`value` is an error.
Cells come out as columns, built with numpy/pyarrow rather than per-cell
Python, and the text is parsed by orjson, so decoding a payload costs less
than `json.loads` alone would (bench/bench_jsonstat.py).

    python -m styringsdata.sources.jsonstat FILE      # CSV: dimension codes in `id` order, value, status
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import orjson
import pyarrow as pa


class JsonStatError(ValueError):
    """The payload is not valid JSON-stat 2.0; the message names source, field, expected and found."""


# What each symbol means, in SSB's and FHI's usage. SSB's "-" ("null": nothing to report) is kept as a
# missing figure rather than turned into 0: nothing here ever makes a number out of a symbol.
SYMBOL_MEANINGS: dict[str, str] = {
    "k": "suppressed",  # FHI: too few cases to publish
    ":": "suppressed",  # SSB: confidential
    "..": "missing",  # data not available
    "...": "missing",  # older SSB tables: not yet available
    "-": "missing",  # SSB: nil; FHI: no figure
    ".": "not_applicable",  # the category did not exist / cannot be given
}


def symbol_meaning(symbol: str | None) -> str | None:
    """suppressed, missing or not_applicable for a known symbol; None for no symbol or an unknown one."""
    return SYMBOL_MEANINGS.get(symbol.strip()) if isinstance(symbol, str) else None


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    categories: tuple[str, ...]
    category_labels: dict[str, str]
    units: dict[str, dict]
    role: str | None


@dataclass(frozen=True)
class Dataset:
    label: str | None
    source: str | None
    updated: str | None
    dimensions: tuple[Dimension, ...]
    values: pa.Array
    statuses: pa.Array
    notes: tuple[str, ...] = ()
    extension: dict = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return len(self.values)

    def dimension(self, code: str) -> Dimension:
        for dim in self.dimensions:
            if dim.code == code:
                return dim
        raise JsonStatError(f"no dimension {code!r}; the dataset has {[d.code for d in self.dimensions]}")

    def code_columns(self) -> list[pa.DictionaryArray]:
        """One dictionary-encoded column of category codes per dimension, row-major (last dimension fastest)."""
        sizes = [len(d.categories) for d in self.dimensions]
        columns = []
        inner = self.n_cells
        for dim, size in zip(self.dimensions, sizes):
            inner //= size if size else 1
            outer = self.n_cells // (size * inner) if size and inner else 0
            positions = np.tile(np.repeat(np.arange(size, dtype=np.int32), inner), outer)
            columns.append(pa.DictionaryArray.from_arrays(positions, pa.array(dim.categories, type=pa.string())))
        return columns

    def to_arrow(self) -> pa.Table:
        names = [d.code for d in self.dimensions] + ["value", "status"]
        return pa.Table.from_arrays([*self.code_columns(), self.values, self.statuses], names=names)

    def to_rows(self) -> Iterator[tuple]:
        columns = [c.to_pylist() for c in self.code_columns()]
        yield from zip(*columns, self.values.to_pylist(), self.statuses.to_pylist())


def _fail(source: str, message: str) -> JsonStatError:
    return JsonStatError(f"{source}: {message}")


def _parse(payload: bytes | str | Mapping[str, Any], source: str) -> Mapping[str, Any]:
    if isinstance(payload, Mapping):
        return payload
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        # orjson refuses a little that the standard library reads (NaN, integers past 64 bits), and its
        # messages differ: the standard parser decides on the rare failing payload, so what reads and what
        # an error says stay as they were.
        document = _parse_standard(payload, source)
    if not isinstance(document, dict):
        raise _fail(source, f"expected a JSON object, found {type(document).__name__}")
    return document


def _parse_standard(payload: bytes | str, source: str) -> Any:
    try:
        return json.loads(payload)
    except json.JSONDecodeError as exc:
        # A body cut off in transit no longer ends with its closing bracket; an error page is markup.
        stripped = payload.strip() if payload else payload
        if not stripped:
            kind = "empty answer, no JSON at all"
        elif stripped[:1] in ("<", b"<"):
            kind = f"HTML/XML instead of JSON (starts {stripped[:60]!r})"
        elif stripped[-1:] in ("}", "]", b"}", b"]"):
            kind = "invalid JSON"
        else:
            kind = "truncated JSON"
        raise _fail(source, f"{kind}: {exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})") from exc
    except UnicodeDecodeError as exc:
        raise _fail(source, f"not UTF-8 text: {exc}") from exc


def _categories(source: str, code: str, dim: Mapping[str, Any]) -> tuple[str, ...]:
    category = dim.get("category")
    if not isinstance(category, Mapping):
        raise _fail(source, f"dimension.{code}.category: expected an object")
    index = category.get("index")
    if isinstance(index, list):
        codes = tuple(str(c) for c in index)
    elif isinstance(index, Mapping):
        order = sorted(index.items(), key=lambda item: item[1])
        positions = [p for _, p in order]
        if positions != list(range(len(positions))):
            raise _fail(source, f"dimension.{code}.category.index: positions must be 0..{len(positions) - 1}, "
                                f"found {positions[:10]}")
        codes = tuple(str(c) for c, _ in order)
    elif index is None and isinstance(category.get("label"), Mapping) and len(category["label"]) == 1:
        codes = tuple(category["label"])  # the spec lets a single-category dimension omit its index
    else:
        raise _fail(source, f"dimension.{code}.category.index: expected an array or object")
    if len(set(codes)) != len(codes):
        duplicate = next(c for i, c in enumerate(codes) if c in codes[:i])
        raise _fail(source, f"dimension.{code}.category.index: duplicate category code {duplicate!r}")
    return codes


def _roles(document: Mapping[str, Any]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for role, codes in (document.get("role") or {}).items():
        for code in codes or ():  # FHI sends null for roles it does not use
            roles[code] = role
    return roles


def _dimensions(source: str, document: Mapping[str, Any]) -> tuple[Dimension, ...]:
    for key in ("id", "size", "dimension"):
        if key not in document:
            raise _fail(source, f"missing required field {key!r}")
    ids, sizes, dims = document["id"], document["size"], document["dimension"]
    if not isinstance(ids, list) or not isinstance(sizes, list) or len(ids) != len(sizes):
        raise _fail(source, f"'id' ({len(ids) if isinstance(ids, list) else ids!r}) and 'size' "
                            f"({len(sizes) if isinstance(sizes, list) else sizes!r}) must be lists of equal length")
    roles = _roles(document)
    out = []
    for code, size in zip(ids, sizes):
        if code not in dims:
            raise _fail(source, f"dimension {code!r} is listed in 'id' but missing from 'dimension'")
        dim = dims[code]
        categories = _categories(source, code, dim)
        if len(categories) != size:
            raise _fail(source, f"dimension {code!r} has {len(categories)} categories but size says {size}")
        category = dim["category"]
        labels = category.get("label") or {}
        out.append(Dimension(code, dim.get("label") or code, categories,
                             {c: labels.get(c, c) for c in categories}, dict(category.get("unit") or {}),
                             roles.get(code)))
    return tuple(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _symbol(source: str, where: str, value: Any) -> str | None:
    """None for a number or null; the symbol for a known symbol; an error for anything else."""
    if value is None or _is_number(value):
        return None
    if isinstance(value, str) and value.strip() in SYMBOL_MEANINGS:
        return value.strip()
    raise _fail(source, f"{where}: expected a number, null or a status symbol "
                        f"({' '.join(repr(k) for k in SYMBOL_MEANINGS)}), found {value!r}")


def _values(source: str, raw: Any, n_cells: int, sizes: Sequence[int]) -> tuple[pa.Array, dict[int, str]]:
    """The numbers, and the symbols found in `value` by cell position."""
    if isinstance(raw, list):
        if len(raw) != n_cells:
            raise _fail(source, f"product of size {list(sizes)} is {n_cells} but value has {len(raw)} cells")
        try:
            return pa.array(raw, type=pa.float64(), from_pandas=False), {}
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        symbols: dict[int, str] = {}
        numbers: list[Any] = list(raw)
        for i, value in enumerate(raw):
            symbol = _symbol(source, f"value[{i}]", value)
            if symbol is not None:
                symbols[i] = symbol
                numbers[i] = None
        return pa.array(numbers, type=pa.float64()), symbols
    if isinstance(raw, Mapping):
        out: list[float | None] = [None] * n_cells
        symbols = {}
        for key, value in raw.items():
            position = _position(source, "value", key, n_cells)
            symbol = _symbol(source, f"value[{key!r}]", value)
            if symbol is not None:
                symbols[position] = symbol
            else:
                out[position] = value
        return pa.array(out, type=pa.float64()), symbols
    raise _fail(source, f"'value' must be an array or an object, found {type(raw).__name__}")


def _position(source: str, field_name: str, key: str, n_cells: int) -> int:
    try:
        position = int(key)
    except (TypeError, ValueError):
        raise _fail(source, f"{field_name} key {key!r} is not a cell index") from None
    if not 0 <= position < n_cells:
        raise _fail(source, f"{field_name} key {key!r} is outside 0..{n_cells - 1}")
    return position


def _statuses(source: str, raw: Any, n_cells: int, value_symbols: Mapping[int, str]) -> pa.Array:
    if value_symbols:
        # The status field wins where it says something; a symbol in `value` fills the rest.
        given = _statuses(source, raw, n_cells, {}).to_pylist()
        return pa.array([g if g is not None else value_symbols.get(i) for i, g in enumerate(given)], type=pa.string())
    if raw is None or raw == "":
        return pa.nulls(n_cells, type=pa.string())
    if isinstance(raw, str):
        return pa.array([raw] * n_cells, type=pa.string())
    if isinstance(raw, list):
        if len(raw) != n_cells:
            raise _fail(source, f"status has {len(raw)} entries but there are {n_cells} cells")
        return pa.array([s if s not in ("",) else None for s in raw], type=pa.string())
    if isinstance(raw, Mapping):
        return _sparse_statuses(source, raw, n_cells)
    raise _fail(source, f"'status' must be a string, array or object, found {type(raw).__name__}")


def _sparse_statuses(source: str, raw: Mapping[str, Any], n_cells: int) -> pa.Array:
    """SSB's `{"17": ".", ...}`: scattered into a column by numpy, not a Python list of a million Nones."""
    symbols = list(raw.values())
    try:
        positions = np.fromiter(map(int, raw), dtype=np.int64, count=len(raw))
    except (TypeError, ValueError):
        positions = None
    if (positions is None or not all(isinstance(s, str) for s in symbols)
            or (len(positions) and (positions.min() < 0 or positions.max() >= n_cells))
            or len(np.unique(positions)) != len(positions)):
        # Something is off (a bad key, a symbol that is not text, one cell named twice as "7" and "07"):
        # the cell-by-cell reading names the key or decides as it always did.
        out: list[str | None] = [None] * n_cells
        for key, symbol in raw.items():
            out[_position(source, "status", key, n_cells)] = symbol
        return pa.array(out, type=pa.string())
    dictionary = sorted(set(symbols))
    code_of = {symbol: i for i, symbol in enumerate(dictionary)}
    indices = np.full(n_cells, -1, dtype=np.int32)
    indices[positions] = np.fromiter((code_of[s] for s in symbols), dtype=np.int32, count=len(symbols))
    codes = pa.array(indices, mask=indices < 0)
    return pa.DictionaryArray.from_arrays(codes, pa.array(dictionary, type=pa.string())).dictionary_decode()


def decode(payload: bytes | str | Mapping[str, Any], *, source: str = "<payload>") -> Dataset:
    document = _parse(payload, source)
    if document.get("class") != "dataset":
        raise _fail(source, f"'class' must be \"dataset\", found {document.get('class')!r}")
    dimensions = _dimensions(source, document)
    if "value" not in document:
        raise _fail(source, "missing required field 'value'")
    sizes = [len(d.categories) for d in dimensions]
    n_cells = math.prod(sizes)
    note = document.get("note") or ()
    values, value_symbols = _values(source, document["value"], n_cells, sizes)
    return Dataset(
        label=document.get("label"),
        source=document.get("source"),
        updated=document.get("updated"),
        dimensions=dimensions,
        values=values,
        statuses=_statuses(source, document.get("status"), n_cells, value_symbols),
        notes=tuple(note) if isinstance(note, list) else (str(note),),
        extension=dict(document.get("extension") or {}),
    )


def decode_file(path: str | os.PathLike[str]) -> Dataset:
    path = Path(path)
    return decode(path.read_bytes(), source=path.name)


def _format(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def write_csv(dataset: Dataset, out) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([d.code for d in dataset.dimensions] + ["value", "status"])
    for row in dataset.to_rows():
        *codes, value, status = row
        writer.writerow([*codes, _format(value), status or ""])


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m styringsdata.sources.jsonstat FILE  (or - for stdin)", file=sys.stderr)
        return 2
    try:
        if args[0] == "-":
            dataset = decode(sys.stdin.buffer.read(), source="<stdin>")
        else:
            dataset = decode_file(args[0])
    except (JsonStatError, OSError) as exc:
        print(f"jsonstat: {exc}", file=sys.stderr)
        return 2
    write_csv(dataset, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
