from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from styringsdata.sources.jsonstat import JsonStatError, decode, decode_file, main

FIXTURES = Path(__file__).parent / "fixtures" / "jsonstat"
SSB = FIXTURES / "ssb_13615_like.json"
FHI = FIXTURES / "fhi_befolkningsvekst.json"


def rows(dataset):
    return list(dataset.to_rows())


def test_ssb_shape_hand_checked_cells():
    ds = decode_file(SSB)
    assert [d.code for d in ds.dimensions] == ["Produkter", "NACE", "ContentsCode", "Tid"]  # id order, not key order
    assert ds.dimension("Produkter").categories == ("A", "B", "C")  # index {"A":0,"C":2,"B":1}
    assert ds.dimension("NACE").categories == ("01-03", "50")
    r = rows(ds)
    # flat = ((p * 2 + n) * 1 + c) * 2 + t ; last dimension fastest
    assert r[0] == ("A", "01-03", "Salg", "2023", 6.0, None)
    assert r[3] == ("A", "50", "Salg", "2024", 441.0, None)        # p=0 n=1 t=1
    assert r[5] == ("B", "01-03", "Salg", "2024", 4752.0, None)    # p=1 n=0 t=1
    assert r[6] == ("B", "50", "Salg", "2023", None, ".")          # sparse status, null value
    assert r[10] == ("C", "50", "Salg", "2023", None, ":")
    assert r[11] == ("C", "50", "Salg", "2024", 1.0, None)
    assert ds.dimension("ContentsCode").units == {"Salg": {"base": "1000 liter", "decimals": 0}}
    assert ds.dimension("Tid").role == "time" and ds.updated == "2025-04-11T06:00:00Z"


def test_fhi_shape_array_index_null_roles_empty_status():
    ds = decode_file(FHI)
    assert ds.dimension("GEO").categories == ("03", "30")
    assert ds.dimension("AAR").role is None and ds.dimension("MEASURE_TYPE").role == "metric"
    assert rows(ds)[1] == ("03", "2021_2021", "0", "0_120", "BEFVEKST_ANT", 2817.0, None)
    assert rows(ds)[2][0] == "30"
    assert ds.statuses.null_count == 4


def test_sparse_value_object():
    doc = json.loads(FHI.read_text())
    doc["value"] = {"0": 1, "3": 4}
    assert [r[-2] for r in rows(decode(doc))] == [1.0, None, None, 4.0]


def test_to_arrow_columns_and_types():
    table = decode_file(SSB).to_arrow()
    assert table.column_names == ["Produkter", "NACE", "ContentsCode", "Tid", "value", "status"]
    assert table.column("value").type == "double"
    assert table.column("Produkter").to_pylist()[:4] == ["A", "A", "A", "A"]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(value=d["value"][:-1]), r"product of size \[3, 2, 1, 2\] is 12 but value has 11 cells"),
        (lambda d: d["dimension"].pop("NACE"), r"dimension 'NACE' is listed in 'id' but missing"),
        (lambda d: d.update(size=[3, 2, 1]), r"'id' \(4\) and 'size' \(3\) must be lists of equal length"),
        (lambda d: d.update(size=[4, 2, 1, 2]), r"dimension 'Produkter' has 3 categories but size says 4"),
        (lambda d: d.update({"class": "collection"}), r"'class' must be \"dataset\""),
        (lambda d: d["value"].__setitem__(2, "x"), r"value\[2\]: expected a number, null or a status symbol .*found 'x'"),
        (lambda d: d.update(status={"12": ":"}), r"status key '12' is outside 0..11"),
        (lambda d: d["dimension"]["Tid"]["category"].update(index={"2023": 0, "2024": 0}),
         r"positions must be 0..1"),
    ],
)
def test_invalid_payloads_are_rejected_with_clear_messages(mutate, message):
    doc = json.loads(SSB.read_text())
    mutate(doc)
    with pytest.raises(JsonStatError, match=message) as err:
        decode(json.dumps(doc), source="bad.json")
    assert str(err.value).startswith("bad.json: ")


def test_truncated_json_says_so():
    text = SSB.read_text()[:200]
    with pytest.raises(JsonStatError, match=r"x.json: truncated JSON"):
        decode(text, source="x.json")


