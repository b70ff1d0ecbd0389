"""Fixtures shared by the orchestration tests."""

from tests.orchestration.test_mail import smtp_server  # noqa: F401  (a real SMTP server on loopback)
