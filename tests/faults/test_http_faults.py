"""HTTP faults while SSB publishes a new vintage of a table we already hold.

For each fault: the error names the request (method and URL) and what went wrong; nothing of the
new vintage is landed or loaded (no half vintage, no `.incomplete-*` left); the vintage we had stays
in the landing zone and in raw, untouched; the next run, with the source healthy again, fetches
and loads the new vintage without any manual step.

The transport's own retry tests (tests/ingestion/test_transport.py) cover single requests; these run
the whole table refresh. The last two tests send real HTTP through `requests` to a socket on
127.0.0.1 that cuts or resets the answer: no network is involved.
"""

from __future__ import annotations

import socket
import struct
import threading

import pytest
import requests

from styringsdata.raw.raw_store import load_ssb_vintage
from styringsdata.sources.transport import (
    HttpError,
    Response,
    RetryPolicy,
    SourceMode,
    Transport,
    TransportError,
    requests_sender,
)
from tests.faults.sources import SSB_DATA_URL, ssb_world
from tests.ingestion.fakes import FakeClock

RESET = requests.exceptions.ConnectionError(
    "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
CUT_BODY = requests.exceptions.ChunkedEncodingError(
    "('Connection broken: IncompleteRead(18 bytes read, 982 more expected)')")
TIMEOUT = requests.exceptions.ReadTimeout("HTTPSConnectionPool(host='data.ssb.no', port=443): Read timed out.")

PERSISTENT = {
    "429 without Retry-After": ([Response(429, b"", {})] * 3, HttpError, r"answered HTTP 429 with an empty body"),
    "429 with Retry-After too long": ([Response(429, b"", {"retry-after": "3600"})], HttpError,
                                      r"answered 429 with Retry-After 3600s, longer than the 600s"),
    "503": ([Response(503, b"", {})] * 3, HttpError, r"answered HTTP 503 with an empty body"),
    "503 with a body": ([Response(503, b"<html>Service Unavailable</html>", {})] * 3, HttpError,
                        r"answered HTTP 503: '<html>Service Unavailable</html>'"),
    "timeout": ([TIMEOUT] * 3, TransportError, r"failed after 3 attempts: timeout after 60.0s: ReadTimeout"),
    "connection reset": ([RESET] * 3, TransportError,
                         r"failed after 3 attempts: connection error: .*Connection reset by peer"),
    "body cut off": ([CUT_BODY] * 3, TransportError, r"failed after 3 attempts: body cut off: .*IncompleteRead"),
}


@pytest.mark.parametrize("fault", list(PERSISTENT))
def test_a_persistent_fault_fails_the_table_naming_the_request_and_keeps_what_we_had(tmp_path, fault):
    answers, error, message = PERSISTENT[fault]
    world = ssb_world(tmp_path)
    before = world.raw_state()
    client, sender, _ = world.client({"/data": answers})
    with pytest.raises(error, match=rf"GET {SSB_DATA_URL}\?lang=no&outputFormat=json-stat2&valueCodes.* {message}"):
        world.refresh(client)
    assert world.landing.vintages("ssb", "99999") == [world.first_vintage]
    assert world.incomplete_dirs() == []
    assert world.raw_state() == before
    # The next run, with SSB healthy again, gets the new vintage with no manual step.
    healthy, _, _ = world.client()
    result = world.refresh(healthy)
    assert result.changed and load_ssb_vintage(world.con, result.landing_path).rows == 9
    assert world.landing.vintages("ssb", "99999") == [world.first_vintage, result.vintage]


@pytest.mark.parametrize("answer, sleeps", [
    pytest.param(Response(429, b"", {"retry-after": "17"}), [17.0], id="429 with Retry-After"),
    pytest.param(Response(429, b"", {}), [2.0], id="429 without Retry-After"),
    pytest.param(Response(503, b"", {}), [2.0], id="503"),
    pytest.param(Response(502, b"<html>Bad Gateway</html>", {}), [2.0], id="502 from a proxy"),
    pytest.param(TIMEOUT, [2.0], id="timeout"),
    pytest.param(RESET, [2.0], id="connection reset"),
    pytest.param(CUT_BODY, [2.0], id="body cut off"),
])
def test_a_passing_fault_is_retried_and_the_vintage_lands_whole(tmp_path, answer, sleeps):
    world = ssb_world(tmp_path)
    client, sender, clock = world.client({"/data": [answer]})
    result = world.refresh(client)
    assert clock.sleeps == sleeps  # Retry-After honoured, else exponential backoff (FakeClock: no real wait)
    assert [r.url for r in sender.calls].count(SSB_DATA_URL) == 2
    assert result.changed and load_ssb_vintage(world.con, result.landing_path).rows == 9
    assert world.incomplete_dirs() == []


def test_faults_on_table_info_and_metadata_fail_before_anything_is_fetched(tmp_path):
    world = ssb_world(tmp_path)
    before = world.raw_state()
    for suffix, url in (("/tables/99999", "https://data.ssb.no/api/pxwebapi/v2/tables/99999"),
                        ("/metadata", "https://data.ssb.no/api/pxwebapi/v2/tables/99999/metadata")):
        client, sender, _ = world.client({suffix: [Response(503, b"", {})] * 3})
        with pytest.raises(HttpError, match=rf"GET {url}\?lang=no answered HTTP 503"):
            world.refresh(client)
        assert not [r for r in sender.calls if r.url == SSB_DATA_URL]
    assert world.landing.vintages("ssb", "99999") == [world.first_vintage] and world.raw_state() == before


# -- real HTTP through requests, on loopback ------------------------------------------------------

class LoopbackServer:
    """Answers each connection with the next scripted behaviour: 'cut' (Content-Length larger than the
    body, then close), 'reset' (RST after the headers), 'reset-at-once' (RST before any byte), or 'ok'."""

    BODY = b'{"updated": "2026-06-15T06:00:00Z", "label": "99999: Test table"}'

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/pxwebapi/v2/tables/99999"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for behaviour in self.script:
            conn, _ = self.sock.accept()
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            if behaviour == "ok":
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(self.BODY) + self.BODY)
            elif behaviour == "cut":
                conn.sendall(head + b"Content-Length: 1000\r\n\r\n" + self.BODY[:20])
            elif behaviour in ("reset", "reset-at-once"):
                if behaviour == "reset":
                    conn.sendall(head + b"Content-Length: 1000\r\n\r\n" + self.BODY[:20])
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        self.sock.close()


def loopback_transport(attempts: int) -> tuple[Transport, FakeClock]:
    clock = FakeClock()
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: straight to 127.0.0.1
    return Transport(SourceMode.LIVE, sender=requests_sender(session), clock=clock, timeout=5,
                     retry=RetryPolicy(max_attempts=attempts)), clock


def test_real_http_cut_and_reset_answers_are_retried_until_a_whole_one_arrives():
    server = LoopbackServer(["cut", "reset", "reset-at-once", "ok"])
    transport, clock = loopback_transport(attempts=4)
    response = transport.get(server.url)
    assert response.json()["updated"] == "2026-06-15T06:00:00Z"
    assert clock.sleeps == [2.0, 4.0, 8.0] and transport.stats.retries == 3


def test_real_http_answers_cut_every_time_end_in_an_error_naming_the_url():
    server = LoopbackServer(["cut", "reset"])
    transport, _ = loopback_transport(attempts=2)
    with pytest.raises(TransportError, match=rf"GET {server.url} failed after 2 attempts: body cut off: "
                                             r".*Connection broken: ConnectionResetError"):
        transport.get(server.url)
