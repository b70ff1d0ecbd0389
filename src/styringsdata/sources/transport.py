"""The one HTTP transport every source client goes through.

It owns what all sources share: timeouts, retries with backoff on 429/5xx and
timeouts (honouring Retry-After), a client-side rate limiter, a User-Agent,
and record/replay against a snapshot directory.

Snapshot layout (documented in snapshots/README.md):

    <snapshot_dir>/<host>/<path>/<METHOD>-<key>.json
    <snapshot_dir>/<host>/recorded_at.json

where <key> is the first 16 hex digits of sha256 over the canonical request
(method, URL without query, sorted query pairs, canonical JSON body, and the
conditional headers If-None-Match / If-Modified-Since when sent). The file
holds the request (for humans and for the miss message) and the response:
status (304 included), the headers we use, and the body as text.
`recorded_at.json` says when the host was recorded: in replay the source's
clock stands still at that moment (`Transport.now`), so a question that
depends on the time ("tables updated in the past N days") is asked the same
way on every replay and finds its recorded answer.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

import requests

log = logging.getLogger(__name__)

USER_AGENT = "styringsdata/0.1 (+https://github.com/styringsdata; municipal indicator pipeline)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
KEPT_HEADERS = ("content-type", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-policy",
                "etag", "last-modified", "content-length")
# Headers that change the answer (a 304 instead of the body): part of the snapshot key when sent.
CONDITIONAL_HEADERS = ("if-none-match", "if-modified-since")
RECORDED_AT = "recorded_at.json"


class SourceMode(str, Enum):
    REPLAY = "replay"  # answer from the snapshot directory; never touch the network
    LIVE = "live"  # talk to the source
    RECORD = "record"  # talk to the source and write every response to the snapshot directory


class TransportError(RuntimeError):
    """A request that could not be answered; the message names the request.

    `request` is the request named (when there is one): a one-line failure names it without its body
    (`Request.describe(body=False)`, src/styringsdata/runs/source_outcomes.py), the log keeps the whole message.
    """

    def __init__(self, message: str, request: "Request | None" = None) -> None:
        super().__init__(message)
        self.request = request


class SourceUnreachable(TransportError):
    """The host could not be reached at all (DNS, refused, no route)."""


class ReplayMiss(TransportError):
    """Replay mode was asked for a request that no snapshot holds."""


class HttpError(TransportError):
    def __init__(self, message: str, response: "Response", request: "Request | None" = None) -> None:
        super().__init__(message, request)
        self.response = response


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    json_body: Any = None
    headers: tuple[tuple[str, str], ...] = ()

    def full_url(self) -> str:
        if not self.params:
            return self.url
        return f"{self.url}?{encode_query(self.params)}"

    def describe(self, body: bool = True) -> str:
        text = f"{self.method} {self.full_url()}"
        if body and self.json_body is not None:
            text += f" body={canonical_json(self.json_body)[:300]}"
        for name, value in self.conditions():
            text += f" {name}: {value}"
        return text

    def conditions(self) -> tuple[tuple[str, str], ...]:
        """The conditional headers sent (If-None-Match, If-Modified-Since), lower-cased and sorted."""
        return tuple(sorted((k.lower(), v) for k, v in self.headers if k.lower() in CONDITIONAL_HEADERS))


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    from_snapshot: bool = False

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    # SSB wants brackets and commas literal but '+' as %2B: a literal '+' in a
    # code would be read as a space and answered "Non-existent value".
    return "&".join(
        f"{urllib.parse.quote(k, safe='[]')}={urllib.parse.quote(v, safe=',()*:')}" for k, v in params
    )


def canonical_json(body: Any) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_key(request: Request) -> str:
    parts = [
        request.method.upper(),
        request.url,
        encode_query(sorted(request.params)),
        "" if request.json_body is None else canonical_json(request.json_body),
    ]
    # Only when sent, so every unconditional request keeps the key it always had.
    parts += [f"{name}: {value}" for name, value in request.conditions()]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


class Clock(Protocol):
    def now(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class RateLimiter:
    """Sliding window: at most `max_calls` in any `window` seconds.

    SSB counts per IP per minute, so a sliding window (not a token bucket that
    allows bursts) is what keeps us under its limit.
    """

    def __init__(self, max_calls: int, window: float, clock: Clock) -> None:
        if max_calls < 1 or window <= 0:
            raise ValueError(f"rate limit must be at least 1 call per positive window, got {max_calls}/{window}s")
        self.max_calls = max_calls
        self.window = window
        self.clock = clock
        self._calls: deque[float] = deque()
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        now = self.clock.now()
        while self._calls and now - self._calls[0] >= self.window:
            self._calls.popleft()
        if len(self._calls) >= self.max_calls:
            wait = self.window - (now - self._calls[0])
            self.waited_seconds += wait
            self.clock.sleep(wait)
            now = self.clock.now()
            self._calls.popleft()
        self._calls.append(now)


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_max: float = 120.0
    # Above this a Retry-After is not worth honouring inside one run.
    retry_after_max: float = 600.0

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


Sender = Callable[[Request, float], Response]


def requests_sender(session: requests.Session | None = None) -> Sender:
    session = session or requests.Session()

    def send(request: Request, timeout: float) -> Response:
        headers = dict(request.headers)
        headers.setdefault("User-Agent", USER_AGENT)
        url = request.full_url()
        if request.json_body is not None:
            raw = session.request(request.method, url, data=canonical_json(request.json_body).encode("utf-8"),
                                  headers={**headers, "Content-Type": "application/json"}, timeout=timeout)
        else:
            raw = session.request(request.method, url, headers=headers, timeout=timeout)
        return Response(status=raw.status_code, body=raw.content, url=url,
                        headers={k.lower(): v for k, v in raw.headers.items()})

    return send


class SnapshotStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, request: Request) -> Path:
        parsed = urllib.parse.urlsplit(request.url)
        parts = [p for p in parsed.path.split("/") if p]
        for part in parts + [parsed.netloc]:
            if part in (".", "..") or "\\" in part:
                raise TransportError(f"refusing to map request path segment {part!r} to the snapshot directory")
        return self.root.joinpath(parsed.netloc, *parts, f"{request.method.upper()}-{request_key(request)}.json")

    def load(self, request: Request) -> Response:
        path = self.path_for(request)
        if not path.exists():
            raise ReplayMiss(
                f"no recorded response for {request.describe()} (expected {path}); "
                "record it with STYRINGSDATA_SOURCE_MODE=record or run live"
            )
        stored = json.loads(path.read_text(encoding="utf-8"))
        response = stored["response"]
        body = (base64.b64decode(response["body_base64"]) if "body_base64" in response
                else response["body"].encode("utf-8"))
        return Response(status=response["status"], body=body,
                        headers=response.get("headers", {}), url=request.full_url(), from_snapshot=True)

    def recorded_at(self, host: str) -> dt.datetime | None:
        """When this host's answers were recorded; None for a snapshot that does not say."""
        path = self.root / host / RECORDED_AT
        try:
            text = json.loads(path.read_text(encoding="utf-8"))["recorded_at"]
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise TransportError(f"{path}: expected {{\"recorded_at\": \"<ISO-8601 time>\"}} ({exc})") from exc
        return parse_utc(text, str(path))

    def mark_recorded(self, host: str, moment: dt.datetime) -> None:
        path = self.root / host / RECORDED_AT
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"recorded_at": format_utc(moment)}) + "\n", encoding="utf-8")
        tmp.replace(path)

    def save(self, request: Request, response: Response) -> Path:
        path = self.path_for(request)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "request": {
                "method": request.method,
                "url": request.url,
                "params": [list(p) for p in request.params],
                "json": request.json_body,
                **({"headers": dict(request.conditions())} if request.conditions() else {}),
            },
            "response": {
                "status": response.status,
                "headers": {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS},
                **_body_field(response.body),
            },
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        return path


