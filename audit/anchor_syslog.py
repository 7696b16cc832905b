"""Anchors sent to syslog: a copy in the log system the security team already keeps.

Syslog cannot be read back by crmguard, so these anchors are evidence for a person
comparing logs, not input to ``audit verify``. Addresses: ``udp://host:port``,
``tcp://host:port`` or a Unix socket path such as ``/dev/log``.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.anchors import Anchor, AnchorStore
from audit.errors import AnchorError, AnchorUnavailable

_FACILITY_LOCAL0_NOTICE = 16 * 8 + 5


def format_message(anchor: Anchor, hostname: str | None = None) -> bytes:
    """An RFC 5424 line that a SIEM can parse: ``seq= hash= ts= sig=``."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    host = hostname or socket.gethostname() or "-"
    return (
        f"<{_FACILITY_LOCAL0_NOTICE}>1 {now} {host} crmguard - ledger-anchor - "
        f"seq={anchor.seq} hash={anchor.hash} ts={anchor.ts} sig={anchor.signature}"
    ).encode()


class SyslogAnchors(AnchorStore):
    """Write-only anchor store on a syslog receiver."""

    readable = False

    def __init__(self, address: str) -> None:
        self.address = address

    def describe(self) -> str:
        return f"syslog {self.address}"

    def publish(self, anchor: Anchor) -> None:
        data = format_message(anchor)
        try:
            if self.address.startswith(("udp://", "tcp://")):
                scheme, _, rest = self.address.partition("://")
                host, _, port = rest.rpartition(":")
                kind = socket.SOCK_DGRAM if scheme == "udp" else socket.SOCK_STREAM
                with socket.socket(socket.AF_INET, kind) as sock:
                    sock.settimeout(3)
                    sock.connect((host or "127.0.0.1", int(port or 514)))
                    sock.sendall(data + (b"\n" if kind == socket.SOCK_STREAM else b""))
            else:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(3)
                    sock.connect(self.address)
                    sock.send(data)
        except (OSError, ValueError) as exc:
            raise AnchorUnavailable(f"cannot send to {self.describe()}: {exc}") from None

    def load(self, trusted: Ed25519PublicKey) -> list[Anchor]:
        raise AnchorError(f"{self.describe()} cannot be read back; give the anchor file or S3")
