"""STARTTLS and implicit TLS against an SMTP server on loopback whose certificate an internal CA signed."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import ssl
from email import policy
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from styringsdata.reporting import mail
from tests.orchestration.test_mail import PASSWORD, Inbox, queue_report, smtp_server  # noqa: F401 (fixture)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key): the CA as a municipality's IT would run one."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Kommune IT test CA")).issuer_name(_name("Kommune IT test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def server_context(certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificates[1]), str(certificates[2]))
    return context


@pytest.fixture
def tls_server(certificates, smtp_server):  # noqa: F811
    def start(security: str) -> tuple[Inbox, int]:
        if security == "starttls":
            return smtp_server(tls_context=server_context(certificates), require_starttls=True,
                               auth_require_tls=True)
        return smtp_server(ssl_context=server_context(certificates))

    return start


def settings(port: int, security: str, ca_file: Path | None) -> mail.MailSettings:
    env = {"STYRINGSDATA_SMTP_HOST": "127.0.0.1", "STYRINGSDATA_SMTP_PORT": str(port),
           "STYRINGSDATA_SMTP_SECURITY": security, "STYRINGSDATA_SMTP_USER": "macro",
           "STYRINGSDATA_SMTP_PASSWORD": PASSWORD, "STYRINGSDATA_MAIL_TO": "makrogruppen@asker.kommune.no",
           "STYRINGSDATA_SMTP_TIMEOUT": "5"}
    if ca_file:
        env["STYRINGSDATA_SMTP_CA_FILE"] = str(ca_file)
    return mail.MailSettings.from_env(env)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_report_is_sent_over_tls_checked_against_the_internal_ca(tmp_path, tls_server, certificates, security):
    inbox, port = tls_server(security)
    outbox = queue_report(tmp_path)

    outcome = mail.flush(outbox, settings(port, security, certificates[0]))

    assert outcome.failed == [] and outcome.sent == ["styringsdata 3203: published"]
    (envelope,) = inbox.envelopes
    assert email.message_from_bytes(envelope.content, policy=policy.default)["Subject"] == outcome.sent[0]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_certificate_no_trusted_authority_signed_is_refused_and_the_report_kept(tmp_path, tls_server, security):
    inbox, port = tls_server(security)
    outbox = queue_report(tmp_path)

    outcome = mail.flush(outbox, settings(port, security, ca_file=None))

    ((_, error),) = outcome.failed
    assert "CERTIFICATE_VERIFY_FAILED" in error or "SSLCertVerificationError" in error
    assert inbox.envelopes == [] and len(list(outbox.glob("*.json"))) == 1


def test_a_missing_ca_file_is_named():
    with pytest.raises(mail.MailConfigError, match="STYRINGSDATA_SMTP_CA_FILE='/nonexistent/ca.pem'"):
        mail.MailSettings.from_env({"STYRINGSDATA_SMTP_HOST": "h", "STYRINGSDATA_MAIL_TO": "a@b",
                                    "STYRINGSDATA_SMTP_CA_FILE": "/nonexistent/ca.pem"})
