"""The macro group's report after a KOSTRA cycle: SSB publishes 12143 unrevised on 15 March and revised on
15 June. Two members' figures change between the two, and one member has a figure far from the others.
The base tables of the macro group's analyses (12367, 12364, 11805, 11906) follow the same cycle: in March
Bærum's netto driftsutgifter on function 201 (barnehage) for 2025 is 1 500 (1000 kr) below June's, so the
June report's calendar names that figure under the tjenesteprofiler, the ressursbruksindikator and the
produksjonsindeks (whose sector weights read it).

The cycle is simulated with the pipeline's own replay: two copies of the bundled snapshots, the first with
12143's `updated` moved to 15 March and Bærum's netto lånegjeld and Trondheim's netto driftsresultat as
they stood before the revision, the second the bundled June publication; Drammen's disposisjonsfond is
45 % of brutto driftsinntekter in both (the others' lie between 5 and 15 %). Two runs on one data directory.
"""

from __future__ import annotations

import base64
import csv
import email
import html
import io
import json
import os
import re
import shutil
from email import policy
from pathlib import Path

import duckdb
import pytest

from styringsdata.reporting import mail
from styringsdata.reporting.numbers import NBSP, format_number
from styringsdata.reporting.report import RunInfo
from styringsdata.reporting.report_delivery import AFTER_PUBLICATION, deliver
from tests.orchestration.test_mail import PASSWORD, smtp_server  # noqa: F401 (fixture)
from tests.pipeline.conftest import ROOT, run_cli

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

TABLE = ROOT / "snapshots" / "data.ssb.no" / "api" / "pxwebapi" / "v2" / "tables" / "12143"
MARCH_CHANGES = {("3201", "KG31", "2025"): +6.4, ("5001", "AGD23", "2025"): -1.3}  # March = June + this
OUTLIER = ("3301", "56", "2025", 45.0)
BASE_TABLES = ("12367", "12364", "11805", "11906")
BASE_MARCH_CHANGES = {"12367": {(("KOKkommuneregion0000", "3201"), ("KOKfunksjon0000", "201"), ("KOKart0000", "AGD2"),
                                 ("Tid", "2025")): -1500.0}}
MEMBER_CODES = ("0301", "4601", "5001", "1103", "3201", "4204", "3107", "1108", "5501", "3301", "3203", "3205")


def _cell(body: dict, coordinates: dict[str, str]) -> int:
    index = 0
    for dimension, size in zip(body["id"], body["size"]):
        index = index * size + body["dimension"][dimension]["category"]["index"][coordinates[dimension]]
    return index


def _set_updated(answer: Path, updated: str) -> None:
    recorded = json.loads(answer.read_text(encoding="utf-8"))
    body = json.loads(recorded["response"]["body"])
    body["updated"] = updated
    recorded["response"]["body"] = json.dumps(body, ensure_ascii=False)
    answer.write_text(json.dumps(recorded, ensure_ascii=False), encoding="utf-8")


def _announce(listing_file: Path, table_id: str, updated: str) -> None:
    """SSB's table listing, the one change check a run makes, names the table as updated."""
    recorded = json.loads(listing_file.read_text(encoding="utf-8"))
    body = json.loads(recorded["response"]["body"])
    body["tables"] = [t for t in body["tables"] if t["id"] != table_id] + [
        {"type": "Table", "id": table_id, "label": f"{table_id}: KOSTRA", "updated": updated, "category": "public",
         "source": "Statistisk sentralbyrå", "discontinued": False}]
    body["page"]["totalElements"] = len(body["tables"])
    recorded["response"]["body"] = json.dumps(body, ensure_ascii=False)
    listing_file.write_text(json.dumps(recorded, ensure_ascii=False), encoding="utf-8")


def _publish_base_table(target: Path, table_id: str, updated: str,
                        changes: dict[tuple[tuple[str, str], ...], float]) -> None:
    """A base table as SSB publishes it on `updated` (its JSON-stat2 answer as recorded), cells moved by `changes`."""
    table = target / TABLE.relative_to(ROOT / "snapshots").parent / table_id
    for answer in [*table.glob("GET-*.json"), *(table / "metadata").glob("GET-*.json")]:
        _set_updated(answer, updated)
    _announce(next(table.parent.glob("GET-*.json")), table_id, updated)
    (data,) = (table / "data").glob("GET-*.json")
    recorded = json.loads(data.read_text(encoding="utf-8"))
    body = json.loads(recorded["response"]["body"])
    body["updated"] = updated
    for cell, delta in changes.items():
        # a dimension with one category (the accounts' scope, the content) is at that category
        coordinates = {d: next(iter(body["dimension"][d]["category"]["index"])) for d in body["id"]} | dict(cell)
        i = _cell(body, coordinates)
        body["value"][i] = body["value"][i] + delta
    recorded["response"]["body"] = json.dumps(body, ensure_ascii=False)
    data.write_text(json.dumps(recorded, ensure_ascii=False), encoding="utf-8")


