"""The chain as written: seq, links, the MAC recomputed independently from the contract."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from audit_helpers import KEY, START
from sqlalchemy import Engine, text

from audit import GENESIS_HASH, AuditEvent, InvalidEvent, Ledger


def contract_hash(key: bytes, prev_hash: str, row: dict[str, object]) -> str:
    """The public hash exactly as the contract states it, built without the package."""
    fields = {k: row[k] for k in (
        "seq", "ts", "actor", "action", "resource", "record_ids", "count", "outcome",
        "channel", "ip", "request_id", "details",
    )}  # fmt: skip
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode() + body.encode()).hexdigest()


def contract_seal(key: bytes, hash_: str) -> str:
    return hmac.new(key, b"crmguard-ledger-mac\n" + hash_.encode(), hashlib.sha256).hexdigest()


def test_chain_links_from_genesis_and_matches_the_contract(ledger: Ledger) -> None:
    events = [
        AuditEvent("alice", "view", "contact", (42,), 1, channel="web", ip="10.0.0.1"),
        AuditEvent("bob", "export", "contact", (1, 2, "ext-3"), 3, details={"z": 1, "é": [2]}),
        AuditEvent("carol", "view", "deal", outcome="denied", request_id="r-1"),
    ]
    entries = [ledger.append(e) for e in events]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert entries[0].ts == START
    assert ledger.head() == (3, entries[2].hash)
    prev = GENESIS_HASH
    for entry in entries:
        assert entry.hash == contract_hash(KEY, prev, entry.to_json())
        prev = entry.hash
    with ledger.engine.connect() as conn:
        macs = [r[0] for r in conn.execute(text("SELECT mac FROM audit_ledger ORDER BY seq"))]
    assert macs == [contract_seal(KEY, e.hash) for e in entries]
    assert entries[1].event == events[1]


def test_ts_is_stored_as_the_exact_rfc3339_text(ledger: Ledger, engine: Engine) -> None:
    plus_two = timezone(timedelta(hours=2))
    clocked = Ledger(engine, KEY, clock=lambda: datetime(2026, 11, 22, 12, 0, 0, 5, plus_two))
    entry = clocked.append(AuditEvent("alice", "view", "contact", (1,)))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT ts FROM audit_ledger WHERE seq = 1")).scalar_one()
    assert stored == "2026-11-22T10:00:00.000005Z"
    assert entry.ts == datetime(2026, 11, 22, 10, 0, 0, 5, tzinfo=UTC)
    assert entry.to_json()["ts"] == stored


def test_append_in_is_atomic_with_the_callers_transaction(ledger: Ledger, engine: Engine) -> None:
    ledger.append(AuditEvent("alice", "view", "contact", (1,)))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        ledger.append_in(conn, AuditEvent("alice", "update", "contact", (1,)))
        raise RuntimeError("the data change failed")
    assert ledger.head() is not None and ledger.head()[0] == 1  # type: ignore[index]
    # The in-process head still points at the rolled-back entry: the next append must
    # notice, re-read the head and continue the chain without a gap.
    entry = ledger.append(AuditEvent("alice", "view", "contact", (2,)))
    assert entry.seq == 2
    with engine.begin() as conn:
        inside = ledger.append_in(conn, AuditEvent("bob", "update", "contact", (2,)))
    assert inside.seq == 3 and inside.prev_hash == entry.hash
    assert ledger.verify().ok


def test_a_stale_head_inside_a_callers_transaction_costs_a_retry_only(
    ledger: Ledger, engine: Engine
) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE side_change (x INTEGER)"))
    ledger.append(AuditEvent("alice", "view", "contact", (1,)))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        ledger.append_in(conn, AuditEvent("alice", "update", "contact", (1,)))
        raise RuntimeError("the data change failed")
    # The in-process head names the rolled-back entry 2: the first try links onto an
    # entry that is not there and is refused; the caller's own change must survive it.
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO side_change (x) VALUES (7)"))
        inside = ledger.append_in(conn, AuditEvent("bob", "update", "contact", (2,)))
    assert inside.seq == 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM side_change")).scalars().all() == [7]
    assert ledger.verify().ok


def test_another_instance_appending_first_costs_a_retry_not_a_fork(engine: Engine) -> None:
    first, second = Ledger(engine, KEY), Ledger(engine, KEY)
    first.append(AuditEvent("a", "view", "contact"))
    second.append(AuditEvent("b", "view", "contact"))  # second's head cache is now 2
    first.append(AuditEvent("a", "view", "contact"))  # first's cache (1) is stale
    second.append(AuditEvent("b", "view", "contact"))
    assert [e.actor for e in first.entries()] == ["a", "b", "a", "b"]
    assert first.verify().ok


def test_an_export_of_100k_ids_is_one_event(ledger: Ledger) -> None:
    ids = tuple(range(100_000))
    entry = ledger.append(AuditEvent("bob", "export", "contact", ids, len(ids)))
    (stored,) = list(ledger.entries())
    assert stored.record_ids == ids and stored.hash == entry.hash
    assert ledger.verify().ok


@pytest.mark.parametrize(
    "event",
    [
        AuditEvent("", "view", "contact"),
        AuditEvent("alice", "view", "contact", count=-1),
        AuditEvent("alice", "view", "contact", outcome="maybe"),  # type: ignore[arg-type]
        AuditEvent("alice", "view", "contact", channel="fax"),  # type: ignore[arg-type]
        AuditEvent("alice", "view", "contact", record_ids=(1.5,)),  # type: ignore[arg-type]
        AuditEvent("alice", "view", "contact", details={"when": datetime.now(UTC)}),
        AuditEvent("alice", "view", "contact", details={"x": float("nan")}),
        AuditEvent("a" * 201, "view", "contact"),
    ],
)
def test_events_that_cannot_be_stored_faithfully_are_refused(
    ledger: Ledger, event: AuditEvent
) -> None:
    with pytest.raises(InvalidEvent) as info:
        ledger.append(event)
    assert info.value.exit_code == 2 and "\n" not in str(info.value)
    assert ledger.head() is None
