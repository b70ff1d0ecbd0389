"""Run `publish()` in a child process the fault tests can SIGKILL.

    python -m tests.faults.publish_child WORK WAREHOUSE PARQUET [--kill-at N] [--kill-when before|after]
                                                              [--lock-wait S] [--hold-work S]

--kill-at N: the process kills itself with SIGKILL at the N-th file-system rename or link the publish
makes (os.link, os.replace, os.rename), before or after that call: deterministic crash points.
--hold-work S: instead of publishing, open WORK for writing and hold it S seconds (a second writer).
Prints "ready" on stdout just before it starts, so the parent can time a kill.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from tests.faults.publishing import MARTS


def arm(kill_at: int, when: str) -> None:
    calls = {"n": 0}

    def wrap(function):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == kill_at and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = function(*args, **kwargs)
            if calls["n"] == kill_at and when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapped

    os.link, os.replace, os.rename = wrap(os.link), wrap(os.replace), wrap(os.rename)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("work")
    parser.add_argument("warehouse")
    parser.add_argument("parquet")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--kill-when", default="before")
    parser.add_argument("--lock-wait", type=float, default=0.0)
    parser.add_argument("--hold-work", type=float)
    args = parser.parse_args()
    import duckdb

    from styringsdata.publishing.publish import publish

    if args.hold_work is not None:
        con = duckdb.connect(args.work)
        print("ready", flush=True)
        time.sleep(args.hold_work)
        con.close()
        return 0
    if args.kill_at:
        arm(args.kill_at, args.kill_when)
    print("ready", flush=True)
    publication = publish(Path(args.work), Path(args.warehouse), Path(args.parquet), MARTS, lock_wait=args.lock_wait)
    print(f"published {publication.tables}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