def test_cli_prints_csv_for_both_shapes(capsys):
    assert main([str(SSB)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Produkter,NACE,ContentsCode,Tid,value,status"
    assert out[1] == "A,01-03,Salg,2023,6,"
    assert out[7] == "B,50,Salg,2023,,."
    assert main([str(FHI)]) == 0
    assert capsys.readouterr().out.splitlines()[1:3] == ["03,2020_2020,0,0_120,BEFVEKST_ANT,3516,",
                                                         "03,2021_2021,0,0_120,BEFVEKST_ANT,2817,"]


def test_cli_error_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"class": "dataset"')
    assert main([str(bad)]) == 2
    assert "bad.json: truncated JSON" in capsys.readouterr().err


def random_cube(rng: random.Random):
    """A random JSON-stat document and the rows it must decode to, built independently of the decoder."""
    n_dims = rng.randint(1, 4)
    dims = []
    for d in range(n_dims):
        codes = [f"d{d}c{i}" for i in range(rng.randint(1, 4))]
        dims.append((f"D{d}", codes))
    expected = [()]
    for _, codes in dims:
        expected = [prefix + (c,) for prefix in expected for c in codes]
    values, status, out = [], {}, []
    for flat, combo in enumerate(expected):
        if rng.random() < 0.2:
            values.append(None)
            status[str(flat)] = rng.choice([".", "..", ":"])
            out.append(combo + (None, status[str(flat)]))
        else:
            v = round(rng.uniform(-1000, 1000), 2)
            values.append(v)
            out.append(combo + (v, None))
    dimension = {}
    for code, codes in dims:
        pairs = list(enumerate(codes))
        rng.shuffle(pairs)  # object key order differs from position order
        dimension[code] = {"label": code, "category": {"index": {c: i for i, c in pairs}}}
    keys = list(dimension)
    rng.shuffle(keys)
    doc = {"version": "2.0", "class": "dataset", "id": [c for c, _ in dims], "size": [len(c) for _, c in dims],
           "dimension": {k: dimension[k] for k in keys}, "value": values, "status": status}
    return doc, out


@pytest.mark.parametrize("seed", range(25))
def test_random_cubes_round_trip(seed):
    doc, expected = random_cube(random.Random(seed))
    assert rows(decode(copy.deepcopy(doc))) == expected


# -- symbols where numbers belong ---------------------------------------------------------------------

@pytest.mark.parametrize("symbol, meaning", [("k", "suppressed"), (":", "suppressed"), ("..", "missing"),
                                             ("-", "missing"), (".", "not_applicable")])
@pytest.mark.parametrize("shape", ["ssb", "fhi"])
def test_a_symbol_in_value_is_a_status_with_no_value_in_both_shapes(shape, symbol, meaning):
    from styringsdata.sources.jsonstat import symbol_meaning

    doc = json.loads((SSB if shape == "ssb" else FHI).read_text())
    doc["value"][1] = symbol  # where a number belongs, as FHI writes "k"
    dataset = decode(json.dumps(doc), source="x.json")  # the table is not rejected
    cells = rows(dataset)
    assert cells[1][-2:] == (None, symbol)  # no value, never 0; the symbol is the status
    assert symbol_meaning(cells[1][-1]) == meaning
    assert all(r[-2] is not None for i, r in enumerate(cells) if i != 1 and r[-1] is None)


def test_the_status_field_wins_where_both_say_something_and_a_sparse_value_may_hold_a_symbol():
    doc = json.loads(SSB.read_text())
    doc["value"][6] = ".."  # cell 6 has status "." in the status object already
    assert rows(decode(doc))[6][-2:] == (None, ".")
    fhi = json.loads(FHI.read_text())
    fhi["value"] = {"0": 1, "2": "k"}
    assert [r[-2:] for r in rows(decode(fhi))] == [(1.0, None), (None, None), (None, "k"), (None, None)]


def test_cli_shows_symbols_in_the_status_column(tmp_path, capsys):
    doc = json.loads(FHI.read_text())
    doc["value"] = [3516, "k", ":", "-"]
    path = tmp_path / "fhi.json"
    path.write_text(json.dumps(doc))
    assert main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["03,2020_2020,0,0_120,BEFVEKST_ANT,3516,",
                                                        "03,2021_2021,0,0_120,BEFVEKST_ANT,,k",
                                                        "30,2020_2020,0,0_120,BEFVEKST_ANT,,:",
                                                        "30,2021_2021,0,0_120,BEFVEKST_ANT,,-"]


def test_sparse_status_keys_read_as_before_when_one_cell_is_named_twice_or_a_key_is_odd():
    doc = json.loads(SSB.read_text())
    doc["status"] = {"6": ".", "06": ":"}  # both name cell 6: the later key wins, as it always did
    assert rows(decode(doc))[6][-1] == ":"
    doc["status"] = {"6": ".", "x": ":"}
    with pytest.raises(JsonStatError, match=r"status key 'x' is not a cell index"):
        decode(doc, source="s.json")


def test_json_that_only_the_standard_parser_reads_still_decodes():
    # NaN is not JSON, but Python's parser has always read it: the faster parser must not change what loads.
    text = SSB.read_text().replace('"value": [6,', '"value": [NaN,', 1)
    assert '"value": [NaN,' in text
    value = rows(decode(text))[0][-2]
    assert value != value  # NaN, as before
