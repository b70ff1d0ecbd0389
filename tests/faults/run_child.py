"""Run `styringsdata` in this process and SIGKILL it at a chosen function: a real kill at a known point.

    python -m tests.faults.run_child --kill-in MODULE:ATTRIBUTE [--when before|after] -- run [args]

The attribute is replaced before the command starts; the process kills itself with SIGKILL when it is
called (before the call, or after it returned). Prints "killing at MODULE:ATTRIBUTE" first, so the test
can tell the kill happened where it meant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys



def arm(target: str, when: str) -> None:
    module_name, attribute = target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attribute)
    # the process's stdout as the test sees it: during a run, `styringsdata run` points fd 1 at the run's log file
    console = os.fdopen(os.dup(1), "w")

    def die() -> None:
        console.write(f"killing at {target}\n")
        console.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def wrapped(*args, **kwargs):
        if when == "before":
            die()
        result = original(*args, **kwargs)
        if when == "after":
            die()
        return result

    setattr(module, attribute, wrapped)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-in", required=True)
    parser.add_argument("--when", choices=("before", "after"), default="before")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    arm(args.kill_in, args.when)
    from styringsdata.cli import main as cli_main

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return cli_main(command)


if __name__ == "__main__":
    sys.exit(main())
