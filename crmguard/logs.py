"""Structured logging with one redaction processor.

No key, token, password or client's personal data may reach an application log. Rather
than trusting every call site, one structlog processor scrubs event dictionaries: keys
that name secrets or personal fields are replaced, and values that look like e-mail
addresses or phone numbers are masked wherever they appear.

What a user asked for (search text, filter values, a ledger query) is evidence and goes
into the ledger, which is read only within scope; in a log it would be personal data
readable by anyone with the log files, so keys that carry it are replaced too, and a
ledger event handed to a logger is reduced to who did what, without its details.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"

_SECRET_KEYS = re.compile(
    r"(pass(word|phrase)?|secret|token|api[_-]?key|private|credential|authorization|"
    r"cookie|session|mac_key|data_key|kek|dek|aws_secret_access_key)",
    re.IGNORECASE,
)
_PERSONAL_KEYS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "name",
        "notes",
        "summary",
        "address",
        "display_name",
        "record",
        "row",
        "rows",
        # what was asked: search text, filter values, ledger queries
        "text",
        "q",
        "search",
        "search_text",
        "query",
        "filter",
        "filters",
        "where",
        "order_by",
        "details",
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# International numbers (+44 20 7946 0958) and national ones written with spaces or
# dots (020 7946 0958); dates and times (2026-11-22T13:09:53) must not match.
_PHONE = re.compile(
    r"(?<![\w:.-])(?:\+\d[\d ().-]{6,}\d|\(?0\d{1,4}\)?[ .]\d{2,4}[ .]\d{2,6}(?:[ .]\d{2,4})*)"
)


def _is_ledger_event(value: Any) -> bool:
    return all(hasattr(value, a) for a in ("actor", "action", "resource", "details"))


def _scrub(value: Any) -> Any:
    if _is_ledger_event(value):
        # Who did what to which kind of record; details (search text, filters) stay out.
        return f"{value.actor} {value.action} {value.resource}"
    if isinstance(value, str):
        return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, value))
    if isinstance(value, dict):
        return {k: _redact_item(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def _redact_item(key: str, value: Any) -> Any:
    if _SECRET_KEYS.search(key) or key.lower() in _PERSONAL_KEYS:
        return REDACTED
    return _scrub(value)


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace secrets and personal data in an event dictionary."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = _scrub(event_dict[key])
        else:
            event_dict[key] = _redact_item(key, event_dict[key])
    return event_dict


def configure(level: str = "warning", json: bool = False) -> None:
    """Configure structlog once for the process; logs go to stderr."""
    lvl = getattr(logging, level.upper(), logging.WARNING)
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            redact,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        # Resolve sys.stderr at each use, not once: it may be replaced after configuring.
        logger_factory=lambda *_args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
