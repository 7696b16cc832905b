"""Guarded changes: create, update, delete, reassign.

A change and its ledger event commit in one transaction: either both happen or
neither does. Updates and deletes carry the scope in their WHERE clause, so a record
outside the user's scope is untouched (and reported as not found).

Every change keeps the values it touched in its ledger event (the field history every
CRM keeps, tamper-evident because the ledger is): a create its values, an update the old
and new value of each changed field, a reassign the old and new owner, a delete the
whole record, so a manager who overwrites or deletes his clients before leaving leaves
a way back. ``contacts history`` reads them back through the caller's scope and masks
(:mod:`crmguard.service.history`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

import crm_models
from access import Decision
from crm_models import RecordNotFound, Row
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase
from crmguard.service.errors import InvalidInput

#: Fields no caller may set directly.
_PROTECTED = frozenset({"id", "created_at", "updated_at"})


def ledger_value(value: Any) -> Any:
    """A field's value as plain JSON for the ledger (times as ISO text, decimals as text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def ledger_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of ``row`` as plain JSON (what a create or delete keeps in its event)."""
    return {k: ledger_value(v) for k, v in row.items()}


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: Iterable[str]
) -> dict[str, Any]:
    """``{field: {"old": ..., "new": ...}}`` for each of ``fields`` whose value changed."""
    out: dict[str, Any] = {}
    for name in sorted(fields):
        old, new = ledger_value(before.get(name)), ledger_value(after.get(name))
        if old != new:
            out[name] = {"old": old, "new": new}
    return out


def _locked_row(
    conn: Connection, table: Table, record_id: int, where: list[Any]
) -> dict[str, Any] | None:
    """The record as it is before a change, locked until the change commits (PostgreSQL;
    SQLite serialises writers anyway), or None when it is missing or out of scope."""
    stmt = select(table).where(table.c.id == record_id, *where).with_for_update()
    found = conn.execute(stmt).mappings().first()
    return dict(found) if found is not None else None


