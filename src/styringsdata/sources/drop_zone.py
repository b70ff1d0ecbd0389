"""The one drop zone: how every inbox (registry, Udir, Kommune-NM, deflator, expense-need index) takes files.

A file source hands this module a `Contract` (its validation, its plausibility rules, how a new bundled
release is reduced to what it changes); everything about the inbox itself is decided here, once:

- What is looked at: regular files and symbolic links (a link is quarantined, never followed). Temporary
  and lock names (`~$x.xlsx`, `.~lock.x#`, dot-files, `*.tmp`, `*.part`, `*.crdownload`, `*~`) and
  subfolders are ignored, by runs, the sensor and the pre-check alike (`listing`).
- When a file is settled: its size and modification time must have held still for the settle time
  (STYRINGSDATA_REGISTRY_SETTLE_SECONDS, every inbox). The first look is the file system's own change time
  (ctime): every write, truncation or `utime` moves it and no copy tool can set it back, so a copy that kept
  its old modification time (`cp -p`, Explorer over SMB) still waits while it is being written or stalls.
  The second look is the stat before and after the file is read (`read_settled`); a file that changed in
  between waits for the next run, and one that changed after it landed stays in the inbox.
- Order: files taken in one run land in the order of their modification time, then name. A vintage is
  named by the moment it landed, in microseconds, strictly increasing across the whole source, so the vintage
  name orders every file (dbt's `latest` models order by it); never a digest.
- Re-dropping an earlier file makes it current again: every inbox drop is a new vintage, except one whose
  bytes are the source's newest vintage (it could change nothing).
- A file is checked whole: its contract's validation, then its plausibility rules (intake only; a landed
  vintage is re-read with the validation alone). Accepted: it lands (fsync'd) and leaves the inbox. Rejected:
  it moves to quarantine next to `<file>.errors.txt` naming every violation (file, row, field, expected).
- Bundled files (snapshots/) land once, recognised by their hash. A new release of a bundled file lands only
  the rows that differ from the previous release (the contract's `release_delta`), so it never reverts a
  figure corrected by an inbox file after the previous release.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from styringsdata.raw.landing import LandingZone, Payload, read_manifest, safe_name, utc_now
from styringsdata.sources.problems import Problem, ValidationReport

Validate = Callable[[bytes, str], ValidationReport]
# Intake-only rules that need what already landed (a deflator file may not silently shorten the series).
Plausible = Callable[[ValidationReport, LandingZone], list[Problem]]
# (previous release's bytes, new release's bytes, file name) -> the new release reduced to the rows it changes.
ReleaseDelta = Callable[[bytes, bytes, str], bytes]

SUFFIXES = (".csv", ".xlsx")
TEMPORARY_PREFIXES = (".", "~$")
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", "~")
VINTAGE_FORMAT = "%Y%m%dT%H%M%S.%fZ"
SETTLE_VARIABLE = "STYRINGSDATA_REGISTRY_SETTLE_SECONDS"
RELEASE_PREFIX = "release-"  # the full bundled release kept next to the rows it changed


class ContractError(ValueError):
    """A bundled file that does not validate, or a landed vintage that no longer does: a bug, not input."""


class FileChanged(OSError):
    """The file's size or modification time changed while it was read: someone is still writing it."""


@dataclass(frozen=True)
class Contract:
    source: str  # the landing zone's source name
    validate: Validate
    plausible: Plausible | None = None
    release_delta: ReleaseDelta | None = None
    default_name: str = "file.csv"  # the landed payload's name when the dropped one cleans up to nothing


@dataclass(frozen=True)
class DropZoneResult:
    accepted: list[tuple[str, Path]]  # (file, landing vintage dir)
    rejected: list[tuple[str, Path]]  # (file, quarantine report)
    already_landed: list[str]  # identical to the source's newest vintage: landing it again could change nothing
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why it stays in the inbox for now)


# -- what is in an inbox --------------------------------------------------------
def is_temporary_name(name: str) -> bool:
    """Names that editors, Excel and copy tools use while they work (`~$x.xlsx`, `.~lock.x#`, `x.part`)."""
    return name.startswith(TEMPORARY_PREFIXES) or name.lower().endswith(TEMPORARY_SUFFIXES)


