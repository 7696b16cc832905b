"""alerts/live.py: tail the ledger with a committed cursor; restarts (clean or SIGKILL)
neither skip an event nor alert twice; feedback from the inbox reaches detection."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from alerts import store
from alerts.live import LiveLoop, read_cursor
from alerts.model import Alert, Event, Response
from alerts.schema import alert_outbox
from tests.alerts.delivery_helpers import RULE, Db, ThresholdDetector, db_fixture  # noqa: F401


def _loop(db: Db, threshold: int = 100, **kwargs: Any) -> LiveLoop:
    kwargs.setdefault("routes", {"file": "low", "mail": "high"})
    return LiveLoop(db.engine, db.ledger, lambda: ThresholdDetector(threshold), **kwargs)


def _drain(loop: LiveLoop) -> None:
    while loop.step():
        pass


def _raises(db: Db) -> list[tuple[str, str, int]]:
    """(user, severity, seq of the triggering event) of every alert.raise in the ledger."""
    return [
        (e.details["user"], e.details["severity"], e.details["seq_range"][1])
        for e in db.ledger.entries(action="alert.raise")
    ]


def _outbox(db: Db) -> list[tuple[int, str]]:
    with db.engine.connect() as conn:
        return [
            (int(r.alert_id), r.channel)
            for r in conn.execute(select(alert_outbox).order_by(alert_outbox.c.id))
        ]


def test_a_crossing_event_becomes_an_alert_in_the_outbox(db: Db) -> None:
    loop = _loop(db)
    loop.start()
    db.export("anna", 60)
    trigger = db.export("anna", 60)
    db.export("bob", 10)
    _drain(loop)
    assert _raises(db) == [("anna", "low", trigger)]
    with db.engine.connect() as conn:
        [alert] = store.list_alerts(conn)
        assert read_cursor(conn) == db.ledger.head()[0]  # type: ignore[index]
    assert (alert.user, alert.rule, alert.severity, alert.status) == ("anna", RULE, "low", "open")
    assert _outbox(db) == [(alert.id, "file")]  # low: not for the mail channel
    db.export("anna", 300)  # 420: critical
    _drain(loop)
    assert [r[1] for r in _raises(db)] == ["low", "critical"]
    assert _outbox(db) == [(alert.id, "file"), (alert.id, "file"), (alert.id, "mail")]


def test_a_restart_rebuilds_state_without_repeating_alerts(db: Db) -> None:
    first = _loop(db)
    first.start()
    db.export("anna", 90)
    _drain(first)
    db.export("anna", 20)  # crosses 100 now
    _drain(first)
    db.export("anna", 50)
    del first  # stopped; a new process starts from the committed cursor

    second = _loop(db)
    replayed = second.start()
    assert replayed >= 2  # the warmup replay rebuilt anna's running total
    trigger = db.export("anna", 45)  # 205: medium
    _drain(second)
    assert [(u, s) for u, s, _ in _raises(db)] == [("anna", "low"), ("anna", "medium")]
    assert _raises(db)[-1][2] == trigger
    with db.engine.connect() as conn:
        assert len(store.list_alerts(conn)) == 1


def test_inbox_changes_reach_detection_through_the_ledger(db: Db) -> None:
    loop = _loop(db)
    loop.start()
    db.export("anna", 120)
    db.export("bob", 150)
    _drain(loop)
    with db.engine.begin() as conn:
        anna, bob = sorted(store.list_alerts(conn), key=lambda a: a.user)
        store.change_status(conn, db.ledger, anna.id, "resolved", by="sec", now=anna.created_at)
        store.change_status(conn, db.ledger, bob.id, "false_positive", by="sec", now=bob.created_at)
    _drain(loop)
    detector = loop.detection
    assert isinstance(detector, ThresholdDetector)
    assert detector.false_positives == [("bob", RULE)]
    assert ("anna", RULE) in detector.closed
    db.export("anna", 110)
    _drain(loop)
    with db.engine.connect() as conn:
        new = store.list_alerts(conn, status="open")
    assert [a.user for a in new] == ["anna"] and new[0].id != anna.id

    restarted = _loop(db)
    restarted.start()  # the rebuild replays the feedback too
    again = restarted.detection
    assert isinstance(again, ThresholdDetector) and again.false_positives == [("bob", RULE)]


class Recorder:
    """A responder that records what it was asked (the shell's real one: tests/crmguard)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def respond(self, conn: Any, user: str, response: Response, alert: Alert) -> bool:
        self.calls.append((user, response, alert.id))
        return True


def test_a_response_is_asked_for_once_per_raise(db: Db) -> None:
    responder = Recorder()
    loop = LiveLoop(
        db.engine,
        db.ledger,
        lambda: ThresholdDetector(100, response="freeze_exports"),
        routes={},
        responder=responder,
    )
    loop.start()
    db.export("anna", 150)
    db.export("anna", 100)
    _drain(loop)
    alert_id = loop.handled[0].alert_id
    assert responder.calls == [
        ("anna", "freeze_exports", alert_id),
        ("anna", "freeze_exports", alert_id),
    ]
    assert all(h.responded for h in loop.handled)


def test_a_failed_commit_leaves_nothing_half_done(db: Db) -> None:
    """If the transaction fails (here: the response), the alert, its messages, its ledger
    event and the cursor all stay as they were, and a restart does the batch once."""

    class Failing(Recorder):
        def respond(self, conn: Any, user: str, response: Response, alert: Alert) -> bool:
            raise RuntimeError("restriction table unavailable")

    loop = LiveLoop(
        db.engine,
        db.ledger,
        lambda: ThresholdDetector(100, response="suspend"),
        routes={"file": "low"},
        responder=Failing(),
    )
    loop.start()
    db.export("anna", 150)
    with pytest.raises(RuntimeError, match="restriction table unavailable"):
        loop.step()
    with db.engine.connect() as conn:
        assert read_cursor(conn) == 0
        assert store.list_alerts(conn) == []
    assert _outbox(db) == [] and _raises(db) == []
    fine = LiveLoop(
        db.engine,
        db.ledger,
        lambda: ThresholdDetector(100, response="suspend"),
        routes={"file": "low"},
        responder=Recorder(),
    )
    fine.start()
    _drain(fine)
    assert [(u, s) for u, s, _ in _raises(db)] == [("anna", "low")]
    assert len(_outbox(db)) == 1


def _wait_for_sessions_to_end(db: Db) -> None:
    """A killed client's PostgreSQL sessions end a moment later; let them go first."""
    if db.engine.dialect.name != "postgresql":
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    for _ in range(200):
        with db.engine.connect() as conn:
            if conn.execute(query).scalar_one() == 0:
                return
        time.sleep(0.05)


def test_killed_and_restarted_mid_stream_no_event_skipped_none_alerted_twice(
    db: Db, tmp_path: Path
) -> None:
    """A real process running the loop is SIGKILLed at random moments while events flow."""
    rng = random.Random(9)
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        users = ["anna", "bob", "chris", "dana"]
        for _ in range(300):
            if stop.is_set():
                return
            written.append(db.export(rng.choice(users), rng.randint(1, 9)))
            time.sleep(0.003)

    def spawn() -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.alerts.live_child", db.url, str(db.key_file)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        return child

    thread = threading.Thread(target=writer)
    child = spawn()
    thread.start()
    kills = 0
    try:
        while kills < 4:
            time.sleep(rng.uniform(0.1, 0.5))
            child.send_signal(signal.SIGKILL)
            child.wait()
            kills += 1
            child = spawn()
        thread.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.engine.connect() as conn:
                if read_cursor(conn) == db.ledger.head()[0]:  # type: ignore[index]
                    break
            time.sleep(0.05)
    finally:
        stop.set()
        child.send_signal(signal.SIGKILL)
        child.wait()
        thread.join()
        _wait_for_sessions_to_end(db)
    assert kills == 4 and len(written) == 300

    # What a single uninterrupted pass over the same events finds:
    reference = ThresholdDetector(50)
    expected = []
    for entry in db.ledger.entries(resource="contact"):
        event = Event(
            ts=entry.ts, actor=entry.actor, action=entry.action, resource=entry.resource,
            count=entry.count, outcome=entry.outcome, record_ids=entry.record_ids,
            seq=entry.seq,
        )  # fmt: skip
        expected += [(f.user, f.severity, event.seq) for f in reference.process(event)]
    assert len(expected) >= 8
    assert sorted(_raises(db), key=lambda r: r[2]) == expected
    with db.engine.connect() as conn:
        alerts = store.list_alerts(conn)
        outbox_rows = conn.execute(select(func.count()).select_from(alert_outbox)).scalar_one()
    assert len(alerts) == len({u for u, _s, _q in expected})
    high = sum(1 for _u, s, _q in expected if s in ("high", "critical"))
    assert outbox_rows == len(expected) + high  # file gets every message, mail high+
    assert db.ledger.verify().ok
