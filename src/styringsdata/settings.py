"""Every setting in one place, read from environment variables with defaults.

docs/configuration.md mirrors `SETTINGS`; change both together.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from styringsdata.sources.transport import SourceMode
from styringsdata.home import HomeMunicipalityError, check_home_municipality
from styringsdata.home import form_problem as home_form_problem
from styringsdata.reporting.mail import MailSettings
from styringsdata.reporting.numbers import NUMBER_FORMATS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The one default of the home municipality (Asker); dbt, the gate, the reports and the mail get it from here.
DEFAULT_HOME_MUNICIPALITY = "3203"
# The dbt project: models, and the seeds product code also reads (the catalogue, the need areas). The one place
# that knows where it is; code reaches it through Settings, never by a path of its own.
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# (variable, default, meaning) -- docs/configuration.md is written from the same words.
# Set by the pipeline for its own dbt child process (src/styringsdata/defs/dbt.py), never by a user.
INTERNAL_VARIABLES = frozenset({"STYRINGSDATA_DBT_WORK_DB", "STYRINGSDATA_DBT_WORK_DIR", "STYRINGSDATA_DBT_EXECUTABLE",
                                "STYRINGSDATA_DBT_PARENT_PID"})

SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("STYRINGSDATA_DATA_DIR", "data", "Root of landing, work file, publication and reports (relative to the repo)."),
    ("STYRINGSDATA_SOURCE_MODE", "replay",
     "replay: answer every request from the bundled snapshots (offline); live: call the sources; "
     "record: call the sources and save the answers as snapshots."),
    ("STYRINGSDATA_SNAPSHOT_DIR", "snapshots", "Where replay reads and record writes recorded responses."),
    ("STYRINGSDATA_WORK_DB", "<data>/work.duckdb", "The DuckDB file the pipeline writes (raw, staging, marts)."),
    ("STYRINGSDATA_WAREHOUSE", "<data>/warehouse.duckdb",
     "The published DuckDB file BI tools read; only the publish step writes it, by rename."),
    ("STYRINGSDATA_HOME_MUNICIPALITY", DEFAULT_HOME_MUNICIPALITY,
     "The ASSS member the reports are written for and the scorecard shows first (today's code; checked before "
     "anything is built, a retired code is named with its successor)."),
    ("STYRINGSDATA_SSB_REQUESTS_PER_MINUTE", "30", "Client-side limit for data.ssb.no (SSB allows 30 per minute per IP)."),
    ("STYRINGSDATA_HTTP_TIMEOUT", "60", "Seconds before an HTTP request is given up and retried."),
    ("STYRINGSDATA_REGISTRY_INBOX", "<data>/inbox/registry", "Drop zone for the municipality's register extracts."),
    ("STYRINGSDATA_UDIR_INBOX", "<data>/inbox/udir",
     "Drop zone for files exported from Udir's statistikkbanken (Elevundersøkelsen); the registry's settle time and "
     "size limit apply."),
    ("STYRINGSDATA_QUARANTINE", "<data>/quarantine", "Where rejected registry files go, with an .errors.txt report."),
    ("STYRINGSDATA_REGISTRY_SEED", "snapshots/registry",
     "Bundled registry files landed once (the Handlingsprogram's published 2019-2022 values)."),
    ("STYRINGSDATA_REGISTRY_MAX_BYTES", "20971520", "Registry files larger than this are refused."),
    ("STYRINGSDATA_REGISTRY_SETTLE_SECONDS", "30",
     "A registry inbox file modified less than this many seconds ago is left for a later run (it may still be "
     "being copied); every run and the inbox sensor apply it."),
    ("STYRINGSDATA_AUTOMATION", "off",
     "on: schedules and sensors start running when Dagster's daemon starts (dagster dev); off: they are listed, "
     "stopped, and can be switched on in the UI."),
    ("STYRINGSDATA_RUN_LOCK_WAIT", "3600",
     "Seconds a run started by Dagster (UI, schedule, sensor) waits for another run on the same data directory "
     "to finish before it gives up naming it; `styringsdata run` does not wait for another run."),
    ("DAGSTER_HOME", "dagster_home",
     "The Dagster instance every run is recorded in, whoever starts it (styringsdata run, the UI, schedules, "
     "sensors): SQLite under this directory (relative to the repo), configured by its dagster.yaml; "
     "dagster_home/postgres for the team setup."),
    ("STYRINGSDATA_REBUILD", "off",
     "on: run dbt, the gate and publish even when no source loaded anything new (off: such runs skip them "
     "when today's build of the same project is already published)."),
    ("STYRINGSDATA_SMTP_HOST", "(unset)", "SMTP server for the macro group's report; unset = no mail (logged)."),
    ("STYRINGSDATA_SMTP_PORT", "587 / 465 / 25", "SMTP port (default by security mode)."),
    ("STYRINGSDATA_SMTP_SECURITY", "starttls", "starttls, ssl or none."),
    ("STYRINGSDATA_SMTP_USER", "(unset)", "SMTP login; no login when unset."),
    ("STYRINGSDATA_SMTP_PASSWORD", "(unset)", "SMTP password; read from the environment only, never logged."),
    ("STYRINGSDATA_MAIL_FROM", "<user>", "Sender address."),
    ("STYRINGSDATA_MAIL_TO_DATA_TEAM", "(unset)",
     "Comma-separated recipients of the data team's operational report (after every run that publishes or is held "
     "back)."),
    ("STYRINGSDATA_MAIL_TO_MAKROGRUPPEN", "(unset)",
     "Comma-separated recipients of the ASSS macro group's Norwegian report (after each publication); unset = "
     "written to disk only."),
    ("STYRINGSDATA_MAIL_TO", "(unset)",
     "The data team's recipients as before there were two audiences; STYRINGSDATA_MAIL_TO_DATA_TEAM wins when both "
     "are set. With the host set, at least one audience needs recipients."),
    ("STYRINGSDATA_NUMBER_FORMAT", "en",
     "Numbers in the data team's report: en (1,785.14) or no (1 785,14); the macro group's report is always no."),
    ("STYRINGSDATA_SMTP_CA_FILE", "(unset)",
     "PEM file of the certificate authority the SMTP server's certificate is checked against (default: the system's)."),
    ("STYRINGSDATA_SMTP_TIMEOUT", "30", "Seconds before an SMTP connection is given up (the report stays queued)."),
    ("STYRINGSDATA_POSTGRES_URL", "(unset)",
     "PostgreSQL database the marts are published to as well (postgresql://user@host:5432/db); unset = the DuckDB "
     "file and Parquet only. Password in PGPASSWORD or ~/.pgpass (libpq), never logged."),
    ("STYRINGSDATA_POSTGRES_SCHEMA", "styringsdata",
     "Schema BI tools read there (<schema>__incoming and <schema>__previous are the publish step's own)."),
    ("STYRINGSDATA_POSTGRES_READER_ROLE", "styringsdata_reader",
     "Role granted read access to each publication (BI logins are made members of it)."),
    ("STYRINGSDATA_POSTGRES_SWAP_WAIT", "300",
     "Seconds the switch to a new publication waits for readers' open transactions before the publish fails."),
)


class SettingsError(ValueError):
    """A setting with a value it cannot have; the message names the variable, the value and the expected form."""


def _positive_seconds(text: str) -> str | None:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    return None if math.isfinite(value) and value > 0 else "expected a number of seconds greater than 0 (e.g. 60)"


def _seconds_or_zero(text: str) -> str | None:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    return None if math.isfinite(value) and value >= 0 else "expected a number of seconds, 0 or more (e.g. 3600)"


def _whole_bytes(text: str) -> str | None:
    return None if text.isdigit() and int(text) > 0 else \
        "expected a whole number of bytes greater than 0 (e.g. 20971520 for 20 MiB)"


def _per_minute(text: str) -> str | None:
    return None if text.isdigit() and int(text) >= 1 else "expected a whole number >= 1"


def _port(text: str) -> str | None:
    return None if text.isdigit() and 1 <= int(text) <= 65535 else "expected a port number from 1 to 65535"


def _on_off_form(text: str) -> str | None:
    return None if text.strip().lower() in ("on", "off") else "expected on or off"


def _mode(text: str) -> str | None:
    return None if text in {m.value for m in SourceMode} else "expected replay, live or record"




def _number_format_form(text: str) -> str | None:
    return None if text.strip().lower() in NUMBER_FORMATS else f"expected {' or '.join(NUMBER_FORMATS)}"


def _not_a_directory(text: str) -> str | None:
    path = _resolve(text, PROJECT_ROOT)
    return "expected a file path, but that is a directory" if path.is_dir() else None


def _a_directory_or_nothing(text: str) -> str | None:
    path = _resolve(text, PROJECT_ROOT)
    return "expected a directory, but that is a file" if path.exists() and not path.is_dir() else None


# How each variable's value must look; checked before anything starts (`validate_environment`).
# Checks of how the settings fit together (mail recipients, the CA file) are in MailSettings.from_env.
FORMS: dict[str, Callable[[str], str | None]] = {
    "STYRINGSDATA_DATA_DIR": _a_directory_or_nothing,
    "STYRINGSDATA_SOURCE_MODE": _mode,
    "STYRINGSDATA_SNAPSHOT_DIR": _a_directory_or_nothing,
    "STYRINGSDATA_WORK_DB": _not_a_directory,
    "STYRINGSDATA_WAREHOUSE": _not_a_directory,
    "STYRINGSDATA_HOME_MUNICIPALITY": home_form_problem,  # membership and successors: check_home_municipality
    "STYRINGSDATA_SSB_REQUESTS_PER_MINUTE": _per_minute,
    "STYRINGSDATA_HTTP_TIMEOUT": _positive_seconds,
    "STYRINGSDATA_REGISTRY_INBOX": _a_directory_or_nothing,
    "STYRINGSDATA_QUARANTINE": _a_directory_or_nothing,
    "STYRINGSDATA_REGISTRY_SEED": _a_directory_or_nothing,
    "STYRINGSDATA_REGISTRY_MAX_BYTES": _whole_bytes,
    "STYRINGSDATA_AUTOMATION": _on_off_form,
    "STYRINGSDATA_RUN_LOCK_WAIT": _seconds_or_zero,
    "STYRINGSDATA_REBUILD": _on_off_form,
    "DAGSTER_HOME": _a_directory_or_nothing,
    "STYRINGSDATA_SMTP_PORT": _port,
    "STYRINGSDATA_SMTP_TIMEOUT": _positive_seconds,
    "STYRINGSDATA_NUMBER_FORMAT": _number_format_form,
}


def validate_environment(env: Mapping[str, str]) -> None:
    """Raise SettingsError naming every variable whose value has the wrong form (all of them, in one line)."""
    problems = []
    for name, check in FORMS.items():
        value = env.get(name)
        if value is None:
            continue
        problem = check(value)
        if problem:
            problems.append(f"{name}={value!r}: {problem}")
    if problems:
        raise SettingsError("; ".join(problems))


def _pg_identifier(value: str, name: str) -> str:
    # Lower case and short enough for the suffixed staging names (PostgreSQL cuts names at 63 bytes).
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,49}", value):
        raise SettingsError(f"{name}={value!r}: expected a lower-case PostgreSQL name of at most 50 characters "
                         "(letters, digits, _)")
    return value


def _seconds(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise SettingsError(f"{name}={value!r}: expected a number of seconds >= 0")
    return seconds


def _resolve(path: str, base: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else (base / candidate)


def _on_off(value: str, name: str) -> bool:
    if _on_off_form(value):
        raise SettingsError(f"{name}={value!r}: expected on or off")
    return value.strip().lower() == "on"


def _number_format(value: str) -> str:
    if value.strip().lower() not in NUMBER_FORMATS:
        raise SettingsError(f"STYRINGSDATA_NUMBER_FORMAT={value!r}: expected {' or '.join(NUMBER_FORMATS)}")
    return value.strip().lower()


def _seconds(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name}={value!r}: expected a number of seconds, 0 or more (e.g. 30)")
    return seconds


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    source_mode: SourceMode
    snapshot_dir: Path
    work_db: Path
    warehouse: Path
    home_municipality: str
    ssb_requests_per_minute: int
    http_timeout: float
    registry_inbox: Path
    quarantine: Path
    registry_seed: Path
    registry_max_bytes: int
    registry_settle_seconds: float = 30.0
    automation: bool = False
    rebuild: bool = False
    mail: MailSettings | None = None
    number_format: str = "en"  # the data team's report; see src/styringsdata/reporting/numbers.py
    # May hold a password (when the user put it in the URL): kept out of repr, never logged.
    postgres_url: str | None = field(default=None, repr=False)
    postgres_schema: str = "styringsdata"
    postgres_reader_role: str = "styringsdata_reader"
    postgres_swap_wait: float = 300.0
    run_lock_wait: float = 3600.0
    dagster_home: Path = PROJECT_ROOT / "dagster_home"
    udir_inbox: Path | None = None  # None: <data>/inbox/udir

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def udir_inbox_dir(self) -> Path:
        return self.udir_inbox or self.data_dir / "inbox" / "udir"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def build_state_path(self) -> Path:
        """What the last dbt build was, next to the work file it describes."""
        return self.work_db.with_name(self.work_db.stem + ".build.json")

    @property
    def logs_dir(self) -> Path:
        """One file per `styringsdata run` with everything the run logged (the terminal shows the stages)."""
        return self.data_dir / "logs"

    @property
    def parquet_dir(self) -> Path:
        return self.data_dir / "parquet"

    @property
    def dbt_project_dir(self) -> Path:
        return DBT_PROJECT_DIR

    @property
    def seeds_dir(self) -> Path:
        return self.dbt_project_dir / "seeds"

    @property
    def catalogue_path(self) -> Path:
        """The indicator catalogue (written by tools/derive.py): ids, routes and units the registry checks against."""
        return self.seeds_dir / "catalogue_indicators.csv"

    @classmethod
    def from_env(cls, environ: "os._Environ[str] | dict[str, str] | None" = None) -> "Settings":
        env = os.environ if environ is None else environ
        validate_environment(env)
        data_dir = _resolve(env.get("STYRINGSDATA_DATA_DIR", "data"), PROJECT_ROOT)
        source_mode = SourceMode(env.get("STYRINGSDATA_SOURCE_MODE", "replay"))
        snapshot_dir = _resolve(env.get("STYRINGSDATA_SNAPSHOT_DIR", "snapshots"), PROJECT_ROOT)
        rate = env.get("STYRINGSDATA_SSB_REQUESTS_PER_MINUTE", "30")
        try:  # an ASSS member, or the successor of a retired code named (KLASS lineage)
            home = check_home_municipality(env.get("STYRINGSDATA_HOME_MUNICIPALITY", DEFAULT_HOME_MUNICIPALITY),
                                           data_dir / "landing", snapshot_dir)
        except HomeMunicipalityError as exc:
            raise SettingsError(str(exc)) from None
        try:
            mail = MailSettings.from_env(env)
        except ValueError as exc:  # MailConfigError: already names the variable
            raise SettingsError(str(exc)) from None
        return cls(
            data_dir=data_dir,
            source_mode=source_mode,
            snapshot_dir=snapshot_dir,
            work_db=_resolve(env.get("STYRINGSDATA_WORK_DB", str(data_dir / "work.duckdb")), PROJECT_ROOT),
            warehouse=_resolve(env.get("STYRINGSDATA_WAREHOUSE", str(data_dir / "warehouse.duckdb")), PROJECT_ROOT),
            home_municipality=home,
            ssb_requests_per_minute=int(rate),
            http_timeout=float(env.get("STYRINGSDATA_HTTP_TIMEOUT", "60")),
            registry_inbox=_resolve(env.get("STYRINGSDATA_REGISTRY_INBOX", str(data_dir / "inbox" / "registry")),
                                    PROJECT_ROOT),
            quarantine=_resolve(env.get("STYRINGSDATA_QUARANTINE", str(data_dir / "quarantine")), PROJECT_ROOT),
            registry_seed=_resolve(env.get("STYRINGSDATA_REGISTRY_SEED", "snapshots/registry"), PROJECT_ROOT),
            registry_max_bytes=int(env.get("STYRINGSDATA_REGISTRY_MAX_BYTES", str(20 * 1024 * 1024))),
            registry_settle_seconds=_seconds(env.get("STYRINGSDATA_REGISTRY_SETTLE_SECONDS", "30"),
                                             "STYRINGSDATA_REGISTRY_SETTLE_SECONDS"),
            rebuild=_on_off(env.get("STYRINGSDATA_REBUILD", "off"), "STYRINGSDATA_REBUILD"),
            automation=_on_off(env.get("STYRINGSDATA_AUTOMATION", "off"), "STYRINGSDATA_AUTOMATION"),
            mail=mail,
            number_format=_number_format(env.get("STYRINGSDATA_NUMBER_FORMAT", "en")),
            postgres_url=env.get("STYRINGSDATA_POSTGRES_URL") or None,
            postgres_schema=_pg_identifier(env.get("STYRINGSDATA_POSTGRES_SCHEMA", "styringsdata"),
                                           "STYRINGSDATA_POSTGRES_SCHEMA"),
            postgres_reader_role=_pg_identifier(env.get("STYRINGSDATA_POSTGRES_READER_ROLE", "styringsdata_reader"),
                                                "STYRINGSDATA_POSTGRES_READER_ROLE"),
            postgres_swap_wait=_seconds(env.get("STYRINGSDATA_POSTGRES_SWAP_WAIT", "300"),
                                        "STYRINGSDATA_POSTGRES_SWAP_WAIT"),
            run_lock_wait=float(env.get("STYRINGSDATA_RUN_LOCK_WAIT", "3600")),
            dagster_home=_resolve(env.get("DAGSTER_HOME", "dagster_home"), PROJECT_ROOT),
            udir_inbox=_resolve(env["STYRINGSDATA_UDIR_INBOX"], PROJECT_ROOT) if env.get("STYRINGSDATA_UDIR_INBOX")
            else None,
        )
