"""The e-mail channel: SMTP with STARTTLS (or implicit TLS) and authentication.

TLS is required by default: ``security = "starttls"`` refuses a server that does not
offer STARTTLS rather than sending an alert (and the password) in clear text; ``"tls"``
is implicit TLS (port 465); ``"none"`` exists for a relay on localhost only. A custom
CA file lets a company trust its own mail server's certificate.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Literal

from alerts.channels.interface import Channel, ChannelError, one_line, subject_of, text_of
from alerts.model import Severity

Security = Literal["starttls", "tls", "none"]
#: CRLF line ends; the subject (cut to 200 characters) is kept on one line (SMTP allows 998).
_POLICY = policy.SMTP.clone(max_line_length=998)


class SmtpChannel(Channel):
    kind = "smtp"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        timeout: float = 15.0,
        min_severity: Severity = "low",
    ) -> None:
        super().__init__(name, min_severity)
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = tuple(recipients)
        self.security: Security = security
        self.username = username
        self._password = password
        self.ca_file = ca_file
        self.timeout = timeout

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def compose(self, message: Mapping[str, Any]) -> EmailMessage:
        mail = EmailMessage(policy=_POLICY)
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Subject"] = subject_of(message)[:200]
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="crmguard")
        mail.set_content(text_of(message))
        return mail

    def send(self, message: Mapping[str, Any]) -> None:
        mail = self.compose(message)
        try:
            smtp: smtplib.SMTP
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if self.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise ChannelError(
                            f"smtp {self.host}:{self.port} does not offer STARTTLS; refusing "
                            'to send in clear text (set security = "tls" for port 465)'
                        )
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(mail, self.sender, list(self.recipients))
        except ChannelError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelError(
                f"smtp {self.host}:{self.port} refused the login for {self.username} "
                f"({exc.smtp_code}); check the password setting"
            ) from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise ChannelError(f"smtp {self.host}:{self.port}: {one_line(exc)}") from None

    def describe(self) -> str:
        who = f" as {self.username}" if self.username else ""
        return (
            f"smtp {self.host}:{self.port} ({self.security}{who}) to {', '.join(self.recipients)}"
        )
