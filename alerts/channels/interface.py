"""What every alert channel is: a name, a minimum severity, and ``send``.

A channel either delivers the message or raises :class:`ChannelError` with a one-line
reason that is safe to show and store (no password, no message body). The outbox
retries on that error; any other exception is a bug and is treated the same way, so a
message is never dropped because a channel misbehaved.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from alerts.errors import AlertsError
from alerts.model import Severity, severity_rank


class ChannelError(AlertsError):
    """The channel could not deliver the message now (it will be retried)."""

    http_status = 502


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, with its class when it has none."""
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else exc.__class__.__name__


class Channel(ABC):
    """One destination for alert messages (e-mail, webhook, syslog, file)."""

    kind: str = "channel"

    def __init__(self, name: str, min_severity: Severity = "low") -> None:
        self.name = name
        self.min_severity: Severity = min_severity

    def wants(self, severity: str) -> bool:
        """Routing: does a message of ``severity`` go to this channel?"""
        return severity_rank(severity) >= severity_rank(self.min_severity)

    @abstractmethod
    def send(self, message: Mapping[str, Any]) -> None:
        """Deliver ``message`` (see :func:`alerts.outbox.message_for`) or raise ChannelError."""

    def describe(self) -> str:
        """Where this channel delivers, without secrets (for ``alerts status``)."""
        return self.kind


def subject_of(message: Mapping[str, Any]) -> str:
    """A one-line title: ``[crmguard] HIGH bulk_export: anna exported 4,812 contacts``."""
    kind = message.get("kind", "alert")
    if kind == "test":
        return "[crmguard] test message"
    prefix = "escalated " if kind == "escalated" else ""
    severity = str(message.get("severity", "")).upper()
    return f"[crmguard] {prefix}{severity} {message.get('rule')}: {message.get('summary')}"


def text_of(message: Mapping[str, Any]) -> str:
    """A plain-text body for people (mail, chat)."""
    if message.get("kind") == "test":
        return f"crmguard test message for channel {message.get('channel')}: delivery works."
    lines = [
        subject_of(message).removeprefix("[crmguard] "),
        f"alert #{message.get('alert_id')} user {message.get('user')} "
        f"score {message.get('score')} status {message.get('status')}",
        f"events from {message.get('first_ts')} to {message.get('last_ts')}",
        f"see: crmguard alerts show {message.get('alert_id')}",
    ]
    return "\n".join(lines)
