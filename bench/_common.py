"""Shared helpers of the benchmark scripts (not a benchmark itself)."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_SNAPSHOT = ROOT / "data" / "bench" / "national"
DEFAULT_WORK = ROOT / "data" / "bench" / "run" / "work.duckdb"  # what `bench_pipeline --keep` leaves
PAGE = os.sysconf("SC_PAGE_SIZE")


# What the recorded requests and answers depend on: a snapshot older than any of these is rebuilt.
SNAPSHOT_INPUTS = ("src/styringsdata/sources/ssb.py", "src/styringsdata/sources/fhi.py", "src/styringsdata/sources/klass.py",
                   "src/styringsdata/sources/transport.py",
                   "snapshots/fakes/fake_ssb.py", "snapshots/fakes/fake_fhi.py", "src/styringsdata/sources/miljodirektoratet.py",
                   "src/styringsdata/sources/ssb_tables.yaml", "src/styringsdata/sources/fhi_tables.yaml", "snapshots/build.py",
                   "snapshots/kostra_published.csv", "bench/national_snapshot.py")


def ensure_national_snapshot(directory: Path, first_year: int = 2010, last_year: int = 2025) -> dict:
    """The national snapshot in `directory`, generated first when it is missing, stale or for other years."""
    summary_path = directory / "national.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        built = summary_path.stat().st_mtime
        stale = [p for p in SNAPSHOT_INPUTS if (ROOT / p).exists() and (ROOT / p).stat().st_mtime > built]
        if (summary["first_year"], summary["last_year"]) == (first_year, last_year) and not stale:
            return summary
        if stale:
            print(f"{directory} is older than {', '.join(stale)}", flush=True)
    print(f"generating the national snapshot in {directory} ({first_year}-{last_year}) ...", flush=True)
    subprocess.run([sys.executable, "-m", "bench.national_snapshot", str(directory),
                    "--first-year", str(first_year), "--last-year", str(last_year)],
                   check=True, stdout=subprocess.DEVNULL)
    return json.loads(summary_path.read_text(encoding="utf-8"))


def bench_parser(doc: str | None, *, repeat: int, repeat_help: str | None = None, snapshot: bool = False,
                 work: bool = False, work_help: str | None = None, child: str | None = None) -> argparse.ArgumentParser:
    """The options the benchmarks share: --repeat; --snapshot (the national snapshot); --work (a national work file,
    DEFAULT_WORK unless `work_help` makes it optional); with `child`, the hidden --child, --<child> and --out a
    script passes to itself to time one variant in a fresh process."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if snapshot:
        parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    if work:
        parser.add_argument("--work", type=Path, default=None if work_help else DEFAULT_WORK, help=work_help)
    parser.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    if child:
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument(f"--{child}", help=argparse.SUPPRESS)
        parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser


def ensure_national_work_file(snapshot: Path, work: Path) -> None:
    """The national snapshot, and a work file built from it at `work`: one full national run first when missing."""
    ensure_national_snapshot(snapshot)
    if not work.exists():
        from bench import bench_pipeline

        print(f"no work file at {work}: one full national run first ...", flush=True)
        work.parent.mkdir(parents=True, exist_ok=True)
        bench_pipeline.run_child("full", snapshot, work.parent, "all")


def require_work_file(work: Path) -> None:
    if not work.exists():
        raise SystemExit(f"{work} is missing: run `python -m bench.bench_pipeline --keep` first")