def _snapshot(target: Path, updated: str, changes: dict[tuple[str, str, str], float], set_to: dict,
              base_changes: dict[str, dict] | None = None) -> Path:
    shutil.copytree(ROOT / "snapshots", target)
    for table_id in BASE_TABLES:
        _publish_base_table(target, table_id, updated, (base_changes or {}).get(table_id, {}))
    table = target / TABLE.relative_to(ROOT / "snapshots")
    # The publication is announced where a run looks for it: the listing, the table info (the listing's
    # fallback) and the metadata, whose `updated` names the vintage.
    for answer in [*table.glob("GET-*.json"), *(table / "metadata").glob("GET-*.json")]:
        _set_updated(answer, updated)
    (listing,) = table.parent.glob("GET-*.json")
    _announce(listing, TABLE.name, updated)
    (data,) = (table / "data").glob("GET-*.json")
    recorded = json.loads(data.read_text(encoding="utf-8"))
    body = json.loads(recorded["response"]["body"])
    body["updated"] = updated
    for (region, account, year), delta in changes.items():
        i = _cell(body, {"KOKkommuneregion0000": region, "KOKartkap0000": account,
                         "ContentsCode": "KOSbelopbrinv0000", "Tid": year})
        body["value"][i] = round(body["value"][i] + delta, 1)
    for (region, account, year), value in set_to.items():
        i = _cell(body, {"KOKkommuneregion0000": region, "KOKartkap0000": account,
                         "ContentsCode": "KOSbelopbrinv0000", "Tid": year})
        body["value"][i] = value
    recorded["response"]["body"] = json.dumps(body, ensure_ascii=False)
    data.write_text(json.dumps(recorded, ensure_ascii=False), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def kostra_cycle(tmp_path_factory):
    root = tmp_path_factory.mktemp("kostra_cycle")
    outlier = {OUTLIER[:3]: OUTLIER[3]}
    march = _snapshot(root / "march", "2026-03-15T06:00:00Z", MARCH_CHANGES, outlier, BASE_MARCH_CHANGES)
    june = _snapshot(root / "june", "2026-06-15T06:00:00Z", {}, outlier)
    data = root / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}  # DAGSTER_HOME: the suite's temporary one
    env.update({"STYRINGSDATA_DATA_DIR": str(data), "STYRINGSDATA_SOURCE_MODE": "replay"})
    for snapshots in (march, june):
        result = run_cli({**env, "STYRINGSDATA_SNAPSHOT_DIR": str(snapshots)})
        assert result.returncode == 0, f"{snapshots.name}:\n{result.stdout}\n{result.stderr[-5000:]}"
    return data


def june_report(data: Path) -> Path:
    """The macro group's report of the June run (the March run wrote one too)."""
    pages = [p for p in (data / "reports").glob("makrogruppen_*.html") if not p.name.endswith(".mail.html")]
    assert len(pages) == 2, pages
    return max(pages, key=lambda p: p.stat().st_mtime)


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|title)>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)  # tags and their attributes (the charts' data: URIs) are not text
    return html.unescape(page)


def member_sections(page: str) -> dict[str, str]:
    """The text under each member's heading in the first section."""
    first = page.split("<h2>2. Finansielle nøkkeltall</h2>")[0]
    parts = re.split(r"<h3>([^<]+)</h3>", first)
    return {re.sub(r" \(hjemkommune.*", "", parts[i]): visible_text(parts[i + 1]) for i in range(1, len(parts), 2)}


