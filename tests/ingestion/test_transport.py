from __future__ import annotations

import json

import pytest
import requests

from ingestion.transport import (
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
