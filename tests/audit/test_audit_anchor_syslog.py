"""Anchors sent to syslog arrive on a real UDP socket as one parseable line."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import AnchorError, SyslogAnchors
from audit.anchors import sign


def test_udp_syslog_receives_the_anchor() -> None:
    key = Ed25519PrivateKey.generate()
    anchor = sign(key, 42, "ab" * 32, datetime(2026, 11, 30, tzinfo=UTC))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        port = rx.getsockname()[1]
        SyslogAnchors(f"udp://127.0.0.1:{port}").publish(anchor)
        data = rx.recv(4096).decode()
    assert data.startswith("<133>1 ")
    assert f"seq=42 hash={'ab' * 32} ts={anchor.ts} sig={anchor.signature}" in data
    with pytest.raises(AnchorError, match="cannot be read back"):
        SyslogAnchors("udp://127.0.0.1:1").load(key.public_key())
