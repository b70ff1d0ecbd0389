"""Every setting declared once: its variable, default, form, error message and row in docs/configuration.md.

`Settings` is a pydantic model. Each field names its environment variable (`validation_alias`), its default
and its meaning (`description`); its type carries the parser, whose ValueError text is the expected form.
`Settings.from_env` turns every problem into one SettingsError line naming the variable, the value and that
form, and `configuration_table()` writes the documentation's table from the same fields
(tests/orchestration/test_settings.py keeps docs/configuration.md equal to it).

Why pydantic and not pydantic-settings' BaseSettings: every caller hands in the mapping to read (the CLI and
Dagster the process environment, tests their own dictionaries), so a settings source that reads os.environ by
itself would only have to be switched off again. Nothing here writes to os.environ.
"""

from __future__ import annotations

import math
import os
import re
import ssl
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Mapping, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from styringsdata.home import HomeMunicipalityError, check_home_municipality
from styringsdata.home import form_problem as home_form_problem
from styringsdata.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from styringsdata.sources.transport import SourceMode

if TYPE_CHECKING:
    from styringsdata.sources.ssb import TableSpecs

__all__ = ["DBT_PROJECT_DIR", "PROJECT_ROOT", "DEFAULT_HOME_MUNICIPALITY", "INTERNAL_VARIABLES", "SETTINGS",
           "MailConfigError", "MailSettings", "NUMBER_FORMATS", "Settings", "SettingsError", "configuration_table",
           "variables"]

# The one default of the home municipality (Asker); dbt, the gate, the reports and the mail get it from here.
DEFAULT_HOME_MUNICIPALITY = "3203"
# Set by the pipeline for its own dbt child process (src/styringsdata/runs/dbt_child.py), never by a user.
INTERNAL_VARIABLES = frozenset({"STYRINGSDATA_DBT_WORK_DB"})
NUMBER_FORMATS = ("en", "no")  # the data team's report: en (1,785.14) or no (1 785,14)
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
MAIL_AUDIENCES = ("data-team", "makrogruppen")


class SettingsError(ValueError):
    """A setting with a value it cannot have; the message names the variable, the value and the expected form."""


# The mail code's name for the same thing (src/styringsdata/reporting/mail.py re-exports it).
MailConfigError = SettingsError

T = TypeVar("T")