class WritesMixin(GuardedBase):
    """create, update, delete and reassign."""

    def _checked_values(self, resource: str, values: Mapping[str, Any]) -> dict[str, Any]:
        spec = crm_models.resource(resource)
        bad = sorted(k for k in values if k not in spec.fields or k in _PROTECTED)
        if bad:
            raise InvalidInput(f"{resource} cannot set field(s) {', '.join(bad)}")
        if spec.owner_field and spec.owner_field in values:
            raise InvalidInput(f"use reassign to change {resource}.{spec.owner_field}")
        return dict(values)

    def _owner_in_scope(
        self, conn: Connection, ctx: RequestContext, decision: Decision, owner_id: int
    ) -> bool:
        users = crm_models.User.__table__
        # A team scope on records means the new owner must be in the actor's team.
        if decision.scope == "all":
            return (
                conn.execute(select(users.c.id).where(users.c.id == owner_id)).first() is not None
            )
        if decision.scope == "own":
            return owner_id == ctx.principal.user_id
        if decision.scope == "team":
            if ctx.principal.team_id is None:
                return owner_id == ctx.principal.user_id
            row = conn.execute(select(users.c.team_id).where(users.c.id == owner_id)).first()
            return row is not None and row.team_id == ctx.principal.team_id
        return False

    def _result(
        self, conn: Connection, ctx: RequestContext, decision: Decision, record_id: int
    ) -> Row:
        """The changed record as the caller may see it: masked in SQL, per row, like a view."""
        return crm_models.get_record(
            conn,
            decision.resource,
            record_id,
            replace=self.access.mask_columns(decision, ctx.principal),
        )

    def create(self, ctx: RequestContext, resource: str, values: Mapping[str, Any]) -> Row:
        """Create a record owned by the caller."""
        spec = crm_models.resource(resource)
        data = self._checked_values(resource, values)
        if spec.owner_field:
            data[spec.owner_field] = ctx.principal.user_id
        table = spec.table
        with self.engine.begin() as conn:
            decision = self.require(conn, ctx, "create", resource)
            new_id = conn.execute(insert(table).values(**data).returning(table.c.id)).scalar_one()
            row = crm_models.get_record(conn, resource, new_id)
            event = self.event(
                ctx, "create", resource, record_ids=[new_id], details={"values": ledger_values(row)}
            )
            self.record(event, conn)
            row = self._result(conn, ctx, decision, new_id)
        return row

    def update(
        self, ctx: RequestContext, resource: str, record_id: int, values: Mapping[str, Any]
    ) -> Row:
        """Change fields of a record in the caller's scope."""
        spec = crm_models.resource(resource)
        data = self._checked_values(resource, values)
        if not data:
            raise InvalidInput("nothing to update")
        table = spec.table
        decision = self.decide(ctx, "update", resource)
        if not decision.allowed:
            raise self.deny(ctx, decision)
        try:
            with self.engine.begin() as conn:
                where = self.scope(decision, ctx)
                before = _locked_row(conn, table, record_id, where)
                stmt = (
                    update(table)
                    .where(table.c.id == record_id, *where)
                    .values(**data, updated_at=self.clock())
                )
                if before is None or conn.execute(stmt).rowcount != 1:
                    raise _Refused("not found or out of scope")
                row = crm_models.get_record(conn, resource, record_id)
                event = self.event(
                    ctx,
                    "update",
                    resource,
                    record_ids=[record_id],
                    details={"fields": sorted(data), "changes": changes(before, row, data)},
                )
                self.record(event, conn)
                row = self._result(conn, ctx, decision, record_id)
        except _Refused as refused:
            raise self._refuse(ctx, decision, resource, record_id, refused) from None
        return row

    def delete(self, ctx: RequestContext, resource: str, record_id: int) -> None:
        """Delete a record in the caller's scope; its values stay in the ledger event."""
        spec = crm_models.resource(resource)
        table = spec.table
        decision = self.decide(ctx, "delete", resource)
        if not decision.allowed:
            raise self.deny(ctx, decision)
        try:
            with self.engine.begin() as conn:
                where = self.scope(decision, ctx)
                before = _locked_row(conn, table, record_id, where)
                stmt = delete(table).where(table.c.id == record_id, *where)
                if before is None or conn.execute(stmt).rowcount != 1:
                    raise _Refused("not found or out of scope")
                kept = {k: v for k, v in before.items() if k in spec.fields}
                event = self.event(
                    ctx,
                    "delete",
                    resource,
                    record_ids=[record_id],
                    details={"deleted": ledger_values(kept)},
                )
                self.record(event, conn)
        except _Refused as refused:
            raise self._refuse(ctx, decision, resource, record_id, refused) from None

    def reassign(self, ctx: RequestContext, resource: str, record_id: int, new_owner: str) -> Row:
        """Hand a record in the caller's scope to another user within that scope."""
        spec = crm_models.resource(resource)
        if spec.owner_field is None:
            raise InvalidInput(f"{resource} records have no owner to reassign")
        table = spec.table
        owner = self.principal(new_owner)
        decision = self.decide(ctx, "reassign", resource)
        if not decision.allowed:
            raise self.deny(ctx, decision)
        try:
            with self.engine.begin() as conn:
                if not self._owner_in_scope(conn, ctx, decision, owner.user_id):
                    raise _Refused("new owner outside the caller's scope", not_found=False)
                where = self.scope(decision, ctx)
                before = _locked_row(conn, table, record_id, where)
                stmt = (
                    update(table)
                    .where(table.c.id == record_id, *where)
                    .values({spec.owner_field: owner.user_id, "updated_at": self.clock()})
                )
                if before is None or conn.execute(stmt).rowcount != 1:
                    raise _Refused("not found or out of scope")
                row = crm_models.get_record(conn, resource, record_id)
                event = self.event(
                    ctx,
                    "reassign",
                    resource,
                    record_ids=[record_id],
                    details={
                        "new_owner": owner.username,
                        "changes": changes(before, row, [spec.owner_field]),
                    },
                )
                self.record(event, conn)
                row = self._result(conn, ctx, decision, record_id)
        except _Refused as refused:
            raise self._refuse(ctx, decision, resource, record_id, refused) from None
        return row

    def _refuse(
        self,
        ctx: RequestContext,
        decision: Decision,
        resource: str,
        record_id: int,
        refused: _Refused,
    ) -> Exception:
        """Record a refusal once the change's transaction has rolled back."""
        error = RecordNotFound(resource, record_id) if refused.not_found else None
        return self.deny(
            ctx, decision, record_ids=[record_id], details={"reason": refused.reason}, error=error
        )


class _Refused(Exception):
    """Raised inside a change's transaction to roll it back before the denial is recorded."""

    def __init__(self, reason: str, *, not_found: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_found = not_found
