from __future__ import annotations

import io

import openpyxl
import pytest

from styringsdata.sources.kommune_nm import KommuneNmError, parse
from styringsdata.sources.miljodirektoratet import COLUMNS, MiljodirektoratetError, parse_workbook, refresh
from styringsdata.raw.landing import LandingZone
from styringsdata.sources.transport import Response, SourceMode, Transport
from tests.ingestion.fakes import FakeClock, ScriptedSender

NM_HEADER = ("kommunenummer;kommune;year;total_rank;county;county_rank;naeringsliv_rank;arbeidsmarked_rank;"
             "demografi_rank;kompetanse_rank;kommuneokonomi_rank;fagprove_rank\n")


def workbook(rows, sheet="Oversikt - detaljert", header=COLUMNS) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_emissions_rows_keep_gas_and_lose_trailing_spaces():
    data = workbook([["Akershus", 3203, "Asker", 2009, "Annen mobil forbrenning", "Bygg og anlegg  ", "CO2", 3352.02],
                     ["Akershus", 3203, "Asker", 2009, "Annen mobil forbrenning", "Bygg og anlegg  ", "CH4", 12.5]])
    rows = parse_workbook(data, "x.xlsx")
    assert [(r.emission_source, r.gas, r.tonnes_co2e) for r in rows] == [
        ("Bygg og anlegg", "CO2", 3352.02), ("Bygg og anlegg", "CH4", 12.5)]
    assert rows[0].municipality_code == "3203"


def test_html_served_instead_of_the_workbook_is_named():
    page = b"<!DOCTYPE html><html><title>Side for feilmelding</title></html>"
    with pytest.raises(MiljodirektoratetError, match=r"x.xlsx: expected the xlsx workbook .* got an HTML page"):
        parse_workbook(page, "x.xlsx")


def test_refresh_refuses_html_with_status_200_and_lands_nothing(tmp_path):
    transport = Transport(SourceMode.LIVE, sender=ScriptedSender([Response(200, b"<html>feil</html>", {})]),
                          clock=FakeClock())
    landing = LandingZone(tmp_path)
    with pytest.raises(MiljodirektoratetError, match="HTML page"):
        refresh(transport, landing)
    assert not (tmp_path / "miljodirektoratet").exists()


def test_wrong_sheet_and_columns_and_values():
    with pytest.raises(MiljodirektoratetError, match="no sheet 'Oversikt - detaljert'"):
        parse_workbook(workbook([], sheet="Ark1"), "x.xlsx")
    with pytest.raises(MiljodirektoratetError, match="row 1: columns"):
        parse_workbook(workbook([], header=("Kommune", "År")), "x.xlsx")
    with pytest.raises(MiljodirektoratetError, match="row 2, column Utslipp .*: got 'mye'; expected a number"):
        parse_workbook(workbook([["A", 3203, "Asker", 2020, "Veitrafikk", "Personbiler", "CO2", "mye"]]), "x.xlsx")


def test_kommune_nm_contract():
    rows = parse((NM_HEADER + "3203;Asker;2022;14;Viken;6;;;;;;348\n").encode(), "nm.csv")
    assert rows[0].ranks["total_rank"] == 14 and rows[0].ranks["naeringsliv_rank"] is None
    with pytest.raises(KommuneNmError, match="missing column"):
        parse(b"kommunenummer;year\n3203;2022\n", "nm.csv")
    with pytest.raises(KommuneNmError, match=r"nm.csv, row 2, column total_rank: got '0'; expected a rank from 1 to 357"):
        parse((NM_HEADER + "3203;Asker;2022;0;Viken;6;;;;;;348\n").encode(), "nm.csv")
    with pytest.raises(KommuneNmError, match="repeats row 2"):
        parse((NM_HEADER + "3203;Asker;2022;14;Viken;6;;;;;;348\n" * 2).encode(), "nm.csv")