def test_revisions_and_outlier_come_first_under_the_right_members(kostra_cycle):
    con = duckdb.connect(str(kostra_cycle / "warehouse.duckdb"), read_only=True)
    try:
        june = dict(((r, k), v) for r, k, v in con.execute(
            """select region_code, key_figure_id, value from kostra_comparison where year = 2025
               and key_figure_id in ('KOKO01', 'KOKO02')""").fetchall())
        revised = con.execute("select municipality_code, series, old_value, new_value from revisions "
                              "where source_table = '12143' order by all").fetchall()
    finally:
        con.close()
    assert {(m, s) for m, s, _, _ in revised} == {("3201", "kostra:KOKO02"), ("5001", "kostra:KOKO01"),
                                                   ("5001", "net_operating_result_pct")}
    macro = june_report(kostra_cycle)
    page = macro.read_text(encoding="utf-8")
    assert page.index("1. Dette bør dere se på") < page.index("2. Finansielle nøkkeltall") < page.index("Vedlegg")
    sections = member_sections(page)
    assert list(sections)[0] == "Asker", "the home member comes first"

    def norwegian(value: float) -> str:
        return f"{value:.1f}".replace(".", ",").replace("-", "\u2212")

    baerum, trondheim, drammen = sections["Bærum"], sections["Trondheim"], sections["Drammen"]
    new, old = june[("3201", "KOKO02")], june[("3201", "KOKO02")] + 6.4
    assert re.search(rf"Endret tall\s+Netto lånegjeld i prosent av brutto driftsinntekter\s+prosent av brutto "
                     rf"driftsinntekter\s+2025\s+{norwegian(new)}\s+\S+\s+{norwegian(old)} \(15\. mars 2026\)\s+SSB, tabell "
                     rf"12143\s+endret i publiseringen 15\. juni 2026", baerum), baerum
    new, old = june[("5001", "KOKO01")], june[("5001", "KOKO01")] - 1.3
    assert re.search(rf"Endret tall\s+Netto driftsresultat i prosent av brutto driftsinntekter\s+prosent av brutto "
                     rf"driftsinntekter\s+2025\s+{norwegian(new)}\s+\S+\s+{norwegian(old)} \(15\. mars 2026\)", trondheim)
    assert trondheim.count("Endret tall") == 1, "the indicator built on the same figure is not told twice"
    assert re.search(r"Avviker fra de andre\s+Disposisjonsfond i prosent av brutto driftsinntekter\s+prosent av "
                     r"brutto driftsinntekter\s+2025\s+45,0\s+illustrerende\s+[\d,]+ \(2024\)\s+SSB, tabell 12143\s+medianen for "
                     r"medlemmene er [\d,]+; robust z = [\d,]+", drammen), drammen
    for name, text in sections.items():
        if name not in ("Bærum", "Trondheim"):
            assert "Endret tall" not in text, name
    assert "2 endrede tall" in html.unescape(re.search(r"<title>(.*?)</title>", page).group(1))


