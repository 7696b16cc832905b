"""Reading the ledger: filtered, streamed entries and the JSON Lines export.

Rows are fetched in keyset batches (``seq > last ORDER BY seq LIMIT n``), never all at
once, so an owner can page through years of history on a small machine and an export
never holds more than one batch in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import ColumnElement, Engine, Row, and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from audit.errors import LedgerReadError, one_line
from audit.events import LedgerEntry, format_ts, parse_ts
from audit.schema import audit_ledger as t

BATCH = 2000


@dataclass(frozen=True)
class Filters:
    """What to select; None means "any".

    ``record_id`` alone matches the id in any event's ``record_ids`` (the plain spelling).
    With ``record_resource`` it names one record, ``contact:42``, and matches the events of
    that resource listing 42 plus the events of any resource listing ``"contact:42"`` (a
    record disclosed alongside another, such as the company included in a contact's view).
    ``where`` holds extra SQL clauses from the caller (the reader's scope).
    """

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    resource: str | None = None
    record_id: int | str | None = None
    outcome: str | None = None
    record_resource: str | None = None
    where: tuple[ColumnElement[bool], ...] = field(default=())


def qualified_id(resource: str, record_id: int | str) -> str:
    """``contact:42``: how a record of another resource than the event's is written."""
    return f"{resource}:{record_id}"


def _id_forms(record_id: int | str) -> list[int | str]:
    """An id matches in both spellings: client 42 is 42 and "42"."""
    forms: list[int | str] = [str(record_id)]
    text = str(record_id)
    if isinstance(record_id, int) or (text.isdigit() and str(int(text)) == text):
        forms.append(int(text))
    return forms


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _token_clauses(forms: Sequence[int | str]) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for form in forms:
        token = _like_escape(json.dumps(form, ensure_ascii=False))
        for pattern in (f"[{token}]", f"[{token},%", f"%,{token}]", f"%,{token},%"):
            clauses.append(t.c.record_ids.like(pattern, escape="\\"))
    return clauses


def _record_id_clause(record_id: int | str, resource: str | None) -> ColumnElement[bool]:
    """A cheap SQL prefilter on the stored JSON list; exact matching happens in Python."""
    plain = or_(*_token_clauses(_id_forms(record_id)))
    if resource is None:
        return plain
    qualified = or_(*_token_clauses([qualified_id(resource, _canonical_id(record_id))]))
    return or_(and_(t.c.resource == resource, plain), qualified)


def _canonical_id(record_id: int | str) -> int | str:
    text = str(record_id)
    return int(text) if text.isdigit() and str(int(text)) == text else text


def _where(f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.since is not None:
        where.append(t.c.ts >= format_ts(f.since))
    if f.until is not None:
        where.append(t.c.ts < format_ts(f.until))
    for column, value in (
        (t.c.actor, f.actor),
        (t.c.action, f.action),
        (t.c.resource, f.resource),
        (t.c.outcome, f.outcome),
    ):
        if value is not None:
            where.append(column == value)
    if f.record_id is not None:
        where.append(_record_id_clause(f.record_id, f.record_resource))
    where.extend(f.where)
    return where


def iter_rows(
    engine: Engine, f: Filters, newest_first: bool = False, batch: int = BATCH
) -> Iterator[Row[Any]]:
    """Matching rows in seq order, batch by batch (each batch its own short read)."""
    where = _where(f)
    last: int | None = None
    order = t.c.seq.desc() if newest_first else t.c.seq.asc()
    while True:
        stmt = select(t).where(*where).order_by(order).limit(batch)
        if last is not None:
            stmt = stmt.where(t.c.seq < last if newest_first else t.c.seq > last)
        try:
            with engine.connect() as conn:
                rows = conn.execute(stmt).all()
        except SQLAlchemyError as exc:
            raise LedgerReadError(one_line(exc)) from exc
        yield from rows
        if len(rows) < batch:
            return
        last = int(rows[-1].seq)


def row_to_entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        seq=int(row.seq),
        ts=parse_ts(row.ts),
        actor=row.actor,
        action=row.action,
        resource=row.resource,
        record_ids=tuple(json.loads(row.record_ids)),
        count=int(row._mapping["count"]),
        outcome=row.outcome,
        channel=row.channel,
        ip=row.ip,
        request_id=row.request_id,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _matches_id(entry: LedgerEntry, record_id: int | str, resource: str | None) -> bool:
    wanted = str(record_id)
    if resource is None:
        return any(str(rid) == wanted for rid in entry.record_ids)
    if entry.resource == resource and any(str(rid) == wanted for rid in entry.record_ids):
        return True
    qualified = qualified_id(resource, _canonical_id(record_id))
    return any(str(rid) == qualified for rid in entry.record_ids)


def iter_entries(
    engine: Engine, f: Filters, *, limit: int | None = None, newest_first: bool = False
) -> Iterator[LedgerEntry]:
    if limit is not None and limit <= 0:
        return
    produced = 0
    batch = BATCH if limit is None or f.record_id is not None else min(BATCH, limit)
    for row in iter_rows(engine, f, newest_first, batch):
        entry = row_to_entry(row)
        if f.record_id is not None and not _matches_id(entry, f.record_id, f.record_resource):
            continue
        yield entry
        produced += 1
        if limit is not None and produced >= limit:
            return


def export_jsonl(engine: Engine, out: IO[str], f: Filters) -> int:
    """One JSON object per line, keys in contract order; returns the number of lines."""
    lines = 0
    for entry in iter_entries(engine, f):
        out.write(json.dumps(entry.to_json(), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        lines += 1
    return lines
