"""What the alerts tests share: a small threshold detector (these tests are about storage,
delivery and the live loop, not detection), a migrated database with a ledger, and
local servers (HTTP, syslog over UDP and TCP) that record what they receive."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from alerts.model import Finding
from audit import AuditEvent, Ledger, create_key_file, load_key_file
from crmguard.db import make_engine
from crmguard.schema import upgrade
from tests.alerts.threshold_detector import RULE, ThresholdDetector

__all__ = ["RULE", "ThresholdDetector"]


@dataclass
class Db:
    engine: Engine
    ledger: Ledger
    url: str
    key_file: Path

    def export(self, user: str, count: int, start_id: int = 1) -> int:
        ids = tuple(range(start_id, start_id + count))
        entry = self.ledger.append(
            AuditEvent(
                actor=user,
                action="export",
                resource="contact",
                record_ids=ids,
                count=count,
                channel="api",
            )
        )
        return entry.seq


def make_db(url: str, tmp_path: Path) -> Db:
    engine = make_engine(url)
    upgrade(engine)
    key = tmp_path / "keys" / "ledger.key"
    if not key.exists():
        create_key_file(key)
    return Db(engine, Ledger(engine, load_key_file(key)), url, key)


def finding(
    user: str = "anna",
    severity: str = "medium",
    rule: str = RULE,
    score: float = 5.0,
    evidence: dict[str, Any] | None = None,
) -> Finding:
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    return Finding(
        ts=now,
        user=user,
        rule=rule,
        severity=severity,  # type: ignore[arg-type]
        score=score,
        summary=f"{user} exported a lot",
        evidence=evidence or {"seq_range": [1, 9], "count": 900},
        first_ts=now - timedelta(minutes=5),
        last_ts=now,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HttpSink:
    """A local HTTP server recording POSTed JSON bodies; ``status`` is what it answers."""

    port: int
    bodies: list[Any] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/secret-path"


@contextmanager
def http_sink(port: int | None = None, status: int = 200) -> Iterator[HttpSink]:
    sink = HttpSink(port or free_port(), status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if sink.status < 300:
                sink.bodies.append(json.loads(raw))
                sink.headers.append(dict(self.headers))
            self.send_response(sink.status)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", sink.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def syslog_tcp_sink() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP syslog receiver with octet-counting framing (RFC 6587)."""
    received: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while True:
                length = b""
                while not length.endswith(b" "):
                    ch = self.rfile.read(1)
                    if not ch:
                        return
                    length += ch
                received.append(self.rfile.read(int(length)))

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(name="db")
def db_fixture(db_url: str, tmp_path: Path) -> Iterator[Db]:
    """A migrated database with a ledger, on SQLite and PostgreSQL (import it to use it)."""
    d = make_db(db_url, tmp_path)
    yield d
    d.engine.dispose()
