"""The landing zone: every payload as it came from the source, kept forever.

    data/landing/<source>/<table>/<vintage>/
        manifest.json        what was asked, when, the source's `updated`, sha256 per payload
        <payload files>      raw bytes as received

A vintage directory is written under a temporary name and renamed into place
only when complete, so a crash never leaves a half vintage that a later run
would mistake for a finished one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$")
MANIFEST = "manifest.json"
REJECTED = ".rejected"  # answers refused before landing, kept for diagnosis (never a vintage)


class LandingError(ValueError):
    pass


def safe_name(value: str, what: str) -> str:
    """Source identifiers become directory and table names: refuse anything odd."""
    if not SAFE_NAME.match(value) or ".." in value:
        raise LandingError(f"{what} {value!r} is not a safe identifier (letters, digits, _ . + - only)")
    return value


def vintage_from_updated(updated: str) -> str:
    """'2025-06-15T06:00:00Z' -> '2025-06-15T060000Z' (sortable, no colons for portable paths)."""
    try:
        moment = dt.datetime.fromisoformat(updated.replace("Z", "+00:00"))
    except ValueError as exc:
        raise LandingError(f"source 'updated' value {updated!r} is not an ISO-8601 timestamp") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Payload:
    name: str  # file name inside the vintage directory
    url: str
    method: str
    query: tuple[tuple[str, str], ...]
    json_body: Any
    body: bytes
    fetched_at: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class LandingZone:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def table_dir(self, source: str, table: str) -> Path:
        return self.root / safe_name(source, "source") / safe_name(table, "table")

    def vintage_dir(self, source: str, table: str, vintage: str) -> Path:
        return self.table_dir(source, table) / safe_name(vintage, "vintage")

    def has_vintage(self, source: str, table: str, vintage: str) -> bool:
        return (self.vintage_dir(source, table, vintage) / MANIFEST).is_file()

    def tables(self, source: str) -> list[str]:
        """The tables of a source that hold at least one vintage (never `.rejected`)."""
        directory = self.root / safe_name(source, "source")
        if not directory.is_dir():
            return []
        return sorted(p.name for p in directory.iterdir() if SAFE_NAME.match(p.name) and self.vintages(source, p.name))

    def vintages(self, source: str, table: str) -> list[str]:
        directory = self.table_dir(source, table)
        if not directory.is_dir():
            return []
        return sorted(p.name for p in directory.iterdir() if (p / MANIFEST).is_file())

    def latest_vintage(self, source: str, table: str) -> str | None:
        found = self.vintages(source, table)
        return found[-1] if found else None

    def write_vintage(
        self,
        source: str,
        table: str,
        vintage: str,
        payloads: list[Payload],
        *,
        source_updated: str | None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        target = self.vintage_dir(source, table, vintage)
        if (target / MANIFEST).is_file():
            return target
        names = [safe_name(p.name, "payload file") for p in payloads]
        if len(set(names)) != len(names):
            raise LandingError(f"{source}/{table}/{vintage}: duplicate payload names {names}")
        staging = target.parent / f".incomplete-{vintage}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        for payload in payloads:
            (staging / payload.name).write_bytes(payload.body)
        manifest = {
            "source": source,
            "table": table,
            "vintage": vintage,
            "source_updated": source_updated,
            "fetched_at": min((p.fetched_at for p in payloads), default=utc_now()),
            "payloads": [
                {
                    "file": p.name,
                    "url": p.url,
                    "method": p.method,
                    "query": [list(q) for q in p.query],
                    "body": p.json_body,
                    "fetched_at": p.fetched_at,
                    "bytes": len(p.body),
                    "sha256": p.sha256,
                }
                for p in payloads
            ],
            **(extra or {}),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if target.exists():  # a leftover without manifest: an earlier crash mid-rename
            shutil.rmtree(target)
        staging.rename(target)
        return target

    def write_rejected(self, source: str, table: str, payloads: list[Payload], *, reason: str) -> Path:
        """Keep answers we refused to land (truncated, invalid, inconsistent) for whoever investigates.

        They go under `<source>/<table>/.rejected/`, never a vintage: the next run fetches again.
        """
        names = [safe_name(p.name, "payload file") for p in payloads]
        digest = hashlib.sha256(b"".join(p.body for p in payloads)).hexdigest()[:12]
        stamp = utc_now().replace(":", "").replace("-", "")
        target = self.table_dir(source, table) / REJECTED / f"{stamp}-{digest}"
        staging = target.with_name(f".incomplete-{target.name}")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        for name, payload in zip(names, payloads):
            (staging / name).write_bytes(payload.body)
        report = {
            "source": source,
            "table": table,
            "reason": reason,
            "payloads": [{"file": n, "url": p.url, "method": p.method, "query": [list(q) for q in p.query],
                          "body": p.json_body, "fetched_at": p.fetched_at, "bytes": len(p.body), "sha256": p.sha256}
                         for n, p in zip(names, payloads)],
        }
        (staging / "rejected.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return target


def read_manifest(vintage_dir: Path) -> dict[str, Any]:
    path = Path(vintage_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LandingError(f"{path}: missing; the vintage directory is incomplete") from exc
    for entry in manifest["payloads"]:
        body = (Path(vintage_dir) / entry["file"]).read_bytes()
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise LandingError(f"{vintage_dir / entry['file']}: sha256 differs from the manifest; the file was altered")
    return manifest