def parse_utc(text: str, where: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise TransportError(f"{where}: {text!r} is not an ISO-8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def format_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def system_utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _body_field(body: bytes) -> dict[str, str]:
    # Text stays readable in the snapshot; binary files (xlsx) are kept as base64.
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode("ascii")}


@dataclass
class TransportStats:
    requests: int = 0
    retries: int = 0
    slept_seconds: float = 0.0
    by_host: dict[str, int] = field(default_factory=dict)


# A source counts calls per client address, not per Transport: every transport of this process on the system
# clock shares one window per host and limit (the CLI's pre-check and the run it then starts stay within SSB's
# limit together).
_PROCESS_LIMITERS: dict[tuple[str, int, float], RateLimiter] = {}


def _process_limiter(host: str, max_calls: int, window: float) -> RateLimiter:
    key = (host, max_calls, window)
    if key not in _PROCESS_LIMITERS:
        _PROCESS_LIMITERS[key] = RateLimiter(max_calls, window, SystemClock())
    return _PROCESS_LIMITERS[key]


class Transport:
    def __init__(
        self,
        mode: SourceMode = SourceMode.REPLAY,
        snapshot_dir: Path | None = None,
        *,
        sender: Sender | None = None,
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        wall_clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.mode = SourceMode(mode)
        if self.mode in (SourceMode.REPLAY, SourceMode.RECORD) and snapshot_dir is None:
            raise ValueError(f"source mode {self.mode.value} needs a snapshot directory")
        self.store = SnapshotStore(snapshot_dir) if snapshot_dir is not None else None
        self.sender = sender or requests_sender()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.clock = clock or SystemClock()
        # Calendar time where the sources' answers depend on it; `clock` above only measures intervals.
        self.wall_clock = wall_clock or system_utc_now
        self._marked: set[str] = set()
        self.stats = TransportStats()
        self._limiters = {host: _process_limiter(host, n, w) if clock is None else RateLimiter(n, w, self.clock)
                          for host, (n, w) in (rate_limits or {}).items()}

    def now(self, host: str) -> dt.datetime | None:
        """The time on the source's side: the wall clock live; in replay the moment the host's snapshot was
        recorded (a recorded world does not move on), or None when the snapshot does not say."""
        if self.mode is SourceMode.REPLAY:
            assert self.store is not None
            return self.store.recorded_at(host)
        return self.wall_clock()

    def get(self, url: str, params: Sequence[tuple[str, str]] = (), headers: Mapping[str, str] | None = None) -> Response:
        return self.send(Request("GET", url, tuple(params), None, tuple((headers or {}).items())))

    def head(self, url: str, params: Sequence[tuple[str, str]] = (), headers: Mapping[str, str] | None = None) -> Response:
        return self.send(Request("HEAD", url, tuple(params), None, tuple((headers or {}).items())))

    def post(self, url: str, json_body: Any, params: Sequence[tuple[str, str]] = (),
             headers: Mapping[str, str] | None = None) -> Response:
        return self.send(Request("POST", url, tuple(params), json_body, tuple((headers or {}).items())))

    def send(self, request: Request) -> Response:
        host = urllib.parse.urlsplit(request.url).netloc
        self.stats.requests += 1
        self.stats.by_host[host] = self.stats.by_host.get(host, 0) + 1
        if self.mode is SourceMode.REPLAY:
            assert self.store is not None
            response = self.store.load(request)
            return self._check(request, response)
        response = self._send_with_retries(request, host)
        if not response.url:  # senders other than requests_sender may leave it out; error messages need it
            response = dataclasses.replace(response, url=request.full_url())
        if self.mode is SourceMode.RECORD:
            assert self.store is not None
            self.store.save(request, response)
            if host not in self._marked:  # the moment this recording of the host began
                self.store.mark_recorded(host, self.wall_clock())
                self._marked.add(host)
        return self._check(request, response)

    def _send_with_retries(self, request: Request, host: str) -> Response:
        limiter = self._limiters.get(host)
        last_problem = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            if limiter is not None:
                limiter.acquire()
            try:
                response = self.sender(request, self.timeout)
            except requests.exceptions.ConnectionError as exc:
                if _is_unreachable(exc):
                    raise SourceUnreachable(
                        f"cannot reach {host} for {request.describe()}: {exc.__class__.__name__}. "
                        "Without network, run offline from the bundled snapshots: "
                        "`styringsdata run` (STYRINGSDATA_SOURCE_MODE=replay)", request
                    ) from exc
                last_problem = f"connection error: {exc}"
                wait = self.retry.backoff(attempt)
            except requests.exceptions.Timeout as exc:
                last_problem = f"timeout after {self.timeout}s: {exc.__class__.__name__}"
                wait = self.retry.backoff(attempt)
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                # The status line arrived but the body was cut off (connection reset, fewer bytes than
                # Content-Length): requests raises these, which are not ConnectionErrors.
                last_problem = f"body cut off: {exc}"
                wait = self.retry.backoff(attempt)
            else:
                if response.status not in RETRY_STATUSES:
                    return response
                last_problem = f"HTTP {response.status}"
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if retry_after is not None and retry_after > self.retry.retry_after_max:
                    raise HttpError(
                        f"{request.describe()} answered {response.status} with Retry-After {retry_after:.0f}s, "
                        f"longer than the {self.retry.retry_after_max:.0f}s we wait in one run", response, request)
                wait = retry_after if retry_after is not None else self.retry.backoff(attempt)
                if attempt == self.retry.max_attempts:
                    return response
            if attempt < self.retry.max_attempts:
                log.warning("%s: %s; retry %d/%d in %.1fs", request.describe(), last_problem, attempt,
                            self.retry.max_attempts - 1, wait)
                self.stats.retries += 1
                self.stats.slept_seconds += wait
                self.clock.sleep(wait)
        raise TransportError(f"{request.describe()} failed after {self.retry.max_attempts} attempts: {last_problem}",
                             request)

    def _check(self, request: Request, response: Response) -> Response:
        if 200 <= response.status < 300:
            return response
        if response.status == 304 and request.conditions():
            return response  # Not Modified: the answer a conditional request asks for, not an error
        detail = _error_detail(response)
        raise HttpError(f"{request.describe()} answered HTTP {response.status}{detail}", response, request)


def _error_detail(response: Response) -> str:
    if not response.body:
        return " with an empty body"
    try:
        body = json.loads(response.body)
    except ValueError:
        return f": {response.text[:200]!r}"
    if isinstance(body, dict) and ("title" in body or "type" in body):
        return f": {body.get('type', '')}: {body.get('title', '')}".rstrip(": ")
    return f": {response.text[:200]!r}"


def _is_unreachable(exc: Exception) -> bool:
    text = repr(exc)
    markers = ("NameResolutionError", "Failed to resolve", "Name or service not known", "Temporary failure in name",
               "Connection refused", "No route to host", "Network is unreachable", "nodename nor servname")
    return any(m in text for m in markers)
