"""Appends: validate and encode events, then one INSERT for a whole batch.

Every batch carries its own proof of linkage: its first row only goes in when the row it
claims as predecessor (``seq - 1`` with ``prev_hash``) exists, or when it is the first
entry of all. So a stale head costs one retry (a primary-key collision, fewer rows
inserted, or on SQLite a first row refused for want of its predecessor's hash) and can
never leave a gap or a fork. The other rows of a batch link onto rows
of the same statement.

The work is split so that little of it happens under the chain lock, where every
writer of the process waits: :func:`prepare` (in the caller's thread) checks the event
and encodes all that does not depend on its place in the chain, including the start of
its canonical text; :func:`insert_batch` (under the lock) adds seq, time, hash and seal
and sends the batch as one statement; :func:`entry` (back in the caller's thread, after
the commit) builds the :class:`LedgerEntry` the caller gets.

A fixed SQL text whatever the batch size:

* SQLite: the first row with its proof of linkage, then one ``executemany`` of a plain
  prepared INSERT for the rest (the driver's loop, in C); no round trips to save.
* PostgreSQL: one ``INSERT ... SELECT`` over ``json_populate_recordset`` with the batch
  as a single JSON parameter: one round trip, and one statement text the server keeps
  prepared, where a multi-row VALUES list would be a new statement per batch size with
  15 parameters a row.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from audit.chain import (
    Sealer,
    canonical_fields,
    canonical_place,
    encode_details,
    encode_record_ids,
    link,
    ts_json,
)
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
# Fixed texts built from the constants above; every value is a bound parameter.
# A row inserts when its predecessor is there, or when it is the first entry (seq 1,
# whose place the primary key guards).
#
# On SQLite the first row's prev_hash is read from its predecessor inside the row's own
# VALUES: NULL when no entry (seq - 1, prev_hash) exists, which the NOT NULL column
# refuses, so a stale head is an error on that statement alone (the transaction stays
# usable and is rolled back). An ``INSERT ... SELECT ... WHERE EXISTS`` on the same table
# would do the same, but SQLite then first copies the row into a temporary table (it
# reads the table it writes): about 30 us of CPU on every append, a third of the
# statement's cost.
_SQLITE_LINKED = (
    f"INSERT INTO audit_ledger ({_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "CASE WHEN ? = 0 THEN ? ELSE (SELECT hash FROM audit_ledger WHERE seq = ? AND hash = ?) END, "
    "?, ?)"
)
_SQLITE_UNLINKED = "NOT NULL constraint failed: audit_ledger.prev_hash"
# The rest of a batch follows rows the same transaction has just written: plain rows,
# about half the cost of the linked form each.
_SQLITE_PLAIN = (
    f"INSERT INTO audit_ledger ({_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PG_INSERT = (
    f"INSERT INTO audit_ledger ({_COLUMNS}) SELECT {_COLUMNS} "  # noqa: S608
    "FROM json_populate_recordset(NULL::audit_ledger, %s::json) "
    "WHERE %s::bigint = 0 OR EXISTS "
    "(SELECT 1 FROM audit_ledger WHERE seq = %s::bigint AND hash = %s)"
)
_HEAD = text("SELECT seq, hash FROM audit_ledger ORDER BY seq DESC LIMIT 1")

_LIMITS = {"actor": 200, "action": 100, "resource": 100, "ip": 64, "request_id": 100}

Placement = tuple[int, str, str]
"""Where an event went: (seq, prev_hash, hash)."""


class Prepared(NamedTuple):
    """An event checked and encoded once, before any lock or retry loop (a tuple: it
    is built on every append and never leaves this room).

    ``fields`` is the start of its canonical text (see :func:`audit.chain.canonical_fields`)
    and ``body`` the same in UTF-8; ``columns`` its stored values from ``actor`` to
    ``details``, in column order.
    """

    event: AuditEvent
    record_ids_json: str
    details_json: str
    details: Any
    fields: str
    body: bytes
    columns: tuple[Any, ...]


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
    given = event.details
    details_json = "{}" if type(given) is dict and not given else encode_details(given)
    ids = event.record_ids
    if type(ids) is tuple and all(type(rid) is int for rid in ids):
        record_ids_json = "[" + ",".join(map(str, ids)) + "]"  # what dumps writes for ints
    else:
        record_ids_json = encode_record_ids(ids)
    columns = (
        event.actor, event.action, event.resource, record_ids_json, event.count,
        event.outcome, event.channel, event.ip, event.request_id, details_json,
    )  # fmt: skip
    fields = canonical_fields(*columns)
    try:
        body = fields.encode()
    except UnicodeEncodeError:
        raise InvalidEvent("event text must be valid Unicode (it holds a lone surrogate)") from None
    details = {} if details_json == "{}" else json.loads(details_json)
    return Prepared(event, record_ids_json, details_json, details, fields, body, columns)


def read_head(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(_HEAD).first()
    return None if row is None else (int(row[0]), str(row[1]))


def entry(prepared: Prepared, placement: Placement, ts: datetime) -> LedgerEntry:
    """The stored entry, built from the event and where the batch put it."""
    ev = prepared.event
    seq, prev_hash, digest = placement
    values = {
        "seq": seq,
        "ts": ts,
        "actor": ev.actor,
        "action": ev.action,
        "resource": ev.resource,
        "record_ids": tuple(ev.record_ids),
        "count": ev.count,
        "outcome": ev.outcome,
        "channel": ev.channel,
        "ip": ev.ip,
        "request_id": ev.request_id,
        "details": prepared.details,
        "prev_hash": prev_hash,
        "hash": digest,
    }
    if not _PLAIN_ENTRY:
        return LedgerEntry(**values)
    # The frozen dataclass's __init__ sets each of its 14 fields through
    # object.__setattr__; filling the instance dict gives the same object for a
    # fraction of the cost, paid on every append by a thread the GIL serializes.
    made: LedgerEntry = object.__new__(LedgerEntry)
    made.__dict__.update(values)
    return made


# Only while LedgerEntry stays a plain frozen dataclass (no slots, no __post_init__).
_PLAIN_ENTRY = (
    dataclasses.is_dataclass(LedgerEntry)
    and "__slots__" not in vars(LedgerEntry)
    and not hasattr(LedgerEntry, "__post_init__")
    and {f.name for f in dataclasses.fields(LedgerEntry)}
    == {"seq", "ts", "actor", "action", "resource", "record_ids", "count", "outcome",
        "channel", "ip", "request_id", "details", "prev_hash", "hash"}
)  # fmt: skip


def _stamp(ts: datetime) -> tuple[str, datetime]:
    """``format_ts(ts)`` and what a reader parses back from it (microseconds, UTC),
    without strftime and strptime (tens of microseconds, paid once a batch)."""
    utc = ts.astimezone(UTC) if ts.tzinfo is not None and ts.utcoffset() is not None else None
    if utc is None or utc.year < 1000:  # format_ts refuses naive times; %Y does not pad
        text_ = format_ts(ts)
        return text_, parse_ts(text_)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z", utc


def insert_batch(
    conn: Connection,
    sealer: Sealer,
    batch: list[Prepared],
    head: tuple[int, str] | None,
    ts: datetime,
) -> tuple[list[Placement], datetime] | None:
    """Insert ``batch`` after ``head`` in one statement; returns where each event went
    and the stored time, or None when ``head`` is not (or no longer) the head (then the
    caller must roll back: nothing of the batch may stay).

    Every entry of the batch gets the same timestamp: they are committed together.
    """
    head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
    ts_text, stored_ts = _stamp(ts)
    tsj = ts_json(ts_text)
    pg = conn.dialect.name == "postgresql"
    placements: list[Placement] = []
    rows: list[tuple[Any, ...]] = []
    objects: list[str] = []
    seq, prev = head_seq, head_hash
    for prepared in batch:
        seq += 1
        digest = link(prev, prepared.body + canonical_place(seq, tsj))
        seal = sealer(digest)
        if pg:
            # The canonical fields are already a JSON object's members, one per column
            # (record_ids and details as JSON, which PostgreSQL hands to a text column
            # verbatim); the place and the seals complete it.
            objects.append(
                f'{prepared.fields}"seq":{seq},"ts":{tsj},"prev_hash":"{prev}",'
                f'"hash":"{digest}","mac":"{seal}"}}'
            )
        else:
            rows.append((seq, ts_text, *prepared.columns, prev, digest, seal))
        placements.append((seq, prev, digest))
        prev = digest
    if pg:
        params = ("[" + ",".join(objects) + "]", head_seq, head_seq, head_hash)
        inserted = _pg_execute(conn, params)
    else:
        first = rows[0]
        linked = (*first[:12], head_seq, head_hash, head_seq, head_hash, *first[13:])
        try:
            inserted = conn.exec_driver_sql(_SQLITE_LINKED, linked).rowcount
        except IntegrityError as exc:
            if _SQLITE_UNLINKED in str(exc.orig):
                return None  # no such predecessor: the head moved (or never was)
            raise
        if inserted == 1 and len(rows) == 2:
            inserted += conn.exec_driver_sql(_SQLITE_PLAIN, rows[1]).rowcount
        elif inserted == 1 and len(rows) > 2:
            inserted += conn.exec_driver_sql(_SQLITE_PLAIN, rows[1:]).rowcount
    if inserted != len(batch):
        return None
    return placements, stored_ts


def _pg_execute(conn: Connection, params: tuple[Any, ...]) -> int:
    """Run the batch INSERT on the driver's cursor; returns the rows inserted.

    SQLAlchemy's execution context (statement compilation cache, result wrapping) costs
    about 60 us a statement here, as much as the leader's other Python work on a batch
    of 16; this one fixed statement needs none of it. Errors come back as SQLAlchemy's
    ``DBAPIError`` family, with the connection invalidated on a disconnect, exactly as
    ``exec_driver_sql`` raises them, so the retry policy sees no difference.
    """
    raw = conn.connection.dbapi_connection
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(_PG_INSERT, params)
            return int(cursor.rowcount)
    except dbapi_error as exc:
        gone = conn.dialect.is_disconnect(exc, raw, None)
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            _PG_INSERT, params, exc, dbapi_error, connection_invalidated=gone, dialect=conn.dialect
        ) from exc


def insert(
    conn: Connection,
    sealer: Sealer,
    prepared: Prepared,
    head: tuple[int, str] | None,
    ts: datetime,
) -> LedgerEntry | None:
    """Insert one event after ``head``; None when ``head`` is not (or no longer) the head."""
    done = insert_batch(conn, sealer, [prepared], head, ts)
    if done is None:
        return None
    placements, stored_ts = done
    return entry(prepared, placements[0], stored_ts)


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


def is_unreachable(exc: DBAPIError) -> bool:
    """The database as a whole cannot take writes (gone, read-only, locked, no such
    table on SQLite), as opposed to refusing one statement's values: then retrying a
    batch event by event cannot help and would only keep the other writers waiting."""
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
