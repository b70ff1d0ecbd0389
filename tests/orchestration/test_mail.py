"""E-mail through a real SMTP server on loopback (aiosmtpd): what arrives, what a refusal leaves behind."""

from __future__ import annotations

import email
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from styringsdata.reporting import mail

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PASSWORD = "s3cret-passw0rd-for-tests"


class Inbox:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 Message refused by policy"
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"macro" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    servers = []

    def start(refuse: bool = False, **controller_options) -> tuple[Inbox, int]:
        """An SMTP server on loopback requiring AUTH; `controller_options` add TLS (see test_mail_tls.py)."""
        inbox = Inbox(refuse)
        port = free_port()
        options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False,
                   **controller_options}
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        servers.append(controller)
        return inbox, port

    yield start
    for controller in servers:
        controller.stop()


def settings(port: int, password: str = PASSWORD) -> mail.MailSettings:
    return mail.MailSettings.from_env({
        "STYRINGSDATA_SMTP_HOST": "127.0.0.1", "STYRINGSDATA_SMTP_PORT": str(port),
        "STYRINGSDATA_SMTP_SECURITY": "none", "STYRINGSDATA_SMTP_USER": "macro",
        "STYRINGSDATA_SMTP_PASSWORD": password, "STYRINGSDATA_MAIL_FROM": "styringsdata@asker.kommune.no",
        "STYRINGSDATA_MAIL_TO": "okonomi@asker.kommune.no, makrogruppen@baerum.kommune.no",
        "STYRINGSDATA_SMTP_TIMEOUT": "5",
    })


