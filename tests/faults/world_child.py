"""Run `styringsdata` in a recorded world with faults: the bundled snapshots answer, chosen requests fail first.

    python tests/faults/world_child.py --faults FAULTS.json [--calls CALLS.json] -- run [args]

The pipeline's transport runs in live mode (so retries, Retry-After and backoff are the real code paths) over a
sender that answers from the snapshot directory, the way `STYRINGSDATA_SOURCE_MODE=replay` does, except for the
requests FAULTS.json names. Time is a FakeClock: a Retry-After is honoured without waiting. The source's clock
stands still at the snapshot's `recorded_at`, as in replay. CALLS.json receives every request and its status.

FAULTS.json is a list of rules, each matching one method and URL path (no query):
    {"method": "GET", "url": "https://data.ssb.no/api/pxwebapi/v2/tables/12143/metadata",
     "answers": [{"status": 503, "headers": {}, "body": ""}, ...],   # in order, one per request
     "then": "recorded" | "repeat",                                  # after the list: the recording, or the last again
     "table_updated": {"12143": "2026-09-01T05:00:00Z"}}             # or: the recorded SSB listing with these stamps
An answer with "body_file" answers that file's bytes.
"""

from __future__ import annotations

import argparse
import atexit
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from styringsdata.sources.transport import Request, Response, SnapshotStore, SourceMode, Transport  # noqa: E402
from tests.ingestion.fakes import FakeClock  # noqa: E402


class WorldSender:
    def __init__(self, store: SnapshotStore, rules: list[dict[str, Any]]) -> None:
        self.store = store
        self.rules = rules
        self.calls: list[dict[str, Any]] = []

    def __call__(self, request: Request, timeout: float) -> Response:
        response = self._answer(request)
        self.calls.append({"method": request.method, "url": request.url, "params": [list(p) for p in request.params],
                           "status": response.status})
        return response

    def _answer(self, request: Request) -> Response:
        for rule in self.rules:
            if rule["method"] == request.method and rule["url"] == request.url:
                answers = rule.get("answers") or []
                if answers:
                    answer = answers[0] if rule.get("then") == "repeat" and len(answers) == 1 else answers.pop(0)
                    body = Path(answer["body_file"]).read_bytes() if "body_file" in answer else \
                        answer.get("body", "").encode()
                    return Response(answer["status"], body, answer.get("headers", {}), request.full_url())
                if "table_updated" in rule:
                    return _with_updated(self.store.load(request), rule["table_updated"])
        return self.store.load(request)


def _with_updated(response: Response, stamps: dict[str, str]) -> Response:
    """SSB's listing of updated tables as recorded, with these tables published again at these times."""
    document = json.loads(response.body)
    entries = {entry["id"]: entry for entry in document["tables"]}
    for table_id, updated in stamps.items():
        if table_id in entries:
            entries[table_id]["updated"] = updated
        else:
            document["tables"].append({"type": "Table", "id": table_id, "label": f"{table_id}: table",
                                       "updated": updated, "category": "public",
                                       "source": "Statistisk sentralbyrå", "discontinued": False})
            document["page"]["totalElements"] += 1
    return Response(response.status, json.dumps(document).encode(), response.headers, response.url,
                    from_snapshot=True)


class WorldTransport(Transport):
    def now(self, host: str):
        assert self.store is not None
        return self.store.recorded_at(host)  # the recorded world does not move on, as in replay


def install(rules: list[dict[str, Any]], calls_path: Path | None) -> None:
    from styringsdata.defs import resources
    from styringsdata.runs import precheck

    clock = FakeClock()
    senders: list[WorldSender] = []

    def world(mode, snapshot_dir=None, **kwargs):
        sender = WorldSender(SnapshotStore(snapshot_dir), rules)
        senders.append(sender)
        return WorldTransport(SourceMode.LIVE, snapshot_dir, sender=sender, clock=clock,
                              rate_limits=kwargs.get("rate_limits"), timeout=kwargs.get("timeout", 60.0))

    resources.Transport = world
    precheck.Transport = world
    if calls_path is not None:
        atexit.register(lambda: calls_path.write_text(json.dumps(
            {"calls": [c for s in senders for c in s.calls], "sleeps": clock.sleeps}, indent=1), encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faults", required=True)
    parser.add_argument("--calls")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    install(json.loads(Path(args.faults).read_text(encoding="utf-8")), Path(args.calls) if args.calls else None)
    from styringsdata.cli import main as cli_main

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return cli_main(command)


if __name__ == "__main__":
    sys.exit(main())
