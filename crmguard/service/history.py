"""A record's field history, read back from the ledger through the caller's scope and masks.

Creates, updates, reassigns and deletes keep the values they touched in their ledger
events (:mod:`crmguard.service.writes`). Reading them back is a read like ``view``: the
same decision, the same scope, and the field masks of the very SELECT ``view`` runs
(``_one_record_stmt``). A field's old and new values are shown only where that SELECT
returns the field unmasked, so history follows whatever the masks do (per role, per
row) without a second copy of the rules.

A record's ledger history is cut into *lives* at each delete (SQLite may hand a
deleted id to a new record). The current life is judged on the record as it is now; a
deleted life on the values its delete kept, by running view's SELECT over a one-row
common table expression that stands in for the table (``WITH contacts AS (SELECT ...)``),
so a deleted client can be recovered by those who could have seen it, and by no one else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, DateTime, Numeric, Select, literal, select

import crm_models
from access import MASK, Decision
from audit import LedgerEntry
from crm_models import RecordNotFound
from crmguard.service.context import RequestContext
from crmguard.service.reads import ReadsMixin

#: Ledger actions that change a record (and keep its values).
CHANGE_ACTIONS = frozenset({"create", "update", "reassign", "delete"})

#: The largest id a CRM record can have: ids are 32-bit integers on PostgreSQL, so a
#: larger one names no record (and must not reach the database as an error).
MAX_RECORD_ID = 2**31 - 1


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a record, with the values the caller may see (others are masked)."""

    seq: int
    ts: datetime
    actor: str
    action: str
    channel: str
    #: Fields the change set (updates), whether or not their value changed.
    fields: tuple[str, ...] = ()
    #: field -> {"old": value, "new": value}, for updates and reassigns.
    changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The whole record: as created (create) or as it was when deleted (delete).
    values: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "channel": self.channel,
            "fields": list(self.fields),
            "changes": {k: dict(v) for k, v in self.changes.items()},
            "values": dict(self.values),
        }


@dataclass(frozen=True)
class RecordHistory:
    """The changes of one record, oldest first, as the caller may see them."""

    resource: str
    record_id: int
    exists: bool
    entries: tuple[HistoryEntry, ...]
    masked_fields: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "id": self.record_id,
            "exists": self.exists,
            "masked_fields": list(self.masked_fields),
            "entries": [e.to_json() for e in self.entries],
        }


@dataclass
class _Life:
    """The events between two deletes of one id, and the values its delete kept."""

    events: list[LedgerEntry] = field(default_factory=list)
    deleted: Mapping[str, Any] | None = None


def _lives(events: Sequence[LedgerEntry]) -> list[_Life]:
    lives = [_Life()]
    for entry in events:
        lives[-1].events.append(entry)
        if entry.action == "delete":
            deleted = entry.details.get("deleted")
            lives[-1].deleted = deleted if isinstance(deleted, Mapping) else {}
            lives.append(_Life())
    return lives


def _python_value(column: Any, value: Any) -> Any:
    """A value kept as JSON in the ledger, back in the column's Python type."""
    if value is None:
        return None
    if isinstance(column.type, DateTime) and isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Numeric) and isinstance(value, str | int | float):
        return Decimal(str(value))
    return value


def _shadowed(stmt: Select[Any], resource: str, values: Mapping[str, Any]) -> Select[Any]:
    """``stmt`` run over one row of ``values`` instead of the table of ``resource``."""
    table = crm_models.resource(resource).table
    cols = [
        literal(_python_value(c, values.get(c.name)), type_=c.type).label(c.name)
        for c in table.columns
    ]
    return stmt.add_cte(select(*cols).cte(table.name))


def _mask(values: Mapping[str, Any], visible: frozenset[str]) -> dict[str, Any]:
    return {k: (v if k in visible else MASK) for k, v in values.items()}


def _entry(event: LedgerEntry, visible: frozenset[str]) -> HistoryEntry:
    details = event.details
    raw_changes = details.get("changes")
    changes = {
        name: {"old": MASK, "new": MASK}
        if name not in visible
        else {"old": change.get("old"), "new": change.get("new")}
        for name, change in (raw_changes.items() if isinstance(raw_changes, Mapping) else ())
        if isinstance(change, Mapping)
    }
    kept = details.get("values") if event.action == "create" else details.get("deleted")
    values = _mask(kept, visible) if isinstance(kept, Mapping) else {}
    fields = details.get("fields")
    return HistoryEntry(
        seq=event.seq,
        ts=event.ts,
        actor=event.actor,
        action=event.action,
        channel=event.channel,
        fields=tuple(str(f) for f in fields) if isinstance(fields, list) else (),
        changes=changes,
        values=values,
    )


class HistoryMixin(ReadsMixin):
    """history: the changes of one record, as a guarded and recorded read."""

    def history(self, ctx: RequestContext, resource: str, record_id: int) -> RecordHistory:
        """The changes of record ``record_id``, scoped and masked like :meth:`view`.

        Out of scope and never existed look the same (not found, recorded as a denial).
        The read is recorded as a ``view`` of the record with ``details.history``.
        """
        crm_models.resource(resource)  # an unknown resource fails before any read
        with self.engine.connect() as conn:
            decision = self.require(conn, ctx, "view", resource)
            entries: list[HistoryEntry] = []
            masked: set[str] = set()
            exists = seen = False
            if 1 <= record_id <= MAX_RECORD_ID:
                events = [
                    e
                    for e in self.ledger.entries(
                        resource=resource, record_id=record_id, outcome="allowed"
                    )
                    if e.action in CHANGE_ACTIONS
                ]
                entries, masked, exists, seen = self._visible_lives(
                    conn, ctx, decision, record_id, _lives(events)
                )
        if not seen:
            raise self.deny(
                ctx,
                decision,
                record_ids=[record_id],
                details={"reason": "not found or out of scope", "history": True},
                error=RecordNotFound(resource, record_id),
            )
        details: dict[str, Any] = {"history": len(entries)}
        if masked:
            details["masked"] = sorted(masked)
        self.record(self.event(ctx, "view", resource, record_ids=[record_id], details=details))
        return RecordHistory(resource, record_id, exists, tuple(entries), tuple(sorted(masked)))

    def _visible_lives(
        self,
        conn: Connection,
        ctx: RequestContext,
        decision: Decision,
        record_id: int,
        lives: list[_Life],
    ) -> tuple[list[HistoryEntry], set[str], bool, bool]:
        """Entries of the lives the caller may see; the masked fields; whether the record
        exists now; whether any life was visible at all."""
        stmt = self._one_record_stmt(decision, ctx)
        params = {"record_id": record_id}
        entries: list[HistoryEntry] = []
        masked: set[str] = set()
        exists = seen = False
        for life in lives:
            if life.deleted is None:  # the current life: the record as it is now
                row = conn.execute(stmt, params).mappings().first()
                exists = row is not None
            elif life.deleted:
                shadow = _shadowed(stmt, decision.resource, life.deleted)
                row = conn.execute(shadow, params).mappings().first()
            else:  # a delete from before deletes kept values: nothing to judge it by
                row = None
            if row is None:
                continue
            seen = True
            visible = frozenset(k for k, v in row.items() if not (isinstance(v, str) and v == MASK))
            masked |= {k for k in row if k not in visible}
            entries += [_entry(e, visible) for e in life.events]
        return entries, masked, exists, seen