def export_revision(revision: str, into: Path) -> Path:
    """The tree of a git revision, exported into `into` (its code and dbt project, as a fresh clone has them)."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def use_national_catalogues(snapshot_dir: Path) -> None:
    """Point the pipeline's SSB and FHI table catalogues at the national ones, in this process only.

    Must run before orchestration is imported (the Dagster definitions read the catalogues at import). The SSB
    one goes through STYRINGSDATA_SSB_TABLES (the same tables, every municipality); the default argument is
    patched as well, for a revision from before that setting (`bench_pipeline --compare`). FHI has no setting.
    """
    import styringsdata.sources.fhi
    import styringsdata.sources.ssb

    os.environ["STYRINGSDATA_SSB_TABLES"] = str(snapshot_dir / "ssb_tables.yaml")
    styringsdata.sources.ssb.load_table_specs.__defaults__ = (snapshot_dir / "ssb_tables.yaml",)
    styringsdata.sources.fhi.load_fhi_specs.__defaults__ = (snapshot_dir / "fhi_tables.yaml", snapshot_dir / "ssb_tables.yaml")


def request_kind(method: str, url: str) -> str:
    """What a request is for: data, or a metadata/listing call, per host."""
    parsed = urllib.parse.urlsplit(url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.netloc == "data.ssb.no":
        if "klass" in parts:
            return "klass changes"
        if parts[-1] == "tables":
            return "ssb listing"
        if parts[-1] == "data":
            return "ssb data"
        if parts[-1] == "metadata":
            return "ssb metadata"
        return "ssb table info"
    if parsed.netloc == "statistikk-data.fhi.no":
        if parts[-1] == "data":
            return "fhi data"
        return "fhi query" if parts[-1] == "query" else "fhi table list"
    if "miljodirektoratet" in parsed.netloc:
        return "miljodirektoratet xlsx download"
    return parsed.netloc


DATA_KINDS = ("ssb data", "fhi data", "miljodirektoratet xlsx download")


class RequestCounter:
    """Counts every request the transport sends (any mode), by kind."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def install(self) -> None:
        from styringsdata.sources import transport

        original = transport.Transport.send
        counter = self

        def send(self, request):  # noqa: ANN001
            kind = request_kind(request.method, request.url)
            counter.counts[kind] = counter.counts.get(kind, 0) + 1
            return original(self, request)

        transport.Transport.send = send


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                children = Path(f"/proc/{current}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for child in children:
                out.append(int(child))
                todo.append(int(child))
    return out


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class MemorySampler(threading.Thread):
    """Samples the resident memory of this process and of its child processes (dbt) every `interval` s."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []  # (epoch seconds, own RSS, children's RSS)
        self.cpu: list[tuple[float, float]] = []  # (epoch seconds, CPU seconds of this process alone)
        self._halt = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._halt.is_set():
            own = rss_bytes(me)
            children = sum(rss_bytes(p) for p in _descendants(me))
            now = time.time()
            self.samples.append((now, own, children))
            self.cpu.append((now, sum(os.times()[:2])))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float, end: float) -> tuple[int, int]:
        """Peak of own RSS, and of own + children's RSS, between two epoch times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if not inside and self.samples:  # a step shorter than the interval: the nearest sample
            inside = [min(self.samples, key=lambda s: abs(s[0] - start))]
        if not inside:
            return 0, 0
        return max(s[1] for s in inside), max(s[1] + s[2] for s in inside)

    def cpu_seconds(self, start: float, end: float) -> float:
        """CPU seconds (user + system) this process used between two epoch times (children not included):
        less sensitive than wall time to other load."""
        if not self.cpu:
            return 0.0
        first = max((c for c in self.cpu if c[0] <= start), default=self.cpu[0], key=lambda c: c[0])
        last = min((c for c in self.cpu if c[0] >= end), default=self.cpu[-1], key=lambda c: c[0])
        return max(0.0, last[1] - first[1])

    def peak_children(self, start: float, end: float) -> int:
        """Peak of the children's RSS alone (dbt) between two epoch times; 0 when none ran."""
        return max((s[2] for s in self.samples if start <= s[0] <= end), default=0)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows if row[i] not in ("", None)) for i in range(len(headers))]
    lines = [title] if title else []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if numeric[i] and n else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) or (isinstance(value, str) and value.replace(".", "").replace(",", "")
                                                 .replace("%", "").replace("x", "").replace("-", "")
                                                 .replace(" MB", "").replace(" s", "").strip().isdigit())


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of a command run from the repository's root; exits naming the command when it fails."""
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n"
                         f"{result.stderr[-3000:]}")
    return seconds, result
