"""`styringsdata doctor` against snapshots: the bundled ones (all ok, exit 0) and doctored ones, recorded from fakes
of SSB, KLASS, FHI and Miljødirektoratet with one fault each (a table gone, a code gone, a non-eliminable dimension
the configuration leaves out, an unknown period format, the workbook URL serving HTML)."""

from __future__ import annotations

from pathlib import Path

import pytest

from styringsdata.sources.doctor import run_doctor
from snapshots.fakes.fake_fhi import FakeFhiDimension
from snapshots.fakes.fake_ssb import FakeDimension
from styringsdata.sources.transport import SourceMode, Transport

import snapshots.build as build

ROOT = Path(__file__).resolve().parents[2]


def doctored_world():
    """The bundled snapshot's fakes, each with one thing the configuration no longer matches."""
    from styringsdata.sources import miljodirektoratet

    ssb = build.fake_ssb()
    del ssb.tables["13502"]  # the table is gone
    care = ssb.tables["12209"].dimension("ContentsCode")  # KVEL11's code renamed, its label kept
    care.categories = [(c, label) if c != "KOShjtj80aarover0001" else ("KOShjtj80aarover0002", label)
                       for c, label in care.categories]
    care.units["KOShjtj80aarover0002"] = care.units.pop("KOShjtj80aarover0001")
    finance = ssb.tables["12143"]  # a regnskapsomfang dimension SSB will not eliminate
    finance.dimensions.insert(1, FakeDimension("KOKregnskapsomfa0000", "regnskapsomfang",
                                               [("A", "Kommunekonsern"), ("B", "Kommunekasse")], elimination=False))
    urban = ssb.tables["04861"].dimension("Tid")  # a period in a shape the model does not know
    urban.categories = list(urban.categories) + [("2025M01", "2025M01")]

    fhi = build.fake_fhi()
    school = fhi.tables["360"]  # a dimension the configuration does not pin
    school.dimensions = list(school.dimensions) + [FakeFhiDimension("SKOLETYPE", "Skoletype", [("0", "alle")])]
    neet = fhi.tables["809"].dimension("ALDER")  # the pinned band is gone
    neet.categories = [(c, label) for c, label in neet.categories if c != "15_29"]
    fhi.listed_only = [(601, "Drikkevann, hygienisk kvalitet"), (602, "Vaksinasjon, meslinger 9 år")]
    del fhi.tables["173"]  # no longer in the table list

    workbook = build.FileHost(miljodirektoratet.DOWNLOAD_URL, b"<html>Side for feilmelding</html>", "text/html")
    return build.HostSender({"data.ssb.no": ssb, "statistikk-data.fhi.no": fhi, "www.miljodirektoratet.no": workbook})


@pytest.fixture(scope="module")
def doctored_snapshots(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("doctored")
    run_doctor(Transport(SourceMode.RECORD, directory, sender=doctored_world()))
    return directory


def by_series(report):
    return {(r.source, r.series): r for r in report.rows}


def test_every_verdict_on_doctored_snapshots(doctored_snapshots):
    report = run_doctor(Transport(SourceMode.REPLAY, doctored_snapshots))
    rows = by_series(report)
    assert rows[("SSB", "KOPP04")].verdict == "table missing"
    kvel11 = rows[("SSB", "KVEL11")]
    assert (kvel11.verdict, kvel11.variable, kvel11.code) == ("code missing", "ContentsCode", "KOShjtj80aarover0001")
    assert kvel11.suggestions[0] == "KOShjtj80aarover0002 'Andel innbyggere 80 år og over som bruker hjemmetjenester'"
    assert rows[("SSB", "over80_institution_pct")].verdict == "ok"  # the table's other series are unaffected
    finance = rows[("SSB", "net_operating_result_pct")]
    assert (finance.verdict, finance.variable) == ("dimension not selected", "KOKregnskapsomfa0000")
    assert finance.suggestions == ("A 'Kommunekonsern'", "B 'Kommunekasse'")
    urban = rows[("SSB", "urban_area_km2")]
    assert (urban.verdict, urban.code) == ("period format", "2025M01")
    assert rows[("FHI", "UTD10")].verdict == "dimension not selected" and rows[("FHI", "UTD10")].variable == "SKOLETYPE"
    neet = rows[("FHI", "UTD16")]
    assert (neet.verdict, neet.variable, neet.code) == ("code missing", "ALDER", "15_29")
    assert neet.suggestions and all(s.split()[0] in ("15_19", "20_24", "25_29") for s in neet.suggestions)
    vaccination = rows[("FHI", "HEL01")]
    assert vaccination.verdict == "table missing"
    assert vaccination.suggestions == ("602 'Vaksinasjon, meslinger 9 år'",)  # FHI's table list, by title
    assert rows[("Miljødirektoratet", "KLI01")].verdict == "table missing"
    assert {r.verdict for r in report.rows} == {"ok", "table missing", "code missing", "dimension not selected",
                                                "period format"}
    assert report.exit_code() == 1
    drinking_water = next(u for u in report.unmapped if u.figure == "BYS06")
    assert drinking_water.candidates == ("601 'Drikkevann, hygienisk kvalitet'",)


def test_the_cli_prints_the_table_and_exits_1_on_doctored_snapshots(doctored_snapshots, monkeypatch, capsys):
    from styringsdata.cli import main

    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(doctored_snapshots))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "SSB                13502             KOPP04" in out and "table missing" in out
    assert "nearest: KOShjtj80aarover0002 'Andel innbyggere 80 år og over som bruker hjemmetjenester'" in out
    assert "KOKregnskapsomfa0000 (regnskapsomfang) cannot be eliminated and no code is pinned" in out


def test_the_bundled_snapshots_are_all_ok(monkeypatch, capsys):
    from styringsdata.cli import main

    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(ROOT / "snapshots"))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "63 series checked: 63 ok" in out  # 58 and the macro group's KG31, 56, KG25, AGD86 (12143) and 12134
    assert "SSB KSAM03 [source unknown, grade A]" in out  # a known gap is listed, not a failure
    assert "FHI HEL09 [source unknown, grade -]" in out
    assert "Evidence grades of the 60 SSB and FHI series: A 31, B 10, C 15, live 0, - (unknown) 4" in out


def test_doctor_lists_every_udir_series_with_its_route_and_what_is_bundled(monkeypatch, capsys):
    from styringsdata.sources.udir import SERIES
    from styringsdata.cli import main

    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(ROOT / "snapshots"))
    assert main(["doctor"]) == 0  # a file route is listed, never a failure
    out = capsys.readouterr().out
    udir = out.split("Udir (a file route", 1)[1].split("Without a known table", 1)[0]
    assert "UTD04      148 Elevundersøkelsen grunnskole, Trivsel" in udir and "file route" in udir
    assert "UTD02: data/inbox/udir; 3 bundled figure(s)" in udir
    assert "UTD11: delivered through the registry until Udir's export is known" in udir
    assert {line.split()[0] for line in udir.splitlines()[3:] if line and not line.startswith(" ")} == \
        {s.indicator_id for s in SERIES}


def test_doctor_reads_metadata_only(doctored_snapshots):
    requests = []

    class Spy:
        def __init__(self, inner):
            self.inner = inner

        def __call__(self, request, timeout):
            requests.append(request)
            return self.inner(request, timeout)

    run_doctor(Transport(SourceMode.LIVE, sender=Spy(doctored_world())))
    assert requests and not [r for r in requests if r.url.endswith("/data") or r.method == "POST"]
    assert not [r for r in requests if r.method == "GET" and "miljodirektoratet" in r.url]  # a HEAD, never the file
