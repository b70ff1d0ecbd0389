from __future__ import annotations

import json

import pytest
import requests

from styringsdata.sources.transport import (
    HttpError,
    RateLimiter,
    ReplayMiss,
    Response,
    RetryPolicy,
    SourceMode,
    SourceUnreachable,
    Transport,
    TransportError,
    encode_query,
)
from tests.ingestion.fakes import FakeClock, ScriptedSender

URL = "https://data.ssb.no/api/pxwebapi/v2/tables/12143"
OK = Response(200, b'{"updated": "2026-06-15T06:00:00Z"}', {"content-type": "application/json"})


def live(answers, clock=None, **kwargs) -> tuple[Transport, ScriptedSender, FakeClock]:
    clock = clock or FakeClock()
    sender = ScriptedSender(answers)
    return Transport(SourceMode.LIVE, sender=sender, clock=clock, **kwargs), sender, clock


def test_429_with_retry_after_is_honoured_without_real_sleep():
    transport, sender, clock = live([Response(429, b"", {"retry-after": "17"}), OK])
    assert transport.get(URL).json()["updated"].startswith("2026")
    assert clock.sleeps == [17.0]
    assert len(sender.calls) == 2


def test_429_without_retry_after_backs_off_exponentially():
    transport, _, clock = live([Response(429, b"", {}), Response(503, b"", {}), OK],
                               retry=RetryPolicy(backoff_base=2.0))
    transport.get(URL)
    assert clock.sleeps == [2.0, 4.0]


