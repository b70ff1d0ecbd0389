from __future__ import annotations

import datetime as dt
import json

import pytest

from styringsdata.sources.klass import CodeChange, KlassError, build_lineage, parse_changes, today_codes

D2020, D2024 = dt.date(2020, 1, 1), dt.date(2024, 1, 1)


def change(old, old_name, new, new_name, when):
    return CodeChange(old, old_name, new, new_name, when)


ASKER = [
    change("0220", "Asker", "3025", "Asker", D2020),
    change("0627", "Røyken", "3025", "Asker", D2020),
    change("0628", "Hurum", "3025", "Asker", D2020),
    change("3025", "Asker", "3203", "Asker", D2024),
]
FORSAND = [
    change("1102", "Sandnes", "1108", "Sandnes", D2020),
    change("1129", "Forsand", "1108", "Sandnes", D2020),
    change("1129", "Forsand", "1130", "Strand", D2020),
]


def test_asker_lineage_is_transitive():
    lineage = build_lineage(ASKER)
    for old in ("0220", "0627", "0628", "3025"):
        assert today_codes(lineage, old) == ["3203"]
    first = {r.from_code: r.changed_on for r in lineage}
    assert first == {"0220": D2020, "0627": D2020, "0628": D2020, "3025": D2024}
    assert today_codes(lineage, "3203") == ["3203"]  # today's code maps to itself


def test_a_split_municipality_has_several_successors():
    lineage = build_lineage(FORSAND)
    assert today_codes(lineage, "1129") == ["1108", "1130"]
    assert {r.successor_count for r in lineage if r.from_code == "1129"} == {2}
    assert [r.successor_count for r in lineage if r.from_code == "1102"] == [1]


def test_merger_that_keeps_the_number_is_kept():
    lineage = build_lineage([change("1103", "Stavanger", "1103", "Stavanger", D2020),
                             change("1141", "Finnøy", "1103", "Stavanger", D2020)])
    assert {(r.from_code, r.to_code) for r in lineage} == {("1103", "1103"), ("1141", "1103")}


def test_creation_and_cessation_rows_do_not_create_edges():
    lineage = build_lineage([change("", "", "5001", "Trondheim", D2020), change("9999", "X", "", "", D2020)])
    assert lineage == []


def test_parse_the_real_json_shape():
    body = json.dumps({"codeChanges": [{"oldCode": "1739", "oldName": "Røyrvik", "oldShortName": "",
                                        "newCode": "1739", "newName": "Raarvihke Røyrvik", "newShortName": "",
                                        "changeOccurred": "2014-01-01"}]}).encode()
    [parsed] = parse_changes(body)
    assert parsed == change("1739", "Røyrvik", "1739", "Raarvihke Røyrvik", dt.date(2014, 1, 1))


def test_xml_answer_is_refused_with_a_hint():
    with pytest.raises(KlassError, match="Accept: application/json"):
        parse_changes(b"<?xml version='1.0'?><codeChangeList/>")


def test_malformed_row_names_its_index():
    with pytest.raises(KlassError, match=r"codeChanges\[0\]"):
        parse_changes(b'{"codeChanges": [{"oldCode": "0220"}]}')