def listing(inbox: Path) -> list[Path]:
    """Every entry a run would take or wait for, by name: no temporary names, no subfolders."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        return []
    found = []
    for path in sorted(inbox.iterdir()):
        if is_temporary_name(path.name):
            continue
        if path.is_symlink() or path.is_file():
            found.append(path)
    return found


def last_change(stat: os.stat_result) -> float:
    """When the file last changed, by the later of its modification time and its change time (ctime)."""
    return max(stat.st_mtime, stat.st_ctime)


def candidates(inbox: Path, settle_seconds: float,
               now: float | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to take now, in the order they land (modification time, then name), and those that must wait."""
    now = time.time() if now is None else now
    ready: list[tuple[int, str, Path]] = []
    waiting: list[tuple[str, str]] = []
    for path in listing(inbox):
        try:
            stat = path.lstat()
        except FileNotFoundError:
            continue  # moved away between listing and looking
        age = now - last_change(stat)
        if not path.is_symlink() and age < settle_seconds:
            waiting.append((path.name, f"modified or changed {max(age, 0):.0f} s ago, less than the settle time of "
                                       f"{settle_seconds:g} s ({SETTLE_VARIABLE}): it may still be being written "
                                       "(a copy that keeps the old modification time still changes the file's "
                                       "change time); it is read on a later run"))
            continue
        ready.append((stat.st_mtime_ns, path.name, path))
    return [path for _, _, path in sorted(ready)], waiting


def read_settled(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes, read between two stats that agree (else FileChanged)."""
    before = path.stat()
    data = path.read_bytes()
    after = path.stat()
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(data) != after.st_size:
        raise FileChanged(f"{path.name}: its size or modification time changed while it was read")
    return data, after


# -- vintages -------------------------------------------------------------------
def table_name(file_name: str) -> str:
    """The landing table a file's vintages go to: its cleaned stem."""
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", Path(file_name).stem).strip("_").lower() or "file"
    return safe_name(stem[:60], "file name")


def safe_file_name(name: str, default: str = "registry_file.csv") -> str:
    """A dropped file's name as a landing or quarantine file name: letters, digits and _ . + - only,
    starting with a letter or digit, no '..', at most 100 characters with the extension kept.
    ("Økonomi 2023 (endelig).csv" -> "konomi_2023_endelig_.csv"; the original name stays in the manifest.)"""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9_.+-]+", "_", base)
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)
    if len(cleaned) > 100:
        suffix = Path(cleaned).suffix[:10]
        cleaned = cleaned[: 100 - len(suffix)] + suffix
    try:
        return safe_name(cleaned, "file name")
    except ValueError:
        return default


def vintages(landing: LandingZone, source: str) -> list[tuple[str, str]]:
    """(vintage, table) of every vintage of the source, oldest first by name (= the order newest-wins uses)."""
    return sorted((v, t) for t in landing.tables(source) for v in landing.vintages(source, t))


def landed_vintages(landing: LandingZone, source: str) -> list[Path]:
    """Every landed vintage of a source, oldest first."""
    return [landing.vintage_dir(source, t, v) for v, t in vintages(landing, source)]


def _stamp_of(vintage: str) -> dt.datetime | None:
    """The landing moment a vintage name carries: '20250301T100000.123456Z' or the older '20250301T100000Z-<sha>'."""
    for text, pattern in ((vintage, VINTAGE_FORMAT), (vintage[:16], "%Y%m%dT%H%M%SZ")):
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


def next_vintage(landing: LandingZone, source: str) -> str:
    """A vintage name later than every vintage of the source, as a moment and as a string."""
    existing = vintages(landing, source)
    moment = dt.datetime.now(dt.timezone.utc)
    if existing:
        newest = existing[-1][0]
        last = _stamp_of(newest)
        if last is not None:
            moment = max(moment, last + dt.timedelta(microseconds=1))
        while moment.strftime(VINTAGE_FORMAT) <= newest:  # an older-format name in the same second
            moment += dt.timedelta(seconds=1)
    return moment.strftime(VINTAGE_FORMAT)


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest(vintage_dir: Path) -> dict:
    import json

    return json.loads((vintage_dir / "manifest.json").read_text("utf-8"))


def payload_digest(vintage_dir: Path) -> str | None:
    manifest = _manifest(vintage_dir)
    return manifest["payloads"][0]["sha256"] if manifest.get("payloads") else None


