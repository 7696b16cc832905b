"""alerts/outbox.py: routing by severity, retries with backoff while a channel is down,
delivery exactly once when it is back, and nothing ever dropped."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from alerts import outbox, store
from alerts.channels import Channel, FileChannel, WebhookChannel
from alerts.model import Alert
from alerts.schema import alert_outbox
from tests.alerts.delivery_helpers import Db, db_fixture, finding, free_port, http_sink  # noqa: F401


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _alert(db: Db, severity: str = "high", user: str = "anna") -> Alert:
    with db.engine.begin() as conn:
        return store.record_finding(conn, db.ledger, finding(user, severity), Clock()()).alert


def _queue(db: Db, alert: Alert, routes: Mapping[str, str]) -> list[str]:
    with db.engine.begin() as conn:
        return outbox.enqueue(conn, alert, "raised", routes, Clock()())


def test_routing_follows_each_channels_minimum_severity(db: Db) -> None:
    routes = {"file": "low", "chat": "medium", "mail": "high", "pager": "critical"}
    assert _queue(db, _alert(db, "medium", "a"), routes) == ["file", "chat"]
    assert _queue(db, _alert(db, "critical", "b"), routes) == ["file", "chat", "mail", "pager"]
    with db.engine.connect() as conn:
        payloads = [json.loads(p) for p in conn.execute(select(alert_outbox.c.payload)).scalars()]
    assert {p["user"] for p in payloads} == {"a", "b"}
    assert all("evidence" in p and p["kind"] == "raised" for p in payloads)


def test_a_down_webhook_gets_the_message_once_when_it_comes_back(db: Db, tmp_path: Path) -> None:
    port = free_port()
    clock = Clock()
    hook = WebhookChannel("hook", f"http://127.0.0.1:{port}/in", timeout=2)
    file = FileChannel("file", tmp_path / "alerts.jsonl")
    box = outbox.Outbox(db.engine, {"hook": hook, "file": file}, base_delay=10, clock=clock)
    first, second = _alert(db, "high", "a"), _alert(db, "high", "b")
    _queue(db, first, {"hook": "low", "file": "low"})
    _queue(db, second, {"hook": "low", "file": "low"})

    # Nobody listens: the file channel is unaffected, the webhook waits with its error.
    assert box.deliver_due() == outbox.DeliveryRound(delivered=2, failed=1)
    status = {s.channel: s for s in box.status()}
    assert status["file"].healthy and status["file"].delivered == 2
    hook_status = status["hook"]
    assert (hook_status.pending, hook_status.failing, hook_status.delivered) == (2, 1, 0)
    assert hook_status.last_error and "unreachable" in hook_status.last_error
    assert hook_status.next_attempt == clock.now + timedelta(seconds=10)
    assert not hook_status.healthy

    # Still down at the first retry: the wait doubles; nothing is dropped.
    clock.advance(10)
    assert box.deliver_due() == outbox.DeliveryRound(delivered=0, failed=1)
    assert box.deliver_due() == outbox.DeliveryRound(0, 0)  # backing off: not hammered
    hook_status = next(s for s in box.status() if s.channel == "hook")
    assert hook_status.next_attempt == clock.now + timedelta(seconds=20)

    with http_sink(port) as sink:
        clock.advance(20)
        assert box.deliver_due() == outbox.DeliveryRound(delivered=2, failed=0)
        clock.advance(3600)
        assert box.deliver_due() == outbox.DeliveryRound(0, 0)
    assert [b["alert_id"] for b in sink.bodies] == [first.id, second.id]  # in order, once
    hook_status = next(s for s in box.status() if s.channel == "hook")
    assert (hook_status.pending, hook_status.delivered, hook_status.last_error) == (2 - 2, 2, None)
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 2


class Broken(Channel):
    """A channel with a bug: it raises something that is not a ChannelError."""

    def send(self, message: Mapping[str, Any]) -> None:
        raise KeyError("oops")


def test_a_buggy_channel_never_loses_a_message(db: Db) -> None:
    clock = Clock()
    box = outbox.Outbox(db.engine, {"bug": Broken("bug")}, base_delay=1, clock=clock)
    _queue(db, _alert(db), {"bug": "low"})
    assert box.deliver_due().failed == 1
    [s] = box.status()
    assert s.pending == 1 and s.last_error == "KeyError: 'oops'"


def test_a_channel_removed_from_the_settings_keeps_its_messages_visible(db: Db) -> None:
    _queue(db, _alert(db), {"old-mail": "low"})
    box = outbox.Outbox(db.engine, {}, clock=Clock())
    assert box.deliver_due() == outbox.DeliveryRound(0, 0)
    [s] = box.status()
    assert (s.channel, s.configured, s.pending, s.healthy) == ("old-mail", False, 1, False)


def test_a_claimed_row_is_not_sent_by_a_second_worker(db: Db, tmp_path: Path) -> None:
    """Two daemons on one database: the lease makes each message go out once."""
    clock = Clock()
    sent: list[int] = []

    class Recording(Channel):
        def send(self, message: Mapping[str, Any]) -> None:
            sent.append(int(message["alert_id"]))
            # The other worker runs while this one is mid-send.
            if len(sent) == 1:
                assert other.deliver_due() == outbox.DeliveryRound(0, 0)

    chans = {"rec": Recording("rec")}
    box = outbox.Outbox(db.engine, chans, clock=clock)
    other = outbox.Outbox(db.engine, chans, clock=clock)
    alert = _alert(db)
    _queue(db, alert, {"rec": "low"})
    assert box.deliver_due().delivered == 1
    assert sent == [alert.id]


def test_backoff_doubles_and_is_capped() -> None:
    box = outbox.Outbox(None, {}, base_delay=5, max_delay=60)  # type: ignore[arg-type]
    assert [box.delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 50)] == [5, 10, 20, 40, 60, 60]
