"""Restrictions, check, explain and policy status as service methods.

PLACEHOLDER FOR THE MERGE: these are thin service methods over the access room's
functions, written so the HTTP API has one method per operation today. The same
operations are being moved out of the CLI into the guarded service on another line of
work; when that lands, these methods are replaced by those (same names where possible:
``restrict``, ``lift``, ``restrictions``, ``explain``, ``check``) and the API routes in
``crmguard/api/routes_admin.py`` call them unchanged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

import crm_models
from access import (
    Explanation,
    Restriction,
    active_restrictions,
    add_restriction,
    lift_restriction,
    list_restrictions,
)
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase


class AdminBridgeMixin(GuardedBase):
    """restrict, lift, restrictions, explain, policy_status (placeholders, see module)."""

    def restrict(
        self,
        ctx: RequestContext,
        username: str,
        kind: str,
        *,
        reason: str = "",
        hours: float | None = None,
    ) -> Restriction:
        """Suspend, freeze exports or flag departing (needs ``restrict`` on ``user``)."""
        self.principal(username)  # an unknown user is refused with a clear message
        now = self.clock()
        expires = now + timedelta(hours=hours) if hours else None
        with self.engine.begin() as conn:
            decision = self.require(conn, ctx, "restrict", "user")
            restriction = add_restriction(
                conn,
                username=username,
                kind=kind,
                reason=reason,
                created_by=ctx.principal.username,
                now=now,
                expires_at=expires,
            )
            details = {
                "restriction": kind,
                "reason": reason,
                "expires_at": str(expires) if expires else None,
                "rule": decision.rule,
            }
            self.record(
                self.event(ctx, "restrict", "user", record_ids=[username], details=details), conn
            )
        return restriction

    def lift(self, ctx: RequestContext, restriction_id: int) -> Restriction:
        """Lift a restriction (needs ``restrict`` on ``user``)."""
        with self.engine.begin() as conn:
            self.require(conn, ctx, "restrict", "user")
            restriction = lift_restriction(
                conn, restriction_id, lifted_by=ctx.principal.username, now=self.clock()
            )
            details = {"lifted": restriction.kind, "restriction": restriction_id}
            self.record(
                self.event(
                    ctx, "restrict", "user", record_ids=[restriction.username], details=details
                ),
                conn,
            )
        return restriction

    def restrictions(
        self, ctx: RequestContext, username: str | None = None
    ) -> tuple[Restriction, ...]:
        """Restrictions, newest first (needs ``list`` on ``user``; recorded)."""
        with self.engine.connect() as conn:
            self.require(conn, ctx, "list", "user")
            items = list_restrictions(conn, username)
        ids = [username] if username else []
        self.record(self.event(ctx, "restrict.list", "user", record_ids=ids, count=len(items)))
        return items

    def explain(
        self,
        ctx: RequestContext,
        username: str,
        action: str,
        resource: str,
        record_id: int | None = None,
    ) -> Explanation:
        """Why may (or may not) ``username`` do ``action`` on a record? Needs ``view`` on
        ``user``; the explanation names ids and policy lines, never record contents."""
        target = self.principal(username)
        with self.engine.connect() as conn:
            self.require(conn, ctx, "view", "user")
            record = None
            owner_team = None
            if record_id is not None:
                record = crm_models.get_record(conn, resource, record_id)
                owner_field = crm_models.resource(resource).owner_field
                owner_id = record.get(owner_field) if owner_field else None
                if owner_id is not None:
                    users = crm_models.User.__table__
                    owner_team = conn.execute(
                        select(users.c.team_id).where(users.c.id == owner_id)
                    ).scalar()
            restrictions = active_restrictions(conn, username, self.clock())
        explanation = self.access.explain(
            target, action, resource, record, owner_team, restrictions
        )
        ids: list[int | str] = [username]
        if record_id is not None:
            ids.append(f"{resource}:{record_id}")
        details = {
            "asked": {"action": action, "resource": resource},
            "allowed": explanation.allowed,
        }
        self.record(self.event(ctx, "access.explain", "user", record_ids=ids, details=details))
        return explanation

    def policy_status(self, ctx: RequestContext) -> dict[str, Any]:
        """The policy in force: its version and roles (needs ``view`` on ``user``)."""
        with self.engine.connect() as conn:
            self.require(conn, ctx, "view", "user")
        self.record(self.event(ctx, "policy.status", "policy"))
        return {
            "version": self.access.version,
            "policy_dir": str(self.access.policy_dir),
            "roles": sorted(self.access.roles),
        }
