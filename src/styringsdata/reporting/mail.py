"""E-mail to each audience: SMTP settings from the environment, an outbox so no report is lost.

Two audiences, each with its own recipients: the data team (the operational report;
STYRINGSDATA_MAIL_TO_DATA_TEAM, or the older STYRINGSDATA_MAIL_TO) and the ASSS macro group (the Norwegian
report; STYRINGSDATA_MAIL_TO_MAKROGRUPPEN). A report to send is queued in `<reports>/outbox/` first, with
its audience, and removed only after the server accepted it, so a refusing or unreachable server costs
nothing but a log line: the next run sends it again. The password is read from the environment and never
written to a log, a report or the outbox.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Mapping

SECURITY_MODES = ("starttls", "ssl", "none")
DATA_TEAM = "data-team"
MACRO_GROUP = "makrogruppen"
AUDIENCES = (DATA_TEAM, MACRO_GROUP)
RECIPIENT_SETTINGS = {DATA_TEAM: "STYRINGSDATA_MAIL_TO_DATA_TEAM", MACRO_GROUP: "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN"}


class MailConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    user: str
    password: str
    sender: str
    recipients: tuple[str, ...]  # the data team's
    timeout: float = 30.0
    ca_file: str = ""  # a municipality's own certificate authority; empty: the system's
    macro_group_recipients: tuple[str, ...] = ()

    def recipients_for(self, audience: str) -> tuple[str, ...]:
        if audience not in AUDIENCES:
            raise MailConfigError(f"unknown audience {audience!r}: expected one of {', '.join(AUDIENCES)}")
        return self.macro_group_recipients if audience == MACRO_GROUP else self.recipients

    def __repr__(self) -> str:  # never let the password reach a log through repr()
        return (f"MailSettings(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r}, "
                f"sender={self.sender!r}, recipients={self.recipients!r}, "
                f"macro_group_recipients={self.macro_group_recipients!r})")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "MailSettings | None":
        """None when STYRINGSDATA_SMTP_HOST is unset (mail is off); an error naming the variable when half-set."""
        host = env.get("STYRINGSDATA_SMTP_HOST", "").strip()
        if not host:
            return None
        security = env.get("STYRINGSDATA_SMTP_SECURITY", "starttls").strip().lower()
        if security not in SECURITY_MODES:
            raise MailConfigError(f"STYRINGSDATA_SMTP_SECURITY={security!r}: expected one of {', '.join(SECURITY_MODES)}")
        default_port = {"starttls": "587", "ssl": "465", "none": "25"}[security]
        port = env.get("STYRINGSDATA_SMTP_PORT", default_port).strip()
        if not port.isdigit():
            raise MailConfigError(f"STYRINGSDATA_SMTP_PORT={port!r}: expected a port number")
        # STYRINGSDATA_MAIL_TO is the data team's recipients from before there were two audiences.
        recipients = _addresses(env.get("STYRINGSDATA_MAIL_TO_DATA_TEAM", "") or env.get("STYRINGSDATA_MAIL_TO", ""))
        macro_group = _addresses(env.get("STYRINGSDATA_MAIL_TO_MAKROGRUPPEN", ""))
        if not recipients and not macro_group:
            raise MailConfigError("STYRINGSDATA_SMTP_HOST is set but no recipients are: set "
                                  "STYRINGSDATA_MAIL_TO_DATA_TEAM (or STYRINGSDATA_MAIL_TO) and/or "
                                  "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN (comma-separated addresses)")
        user = env.get("STYRINGSDATA_SMTP_USER", "")
        sender = env.get("STYRINGSDATA_MAIL_FROM", "") or user or f"styringsdata@{host}"
        ca_file = env.get("STYRINGSDATA_SMTP_CA_FILE", "").strip()
        if ca_file and not Path(ca_file).is_file():
            raise MailConfigError(f"STYRINGSDATA_SMTP_CA_FILE={ca_file!r}: no such file (expected PEM certificates)")
        return cls(host, int(port), security, user, env.get("STYRINGSDATA_SMTP_PASSWORD", ""), sender, recipients,
                   float(env.get("STYRINGSDATA_SMTP_TIMEOUT", "30")), ca_file, macro_group)

    def tls_context(self) -> ssl.SSLContext:
        """Certificates and host names are always verified; only the trusted authorities can be chosen."""
        return ssl.create_default_context(cafile=self.ca_file or None)


def _addresses(text: str) -> tuple[str, ...]:
    return tuple(r.strip() for r in text.split(",") if r.strip())


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


def build_message(settings: MailSettings, subject: str, html_body: str, attachments: list[Attachment],
                  inline_images: Mapping[str, bytes], audience: str = DATA_TEAM) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients_for(audience))
    message.set_content("Rapporten er i HTML." if audience == MACRO_GROUP
                        else "This report is HTML; the Markdown version is attached.")
    message.add_alternative(html_body, subtype="html")
    html_part = message.get_payload()[1]
    for cid, png in inline_images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    for a in attachments:
        # our text files are UTF-8 (æøå); without the charset a mail client guesses, and the CSV keeps its BOM
        params = {"charset": "utf-8"} if a.maintype == "text" else None
        message.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype, filename=a.filename, params=params)
    return message


def send(settings: MailSettings, message: EmailMessage, audience: str = DATA_TEAM) -> None:
    if settings.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                context=settings.tls_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.security == "starttls":
            client.starttls(context=settings.tls_context())
        if settings.user:
            client.login(settings.user, settings.password)
        client.send_message(message, to_addrs=list(settings.recipients_for(audience)))


# ---------------------------------------------------------------------------------------------------------
# The outbox: one JSON file per report waiting to be sent, naming the files on disk (never their secrets).


@dataclass(frozen=True)
class OutboxItem:
    path: Path
    subject: str
    html: Path
    attachments: list[Path]
    images: dict[str, Path]
    audience: str = DATA_TEAM


def enqueue(outbox: Path, subject: str, html: Path, attachments: list[Path], images: Mapping[str, Path],
            audience: str = DATA_TEAM) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    item = outbox / f"{html.stem}.json"
    tmp = item.with_name(item.name + ".tmp")
    tmp.write_text(json.dumps({"subject": subject, "audience": audience, "html": str(html),
                               "attachments": [str(a) for a in attachments],
                               "images": {k: str(v) for k, v in images.items()}}, indent=1), encoding="utf-8")
    tmp.replace(item)
    return item


def pending(outbox: Path) -> list[OutboxItem]:
    items = []
    for path in sorted(outbox.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        # items queued before there were audiences name their Markdown and CSV and go to the data team
        attachments = doc.get("attachments", [doc[k] for k in ("markdown", "csv") if k in doc])
        items.append(OutboxItem(path, doc["subject"], Path(doc["html"]), [Path(a) for a in attachments],
                                {k: Path(v) for k, v in doc["images"].items()}, doc.get("audience", DATA_TEAM)))
    return items


@dataclass(frozen=True)
class SendOutcome:
    sent: list[str]  # subjects
    failed: list[tuple[str, str]]  # (subject, error)


SUBTYPES = {".md": ("text", "markdown"), ".csv": ("text", "csv"), ".html": ("text", "html")}


def flush(outbox: Path, settings: MailSettings) -> SendOutcome:
    """Send every queued report to its audience, oldest first; a report leaves the outbox only once the server
    accepted it."""
    sent: list[str] = []
    failed: list[tuple[str, str]] = []
    for item in pending(outbox):
        if not settings.recipients_for(item.audience):
            failed.append((item.subject, f"no recipients for {item.audience}: set {RECIPIENT_SETTINGS[item.audience]}"))
            continue
        try:
            message = build_message(
                settings, item.subject, item.html.read_text(encoding="utf-8"),
                [Attachment(a.name, a.read_bytes(), *SUBTYPES.get(a.suffix, ("application", "octet-stream")))
                 for a in item.attachments],
                {cid: p.read_bytes() for cid, p in item.images.items()}, item.audience)
            send(settings, message, item.audience)
        except (OSError, smtplib.SMTPException) as exc:
            failed.append((item.subject, f"{exc.__class__.__name__}: {exc}"))
            continue
        item.path.unlink()
        sent.append(item.subject)
    return SendOutcome(sent, failed)