def queue_report(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    reports.mkdir()
    html = reports / "quality-report_2026-11-27_x.mail.html"
    html.write_text("<html><body><h1>Quality report</h1><img src='cid:coverage'></body></html>", encoding="utf-8")
    md = reports / "quality-report_2026-11-27_x.md"
    md.write_text("# Quality report\n", encoding="utf-8")
    csv = reports / "quality-report_2026-11-27_x.failing_rows.csv"
    csv.write_text("check,severity,table,row\nfct_shares_within_0_100,error,marts.fct_indicator_values,{}\n")
    png = reports / "coverage.png"
    png.write_bytes(PNG)
    outbox = reports / "outbox"
    mail.enqueue(outbox, "styringsdata 3203: published", html, [md, csv], {"coverage": png})
    return outbox


def test_report_arrives_with_html_body_attachments_and_inline_chart(tmp_path, smtp_server):
    inbox, port = smtp_server()
    outbox = queue_report(tmp_path)

    outcome = mail.flush(outbox, settings(port))

    assert outcome.sent == ["styringsdata 3203: published"] and outcome.failed == []
    assert list(outbox.glob("*.json")) == []
    (envelope,) = inbox.envelopes
    assert sorted(envelope.rcpt_tos) == ["makrogruppen@baerum.kommune.no", "okonomi@asker.kommune.no"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "styringsdata 3203: published"
    assert message["From"] == "styringsdata@asker.kommune.no"
    html = message.get_body(preferencelist=("html",))
    assert "<h1>Quality report</h1>" in html.get_content()
    parts = {part.get_filename(): part for part in message.walk() if part.get_filename()}
    assert parts["quality-report_2026-11-27_x.md"].get_content().startswith("# Quality report")
    assert "fct_shares_within_0_100" in parts["quality-report_2026-11-27_x.failing_rows.csv"].get_content()
    chart = parts["coverage.png"]
    assert chart["Content-ID"] == "<coverage>" and chart.get_content() == PNG


def test_refusing_server_keeps_the_report_queued_and_the_next_run_sends_it(tmp_path, smtp_server):
    _, refusing_port = smtp_server(refuse=True)
    outbox = queue_report(tmp_path)

    outcome = mail.flush(outbox, settings(refusing_port))

    assert outcome.sent == []
    ((subject, error),) = outcome.failed
    assert subject == "styringsdata 3203: published" and "554" in error and "refused" in error
    assert len(list(outbox.glob("*.json"))) == 1, "the report must stay in the outbox for the next run"
    assert PASSWORD not in error

    inbox, port = smtp_server()
    outcome = mail.flush(outbox, settings(port))
    assert outcome.sent == ["styringsdata 3203: published"] and len(inbox.envelopes) == 1
    assert list(outbox.glob("*.json")) == []


def test_wrong_password_and_no_server_fail_without_leaking_the_password(tmp_path, smtp_server):
    _, port = smtp_server()
    outbox = queue_report(tmp_path)

    wrong = mail.flush(outbox, settings(port, password="not-the-password"))
    (_, error), = wrong.failed
    assert "SMTPAuthenticationError" in error and "not-the-password" not in error

    nobody = mail.flush(outbox, settings(free_port()))
    (_, error), = nobody.failed
    assert "ConnectionRefusedError" in error
    assert len(list(outbox.glob("*.json"))) == 1


def test_each_audience_gets_its_own_report_and_only_its_own(tmp_path, smtp_server):
    inbox, port = smtp_server()
    env = {"STYRINGSDATA_SMTP_HOST": "127.0.0.1", "STYRINGSDATA_SMTP_PORT": str(port),
           "STYRINGSDATA_SMTP_SECURITY": "none", "STYRINGSDATA_SMTP_USER": "macro", "STYRINGSDATA_SMTP_PASSWORD": PASSWORD,
           "STYRINGSDATA_MAIL_TO_DATA_TEAM": "data@asker.kommune.no",
           "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN": "okonomi@baerum.kommune.no, makro@ks.no"}
    outbox = queue_report(tmp_path)  # the data team's
    macro_html = tmp_path / "reports" / "makrogruppen_x.mail.html"
    macro_html.write_text("<html><body><h1>Nøkkeltall og kvalitet</h1></body></html>", encoding="utf-8")
    mail.enqueue(outbox, "ASSS makrogruppen", macro_html, [], {}, mail.MACRO_GROUP)

    outcome = mail.flush(outbox, mail.MailSettings.from_env(env))

    assert sorted(outcome.sent) == ["ASSS makrogruppen", "styringsdata 3203: published"]
    by_subject = {email.message_from_bytes(e.content, policy=policy.default)["Subject"]: e for e in inbox.envelopes}
    assert by_subject["styringsdata 3203: published"].rcpt_tos == ["data@asker.kommune.no"]
    assert sorted(by_subject["ASSS makrogruppen"].rcpt_tos) == ["makro@ks.no", "okonomi@baerum.kommune.no"]
    macro = email.message_from_bytes(by_subject["ASSS makrogruppen"].content, policy=policy.default)
    assert macro["To"] == "okonomi@baerum.kommune.no, makro@ks.no"
    assert "Nøkkeltall og kvalitet" in macro.get_body(preferencelist=("html",)).get_content()


def test_an_audience_without_recipients_keeps_its_report_queued(tmp_path, smtp_server):
    inbox, port = smtp_server()
    outbox = queue_report(tmp_path)
    html = tmp_path / "reports" / "makrogruppen_x.mail.html"
    html.write_text("<html></html>", encoding="utf-8")
    mail.enqueue(outbox, "ASSS makrogruppen", html, [], {}, mail.MACRO_GROUP)

    outcome = mail.flush(outbox, settings(port))  # only the data team's recipients (STYRINGSDATA_MAIL_TO)

    assert outcome.sent == ["styringsdata 3203: published"]
    ((subject, error),) = outcome.failed
    assert subject == "ASSS makrogruppen" and "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN" in error
    assert [p.name for p in outbox.glob("*.json")] == ["makrogruppen_x.mail.json"]
    assert len(inbox.envelopes) == 1


def test_a_report_queued_before_audiences_existed_still_goes_to_the_data_team(tmp_path, smtp_server):
    import json

    inbox, port = smtp_server()
    outbox = queue_report(tmp_path)
    (item,) = outbox.glob("*.json")
    doc = json.loads(item.read_text())
    attachments = doc.pop("attachments")
    doc.pop("audience")
    item.write_text(json.dumps({**doc, "markdown": attachments[0], "csv": attachments[1]}), encoding="utf-8")

    assert mail.flush(outbox, settings(port)).sent == ["styringsdata 3203: published"]
    (envelope,) = inbox.envelopes
    assert sorted(envelope.rcpt_tos) == ["makrogruppen@baerum.kommune.no", "okonomi@asker.kommune.no"]
    names = {p.get_filename() for p in email.message_from_bytes(envelope.content, policy=policy.default).walk()}
    assert "quality-report_2026-11-27_x.md" in names and "quality-report_2026-11-27_x.failing_rows.csv" in names


def test_settings_from_environment():
    assert mail.MailSettings.from_env({}) is None
    with pytest.raises(mail.MailConfigError, match="STYRINGSDATA_MAIL_TO_DATA_TEAM .*STYRINGSDATA_MAIL_TO_MAKROGRUPPEN"):
        mail.MailSettings.from_env({"STYRINGSDATA_SMTP_HOST": "smtp.example.org"})
    both = mail.MailSettings.from_env({"STYRINGSDATA_SMTP_HOST": "h", "STYRINGSDATA_MAIL_TO": "old@a",
                                       "STYRINGSDATA_MAIL_TO_DATA_TEAM": "data@a",
                                       "STYRINGSDATA_MAIL_TO_MAKROGRUPPEN": "m1@b,m2@c"})
    assert both.recipients_for(mail.DATA_TEAM) == ("data@a",)
    assert both.recipients_for(mail.MACRO_GROUP) == ("m1@b", "m2@c")
    legacy = mail.MailSettings.from_env({"STYRINGSDATA_SMTP_HOST": "h", "STYRINGSDATA_MAIL_TO": "old@a"})
    assert legacy.recipients_for(mail.DATA_TEAM) == ("old@a",) and legacy.recipients_for(mail.MACRO_GROUP) == ()
    with pytest.raises(mail.MailConfigError, match="STYRINGSDATA_SMTP_SECURITY='tls'"):
        mail.MailSettings.from_env({"STYRINGSDATA_SMTP_HOST": "h", "STYRINGSDATA_MAIL_TO": "a@b",
                                    "STYRINGSDATA_SMTP_SECURITY": "tls"})
    ssl = mail.MailSettings.from_env({"STYRINGSDATA_SMTP_HOST": "h", "STYRINGSDATA_MAIL_TO": "a@b",
                                      "STYRINGSDATA_SMTP_SECURITY": "ssl", "STYRINGSDATA_SMTP_PASSWORD": PASSWORD})
    assert ssl.port == 465 and ssl.recipients == ("a@b",)
    assert PASSWORD not in repr(ssl) and PASSWORD not in str(ssl)
