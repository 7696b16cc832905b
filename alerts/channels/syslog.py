"""The syslog channel: RFC 5424 messages over UDP or TCP, for a SIEM.

Each alert is one message: ``<PRI>1 TIMESTAMP HOST crmguard - ALERT [crmguard@32473
alert="7" user="..." rule="..." severity="high" score="9.1"] BOM summary``. Over TCP
messages are framed by octet counting (RFC 6587), which survives newlines in a summary;
over UDP one datagram is one message. Alert severities map to syslog severities:
critical -> 2 (crit), high -> 3 (err), medium -> 4 (warning), low -> 5 (notice).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from alerts.channels.interface import Channel, ChannelError, one_line, subject_of
from alerts.model import Severity

Protocol = Literal["udp", "tcp"]
#: Private enterprise number used in the structured-data id (32473 is the one RFC 5612
#: reserves for documentation and examples).
SD_ID = "crmguard@32473"
_SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5}
_MAX_UDP = 8192


def _sd_escape(value: Any) -> str:
    """RFC 5424 PARAM-VALUE escaping: backslash, double quote and closing bracket."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_token(value: str, limit: int) -> str:
    """Header fields are printable ASCII without spaces, or ``-`` when empty."""
    cleaned = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return cleaned or "-"


class SyslogChannel(Channel):
    kind = "syslog"

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 514,
        *,
        protocol: Protocol = "udp",
        facility: int = 10,
        app_name: str = "crmguard",
        hostname: str | None = None,
        timeout: float = 5.0,
        min_severity: Severity = "low",
    ) -> None:
        super().__init__(name, min_severity)
        self.host = host
        self.port = port
        self.protocol: Protocol = protocol
        self.facility = facility
        self.app_name = app_name
        self.hostname = hostname or socket.gethostname()
        self.timeout = timeout

    def format(self, message: Mapping[str, Any], now: datetime | None = None) -> bytes:
        """The RFC 5424 message for ``message`` (without transport framing)."""
        severity = _SYSLOG_SEVERITY.get(str(message.get("severity")), 5)
        pri = self.facility * 8 + severity
        ts = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
        ts = ts.replace("+00:00", "Z")
        is_test = message.get("kind") == "test"
        msgid = "TEST" if is_test else "ALERT"
        params = (
            {"channel": message.get("channel")}
            if is_test
            else {
                k: message.get(k)
                for k in ("alert_id", "kind", "user", "rule", "severity", "score", "status")
            }
        )
        sd = (
            "["
            + SD_ID
            + "".join(f' {k}="{_sd_escape(v)}"' for k, v in params.items() if v is not None)
            + "]"
        )
        header = (
            f"<{pri}>1 {ts} {_header_token(self.hostname, 255)} "
            f"{_header_token(self.app_name, 48)} - {msgid} {sd} "
        )
        text = subject_of(message).removeprefix("[crmguard] ").replace("\n", " ")
        return header.encode("ascii") + b"\xef\xbb\xbf" + text.encode("utf-8")

    def send(self, message: Mapping[str, Any]) -> None:
        data = self.format(message)
        try:
            if self.protocol == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(self.timeout)
                    sock.sendto(data[:_MAX_UDP], (self.host, self.port))
            else:
                with socket.create_connection((self.host, self.port), timeout=self.timeout) as s:
                    s.sendall(str(len(data)).encode("ascii") + b" " + data)
        except OSError as exc:
            raise ChannelError(
                f"syslog {self.protocol}://{self.host}:{self.port}: {one_line(exc)}"
            ) from None

    def describe(self) -> str:
        return f"syslog {self.protocol}://{self.host}:{self.port} facility {self.facility}"
