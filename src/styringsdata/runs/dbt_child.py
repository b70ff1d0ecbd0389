#!/usr/bin/env python3
"""Start dbt so that it dies with the process that started it (the `dbt_executable` of src/styringsdata/defs/dbt.py).

dagster-dbt starts `dbt build` as a child process it gives no hook into. When the pipeline process is killed
(SIGKILL, OOM killer, a closed terminal), nothing in it runs any more to stop that child, and an orphaned
dbt kept the work file's write lock while the next run tried to start. This small launcher asks the kernel
(prctl PR_SET_PDEATHSIG, Linux) to SIGKILL it when its parent dies, checks the parent is still the one that
started it (it may have died before the request), then replaces itself with dbt, which keeps that setting.

What it needs comes as its first arguments (`--styringsdata-dbt=…` and the others of `child_arguments` in
src/styringsdata/defs/dbt.py, which dagster-dbt passes as global flags), never through the pipeline's own
environment: the pipeline writes nothing into os.environ. The work file's name reaches dbt's profiles.yml in
dbt's environment only (STYRINGSDATA_DBT_WORK_DB).

Plain Python with no imports from the project: it runs under whatever `python3` is first on PATH.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PREFIX = "--styringsdata-"


def main() -> None:
    own = {}
    rest = []
    for argument in sys.argv[1:]:
        if argument.startswith(PREFIX) and "=" in argument:
            key, value = argument[len(PREFIX):].split("=", 1)
            own[key] = value
        else:
            rest.append(argument)
    dbt = own.get("dbt", "")
    if not dbt:
        sys.exit("dbt_child.py: no --styringsdata-dbt=EXECUTABLE argument (src/styringsdata/defs/dbt.py gives it)")
    parent = own.get("parent", "")
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            sys.exit(f"dbt_child.py: prctl(PR_SET_PDEATHSIG) failed: {os.strerror(ctypes.get_errno())}")
        if parent.isdigit() and os.getppid() != int(parent):
            sys.exit(f"dbt_child.py: the process that started dbt ({parent}) is gone; not starting dbt")
    # The profile names the work file relative to its directory (src/styringsdata/defs/dbt.py dbt_environment), so
    # that dbt's parse of the project stays valid for every data directory; dbt finds the project through
    # DBT_PROJECT_DIR, which dagster-dbt sets.
    environment = dict(os.environ)
    if own.get("work-db"):
        environment["STYRINGSDATA_DBT_WORK_DB"] = own["work-db"]
    work_dir = own.get("work-dir", "")
    if work_dir:
        os.makedirs(work_dir, exist_ok=True)
        os.chdir(work_dir)
    os.execve(dbt, [dbt, *rest], environment)


if __name__ == "__main__":
    main()
