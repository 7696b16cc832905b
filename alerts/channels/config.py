"""Channels built from their settings tables (``[alerts.channels.NAME]``), validated.

Every problem is reported as one line naming the table and the key, so a typo is found
when the daemon starts, not at three in the morning when the first alert cannot go out.
Secrets (the SMTP password, a webhook token) never sit in the settings file: they come
from an environment variable (``password_env``) or a file readable by its owner only
(``password_file``, mode 0600 or 0400), and no message ever contains their value.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alerts.channels.file import FileChannel
from alerts.channels.interface import Channel
from alerts.channels.smtp import SmtpChannel
from alerts.channels.syslog import SyslogChannel
from alerts.channels.webhook import WebhookChannel
from alerts.errors import ChannelConfigError
from alerts.model import SEVERITIES, Severity

KINDS = ("smtp", "webhook", "syslog", "file")
_COMMON = {"type", "min_severity"}
_KEYS: dict[str, set[str]] = {
    "smtp": {
        "host", "port", "from", "to", "security", "username", "password_env",
        "password_file", "ca_file", "timeout", "password",
    },
    "webhook": {"url", "format", "headers", "token_env", "token_file", "timeout", "token"},
    "syslog": {"host", "port", "protocol", "facility", "app_name", "hostname", "timeout"},
    "file": {"path"},
}  # fmt: skip
#: Accepted as keys only to be refused with advice (secrets never live in the file).
_REFUSED = {"password", "token"}


class _Table:
    """Typed access to one channel table; errors name ``[alerts.channels.NAME] key``."""

    def __init__(self, name: str, data: Mapping[str, Any]) -> None:
        self.name = name
        self.data = data

    def error(self, key: str, problem: str) -> ChannelConfigError:
        return ChannelConfigError(f"[alerts.channels.{self.name}] {key}: {problem}")

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.data.get(key, default)
        if value is None:
            if required:
                raise self.error(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string")
        return value.strip()

    def need(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, not {value!r}")
        if not low <= value <= high:
            raise self.error(key, f"must be between {low:g} and {high:g}, not {value}")
        return float(value)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    def secret(self, key: str, env: Mapping[str, str]) -> str | None:
        """The value of ``KEY_env`` (a variable name) or ``KEY_file`` (a 0600 file)."""
        env_key, file_key = f"{key}_env", f"{key}_file"
        if key in self.data:
            raise self.error(
                key,
                f"secrets are not kept in the settings file; name an environment variable "
                f"({env_key}) or a file readable only by its owner ({file_key})",
            )
        var, path = self.text(env_key), self.text(file_key)
        if var and path:
            raise self.error(env_key, f"give {env_key} or {file_key}, not both")
        if var:
            value = env.get(var)
            if not value:
                raise self.error(env_key, f"environment variable {var} is not set")
            return value
        if path:
            return _read_secret_file(Path(path).expanduser(), lambda p: self.error(file_key, p))
        return None


def _read_secret_file(path: Path, error: Callable[[str], ChannelConfigError]) -> str:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise error(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
    if not value:
        raise error(f"{path} is empty")
    return value


def build_channel(
    name: str, data: Any, env: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> Channel:
    """One channel from its table; ``base_dir`` anchors a relative file path (the home)."""
    env = os.environ if env is None else env
    if not isinstance(data, Mapping):
        raise ChannelConfigError(f"[alerts.channels.{name}] must be a table")
    table = _Table(name, data)
    kind = table.choice("type", "", KINDS) if "type" in data else None
    if kind is None:
        raise table.error("type", f"is required (one of {', '.join(KINDS)})")
    unknown = sorted(set(data) - _COMMON - _KEYS[kind])
    if unknown:
        known = sorted(_KEYS[kind] - _REFUSED)
        raise table.error(unknown[0], f"is not a {kind} setting (known: {', '.join(known)})")
    severity: Severity = table.choice("min_severity", "low", SEVERITIES)  # type: ignore[assignment]
    if kind == "file":
        path = Path(table.need("path")).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return FileChannel(name, path, severity)
    if kind == "webhook":
        return _webhook(table, name, severity, env)
    if kind == "syslog":
        return SyslogChannel(
            name,
            table.need("host"),
            int(table.number("port", 514, 1, 65535)),
            protocol=table.choice("protocol", "udp", ("udp", "tcp")),  # type: ignore[arg-type]
            facility=int(table.number("facility", 10, 0, 23)),
            app_name=table.text("app_name", "crmguard") or "crmguard",
            hostname=table.text("hostname"),
            timeout=table.number("timeout", 5, 0.1, 120),
            min_severity=severity,
        )
    return _smtp(table, name, severity, env)


def _webhook(table: _Table, name: str, severity: Severity, env: Mapping[str, str]) -> Channel:
    url = table.need("url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise table.error("url", "must be an http:// or https:// address")
    headers = table.data.get("headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise table.error("headers", "must be a table of strings")
    token = table.secret("token", env)
    merged = dict(headers)
    if token:
        merged["Authorization"] = f"Bearer {token}"
    return WebhookChannel(
        name,
        url,
        fmt=table.choice("format", "json", ("json", "chat")),  # type: ignore[arg-type]
        headers=merged,
        timeout=table.number("timeout", 10, 0.1, 120),
        min_severity=severity,
    )


def _smtp(table: _Table, name: str, severity: Severity, env: Mapping[str, str]) -> Channel:
    security = table.choice("security", "starttls", ("starttls", "tls", "none"))
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    recipients = table.data.get("to")
    if isinstance(recipients, str):
        recipients = [recipients]
    if (
        not isinstance(recipients, list)
        or not recipients
        or not all(isinstance(r, str) and "@" in r for r in recipients)
    ):
        raise table.error("to", "must be an e-mail address or a list of them")
    sender = table.need("from")
    if "@" not in sender:
        raise table.error("from", "must be an e-mail address")
    username = table.text("username")
    password = table.secret("password", env)
    if username and password is None:
        raise table.error("username", "needs password_env or password_file")
    if password is not None and not username:
        raise table.error("password_env", "a password needs a username")
    if username and security == "none":
        raise table.error("security", '"none" would send the password in clear text')
    ca_file = table.text("ca_file")
    return SmtpChannel(
        name,
        table.need("host"),
        int(table.number("port", default_port, 1, 65535)),
        sender,
        recipients,
        security=security,  # type: ignore[arg-type]
        username=username,
        password=password,
        ca_file=Path(ca_file).expanduser() if ca_file else None,
        timeout=table.number("timeout", 15, 0.1, 300),
        min_severity=severity,
    )


def build_channels(
    tables: Mapping[str, Any], env: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> dict[str, Channel]:
    """Every configured channel, in the order of the settings file."""
    return {name: build_channel(name, data, env, base_dir) for name, data in tables.items()}