def _fsync_vintage(target: Path) -> None:
    """The vintage's files, its directory entry and the rename that made it, on disk before the drop is deleted."""
    for path in [*sorted(p for p in target.iterdir() if p.is_file()), target, target.parent]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def land_bytes(data: bytes, name: str, report: ValidationReport, landing: LandingZone, contract: Contract, *,
               origin: str, modified: float | None, release: bytes | None = None,
               extra: dict[str, str | int] | None = None) -> Path:
    """A new vintage of the file's table holding these bytes, fsync'd; removed again if it could not be synced."""
    file_name = safe_name(safe_file_name(name, contract.default_name), "file name")
    payloads = [Payload(file_name, f"file://{name}", "FILE", (), None, data, utc_now())]
    if release is not None:
        payloads.append(Payload(RELEASE_PREFIX + file_name, f"file://{name}", "FILE", (), None, release, utc_now()))
    manifest_extra = {"original_name": name, "rows": len(report.rows), "origin": origin, "how_read": report.notes,
                      "file_modified_at": None if modified is None else
                      dt.datetime.fromtimestamp(modified, dt.timezone.utc).isoformat(timespec="microseconds"),
                      **(extra or {})}
    target = landing.write_vintage(contract.source, table_name(name), next_vintage(landing, contract.source),
                                   payloads, source_updated=None, extra=manifest_extra)
    try:
        _fsync_vintage(target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # not known to be on disk: the drop stays and lands next run
        raise
    return target


def parse_landed(vintage_dir: Path, validate: Validate) -> tuple[dict, list]:
    """A landed vintage's manifest and rows, by the contract's validation (never its intake-only rules)."""
    manifest = read_manifest(vintage_dir)
    entry = manifest["payloads"][0]
    data = (vintage_dir / entry["file"]).read_bytes()
    if manifest.get("changed_rows") == 0:
        return manifest, []  # a bundled release that changed no figure of the previous one
    report = validate(data, manifest.get("original_name", entry["file"]))
    if not report.ok:
        raise ContractError(f"{vintage_dir}: a landed file no longer validates:\n{report.text()}")
    return manifest, report.rows


# -- taking files -----------------------------------------------------------------
def _refused(name: str, value: str | None, expected: str) -> ValidationReport:
    return ValidationReport(name, problems=[Problem(name, None, None, value, expected)])


def check(data: bytes, name: str, landing: LandingZone, contract: Contract) -> ValidationReport:
    """The contract's validation, then (only for a file that passed it) its plausibility rules."""
    report = contract.validate(data, name)
    if report.ok and contract.plausible is not None:
        report.problems.extend(contract.plausible(report, landing))
        if not report.ok:
            report.rows.clear()
    return report


def check_file(path: Path, landing: LandingZone, contract: Contract,
               max_bytes: int) -> tuple[ValidationReport, bytes | None, os.stat_result | None]:
    """A file on disk checked whole; one over the size limit is refused from its size, without reading it.
    Raises FileChanged when the file changes while it is read."""
    if path.is_symlink() or not path.is_file():
        return _refused(path.name, "a symbolic link" if path.is_symlink() else "not a regular file",
                        "a regular file (links are not followed)"), None, None
    if path.suffix.lower() not in SUFFIXES:
        return _refused(path.name, path.suffix or "(no extension)", "a .csv or .xlsx file"), None, None
    size = path.stat().st_size
    if size > max_bytes:
        return _refused(path.name, f"{size} bytes",
                        f"at most {max_bytes} bytes (STYRINGSDATA_REGISTRY_MAX_BYTES)"), None, None
    data, stat = read_settled(path)
    try:
        report = check(data, path.name, landing, contract)
    except Exception as exc:  # noqa: BLE001 - one unreadable file must never stop the others
        report = _refused(path.name, None, f"a readable file; reading it raised {exc.__class__.__name__}: {exc}")
    return report, data, stat


def quarantine_file(path: Path, quarantine: Path, report: ValidationReport) -> Path:
    """Move the file, byte for byte, to quarantine next to its report; returns the report's path."""
    quarantine.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().replace(":", "").replace("-", "")
    target = quarantine / f"{stamp}-{safe_file_name(path.name)}"
    n = 1
    while target.exists() or target.is_symlink():  # two names that clean up alike: never overwrite
        n += 1
        target = quarantine / f"{stamp}-{n}-{safe_file_name(path.name)}"
    shutil.move(str(path), target)
    report_path = target.with_name(target.name + ".errors.txt")
    report_path.write_text(report.text(), encoding="utf-8")
    return report_path


def take(inbox: Path, quarantine: Path, landing: LandingZone, contract: Contract, *, settle_seconds: float,
         max_bytes: int, now: float | None = None) -> DropZoneResult:
    """Take every settled file from the inbox: land the accepted, quarantine the rejected, leave the rest.

    Errors landing an accepted file (disk full) are not the file's fault: they stop the step and the
    file stays in the inbox for the next run.
    """
    accepted: list[tuple[str, Path]] = []
    rejected: list[tuple[str, Path]] = []
    already: list[str] = []
    ready, skipped = candidates(inbox, settle_seconds, now)
    for path in ready:
        try:
            report, data, seen = check_file(path, landing, contract, max_bytes)
        except FileChanged:
            skipped.append((path.name, "its size or modification time changed while it was read; "
                                       "it is read again on the next run"))
            continue
        except FileNotFoundError:
            continue  # taken away by whoever dropped it
        if not report.ok or data is None or seen is None:
            rejected.append((path.name, quarantine_file(path, quarantine, report)))
            continue
        newest = vintages(landing, contract.source)
        if newest and payload_digest(landing.vintage_dir(contract.source, newest[-1][1], newest[-1][0])) \
                == content_digest(data):
            vintage_dir, was_landed = landing.vintage_dir(contract.source, newest[-1][1], newest[-1][0]), True
        else:
            vintage_dir, was_landed = land_bytes(data, path.name, report, landing, contract, origin="inbox",
                                                 modified=seen.st_mtime), False
        (already.append(path.name) if was_landed else accepted.append((path.name, vintage_dir)))
        now_stat = path.stat()
        if (now_stat.st_size, now_stat.st_mtime_ns) == (seen.st_size, seen.st_mtime_ns):
            path.unlink()  # the landing zone holds the file now, on disk
        else:
            skipped.append((path.name, "it changed after it was read and landed; the new content is read on "
                                       "the next run"))
    return DropZoneResult(accepted, rejected, already, skipped)


# -- bundled files ------------------------------------------------------------------
def _release_of(vintage_dir: Path) -> tuple[str, bytes] | None:
    """(digest, bytes) of the whole bundled release a vintage came from; None for an inbox vintage."""
    manifest = _manifest(vintage_dir)
    if manifest.get("origin") != "bundled" or not manifest.get("payloads"):
        return None
    entries = {e["file"]: e for e in manifest["payloads"]}
    first = manifest["payloads"][0]
    whole = entries.get(RELEASE_PREFIX + first["file"], first)
    return whole["sha256"], (vintage_dir / whole["file"]).read_bytes()


def land_bundled(directory: Path, landing: LandingZone, contract: Contract, max_bytes: int,
                 suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """Bundled files land once; a new release lands only the rows it changes. One that does not pass its
    contract stops the run (a bug in what we ship, not input)."""
    landed = []
    for path in sorted(p for p in Path(directory).iterdir() if p.suffix.lower() in suffixes) \
            if Path(directory).is_dir() else []:
        if path.is_symlink() or not path.is_file():
            raise ContractError(f"{path}: not a regular file (links are not followed)")
        if path.stat().st_size > max_bytes:
            raise ContractError(f"{path}: {path.stat().st_size} bytes, over the limit of {max_bytes} bytes")
        data = path.read_bytes()
        table = table_name(path.name)
        releases = [(v, r) for v in landing.vintages(contract.source, table)
                    if (r := _release_of(landing.vintage_dir(contract.source, table, v))) is not None]
        same = [v for v, (digest, _) in releases if digest == content_digest(data)]
        if same:
            landed.append(landing.vintage_dir(contract.source, table, same[-1]))
            continue
        report = check(data, path.name, landing, contract)
        if not report.ok:
            raise ContractError(report.text())
        body, release = data, None
        extra: dict[str, str | int] = {"bundled_sha256": content_digest(data)}
        if releases and contract.release_delta is not None:
            previous = releases[-1][1][1]
            body, release = contract.release_delta(previous, data, path.name), data
            changed = contract.validate(body, path.name)
            extra["changed_rows"] = len(changed.rows)
            if not changed.rows:
                # Nothing a figure could take from it; kept as a release all the same so it lands once.
                extra["note"] = "the new release changes no figure of the previous one"
            report = changed if changed.ok else report
        landed.append(land_bytes(body, path.name, report, landing, contract, origin="bundled", modified=None,
                                 release=release, extra=extra))
    return landed
