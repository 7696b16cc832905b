"""alerts/channels/config.py: channels from settings tables; every mistake is one line
naming the table and the key; secrets come from the environment or a 0600 file only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from alerts.channels import (
    FileChannel,
    SmtpChannel,
    SyslogChannel,
    WebhookChannel,
    build_channel,
    build_channels,
)
from alerts.errors import ChannelConfigError

SMTP = {
    "type": "smtp", "host": "mail.example.net", "from": "crm@example.net",
    "to": ["sec@example.net"], "username": "crm", "password_env": "SMTP_PW",
    "min_severity": "high",
}  # fmt: skip


def test_each_kind_is_built_with_its_defaults(tmp_path: Path) -> None:
    chans = build_channels(
        {
            "mail": SMTP,
            "hook": {"type": "webhook", "url": "https://chat.example.net/x", "format": "chat"},
            "siem": {"type": "syslog", "host": "siem.example.net", "protocol": "tcp"},
            "file": {"type": "file", "path": "alerts.jsonl"},
        },
        env={"SMTP_PW": "pw"},
        base_dir=tmp_path,
    )
    mail, hook, siem, file = chans.values()
    assert isinstance(mail, SmtpChannel) and mail.port == 587 and mail.security == "starttls"
    assert mail.min_severity == "high" and mail.wants("critical") and not mail.wants("medium")
    assert isinstance(hook, WebhookChannel) and hook.fmt == "chat" and hook.min_severity == "low"
    assert isinstance(siem, SyslogChannel) and siem.port == 514 and siem.protocol == "tcp"
    assert isinstance(file, FileChannel) and file.path == tmp_path / "alerts.jsonl"
    assert "pw" not in mail.describe()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, r"\[alerts.channels.x\] type: is required"),
        ({"type": "pager"}, r"type: must be one of smtp, webhook, syslog, file, not 'pager'"),
        ({"type": "file"}, r"\[alerts.channels.x\] path: is required"),
        ({"type": "file", "path": "a", "colour": 1}, r"colour: is not a file setting"),
        ({"type": "file", "path": "a", "min_severity": "urgent"}, r"min_severity: must be one"),
        ({"type": "webhook", "url": "ftp://x"}, r"url: must be an http:// or https:// address"),
        ({"type": "webhook", "url": "http://x", "headers": {"a": 1}}, r"headers: must be a"),
        ({"type": "syslog", "host": "h", "port": 70000}, r"port: must be between 1 and 65535"),
        ({"type": "syslog", "host": "h", "protocol": "quic"}, r"protocol: must be one of udp"),
        ({**SMTP, "to": "nobody"}, r"to: must be an e-mail address"),
        ({**SMTP, "password": "hunter2"}, r"password: secrets are not kept in the settings"),
        ({**SMTP, "password_env": "NOT_SET_ANYWHERE"}, r"NOT_SET_ANYWHERE is not set"),
        ({**SMTP, "password_env": None}, r"username: needs password_env or password_file"),
        ({**SMTP, "security": "none"}, r"security: \"none\" would send the password"),
        ({**SMTP, "port": "587"}, r"port: must be a number"),
    ],
)
def test_malformed_tables_are_named_with_their_key(table: dict[str, Any], message: str) -> None:
    table = {k: v for k, v in table.items() if v is not None}
    with pytest.raises(ChannelConfigError, match=message) as info:
        build_channel("x", table, env={"SMTP_PW": "pw"})
    assert "\n" not in str(info.value)
    assert "hunter2" not in str(info.value)


def test_a_channel_that_is_not_a_table() -> None:
    with pytest.raises(ChannelConfigError, match=r"\[alerts.channels.x\] must be a table"):
        build_channel("x", "file")


def test_password_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "smtp.pass"
    secret.write_text("from-file\n")
    table = {k: v for k, v in SMTP.items() if k != "password_env"}
    os.chmod(secret, 0o644)
    with pytest.raises(ChannelConfigError, match=r"readable by others .*chmod 600") as info:
        build_channel("mail", {**table, "password_file": str(secret)})
    assert "from-file" not in str(info.value)
    os.chmod(secret, 0o600)
    mail = build_channel("mail", {**table, "password_file": str(secret)})
    assert isinstance(mail, SmtpChannel) and mail._password == "from-file"
    with pytest.raises(ChannelConfigError, match="cannot read"):
        build_channel("mail", {**table, "password_file": str(tmp_path / "missing")})


def test_webhook_token_becomes_a_bearer_header() -> None:
    hook = build_channel(
        "hook", {"type": "webhook", "url": "https://x.example", "token_env": "T"}, env={"T": "tk"}
    )
    assert isinstance(hook, WebhookChannel) and hook.headers["Authorization"] == "Bearer tk"
    assert "tk" not in hook.describe()
