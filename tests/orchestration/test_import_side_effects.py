"""Importing a module does no work: no subprocess, no network, no file written, no environment variable set.

Every module of src/styringsdata/ is imported in a fresh interpreter whose audit hook
(PEP 578) refuses, and records, each process start, socket connection, file opened for writing, file created,
moved or removed, and environment change that our code causes, naming the module whose import did it. What a
third-party package does while it is itself being imported (numpy sets OPENBLAS_MAIN_FREE) is not ours to
change and is let through: the innermost module-level frame on the stack decides whose import it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from styringsdata.defs.dbt import ensure_manifest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "styringsdata"

CHILD = r"""
import json, os, sys

OURS = os.path.abspath(sys.argv[1]) + os.sep  # the folder whose code is audited; the modules follow it
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
REFUSED = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
           "socket.connect", "socket.getaddrinfo", "os.putenv", "os.unsetenv", "os.remove", "os.rename",
           "os.mkdir", "os.rmdir", "os.truncate", "os.symlink", "os.link", "shutil.copyfile", "shutil.rmtree")
importing = [None]
found = {}


def caused_by_our_code():
    frame = sys._getframe(2)
    while frame is not None:
        ours = frame.f_code.co_filename.startswith(OURS)
        if ours or frame.f_code.co_name == "<module>":
            return ours
        frame = frame.f_back
    return False


def hook(event, args):
    if importing[0] is None:
        return
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                 (mode is None and isinstance(flags, int) and flags & WRITE_FLAGS)
        if not writes:
            return
    elif not event.startswith(REFUSED):
        return
    if not caused_by_our_code():
        return
    found.setdefault(importing[0], []).append(f"{event} {args!r}"[:300])
    raise PermissionError(f"{event} while importing {importing[0]}")


sys.dont_write_bytecode = True
environ = dict(os.environ)
sys.addaudithook(hook)
errors = {}
for name in sys.argv[2:]:
    importing[0] = name
    try:
        __import__(name)
    except BaseException as exc:  # an import that failed because a refused effect was raised, or otherwise
        errors[name] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        importing[0] = None
changed = sorted(k for k in set(environ) | set(os.environ) if environ.get(k) != os.environ.get(k))
print(json.dumps({"effects": found, "errors": errors, "environment_changed": changed}))
"""


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_importing_any_module_runs_no_process_and_writes_nothing():
    ensure_manifest()  # what building the Definitions does first; importing must not need to
    names = modules()
    assert "styringsdata.defs.dbt" in names and "styringsdata.definitions" in names
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STYRINGSDATA_", "DBT_"))}
    completed = subprocess.run([sys.executable, "-c", CHILD, str(PACKAGE), *names], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["effects"] == {}
    assert report["environment_changed"] == []


def test_the_audit_catches_each_kind_of_work(tmp_path):
    """What styringsdata.defs.dbt did at import before it was made lazy (export a variable, run `dbt parse`),
    and the other kinds, each in a module of its own: the hook refuses and names every one, so the empty report
    above means something."""
    effects = {
        "sets_env": "import os\nos.environ['STYRINGSDATA_DBT_WORK_DB'] = 'x'\n",
        "runs_process": "import subprocess\nsubprocess.run(['true'])\n",
        "writes_file": "open('written.txt', 'w').write('x')\n",
        "makes_dir": "import pathlib\npathlib.Path('made').mkdir()\n",
        "resolves": "import socket\nsocket.create_connection(('localhost', 9))\n",
        "connects": "import socket\nsocket.socket().connect(('127.0.0.1', 9))\n",
    }
    package = tmp_path / "ingestion"  # the child audits code under the folder it is given
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name, code in effects.items():
        (package / f"{name}.py").write_text(code, encoding="utf-8")
    names = [f"ingestion.{name}" for name in effects]
    completed = subprocess.run([sys.executable, "-c", CHILD, str(package), *names], cwd=tmp_path, capture_output=True, text=True,
                               timeout=120)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert {name: events[0].split(" ")[0] for name, events in report["effects"].items()} == {
        "ingestion.sets_env": "os.putenv", "ingestion.runs_process": "subprocess.Popen",
        "ingestion.writes_file": "open", "ingestion.makes_dir": "os.mkdir", "ingestion.resolves": "socket.getaddrinfo",
        "ingestion.connects": "socket.connect"}
    assert set(report["errors"]) == set(names)
    assert not (tmp_path / "written.txt").exists() and not (tmp_path / "made").exists()
    assert report["environment_changed"] == []
