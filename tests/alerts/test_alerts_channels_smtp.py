"""alerts/channels/smtp.py against a real aiosmtpd server with STARTTLS and AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerts.channels import ChannelError, SmtpChannel
from tests.alerts.delivery_helpers import free_port

MESSAGE = {
    "kind": "raised", "alert_id": 7, "user": "anna", "rule": "bulk_export",
    "severity": "high", "score": 9.5, "summary": "anna exported 4,812 contacts in 6 minutes",
    "status": "open", "first_ts": "2026-11-30T10:00:00+00:00",
    "last_ts": "2026-11-30T10:06:00+00:00", "evidence": {"count": 4812},
}  # fmt: skip


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    port: int
    cert: Path
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _authenticator(mailbox: Mailbox) -> Any:
    def check(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> Any:
        if (
            isinstance(data, LoginPassword)
            and data.login == b"crmguard"
            and (data.password == b"s3cret-pw")
        ):
            mailbox.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox(free_port(), cert)
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator(box),
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def _channel(box: Mailbox, **kwargs: Any) -> SmtpChannel:
    options: dict[str, Any] = {
        "username": "crmguard",
        "password": "s3cret-pw",
        "ca_file": box.cert,
        "timeout": 5.0,
    }
    options.update(kwargs)
    return SmtpChannel(
        "mail", "127.0.0.1", box.port, "crmguard@example.net", ["sec@example.net"], **options
    )


def test_alert_mail_goes_out_over_starttls_with_login(mailbox: Mailbox) -> None:
    _channel(mailbox).send(MESSAGE)
    assert mailbox.logins == ["crmguard"]
    [(sender, rcpts, raw)] = mailbox.messages
    assert sender == "crmguard@example.net" and rcpts == ["sec@example.net"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == (
        "[crmguard] HIGH bulk_export: anna exported 4,812 contacts in 6 minutes"
    )
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert "alert #7 user anna" in body and "crmguard alerts show 7" in body


def test_a_wrong_password_is_a_channel_error_without_the_password(mailbox: Mailbox) -> None:
    with pytest.raises(ChannelError, match="refused the login for crmguard") as info:
        _channel(mailbox, password="wrong-pw").send(MESSAGE)
    assert "wrong-pw" not in str(info.value)
    assert mailbox.messages == []


def test_an_untrusted_certificate_is_refused(mailbox: Mailbox) -> None:
    with pytest.raises(ChannelError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
        _channel(mailbox, ca_file=None).send(MESSAGE)
    assert mailbox.messages == []


def test_a_server_without_starttls_gets_nothing_in_clear_text() -> None:
    box = Mailbox(free_port(), Path("/nonexistent"))
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        with pytest.raises(ChannelError, match="does not offer STARTTLS"):
            _channel(box, ca_file=None).send(MESSAGE)
    finally:
        controller.stop()
    assert box.messages == []


def test_an_unreachable_server_is_a_channel_error() -> None:
    channel = SmtpChannel("mail", "127.0.0.1", free_port(), "a@example.net", ["b@example.net"])
    with pytest.raises(ChannelError, match=r"smtp 127\.0\.0\.1:\d+: .*refused"):
        channel.send(MESSAGE)