def test_timeouts_are_retried_then_reported_with_the_request():
    transport, _, _ = live([requests.exceptions.ReadTimeout("slow")] * 3, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(TransportError, match=r"GET https://data.ssb.no/.*failed after 3 attempts: timeout"):
        transport.get(URL)


def test_persistent_503_ends_as_http_error_naming_status():
    transport, _, _ = live([Response(503, b"", {})] * 2, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(HttpError, match="HTTP 503 with an empty body"):
        transport.get(URL)


def test_retry_after_beyond_limit_fails_fast():
    transport, sender, _ = live([Response(429, b"", {"retry-after": "3600"})])
    with pytest.raises(HttpError, match="Retry-After 3600s"):
        transport.get(URL)
    assert len(sender.calls) == 1


def test_unreachable_host_names_host_and_offline_mode():
    error = requests.exceptions.ConnectionError("NameResolutionError: Failed to resolve 'data.ssb.no'")
    transport, _, _ = live([error])
    with pytest.raises(SourceUnreachable, match=r"cannot reach data.ssb.no .*styringsdata run"):
        transport.get(URL)


def test_ssb_error_body_is_in_the_message():
    body = json.dumps({"type": "Parameter error", "title": "Non-existent value", "status": 400}).encode()
    transport, _, _ = live([Response(400, body, {})])
    with pytest.raises(HttpError, match="HTTP 400: Parameter error: Non-existent value"):
        transport.get(URL)


def test_rate_limiter_is_a_sliding_window():
    clock = FakeClock()
    limiter = RateLimiter(30, 60.0, clock)
    for _ in range(30):
        limiter.acquire()
    assert clock.sleeps == []
    limiter.acquire()  # the 31st call within the minute waits for the first to leave the window
    assert clock.sleeps == [60.0]
    for _ in range(29):
        limiter.acquire()
    assert sum(clock.sleeps) == 60.0


def test_transport_applies_the_limit_per_host():
    transport, _, clock = live([OK] * 4, rate_limits={"data.ssb.no": (2, 60.0)})
    for _ in range(4):
        transport.get(URL)
    assert clock.sleeps == [60.0]


def test_record_then_replay_round_trip(tmp_path):
    recorder = Transport(SourceMode.RECORD, tmp_path, sender=ScriptedSender([OK]), clock=FakeClock())
    recorder.get(URL, [("lang", "no")])
    replay = Transport(SourceMode.REPLAY, tmp_path)
    assert replay.get(URL, [("lang", "no")]).body == OK.body
    files = list(tmp_path.rglob("GET-*.json"))
    assert len(files) == 1 and files[0].relative_to(tmp_path).parts[0] == "data.ssb.no"


def test_replay_miss_is_loud_and_names_the_request(tmp_path):
    replay = Transport(SourceMode.REPLAY, tmp_path)
    with pytest.raises(ReplayMiss, match=r"no recorded response for GET https://data.ssb.no/.*lang=en"):
        replay.get(URL, [("lang", "en")])


def test_replay_never_calls_the_sender(tmp_path):
    def refuse(request, timeout):
        raise AssertionError("network used in replay mode")

    replay = Transport(SourceMode.REPLAY, tmp_path, sender=refuse)
    with pytest.raises(ReplayMiss):
        replay.get(URL)


def test_plus_is_sent_as_percent_2b_and_brackets_stay_literal():
    assert encode_query([("valueCodes[Alder]", "105+,15-74")]) == "valueCodes[Alder]=105%2B,15-74"


def test_snapshot_paths_refuse_traversal(tmp_path):
    replay = Transport(SourceMode.REPLAY, tmp_path)
    with pytest.raises(TransportError, match="refusing"):
        replay.get("https://data.ssb.no/api/../../etc/passwd")


# -- conditional requests, HEAD and the source's clock (issue 17) -----------------------------------

WORKBOOK = "https://www.miljodirektoratet.no/sharepoint/downloaditem/?id=X"


def test_conditional_headers_are_part_of_the_snapshot_key_and_nothing_else_changes():
    from styringsdata.sources.transport import Request, request_key

    plain = Request("GET", WORKBOOK, ())
    assert request_key(plain) == request_key(Request("GET", WORKBOOK, (), None, (("User-Agent", "x"),)))
    conditional = Request("GET", WORKBOOK, (), None, (("If-None-Match", '"abc"'),))
    assert request_key(conditional) != request_key(plain)
    assert request_key(conditional) != request_key(Request("GET", WORKBOOK, (), None, (("If-None-Match", '"abd"'),)))
    # case of the header name does not matter, as in HTTP
    assert request_key(conditional) == request_key(Request("GET", WORKBOOK, (), None, (("if-none-match", '"abc"'),)))


def test_304_answers_a_conditional_request_and_is_an_error_for_any_other():
    not_modified = Response(304, b"", {"etag": '"abc"'})
    transport, _, _ = live([not_modified])
    assert transport.get(WORKBOOK, headers={"If-None-Match": '"abc"'}).status == 304
    transport, _, _ = live([not_modified])
    with pytest.raises(HttpError, match="answered HTTP 304"):
        transport.get(WORKBOOK)


def test_head_and_304_are_recorded_and_replayed_with_their_validators(tmp_path):
    sender = ScriptedSender([Response(200, b"", {"etag": '"abc"', "last-modified": "Sun, 01 Feb 2026 08:00:00 GMT",
                                                 "content-length": "29253", "set-cookie": "x"}),
                             Response(304, b"", {"etag": '"abc"'})])
    recorder = Transport(SourceMode.RECORD, tmp_path, sender=sender, clock=FakeClock())
    recorder.head(WORKBOOK)
    recorder.get(WORKBOOK, headers={"If-None-Match": '"abc"'})
    replay = Transport(SourceMode.REPLAY, tmp_path)
    head = replay.head(WORKBOOK)
    assert (head.status, head.headers) == (200, {"etag": '"abc"', "last-modified": "Sun, 01 Feb 2026 08:00:00 GMT",
                                                  "content-length": "29253"})  # what we use, no cookies
    assert replay.get(WORKBOOK, headers={"If-None-Match": '"abc"'}).status == 304
    with pytest.raises(ReplayMiss, match=r'If-None-Match: "abd"|if-none-match: "abd"'):
        replay.get(WORKBOOK, headers={"If-None-Match": '"abd"'})


def test_in_replay_the_sources_clock_stands_at_the_recording(tmp_path):
    import datetime as dt

    moment = dt.datetime(2026, 9, 1, 6, 0, tzinfo=dt.timezone.utc)
    recorder = Transport(SourceMode.RECORD, tmp_path, sender=ScriptedSender([OK]), clock=FakeClock(),
                         wall_clock=lambda: moment)
    assert recorder.now("data.ssb.no") == moment
    recorder.get(URL)
    replay = Transport(SourceMode.REPLAY, tmp_path)
    assert replay.now("data.ssb.no") == moment
    assert replay.now("statistikk-data.fhi.no") is None  # nothing recorded for it: unknown, not guessed
    (tmp_path / "data.ssb.no" / "recorded_at.json").write_text("{}")
    with pytest.raises(TransportError, match=r"recorded_at.json: expected"):
        replay.now("data.ssb.no")
