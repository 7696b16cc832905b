"""Guarded changes: create, update, delete, reassign.

A change and its ledger event commit in one transaction: either both happen or
neither does. Updates and deletes carry the scope in their WHERE clause, so a record
outside the user's scope is untouched (and reported as not found).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

import crm_models
from access import Decision
from crm_models import RecordNotFound, Row
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase
from crmguard.service.errors import InvalidInput

#: Fields no caller may set directly.
_PROTECTED = frozenset({"id", "created_at", "updated_at"})


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
            row = self._result(conn, ctx, decision, new_id)
            self.record(self.event(ctx, "create", resource, record_ids=[new_id]), conn)
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
                stmt = (
                    update(table)
                    .where(table.c.id == record_id, *self.scope(decision, ctx))
                    .values(**data, updated_at=self.clock())
                )
                if conn.execute(stmt).rowcount != 1:
                    raise _Refused("not found or out of scope")
                event = self.event(
                    ctx,
                    "update",
                    resource,
                    record_ids=[record_id],
                    details={"fields": sorted(data)},
                )
                self.record(event, conn)
                row = self._result(conn, ctx, decision, record_id)
        except _Refused as refused:
            raise self._refuse(ctx, decision, resource, record_id, refused) from None
        return row

    def delete(self, ctx: RequestContext, resource: str, record_id: int) -> None:
        """Delete a record in the caller's scope."""
        table = crm_models.resource(resource).table
        decision = self.decide(ctx, "delete", resource)
        if not decision.allowed:
            raise self.deny(ctx, decision)
        try:
            with self.engine.begin() as conn:
                stmt = delete(table).where(table.c.id == record_id, *self.scope(decision, ctx))
                if conn.execute(stmt).rowcount != 1:
                    raise _Refused("not found or out of scope")
                self.record(self.event(ctx, "delete", resource, record_ids=[record_id]), conn)
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
                stmt = (
                    update(table)
                    .where(table.c.id == record_id, *self.scope(decision, ctx))
                    .values({spec.owner_field: owner.user_id, "updated_at": self.clock()})
                )
                if conn.execute(stmt).rowcount != 1:
                    raise _Refused("not found or out of scope")
                event = self.event(
                    ctx,
                    "reassign",
                    resource,
                    record_ids=[record_id],
                    details={"new_owner": owner.username},
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
