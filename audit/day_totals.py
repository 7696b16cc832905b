"""Day totals: each user's events per UTC day, action, resource and outcome, summed ahead.

"What did this user do, day by day, this year?" is the owner's chart of a departing
manager or of an integration account. Counted from the ledger it is one pass over the
user's index entries, about half a microsecond each: a heavy user's year (600,000
events of a 10-million-event ledger) took over 300 ms. The totals make it a read of a
few thousand rows whatever the volume.

Like the record index they are derived data, filled in SQL from the ledger
(:func:`catch_up`), never by the writer, so an append stays one INSERT. Only days that
have ended are summed (entries older than the current UTC day), so each day is summed
about once, in one row per group; the rows are insert-only and guarded like the
ledger, and can always be rebuilt from it, which stays the evidence.

An answer is never stale and never counts an entry the live table no longer holds:
:func:`activity` reads from the totals only the whole days of the window whose rows
hold no archived entry, and counts from the ledger itself the rest: entries past the
totals' mark (today's), the window's partial first and last days, and days whose
totals include entries since archived.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    func,
    literal_column,
    not_,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import visitors

from audit.errors import LedgerReadError, one_line
from audit.events import ActivityDay, format_ts

CATCH_UP_BATCH = 200_000
"""Ledger entries summed per statement: bounded work per step of a first fill."""

_SEQ = BigInteger().with_variant(Integer, "sqlite")


def define(metadata: MetaData) -> tuple[Table, Table]:
    """The totals table and its one-row progress table, on the ledger's MetaData.

    A group's row is keyed by the catch-up mark that wrote it (``upto``): a day whose
    entries arrived over two catch-ups (a writer's clock a little behind) has two rows,
    which a reader sums. ``first_seq`` tells whether a row counts entries that have
    since been archived out of the live table.
    """
    totals = Table(
        "audit_day_totals",
        metadata,
        Column("actor", String(200), primary_key=True),
        Column("day", String(10), primary_key=True),
        Column("action", String(100), primary_key=True),
        Column("resource", String(100), primary_key=True),
        Column("outcome", String(16), primary_key=True),
        Column("upto", _SEQ, primary_key=True, autoincrement=False),
        Column("first_seq", _SEQ, nullable=False),
        Column("events", _SEQ, nullable=False),
        Column("records", _SEQ, nullable=False),
    )
    progress = Table(
        "audit_totals_progress",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("totals_upto", _SEQ, nullable=False),
    )
    return totals, progress


# Fixed SQL text; every value is a bound parameter.
_ENSURE = text(
    "INSERT INTO audit_totals_progress (id, totals_upto) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
)
_PROGRESS = text("SELECT totals_upto FROM audit_totals_progress WHERE id = 1")
# Claimed before it is filled, and only from the mark this catch-up read: of two
# catch-ups at once, the second finds the mark moved (PostgreSQL re-reads the row once
# the first commits; SQLite refuses the second writer) and sums nothing twice.
_CLAIM = text(
    "UPDATE audit_totals_progress SET totals_upto = :upto WHERE id = 1 AND totals_upto = :after"
)
_FILL = text(
    """
    INSERT INTO audit_day_totals
        (actor, day, action, resource, outcome, upto, first_seq, events, records)
    SELECT actor, substr(ts, 1, 10), action, resource, outcome, :upto,
           min(seq), count(*), sum("count")
    FROM audit_ledger
    WHERE seq > :after AND seq <= :upto
    GROUP BY actor, substr(ts, 1, 10), action, resource, outcome
    """
)
# The newest entry of an ended day: one probe of the time index (entries committed
# together share their time, hence the seq).
_ENDED = text("SELECT seq FROM audit_ledger WHERE ts < :cut ORDER BY ts DESC, seq DESC LIMIT 1")
# The oldest day among the entries past the mark, read through the primary key: as
# min(ts), PostgreSQL may answer from the time index instead, walking it from the oldest
# entry until one lies past the mark (nearly the whole ledger).
_TAIL_START = text("SELECT min(substr(ts, 1, 10)) FROM audit_ledger WHERE seq > :mark")
_LIVE_START = text("SELECT min(seq) FROM audit_ledger")
_NO_HASHAGG = text("SET LOCAL enable_hashagg = off")


def entry_day(ts: ColumnElement[str]) -> ColumnElement[str]:
    """An entry's UTC day (``YYYY-MM-DD``, the head of its stored time), as constant SQL:
    an index on an expression serves only a query that repeats it exactly, bound values
    included (SQLite matches the text; PostgreSQL cannot see into a generic plan's)."""
    return func.substr(ts, literal_column("1"), literal_column("10"))


def totals_upto(conn: Connection) -> int:
    """The last ledger seq the totals cover (0: none)."""
    return int(conn.execute(_PROGRESS).scalar() or 0)


def catch_up(conn: Connection, now: datetime, batch: int = CATCH_UP_BATCH) -> int:
    """Sum the entries of the days ended before ``now`` (UTC) past the mark; returns the
    new mark. Runs in the caller's transaction; safe alongside another catch-up."""
    mark = conn.execute(_PROGRESS).first()
    if mark is None:  # (a write only the first time: a plain read takes no write lock)
        conn.execute(_ENSURE)
    after = totals_upto(conn) if mark is None else int(mark[0])
    cut = format_ts(_day_start(now))
    row = conn.execute(_ENDED, {"cut": cut}).first()
    end = 0 if row is None else int(row[0])
    while after < end:
        upto = min(after + batch, end)
        if conn.execute(_CLAIM, {"after": after, "upto": upto}).rowcount != 1:
            break  # another catch-up moved the mark: it sums these
        conn.execute(_FILL, {"after": after, "upto": upto})
        after = upto
    return after


def _day_start(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day (a naive time is taken as UTC)."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC)


def activity(
    engine: Engine,
    ledger: Table,
    totals: Table,
    actor: str,
    since: datetime | None,
    until: datetime | None,
    where: Sequence[ColumnElement[bool]],
) -> list[ActivityDay] | None:
    """``actor``'s activity per day, action, resource and outcome in [since, until),
    scoped by ``where``; None when a clause of ``where`` names a column the totals do
    not have (the caller counts from the ledger then)."""
    scoped = _on_totals(where, ledger, totals)
    if scoped is None:
        return None
    ask = _Ask(ledger, totals, actor, since, until, tuple(where), scoped)
    try:
        with engine.begin() as conn:
            return _answer(conn, ask, catch_up(conn, datetime.now(UTC)))
    except SQLAlchemyError:
        pass  # a read-only database (a restored copy, an auditor's replica) still answers:
    try:  # the totals cover what they cover, the ledger the rest
        with engine.begin() as conn:
            return _answer(conn, ask, _mark_or_none(conn))
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc


class _Ask(NamedTuple):
    """One activity question: the tables, the window and the reader's scope (``where``
    on the ledger, ``scoped`` the same on the totals)."""

    ledger: Table
    totals: Table
    actor: str
    since: datetime | None
    until: datetime | None
    where: tuple[ColumnElement[bool], ...]
    scoped: list[ColumnElement[bool]]


def _mark_or_none(conn: Connection) -> int:
    """The totals' mark on a database that could not catch up (0 if it has none yet)."""
    try:
        with conn.begin_nested():
            return totals_upto(conn)
    except SQLAlchemyError:
        return 0


def _answer(conn: Connection, ask: _Ask, mark: int) -> list[ActivityDay]:
    """The whole days the totals hold up to ``mark``, plus what only the ledger can
    count; each entry counted exactly once (see the module's docstring)."""
    ledger, totals, actor, since, until, where, scoped = ask
    since_ts = None if since is None else format_ts(since)
    until_ts = None if until is None else format_ts(until)
    # Whole days of the window: from since's day if since is its midnight, else the next;
    # to the day before until's, whose midnight ends the window (or until's own day,
    # partial, counted from the ledger).
    edges: set[str] = set()
    lo = hi = None
    if since_ts is not None:
        lo = since_ts[:10]
        if since_ts[10:] != "T00:00:00.000000Z":
            edges.add(lo)
    if until_ts is not None:
        hi = until_ts[:10]
        if until_ts[10:] != "T00:00:00.000000Z":
            edges.add(hi)
        else:
            hi = shift_day(hi, -1)
    if conn.dialect.name == "postgresql":
        conn.execute(_NO_HASHAGG)
    live_start = conn.execute(_LIVE_START).scalar()
    counted: dict[tuple[str, str, str, str], list[int]] = {}
    archived: set[str] = set()
    if mark > 0 and (lo is None or hi is None or lo <= hi):
        stmt = (
            select(
                totals.c.day,
                totals.c.action,
                totals.c.resource,
                totals.c.outcome,
                func.sum(totals.c.events),
                func.sum(totals.c.records),
                func.min(totals.c.first_seq),
            )
            # Rows another catch-up wrote since the mark was read are the tail's.
            .where(totals.c.actor == actor, totals.c.upto <= mark, *scoped)
            .group_by(totals.c.day, totals.c.action, totals.c.resource, totals.c.outcome)
        )
        if lo is not None:
            stmt = stmt.where(totals.c.day >= lo)
        if hi is not None:
            stmt = stmt.where(totals.c.day <= hi)
        rows = conn.execute(stmt).all()
        for r in rows:
            day = str(r[0])
            if live_start is None or int(r[6]) < int(live_start):
                archived.add(day)
        for r in rows:
            day = str(r[0])
            if day not in edges and day not in archived:
                counted[(day, str(r[1]), str(r[2]), str(r[3]))] = [int(r[4]), int(r[5])]
    recount = sorted(edges | archived)
    window: list[ColumnElement[bool]] = [ledger.c.actor == actor, *where]
    if since_ts is not None:
        window.append(ledger.c.ts >= since_ts)
    if until_ts is not None:
        window.append(ledger.c.ts < until_ts)
    day_of = entry_day(ledger.c.ts)
    # Entries the totals do not hold yet, on days read from the totals: bounded by the
    # oldest day among them, so that the user's (actor, day) index is read over those
    # days only (today's, and a late writer's), not over their whole history ...
    tail = [*window, ledger.c.seq > mark]
    if mark > 0:  # (with no totals at all, the tail is every entry)
        oldest = conn.execute(_TAIL_START, {"mark": mark}).scalar()
        tail.append(day_of >= str(oldest or "9999"))
    if recount:
        tail.append(not_(day_of.in_(recount)))
    _add(counted, _grouped(conn, ledger, tail))
    # ... and every entry of the days counted from the ledger alone.
    if recount:
        _add(counted, _grouped(conn, ledger, [*window, day_of.in_(recount)]))
    return [
        ActivityDay(key[0], key[1], key[2], key[3], value[0], value[1])
        for key, value in sorted(counted.items())
    ]


def _grouped(conn: Connection, ledger: Table, clauses: list[ColumnElement[bool]]) -> Iterable[Any]:
    day = entry_day(ledger.c.ts)
    stmt = (
        select(
            day, ledger.c.action, ledger.c.resource, ledger.c.outcome,
            func.count(), func.sum(ledger.c["count"]),
        )
        .where(*clauses)
        .group_by(day, ledger.c.action, ledger.c.resource, ledger.c.outcome)
    )  # fmt: skip
    return conn.execute(stmt).all()


def _add(counted: dict[tuple[str, str, str, str], list[int]], rows: Iterable[Any]) -> None:
    for r in rows:
        key = (str(r[0]), str(r[1]), str(r[2]), str(r[3]))
        have = counted.setdefault(key, [0, 0])
        have[0] += int(r[4])
        have[1] += int(r[5] or 0)


def shift_day(day: str, days: int) -> str:
    """The day ``days`` after ``day`` (``YYYY-MM-DD``; negative: before)."""
    return (datetime.fromisoformat(day) + timedelta(days=days)).date().isoformat()


def _on_totals(
    where: Sequence[ColumnElement[bool]], ledger: Table, totals: Table
) -> list[ColumnElement[bool]] | None:
    """``where`` (clauses on the ledger, a reader's scope) restated on the totals, or
    None when a clause names a ledger column the totals lack (a channel, a record)."""
    missing: list[str] = []

    def swap(element: Any, **_: Any) -> Any:
        if isinstance(element, Column) and element.table is ledger:
            if element.name in totals.c:
                return totals.c[element.name]
            missing.append(element.name)
        return None

    out = [visitors.replacement_traverse(clause, {}, swap) for clause in where]
    return None if missing else out