def test_the_norwegian_text_has_no_paths_no_identifiers_and_norwegian_numbers(kostra_cycle):
    macro = june_report(kostra_cycle)
    text = visible_text(macro.read_text(encoding="utf-8"))
    assert not re.findall(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b", text), "snake_case identifiers in the text"
    assert not re.findall(r"\b(?:KOKO|KOPP|KOSU|KVEL|KSAM|KSUT|KMED|OKO|BYS|EAK|EKG)\d*\b", text), "codes in the text"
    assert not [c for c in MEMBER_CODES if re.search(rf"\b{c}\b", text)], "municipality codes instead of names"
    # units (kr/tilkn.innb) and KS's indicator names (barnehagelærerutdanning/annen pedagogisk utdanning) join two
    # words with one "/": a path has two, or a leading one
    assert str(kostra_cycle) not in text and not re.search(r"\w/\w+/|(?<![\w)])/\w", text), "a path in the text"
    assert not re.search(r"\.(duckdb|html|csv|json|png|md)\b", text)
    assert not re.search(r"\b\d{1,3}(?:,\d{3})+\.\d", text), "English number format"
    # no decimal point: what remains are Norwegian times (kl. 07.00) and school grades in names (8.-10. trinn)
    # (and KS's "per 31.12", a date, in an indicator's name)
    assert not re.search(r"\d\.\d", re.sub(r"kl\. \d\d\.\d\d|\d+\.-\d+\. trinn|per 31\.12", "", text)), "decimal point"
    assert re.search(rf"\b\d{{2}}{NBSP}\d{{3}}\b", text), "thousands grouped with a (no-break) space: 63 440"
    assert "prosent av brutto driftsinntekter" in text and "kr per innbygger" in text
    assert "ASSS-snitt uten Oslo" in text and "ASSS-snitt" in text and "Landet" in text
    for table in re.findall(r"<table>.*?</table>", macro.read_text(encoding="utf-8"), flags=re.S):
        header = re.findall(r"<th>([^<]*)</th>", table)
        assert header, "every table has a header"


def test_charts_are_embedded_and_mailed_inline_to_each_audience(kostra_cycle, smtp_server, tmp_path):  # noqa: F811
    macro = june_report(kostra_cycle)
    images = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,([^']+)'>", macro.read_text(encoding="utf-8"))
    assert len(images) == 3 and all(base64.b64decode(b64).startswith(b"\x89PNG") for _, b64 in images)
    assert [alt for alt, _ in images] == ["Siste år per nøkkeltall, medlemmene side om side", "Utviklingen per nøkkeltall",
                                          "Tjenesteprofil for Asker"]

    inbox, port = smtp_server()
    settings = mail.MailSettings.from_env({
        "STYRINGSDATA_SMTP_HOST": "127.0.0.1", "STYRINGSDATA_SMTP_PORT": str(port), "STYRINGSDATA_SMTP_SECURITY": "none",
        "STYRINGSDATA_SMTP_USER": "macro", "STYRINGSDATA_SMTP_PASSWORD": PASSWORD,
        "STYRINGSDATA_MAIL_TO_DATA_TEAM": "data@asker.kommune.no",
        "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN": "makro@baerum.kommune.no, makro@ks.no"})
    run = RunInfo(run_id="0123456789abcdef", started_at="2026-06-15T07:00:00+00:00", outcome="published",
                  home_municipality="3203")
    delivery = deliver(kostra_cycle / "work.duckdb", tmp_path / "reports", run, None, settings,
                       audiences=AFTER_PUBLICATION)
    assert delivery.mail_failed == [] and len(delivery.mail_sent) == 2
    by_audience = {}
    for envelope in inbox.envelopes:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        by_audience["makro" if message["Subject"].startswith("ASSS makrogruppen") else "data"] = (envelope, message)
    assert by_audience["data"][0].rcpt_tos == ["data@asker.kommune.no"]
    assert sorted(by_audience["makro"][0].rcpt_tos) == ["makro@baerum.kommune.no", "makro@ks.no"]
    message = by_audience["makro"][1]
    body = message.get_body(preferencelist=("html",)).get_content()
    assert "cid:latest" in body and "cid:trend" in body and "cid:profil3203" in body and "data:image" not in body
    inline = {part["Content-ID"]: part.get_content() for part in message.walk() if part["Content-ID"]}
    assert set(inline) == {"<latest>", "<trend>", "<profil3203>"}
    assert all(png.startswith(b"\x89PNG") for png in inline.values())
    (attachment,) = [p for p in message.walk() if p.get_filename() and p.get_filename().endswith(".csv")]
    rows = list(csv.reader(io.StringIO(attachment.get_content().lstrip("\ufeff")
                                       if isinstance(attachment.get_content(), str)
                                       else attachment.get_content().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Nøkkeltall", "Enhet", "Kommune eller snitt", "År", "Verdi", "Opphav", "Kilde"]
    assert ["Disposisjonsfond i prosent av brutto driftsinntekter", "prosent av brutto driftsinntekter", "Drammen",
            "2025", "45", "illustrerende", "SSB, tabell 12143"] in rows


def test_failing_rows_csv_opens_in_norwegian_excel(kostra_cycle):
    (report,) = [p for p in (kostra_cycle / "reports").glob("quality-report_*.failing_rows.csv")
                 if p.stat().st_mtime == max(q.stat().st_mtime for q in (kostra_cycle / "reports").glob(
                     "quality-report_*.failing_rows.csv"))]
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, or Excel reads æøå as Windows-1252"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:3] == ["check", "severity", "table"] and {"indicator_id", "municipality_code", "change_pct"} <= set(header)
    jumps = [dict(zip(header, r)) for r in rows[1:] if r[0] == "fct_year_on_year_jumps"]
    assert jumps and all(len(r) == len(header) for r in rows)
    assert all("," in j["change_pct"] or j["change_pct"].lstrip("-").isdigit() for j in jumps), "decimal comma"
    assert not any(cell.startswith("{") for r in rows[1:] for cell in r), "one column per field, not JSON"


def test_the_calendar_names_the_figure_revised_between_the_preliminary_and_the_final_vintage(kostra_cycle):
    con = duckdb.connect(str(kostra_cycle / "work.duckdb"), read_only=True)
    try:
        changed = con.execute("""select analysis, municipality_code, year, measure, preliminary_value, final_value,
                                        used_in from marts.analysis_revisions order by analysis""").fetchall()
        june = con.execute("""select value from intermediate.int_ssb__measures_all_vintages
                              where measure = 'net_expenses_f201_1000nok' and region_code = '3201' and year = 2025
                              and vintage like '2026-06-15%'""").fetchone()[0]
        status = dict(con.execute("""select 'resource_use_index', any_value(analysis_status) from marts.resource_use_index
                                     where year = 2025 and resource_use_index is not null""").fetchall())
    finally:
        con.close()
    assert [(a, m, y, ms) for a, m, y, ms, *_ in changed] == [
        ("production_index", "3201", 2025, "net_expenses_f201_1000nok"),
        ("resource_use_index", "3201", 2025, "net_expenses_f201_1000nok"),
        ("tjenesteprofil", "3201", 2025, "net_expenses_f201_1000nok")], "only Bærum's revised figure, once per analysis"
    assert all(old == june - 1500 and new == june for *_, old, new, _ in changed)
    assert status == {"resource_use_index": "final"}
    page = june_report(kostra_cycle).read_text(encoding="utf-8")
    calendar = visible_text(page[page.index("<h2>4. Foreløpige og endelige tall"):page.index("<h2>Vedlegg")])
    calendar = re.sub(r"\s+", " ", calendar)
    # (the text's no-break spaces are plain spaces after the whitespace is collapsed)
    final, old = (format_number(v, 0).replace(NBSP, " ") for v in (june, june - 1500))
    for analysis in ("Tjenesteprofilene", "Ressursbruksindikatoren", "Produksjonsindeksen"):
        section = calendar.split(analysis + " ", 1)[1]
        assert re.match(r"(Tallene for 2025 er endelige|Ingen tall er beregnet for 2025 ennå; grunnlagstallene "
                        r"analysen ville bygget på, er endelige)\.", section), section[:200]
    assert re.search(rf"Bærum Netto driftsutgifter, 201 Opplæring, pleie og omsorg i barnehage \(1 000 kr\) \(SSB, tabell "
                     rf"12367\) 2025 {old} \(15\. mars 2026\) {final} \(15\. juni 2026\) \+1 500 "
                     rf"Netto driftsutgifter barnehager per innbygger 1-5 år \(kr\); Ressursbruksindikator\. "
                     rf"Barnehager", calendar), calendar
    march = min((p for p in (kostra_cycle / "reports").glob("makrogruppen_*.html") if not p.name.endswith(".mail.html")),
                key=lambda p: p.stat().st_mtime).read_text(encoding="utf-8")
    march_calendar = re.sub(r"\s+", " ", visible_text(march[march.index("<h2>4. Foreløpige"):]))
    assert "Tjenesteprofilene Tallene for 2025 er foreløpige." in march_calendar
    assert "Ressursbruksindikatoren Tallene for 2025 er foreløpige." in march_calendar


def test_a_member_is_named_only_when_the_difference_is_material():
    """Reported: a value 0.03 from the median was flagged "robust z = -22,1" because the members lay close."""
    from styringsdata.reporting.macro_report import Z_LIMIT, material, robust_z

    others = [4.42, 4.42, 4.42, 4.42, 4.43, 4.43, 4.43, 4.43]
    value = 4.39
    z, median = robust_z(value, others)
    assert abs(z) > Z_LIMIT  # the z-score alone would flag it
    assert not material(value, median, "prosent av brutto driftsinntekter")  # 0.035 percentage points
    assert material(45.0, 10.0, "prosent av brutto driftsinntekter")
    assert not material(1040.0, 1000.0, "kr per innbygger") and material(1200.0, 1000.0, "kr per innbygger")


def test_origin_is_said_at_the_top_on_every_table_and_in_the_csv(kostra_cycle):
    macro = june_report(kostra_cycle)
    page = html.unescape(macro.read_text(encoding="utf-8"))
    top = page[:page.index("1. Dette bør dere se på")]
    assert "Opphav for tallene i denne rapporten" in top and "illustrerende" in top
    assert "ikke kommunenes virkelige tall" in top
    finance = page[page.index("2. Finansielle nøkkeltall"):page.index("3. Tjenesteprofiler")]
    assert finance.count("Opphav: ") == finance.count("Enhet: ") > 0
    data_csv = macro.with_name(macro.stem + ".nokkeltall.csv")
    rows = list(csv.reader(io.StringIO(data_csv.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert "Opphav" in rows[0]
    assert {r[rows[0].index("Opphav")] for r in rows[1:]} <= {"illustrerende", "publisert", "levert", ""}
