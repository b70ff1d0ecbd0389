"""The one-line failure of a source (`styringsdata: source failed: …`, raw.source_attempts, the marts' note) names
the method, the URL, the status and the source's own message, never the request body (issue 21: an FHI failure
line carried the whole POST body, 40 region codes and 8 years of it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from styringsdata.runs.source_outcomes import failure_of
from styringsdata.sources.fhi import FhiClient
from styringsdata.sources.transport import HttpError, Response, SourceMode, Transport, TransportError
from tests.ingestion.fakes import FakeClock, ScriptedSender

ROOT = Path(__file__).resolve().parents[2]
FHI_DATA = "https://statistikk-data.fhi.no/api/open/v1/nokkel/Table/173/data"
# FHI Statistikk's open API is an ASP.NET Core service (its Swagger UI: statistikk-data.fhi.no/swagger), and
# ASP.NET Core answers errors as RFC 9457 problem details (type, title, status, traceId). The reference
# (../shared/reference/sources.md §6.2) holds no recorded FHI error body: this is that shape for a 503, not a
# recording.
FHI_503 = Response(503, json.dumps({
    "type": "https://tools.ietf.org/html/rfc9110#section-15.6.4", "title": "Service Unavailable", "status": 503,
    "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}).encode(),
    {"content-type": "application/problem+json; charset=utf-8"}, FHI_DATA)


def recorded_body() -> dict:
    """The request body the run sends for table 173: every ASSS member's codes, old ones too, and eight years."""
    path = next((ROOT / "snapshots" / "statistikk-data.fhi.no/api/open/v1/nokkel/Table/173/data").glob("POST-*.json"))
    return json.loads(path.read_text(encoding="utf-8"))["request"]["json"]


def failing(answers: list) -> tuple[BaseException, ScriptedSender]:
    sender = ScriptedSender(answers)
    client = FhiClient(Transport(SourceMode.LIVE, sender=sender, clock=FakeClock()))
    with pytest.raises(TransportError) as caught:
        client.data("nokkel", "173", recorded_body())
    return caught.value, sender


def test_an_fhi_503_line_has_method_url_status_and_fhis_message_but_not_the_body():
    exc, sender = failing([FHI_503] * 5)
    assert isinstance(exc, HttpError) and len(sender.calls) == 5  # retried, then given up
    assert '"dimensions"' in str(exc)  # the log keeps the whole request
    line = failure_of("FHI", "173", exc).line()
    assert line.startswith(f"FHI table 173: HttpError: POST {FHI_DATA} answered HTTP 503"), line
    assert "Service Unavailable" in line and "try again later" in line, line
    for body_part in ("body=", "dimensions", "3203", "2021_2021", "maxRowCount"):
        assert body_part not in line, f"{body_part!r} in {line!r}"


def test_a_source_that_gives_up_after_retries_loses_the_body_too():
    # a timeout on every attempt: TransportError "… failed after 5 attempts", built from the same request
    import requests

    exc, _ = failing([requests.exceptions.ReadTimeout("read timed out")] * 5)
    line = failure_of("FHI", "173", exc).line()
    assert f"POST {FHI_DATA}" in line and "failed after 5 attempts" in line and "timeout" in line, line
    assert "body=" not in line and "dimensions" not in line, line


def test_a_wrapped_transport_error_loses_the_body_too():
    exc, _ = failing([FHI_503] * 5)
    try:
        raise ValueError(f"FHI table 173: {exc}") from exc  # as a source module wraps what the transport raised
    except ValueError as wrapped:
        line = failure_of("FHI", "173", wrapped).line()
    assert "body=" not in line and "dimensions" not in line and f"POST {FHI_DATA}" in line, line
