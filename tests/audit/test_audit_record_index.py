"""The record index: "who looked at record X" from an index that is never stale, never
editable, and also finds records a view included (``"company:12"`` in a contact's view)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import KEY, START
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from audit import AuditEvent, Ledger, create_tables, query


def seqs(entries: object) -> list[int]:
    return [e.seq for e in entries]  # type: ignore[attr-defined]


def populate(ledger: Ledger) -> None:
    ledger.append(AuditEvent("alice", "view", "contact", (42, "company:12", "deal:42"), 1))
    ledger.append(AuditEvent("bob", "view", "company", (12,), 1, channel="api"))
    ledger.append(AuditEvent("carol", "export", "contact", tuple(range(10, 50)), 40))
    ledger.append(AuditEvent("dave", "view", "company", ("12",), 1, outcome="denied"))
    ledger.append(AuditEvent("erin", "restrict", "user", ("alice",), 1))


def test_a_record_is_found_in_every_form_it_was_named(ledger: Ledger) -> None:
    populate(ledger)
    assert seqs(ledger.entries(record_resource="company", record_id=12)) == [1, 2, 4]
    assert seqs(ledger.entries(record_id="company:12")) == [1, 2, 4]
    assert seqs(ledger.entries(record_resource="contact", record_id=42)) == [1, 3]
    assert seqs(ledger.entries(record_resource="deal", record_id=42)) == [1]
    assert seqs(ledger.entries(record_id=42)) == [1, 3]
    assert seqs(ledger.entries(record_resource="contact", record_id=12)) == [3]
    assert seqs(ledger.entries(record_resource="user", record_id="alice")) == [5]
    assert seqs(ledger.entries(record_resource="company", record_id=12, newest_first=True)) == [
        4,
        2,
        1,
    ]
    assert seqs(ledger.entries(record_resource="company", record_id=12, outcome="denied")) == [4]


def test_the_index_catches_up_on_each_query_and_is_never_stale(
    ledger: Ledger, engine: Engine
) -> None:
    populate(ledger)
    assert seqs(ledger.entries(record_resource="company", record_id=12)) == [1, 2, 4]
    ledger.append(AuditEvent("frank", "print", "company", (12,), 1))
    assert seqs(ledger.entries(record_resource="company", record_id=12)) == [1, 2, 4, 6]
    with engine.connect() as conn:
        upto = conn.execute(text("SELECT indexed_upto FROM audit_index_progress")).scalar()
        rows = conn.execute(
            text("SELECT seq FROM audit_record_index WHERE rid = '12' AND resource = 'company'")
        ).scalars()
        assert upto == 6
        assert sorted(rows) == [1, 2, 4, 6]
    assert ledger.index_records() == 6  # idempotent


def test_the_index_refuses_edits_like_the_ledger(ledger: Ledger, engine: Engine) -> None:
    populate(ledger)
    ledger.index_records()
    for statement in (
        "DELETE FROM audit_record_index WHERE rid = '12'",
        "UPDATE audit_record_index SET rid = '13' WHERE rid = '12'",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert seqs(ledger.entries(record_resource="company", record_id=12)) == [1, 2, 4]


def test_a_read_only_database_still_answers_completely(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    writable = create_engine(f"sqlite:///{path}")
    create_tables(writable)
    ledger = Ledger(writable, KEY)
    populate(ledger)
    ledger.index_records()
    ledger.append(AuditEvent("frank", "print", "company", (12,), 1))  # not indexed yet
    writable.dispose()
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        found = seqs(Ledger(read_only, KEY).entries(record_resource="company", record_id=12))
    finally:
        read_only.dispose()
    assert found == [1, 2, 4, 6]


def test_activity_per_day_and_action(ledger: Ledger) -> None:
    clock_day = START.replace(hour=23, minute=59, second=58)
    stepping = iter([clock_day + timedelta(seconds=i) for i in range(10)])
    dated = Ledger(ledger.engine, KEY, clock=lambda: next(stepping))
    dated.append(AuditEvent("alice", "view", "contact", (1,), 1))
    dated.append(AuditEvent("alice", "export", "contact", (1, 2, 3), 3))
    dated.append(AuditEvent("alice", "export", "contact", (), 0, outcome="denied"))
    dated.append(AuditEvent("bob", "export", "contact", (1,), 1))
    days = [d.to_json() for d in dated.activity("alice")]
    assert days == [
        {"day": "2026-11-22", "action": "export", "resource": "contact", "outcome": "allowed",
         "events": 1, "records": 3},
        {"day": "2026-11-22", "action": "view", "resource": "contact", "outcome": "allowed",
         "events": 1, "records": 1},
        {"day": "2026-11-23", "action": "export", "resource": "contact", "outcome": "denied",
         "events": 1, "records": 0},
    ]  # fmt: skip
    midnight = START.replace(day=23, hour=0, minute=0, second=0, microsecond=0)
    assert [d.day for d in dated.activity("alice", since=midnight)] == ["2026-11-23"]


def test_channel_filter(ledger: Ledger) -> None:
    populate(ledger)
    assert seqs(ledger.entries(channel="api")) == [2]


def test_activity_windows_that_cut_days_count_only_what_lies_inside(ledger: Ledger) -> None:
    """The day bounds that let the (actor, day, ...) index serve a window never widen
    it: ``since`` and ``until`` in the middle of a day still cut at the exact time."""
    first = START.replace(hour=22, minute=0, second=0, microsecond=0)
    stamps = [first + timedelta(hours=h) for h in range(6)]  # 22:00 on the 22nd .. 03:00
    stepping = iter(stamps)
    dated = Ledger(ledger.engine, KEY, clock=lambda: next(stepping))
    for _ in stamps:
        dated.append(AuditEvent("alice", "view", "contact", (1,), 1))

    def counted(**window: datetime) -> list[tuple[str, int]]:
        return [(d.day, d.events) for d in dated.activity("alice", **window)]

    assert counted() == [("2026-11-22", 2), ("2026-11-23", 4)]
    assert counted(since=stamps[1]) == [("2026-11-22", 1), ("2026-11-23", 4)]
    assert counted(until=stamps[3]) == [("2026-11-22", 2), ("2026-11-23", 1)]
    assert counted(since=stamps[1], until=stamps[3]) == [("2026-11-22", 1), ("2026-11-23", 1)]
    assert counted(since=stamps[3], until=stamps[4]) == [("2026-11-23", 1)]
    assert counted(since=stamps[5] + timedelta(seconds=1)) == []


def test_a_users_activity_is_read_from_the_day_index_in_group_order(
    ledger: Ledger, engine: Engine
) -> None:
    """SQLite: a user's activity counted from the ledger (partial days, a scope the day
    totals cannot state) is one search of the (actor, day, ...) index, with no temporary
    B-tree to sort their events in (what made a year of them slow)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the plan is checked on SQLite; PostgreSQL's is in docs/PERFORMANCE.md")
    sent: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        query.count_activity(engine, "alice", START, START + timedelta(days=30), ())
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    ((statement, params),) = sent
    with engine.connect() as conn:
        plan = " ".join(
            str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert "ix_audit_ledger_actor_day" in plan
    assert "TEMP B-TREE" not in plan