def _form(parse: Callable[[str], T]) -> BeforeValidator:
    """A field's parser: the variable's text in, the typed value out, or ValueError(the expected form)."""

    def validate(value: Any) -> Any:
        return parse(value) if isinstance(value, str) else value

    return BeforeValidator(validate)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _seconds(minimum_excluded: bool, example: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _number(text)
        if math.isfinite(value) and (value > 0 if minimum_excluded else value >= 0):
            return value
        bound = "greater than 0" if minimum_excluded else ", 0 or more"
        raise ValueError(f"expected a number of seconds{'' if bound.startswith(',') else ' '}{bound} (e.g. {example})")

    return parse


def _whole(minimum: int, form: str, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if text.isdigit() and minimum <= int(text) and (maximum is None or int(text) <= maximum):
            return int(text)
        raise ValueError(form)

    return parse


def _on_off(text: str) -> bool:
    if text.strip().lower() not in ("on", "off"):
        raise ValueError("expected on or off")
    return text.strip().lower() == "on"


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip().lower() not in choices:
            raise ValueError(f"expected {', '.join(choices[:-1])} or {choices[-1]}")
        return text.strip().lower()

    return parse


def _source_mode(text: str) -> SourceMode:
    if text not in {m.value for m in SourceMode}:
        raise ValueError("expected replay, live or record")
    return SourceMode(text)


def _resolve(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def _directory(text: str) -> Path:
    if not text.strip():
        raise ValueError("expected a directory path (absolute, or relative to the repository)")
    path = _resolve(text)
    if path.exists() and not path.is_dir():
        raise ValueError("expected a directory, but that is a file")
    return path


def _file(text: str) -> Path:
    if not text.strip():
        raise ValueError("expected a file path (absolute, or relative to the repository)")
    path = _resolve(text)
    if path.is_dir():
        raise ValueError("expected a file path, but that is a directory")
    return path


def _ssb_tables(text: str) -> Path:
    # Imported here: the SSB client is not needed by every command that reads the settings.
    from styringsdata.sources.ssb import TABLE_SPECS_PATH, subset_problem

    if not text.strip():
        return TABLE_SPECS_PATH
    path = _resolve(text.strip())
    if not path.is_file():
        raise ValueError(f"expected an SSB configuration file that exists: the bundled {TABLE_SPECS_PATH.name} "
                         "or a copy that keeps some of its tables")
    problem = subset_problem(path)
    if problem:
        raise ValueError(problem)
    return path


def _home(text: str) -> str:
    problem = home_form_problem(text)
    if problem:
        raise ValueError(problem)
    return text.strip()


def _pg_identifier(text: str) -> str:
    # Lower case and short enough for the suffixed staging names (PostgreSQL cuts names at 63 bytes).
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,49}", text):
        raise ValueError("expected a lower-case PostgreSQL name of at most 50 characters (letters, digits, _)")
    return text


def _postgres_url(text: str) -> str | None:
    if not text.strip():
        return None
    if not re.match(r"postgres(ql)?://", text.strip()):
        raise ValueError("expected a URL postgresql://user@host:5432/database")
    return text.strip()


def _addresses(text: str) -> tuple[str, ...]:
    addresses = tuple(r.strip() for r in text.split(",") if r.strip())
    if any("@" not in a for a in addresses):
        raise ValueError("expected comma-separated e-mail addresses (name@example.org)")
    return addresses


def _optional_port(text: str) -> int | None:
    return None if not text.strip() else _whole(1, "expected a port number from 1 to 65535", 65535)(text.strip())


def _ca_file(text: str) -> str:
    if text.strip() and not Path(text.strip()).is_file():
        raise ValueError("expected a PEM file of certificates that exists")
    return text.strip()


def setting(variable: str, default: str, meaning: str, *, shown: str | None = None, secret: bool = False) -> Any:
    """One declaration: the variable, its default as a user would write it (parsed like a set value), the
    default as the documentation shows it when that differs, and the meaning."""
    return Field(default=default, validation_alias=variable, description=meaning, repr=not secret,
                 json_schema_extra={"shown_default": shown if shown is not None else default})


_HOUR_SECONDS = 3600

class Settings(BaseModel):
    """Every setting; paths are absolute (relative values are taken from the repository's root)."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True, populate_by_name=False)

    data_dir: Annotated[Path, _form(_directory)] = setting(
        "STYRINGSDATA_DATA_DIR", "data", "Root of landing, work file, publication and reports (relative to the repo).")
    source_mode: Annotated[SourceMode, _form(_source_mode)] = setting(
        "STYRINGSDATA_SOURCE_MODE", "replay",
        "replay: answer every request from the bundled snapshots (offline); live: call the sources; "
        "record: call the sources and save the answers as snapshots.")
    snapshot_dir: Annotated[Path, _form(_directory)] = setting(
        "STYRINGSDATA_SNAPSHOT_DIR", "snapshots", "Where replay reads and record writes recorded responses.")
    work_db: Annotated[Path, _form(_file)] = setting(
        "STYRINGSDATA_WORK_DB", "", "The DuckDB file the pipeline writes (raw, staging, marts).",
        shown="<data>/work.duckdb")
    warehouse: Annotated[Path, _form(_file)] = setting(
        "STYRINGSDATA_WAREHOUSE", "", "The published DuckDB file BI tools read; only the publish step writes it, "
        "by rename.", shown="<data>/warehouse.duckdb")
    home_municipality: Annotated[str, _form(_home)] = setting(
        "STYRINGSDATA_HOME_MUNICIPALITY", DEFAULT_HOME_MUNICIPALITY,
        "The ASSS member the reports are written for and the scorecard shows first (today's code; dbt gets it with "
        "--vars). Checked before anything is built: a code that is not a member's stops the run, and a retired code "
        "is named with its successor (0220: today's code is 3203 Asker).")
    ssb_tables: Annotated[Path, _form(_ssb_tables)] = setting(
        "STYRINGSDATA_SSB_TABLES", "",
        "The SSB configuration a run fetches: the bundled file, or a copy that keeps some of its tables (each as it "
        "is there: dbt's sources and seeds are written from the bundled file; styringsdata.sources.ssb."
        "subset_configuration writes one), for a quick trial run or the test suite's fault worlds. Indicators and "
        "key figures from the tables left out are published as not_measured (an input missing).",
        shown="src/styringsdata/sources/ssb_tables.yaml")
    ssb_requests_per_minute: Annotated[int, _form(_whole(1, "expected a whole number >= 1"))] = setting(
        "STYRINGSDATA_SSB_REQUESTS_PER_MINUTE", "30",
        "Client-side limit for data.ssb.no (SSB allows 30 per minute per IP).")
    http_timeout: Annotated[float, _form(_seconds(True, "60"))] = setting(
        "STYRINGSDATA_HTTP_TIMEOUT", "60", "Seconds before an HTTP request is given up and retried.")
    registry_inbox: Annotated[Path, _form(_directory)] = setting(
        "STYRINGSDATA_REGISTRY_INBOX", "", "Drop zone for the municipality's register extracts.",
        shown="<data>/inbox/registry")
    udir_inbox: Annotated[Path, _form(_directory)] = setting(
        "STYRINGSDATA_UDIR_INBOX", "", "Drop zone for files exported from Udir's statistikkbanken "
        "(Elevundersøkelsen; docs/sources.md \"Udir\"); the registry's settle time and size limit apply.",
        shown="<data>/inbox/udir")
    quarantine: Annotated[Path, _form(_directory)] = setting(
        "STYRINGSDATA_QUARANTINE", "", "Where rejected registry files go, with an .errors.txt report.",
        shown="<data>/quarantine")
    registry_seed: Annotated[Path, _form(_directory)] = setting(
        "STYRINGSDATA_REGISTRY_SEED", "snapshots/registry",
        "Bundled registry files landed once (the Handlingsprogram's published 2019-2022 values).")
    registry_max_bytes: Annotated[int, _form(_whole(
        1, "expected a whole number of bytes greater than 0 (e.g. 20971520 for 20 MiB)"))] = setting(
        "STYRINGSDATA_REGISTRY_MAX_BYTES", "20971520", "Registry files larger than this are refused.")
    registry_settle_seconds: Annotated[float, _form(_seconds(False, "30"))] = setting(
        "STYRINGSDATA_REGISTRY_SETTLE_SECONDS", "30",
        "A file in any inbox (registry, Udir, Kommune-NM, deflator, expense-need index) modified or changed (ctime) "
        "less than this many seconds ago is left for a later run (it may still be being copied); every run, the "
        "inbox sensor and the pre-check apply it.")
    automation: Annotated[bool, _form(_on_off)] = setting(
        "STYRINGSDATA_AUTOMATION", "off",
        "on: schedules and sensors start running when Dagster's daemon starts (make dev); off: they are listed, "
        "stopped, and can be switched on in the UI.")
    run_lock_wait: Annotated[float, _form(_seconds(False, str(_HOUR_SECONDS)))] = setting(
        "STYRINGSDATA_RUN_LOCK_WAIT", str(_HOUR_SECONDS),
        "Seconds a run started by Dagster (UI, schedule, sensor) waits for another run on the same data directory "
        "to finish before it gives up naming it; `styringsdata run` does not wait for another run.")
    dagster_home: Annotated[Path, _form(_directory)] = setting(
        "DAGSTER_HOME", "dagster_home",
        "The Dagster instance every run is recorded in, whoever starts it (styringsdata run, the UI, schedules, "
        "sensors): SQLite under this directory, configured by its dagster.yaml (tracked; the storage beside it is "
        "git-ignored); dagster_home/postgres for the team setup (deploy/README.md).")
    rebuild: Annotated[bool, _form(_on_off)] = setting(
        "STYRINGSDATA_REBUILD", "off",
        "on: run dbt, the gate and publish even when no source loaded anything new (off: such runs skip them when "
        "today's build of the same project is already published).")
    smtp_host: str = setting(
        "STYRINGSDATA_SMTP_HOST", "", "SMTP server for the reports; unset = no mail (the run log says so).",
        shown="(unset)")
    smtp_port: Annotated[int | None, _form(_optional_port)] = setting(
        "STYRINGSDATA_SMTP_PORT", "", "SMTP port (default by security mode).", shown="587 / 465 / 25")
    smtp_security: Annotated[str, _form(_choice(SECURITY_MODES))] = setting(
        "STYRINGSDATA_SMTP_SECURITY", "starttls", "starttls, ssl or none.")
    smtp_user: str = setting("STYRINGSDATA_SMTP_USER", "", "SMTP login; no login when unset.", shown="(unset)")
    smtp_password: str = setting(
        "STYRINGSDATA_SMTP_PASSWORD", "", "SMTP password; read from the environment only, never logged.",
        shown="(unset)", secret=True)
    mail_from: str = setting("STYRINGSDATA_MAIL_FROM", "", "Sender address (default: the login, else "
                             "styringsdata@<host>).", shown="<user>")
    mail_to_data_team: Annotated[tuple[str, ...], _form(_addresses)] = setting(
        "STYRINGSDATA_MAIL_TO_DATA_TEAM", "",
        "Comma-separated recipients of the data team's operational report (after every run that publishes or is "
        "held back).", shown="(unset)")
    mail_to_makrogruppen: Annotated[tuple[str, ...], _form(_addresses)] = setting(
        "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN", "",
        "Comma-separated recipients of the ASSS macro group's Norwegian report (after each publication); unset = "
        "written to disk only.", shown="(unset)")
    mail_to: Annotated[tuple[str, ...], _form(_addresses)] = setting(
        "STYRINGSDATA_MAIL_TO", "",
        "The data team's recipients as before there were two audiences; STYRINGSDATA_MAIL_TO_DATA_TEAM wins when "
        "both are set. With the host set, at least one audience needs recipients.", shown="(unset)")
    number_format: Annotated[str, _form(_choice(NUMBER_FORMATS))] = setting(
        "STYRINGSDATA_NUMBER_FORMAT", "en",
        "Numbers in the data team's report: en (1,785.14) or no (1 785,14); the macro group's report is always no.")
    smtp_ca_file: Annotated[str, _form(_ca_file)] = setting(
        "STYRINGSDATA_SMTP_CA_FILE", "",
        "PEM file of the certificate authority the SMTP server's certificate is checked against (an internal CA; "
        "default: the system's). Certificates are always verified.", shown="(unset)")
    smtp_timeout: Annotated[float, _form(_seconds(True, "30"))] = setting(
        "STYRINGSDATA_SMTP_TIMEOUT", "30", "Seconds before an SMTP connection is given up (the report stays queued).")
    # May hold a password (when the user put it in the URL): kept out of repr, never logged.
    postgres_url: Annotated[str | None, _form(_postgres_url)] = setting(
        "STYRINGSDATA_POSTGRES_URL", "",
        "PostgreSQL database the marts are published to as well (postgresql://user@host:5432/db); unset = the "
        "DuckDB file and Parquet only. Password in PGPASSWORD or ~/.pgpass (libpq), never logged.",
        shown="(unset)", secret=True)
    postgres_schema: Annotated[str, _form(_pg_identifier)] = setting(
        "STYRINGSDATA_POSTGRES_SCHEMA", "styringsdata",
        "Schema BI tools read there (<schema>__incoming and <schema>__previous are the publish step's own).")
    postgres_reader_role: Annotated[str, _form(_pg_identifier)] = setting(
        "STYRINGSDATA_POSTGRES_READER_ROLE", "styringsdata_reader",
        "Role granted read access to each publication (BI logins are made members of it).")
    postgres_swap_wait: Annotated[float, _form(_seconds(True, "300"))] = setting(
        "STYRINGSDATA_POSTGRES_SWAP_WAIT", "300",
        "Seconds the switch to a new publication waits for readers' open transactions before the publish fails "
        "(0 is refused: PostgreSQL reads a lock timeout of 0 as no limit); also every publish statement's "
        "lock_timeout, and 4 times it (at least 60 s) its statement_timeout.")

    @model_validator(mode="before")
    @classmethod
    def _defaults_under_the_data_directory(cls, data: Any) -> Any:
        """The paths whose default is under the data directory (unset or empty: `<data>/…`)."""
        if not isinstance(data, Mapping):
            return data
        values = dict(data)
        base = _resolve(str(values.get("STYRINGSDATA_DATA_DIR") or "data"))
        for variable, under in (("STYRINGSDATA_WORK_DB", "work.duckdb"), ("STYRINGSDATA_WAREHOUSE", "warehouse.duckdb"),
                                ("STYRINGSDATA_REGISTRY_INBOX", "inbox/registry"),
                                ("STYRINGSDATA_UDIR_INBOX", "inbox/udir"), ("STYRINGSDATA_QUARANTINE", "quarantine")):
            if not values.get(variable):
                values[variable] = str(base / under)
        return values

    @model_validator(mode="after")
    def _settings_that_fit_together(self) -> "Settings":
        # Membership (with the retired code's successor named) needs the landing and snapshot folders.
        try:
            check_home_municipality(self.home_municipality, self.data_dir / "landing", self.snapshot_dir)
        except HomeMunicipalityError as exc:
            raise _Whole(str(exc)) from None
        if self.smtp_host.strip() and not (self.mail_to_data_team or self.mail_to or self.mail_to_makrogruppen):
            raise _Whole("STYRINGSDATA_SMTP_HOST is set but no recipients are: set STYRINGSDATA_MAIL_TO_DATA_TEAM "
                         "(or STYRINGSDATA_MAIL_TO) and/or STYRINGSDATA_MAIL_TO_MAKROGRUPPEN (comma-separated "
                         "addresses)")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings from `environ` (default: this process's environment); SettingsError names every
        variable whose value has the wrong form, all of them in one line."""
        env = dict(os.environ if environ is None else environ)
        try:
            return cls.model_validate(env)
        except ValidationError as exc:
            raise SettingsError(_one_line(exc, env)) from None

    @property
    def mail(self) -> "MailSettings | None":
        """None when STYRINGSDATA_SMTP_HOST is unset (mail is off)."""
        host = self.smtp_host.strip()
        if not host:
            return None
        return MailSettings(
            host=host, port=self.smtp_port or DEFAULT_PORTS[self.smtp_security], security=self.smtp_security,
            user=self.smtp_user, password=self.smtp_password,
            sender=self.mail_from or self.smtp_user or f"styringsdata@{host}",
            recipients=self.mail_to_data_team or self.mail_to, timeout=self.smtp_timeout, ca_file=self.smtp_ca_file,
            macro_group_recipients=self.mail_to_makrogruppen)

    @property
    def table_specs(self) -> "TableSpecs":
        """The SSB tables this run fetches (STYRINGSDATA_SSB_TABLES)."""
        from styringsdata.sources.ssb import load_table_specs

        return load_table_specs(self.ssb_tables)

    @property
    def chosen_ssb_tables(self) -> tuple[str, ...] | None:
        """The tables STYRINGSDATA_SSB_TABLES keeps, for dbt's var `ssb_tables`; None when it keeps every bundled
        table (the bundled file, or one with other regions or years)."""
        from styringsdata.sources.ssb import load_table_specs

        chosen = tuple(t.table_id for t in self.table_specs.tables)
        return None if set(chosen) == {t.table_id for t in load_table_specs().tables} else chosen

    @property
    def udir_inbox_dir(self) -> Path:
        return self.udir_inbox

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

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
    def dbt_target_dir(self) -> Path:
        """dbt's target folders (one per build) and its parse of the project: in the data directory, never in
        the repository."""
        return self.work_db.parent / "dbt"

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


class _Whole(ValueError):
    """A problem whose message already names its variables (a check of settings together)."""


def _one_line(exc: ValidationError, env: Mapping[str, str]) -> str:
    problems = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        text = str(cause) if cause is not None else error["msg"]
        if not error["loc"]:  # a model validator: the message names its variables
            problems.append(text)
            continue
        variable = str(error["loc"][0])
        problems.append(f"{variable}={env.get(variable, '')!r}: {text}")
    return "; ".join(problems)


def variables(model: type[BaseModel] = Settings) -> list[str]:
    return [str(f.validation_alias) for f in model.model_fields.values()]


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for field in Settings.model_fields.values():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        rows.append((str(field.validation_alias), str(extra["shown_default"]), field.description or ""))
    return rows


# (variable, default, meaning): what the pre-check and the documentation list.
SETTINGS: tuple[tuple[str, str, str], ...] = tuple(_rows())
TABLE_START = "<!-- settings table: written by `python -m styringsdata.settings --write-docs`; do not edit -->"
TABLE_END = "<!-- end of settings table -->"


def configuration_table() -> str:
    lines = [TABLE_START, "| variable | default | meaning |", "|---|---|---|"]
    for variable, default, meaning in SETTINGS:
        shown = default if default.startswith("(") else f"`{default}`"
        lines.append(f"| `{variable}` | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join([*lines, TABLE_END])


def write_docs(path: Path = PROJECT_ROOT / "docs" / "configuration.md") -> bool:
    """Put the table between its markers; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    new = text[:start] + configuration_table() + text[end:]
    path.write_text(new, encoding="utf-8")
    return new != text


class MailSettings(BaseModel):
    """What sending needs, built by Settings.mail from the SMTP and mail settings."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    security: str
    user: str
    password: str = Field(repr=False)  # never let the password reach a log through repr()
    sender: str
    recipients: tuple[str, ...]  # the data team's
    timeout: float = 30.0
    ca_file: str = ""  # a municipality's own certificate authority; empty: the system's
    macro_group_recipients: tuple[str, ...] = ()

    def recipients_for(self, audience: str) -> tuple[str, ...]:
        if audience not in MAIL_AUDIENCES:
            raise MailConfigError(f"unknown audience {audience!r}: expected one of {', '.join(MAIL_AUDIENCES)}")
        return self.macro_group_recipients if audience == "makrogruppen" else self.recipients

    def tls_context(self) -> ssl.SSLContext:
        """Certificates and host names are always verified; only the trusted authorities can be chosen."""
        return ssl.create_default_context(cafile=self.ca_file or None)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "MailSettings | None":
        """None when STYRINGSDATA_SMTP_HOST is unset (mail is off); an error naming the variable when half-set."""
        return Settings.from_env(env).mail


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        print("docs/configuration.md " + ("updated" if write_docs() else "already up to date"))
    else:
        sys.exit("usage: python -m styringsdata.settings --write-docs")
