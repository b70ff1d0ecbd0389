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
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Mapping

# The mail settings are declared with every other setting; the names are kept here for the mail code's callers.
from styringsdata.settings import MAIL_AUDIENCES as AUDIENCES
from styringsdata.settings import SECURITY_MODES, MailConfigError, MailSettings  # noqa: F401

DATA_TEAM, MACRO_GROUP = AUDIENCES
RECIPIENT_SETTINGS = {DATA_TEAM: "STYRINGSDATA_MAIL_TO_DATA_TEAM", MACRO_GROUP: "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN"}


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
    _, html_part = message.iter_parts()  # add_alternative made the message multipart/alternative: text, HTML
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
