"""Appends: validate and encode events, then a conditional INSERT for the first of them.

The first INSERT carries its own proof of linkage: it only inserts when the row it
claims as predecessor (``seq - 1`` with ``prev_hash``) exists. So a stale head costs one
retry (a primary-key collision or zero rows inserted) and can never leave a gap or a
fork. The rest of a batch (group commit) links onto rows of the same transaction and
goes in as one multi-row statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.exc import DBAPIError

from audit.chain import canonical, encode_details, encode_record_ids, link, seal
from audit.errors import InvalidEvent
from audit.events import (
    CHANNELS,
    GENESIS_HASH,
    OUTCOMES,
    AuditEvent,
    LedgerEntry,
    format_ts,
    parse_ts,
)

_COLUMNS = (
    "seq, ts, actor, action, resource, record_ids, count, outcome, channel, ip, "
    "request_id, details, prev_hash, hash, mac"
)
_VALUES = (
    ":seq, :ts, :actor, :action, :resource, :record_ids, :count, :outcome, :channel, "
    ":ip, :request_id, :details, :prev_hash, :hash, :mac"
)
# Fixed text built from the constants above; every value is a bound parameter.
_INSERT_FIRST = text(f"INSERT INTO audit_ledger ({_COLUMNS}) VALUES ({_VALUES})")  # noqa: S608
_INSERT_NEXT = text(
    f"INSERT INTO audit_ledger ({_COLUMNS}) SELECT {_VALUES} "  # noqa: S608
    "WHERE EXISTS (SELECT 1 FROM audit_ledger WHERE seq = :link_seq AND hash = :link_hash)"
)
_HEAD = text("SELECT seq, hash FROM audit_ledger ORDER BY seq DESC LIMIT 1")
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_BATCH_SQL: dict[int, tuple[TextClause, TextClause]] = {}


def _batch_statements(n: int) -> tuple[TextClause, TextClause]:
    """(plain, linked) INSERTs of ``n`` rows in one statement: one round trip a batch.

    The linked form inserts all ``n`` rows or none, on the same proof of linkage as a
    single row. Built from constants and the row count only; every value is bound.
    """
    if n not in _BATCH_SQL:
        rows = ", ".join("(" + ", ".join(f":{name}_{i}" for name in _NAMES) + ")" for i in range(n))
        plain = text(f"INSERT INTO audit_ledger ({_COLUMNS}) VALUES {rows}")  # noqa: S608
        linked = text(
            f"INSERT INTO audit_ledger ({_COLUMNS}) "  # noqa: S608
            f"SELECT * FROM (VALUES {rows}) AS v WHERE EXISTS "
            "(SELECT 1 FROM audit_ledger WHERE seq = :link_seq AND hash = :link_hash)"
        )
        if len(_BATCH_SQL) < 512:
            _BATCH_SQL[n] = (plain, linked)
        return plain, linked
    return _BATCH_SQL[n]


_LIMITS = {"actor": 200, "action": 100, "resource": 100, "ip": 64, "request_id": 100}


@dataclass(frozen=True)
class Prepared:
    """An event checked and encoded once, before any retry loop."""

    event: AuditEvent
    record_ids_json: str
    details_json: str
    details: Any = None  # the details as stored (parsed back once, in the caller's thread)


def prepare(event: AuditEvent) -> Prepared:
    """Refuse what could not be stored faithfully, before touching the database."""
    for name, limit in _LIMITS.items():
        value = getattr(event, name)
        optional = name in ("ip", "request_id")
        if value is None and optional:
            continue
        if not isinstance(value, str) or (not value and not optional):
            raise InvalidEvent(f"event {name} must be a non-empty string")
        if len(value) > limit:
            raise InvalidEvent(f"event {name} is longer than {limit} characters")
    if event.outcome not in OUTCOMES:
        raise InvalidEvent(f"event outcome must be one of {', '.join(OUTCOMES)}")
    if event.channel not in CHANNELS:
        raise InvalidEvent(f"event channel must be one of {', '.join(CHANNELS)}")
    if isinstance(event.count, bool) or not isinstance(event.count, int) or event.count < 0:
        raise InvalidEvent("event count must be a non-negative integer")
    details_json = encode_details(event.details)
    return Prepared(
        event, encode_record_ids(event.record_ids), details_json, json.loads(details_json)
    )


def read_head(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(_HEAD).first()
    return None if row is None else (int(row[0]), str(row[1]))


def _row(
    key: bytes, prepared: Prepared, seq: int, prev_hash: str, ts_text: str, ts: datetime
) -> tuple[dict[str, Any], LedgerEntry]:
    ev = prepared.event
    body = canonical(
        seq, ts_text, ev.actor, ev.action, ev.resource, prepared.record_ids_json, ev.count,
        ev.outcome, ev.channel, ev.ip, ev.request_id, prepared.details_json,
    )  # fmt: skip
    digest = link(prev_hash, body)
    params: dict[str, Any] = {
        "seq": seq,
        "ts": ts_text,
        "actor": ev.actor,
        "action": ev.action,
        "resource": ev.resource,
        "record_ids": prepared.record_ids_json,
        "count": ev.count,
        "outcome": ev.outcome,
        "channel": ev.channel,
        "ip": ev.ip,
        "request_id": ev.request_id,
        "details": prepared.details_json,
        "prev_hash": prev_hash,
        "hash": digest,
        "mac": seal(key, digest),
    }
    entry = LedgerEntry(
        seq=seq,
        ts=ts,
        actor=ev.actor,
        action=ev.action,
        resource=ev.resource,
        record_ids=tuple(ev.record_ids),
        count=ev.count,
        outcome=ev.outcome,
        channel=ev.channel,
        ip=ev.ip,
        request_id=ev.request_id,
        details=prepared.details,
        prev_hash=prev_hash,
        hash=digest,
    )
    return params, entry


def insert_batch(
    conn: Connection,
    key: bytes,
    batch: list[Prepared],
    head: tuple[int, str] | None,
    ts: datetime,
) -> list[LedgerEntry] | None:
    """Insert ``batch`` after ``head``; None when ``head`` is not (or no longer) the head.

    Every entry of the batch gets the same timestamp: they are committed together.
    """
    prev_seq, prev_hash = head if head is not None else (0, GENESIS_HASH)
    ts_text = format_ts(ts)
    stored_ts = parse_ts(ts_text)  # what a reader gets back: microseconds, UTC
    rows: list[dict[str, Any]] = []
    entries: list[LedgerEntry] = []
    for i, prepared in enumerate(batch):
        params, entry = _row(key, prepared, prev_seq + 1 + i, prev_hash, ts_text, stored_ts)
        rows.append(params)
        entries.append(entry)
        prev_hash = entry.hash
    if len(rows) == 1:
        first = rows[0]
        if head is None:
            conn.execute(_INSERT_FIRST, first)
        elif (
            conn.execute(
                _INSERT_NEXT, {**first, "link_seq": head[0], "link_hash": head[1]}
            ).rowcount
            != 1
        ):
            return None
        return entries
    plain, linked = _batch_statements(len(rows))
    params = {f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()}
    if head is None:
        conn.execute(plain, params)
    else:
        params["link_seq"], params["link_hash"] = head
        if conn.execute(linked, params).rowcount != len(rows):
            return None
    return entries


def insert(
    conn: Connection,
    key: bytes,
    prepared: Prepared,
    head: tuple[int, str] | None,
    ts: datetime,
) -> LedgerEntry | None:
    """Insert one event after ``head``; None when ``head`` is not (or no longer) the head."""
    entries = insert_batch(conn, key, [prepared], head, ts)
    return None if entries is None else entries[0]


def is_seq_collision(exc: DBAPIError) -> bool:
    """Another writer took this seq first (primary-key violation), so re-read the head."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":
        return True
    return "UNIQUE constraint failed: audit_ledger.seq" in str(orig)


def is_transient(exc: DBAPIError) -> bool:
    """Contention worth retrying: SQLite's lock, PostgreSQL's serialization or deadlock."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in ("40001", "40P01"):
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message
