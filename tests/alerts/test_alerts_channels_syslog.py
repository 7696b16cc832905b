"""alerts/channels/syslog.py: RFC 5424 over real UDP and TCP sockets."""

from __future__ import annotations

import re
import socket
import time

import pytest

from alerts.channels import ChannelError, SyslogChannel
from tests.alerts.delivery_helpers import free_port, syslog_tcp_sink

MESSAGE = {
    "kind": "raised", "alert_id": 5, "user": 'o"brien]', "rule": "scraping",
    "severity": "high", "score": 7.25, "summary": "o'brien opened 300 contacts\none by one",
    "status": "open",
}  # fmt: skip

RFC5424 = re.compile(
    rb"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) - (?P<msgid>\S+) "
    rb"(?P<sd>\[crmguard@32473(?: [a-z_]+=\"(?:[^\"\\\]]|\\.)*\")*\]) \xef\xbb\xbf(?P<msg>.*)$",
    re.DOTALL,
)


def _check(datagram: bytes) -> re.Match[bytes]:
    match = RFC5424.match(datagram)
    assert match, datagram
    assert int(match["pri"]) == 10 * 8 + 3  # authpriv, err (high)
    assert match["ts"].endswith(b"Z") and match["app"] == b"crmguard"
    assert match["msgid"] == b"ALERT"
    assert b'user="o\\"brien\\]"' in match["sd"] and b'alert_id="5"' in match["sd"]
    assert match["msg"].decode() == "HIGH scraping: o'brien opened 300 contacts one by one"
    return match


def test_udp_datagram_is_one_rfc5424_message() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        port = server.getsockname()[1]
        SyslogChannel("siem", "127.0.0.1", port, hostname="crm host").send(MESSAGE)
        datagram, _addr = server.recvfrom(65535)
    match = _check(datagram)
    assert match["host"] == b"crmhost"  # header fields carry no spaces


def test_tcp_uses_octet_counting_framing() -> None:
    with syslog_tcp_sink() as (port, received):
        channel = SyslogChannel("siem", "127.0.0.1", port, protocol="tcp")
        channel.send(MESSAGE)
        channel.send({**MESSAGE, "alert_id": 6})
        for _ in range(500):
            if len(received) == 2:
                break
            time.sleep(0.01)
    assert len(received) == 2
    first, second = sorted(received, key=lambda m: b'alert_id="6"' in m)
    _check(first)
    assert b'alert_id="6"' in second


def test_tcp_with_nobody_listening_is_a_channel_error() -> None:
    channel = SyslogChannel("siem", "127.0.0.1", free_port(), protocol="tcp", timeout=2)
    with pytest.raises(ChannelError, match=r"syslog tcp://127\.0\.0\.1:\d+: .*refused"):
        channel.send(MESSAGE)


def test_severities_map_to_syslog_levels() -> None:
    channel = SyslogChannel("siem", "127.0.0.1", 514, facility=13)
    pris = [
        int(channel.format({**MESSAGE, "severity": s}).split(b">")[0][1:])
        for s in ("critical", "high", "medium", "low")
    ]
    assert pris == [13 * 8 + 2, 13 * 8 + 3, 13 * 8 + 4, 13 * 8 + 5]
