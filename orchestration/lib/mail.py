"""E-mail to the macro group: SMTP settings from the environment, an outbox so no report is lost.

A report to send is queued in `<reports>/outbox/` first and removed only after the server accepted it,
so a refusing or unreachable server costs nothing but a log line: the next run sends it again.
The password is read from the environment and never written to a log, a report or the outbox.
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
    recipients: tuple[str, ...]
    timeout: float = 30.0
    ca_file: str = ""  # a municipality's own certificate authority; empty: the system's

    def __repr__(self) -> str:  # never let the password reach a log through repr()
        return (f"MailSettings(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r}, "
                f"sender={self.sender!r}, recipients={self.recipients!r})")

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
        recipients = tuple(r.strip() for r in env.get("STYRINGSDATA_MAIL_TO", "").split(",") if r.strip())
        if not recipients:
            raise MailConfigError("STYRINGSDATA_SMTP_HOST is set but STYRINGSDATA_MAIL_TO (comma-separated "
                                  "recipients) is empty")
        user = env.get("STYRINGSDATA_SMTP_USER", "")
        sender = env.get("STYRINGSDATA_MAIL_FROM", "") or user or f"styringsdata@{host}"
        ca_file = env.get("STYRINGSDATA_SMTP_CA_FILE", "").strip()
        if ca_file and not Path(ca_file).is_file():
            raise MailConfigError(f"STYRINGSDATA_SMTP_CA_FILE={ca_file!r}: no such file (expected PEM certificates)")
        return cls(host, int(port), security, user, env.get("STYRINGSDATA_SMTP_PASSWORD", ""), sender, recipients,
                   float(env.get("STYRINGSDATA_SMTP_TIMEOUT", "30")), ca_file)

    def tls_context(self) -> ssl.SSLContext:
        """Certificates and host names are always verified; only the trusted authorities can be chosen."""
        return ssl.create_default_context(cafile=self.ca_file or None)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


def build_message(settings: MailSettings, subject: str, html_body: str, attachments: list[Attachment],
                  inline_images: Mapping[str, bytes]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message.set_content("This report is HTML; the Markdown version is attached.")
    message.add_alternative(html_body, subtype="html")
    html_part = message.get_payload()[1]
    for cid, png in inline_images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    for a in attachments:
        message.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype, filename=a.filename)
    return message


def send(settings: MailSettings, message: EmailMessage) -> None:
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
        client.send_message(message, to_addrs=list(settings.recipients))


# ---------------------------------------------------------------------------------------------------------
# The outbox: one JSON file per report waiting to be sent, naming the files on disk (never their secrets).


@dataclass(frozen=True)
class OutboxItem:
    path: Path
    subject: str
    html: Path
    markdown: Path
    csv: Path
    images: dict[str, Path]


def enqueue(outbox: Path, subject: str, html: Path, markdown: Path, csv: Path, images: Mapping[str, Path]) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    item = outbox / f"{html.stem}.json"
    tmp = item.with_name(item.name + ".tmp")
    tmp.write_text(json.dumps({"subject": subject, "html": str(html), "markdown": str(markdown), "csv": str(csv),
                               "images": {k: str(v) for k, v in images.items()}}, indent=1), encoding="utf-8")
    tmp.replace(item)
    return item


def pending(outbox: Path) -> list[OutboxItem]:
    items = []
    for path in sorted(outbox.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        items.append(OutboxItem(path, doc["subject"], Path(doc["html"]), Path(doc["markdown"]), Path(doc["csv"]),
                                {k: Path(v) for k, v in doc["images"].items()}))
    return items


@dataclass(frozen=True)
class SendOutcome:
    sent: list[str]  # subjects
    failed: list[tuple[str, str]]  # (subject, error)


def flush(outbox: Path, settings: MailSettings) -> SendOutcome:
    """Send every queued report, oldest first; a report leaves the outbox only once the server accepted it."""
    sent: list[str] = []
    failed: list[tuple[str, str]] = []
    for item in pending(outbox):
        try:
            message = build_message(
                settings, item.subject, item.html.read_text(encoding="utf-8"),
                [Attachment(item.markdown.name, item.markdown.read_bytes(), "text", "markdown"),
                 Attachment(item.csv.name, item.csv.read_bytes(), "text", "csv")],
                {cid: p.read_bytes() for cid, p in item.images.items()})
            send(settings, message)
        except (OSError, smtplib.SMTPException) as exc:
            failed.append((item.subject, f"{exc.__class__.__name__}: {exc}"))
            continue
        item.path.unlink()
        sent.append(item.subject)
    return SendOutcome(sent, failed)
