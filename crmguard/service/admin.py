"""The admins' operations: ask the policy, explain it, list users, restrict and lift.

Every door (the CLI, the HTTP API) calls these methods and nothing else, so each
operation is decided, scoped and recorded once, here:

* the caller needs a permission on ``user`` (``view`` to ask about someone's access,
  ``list`` to list users, ``restrict`` to restrict, lift or list restrictions) and the
  user asked about must fall inside that decision's scope;
* "inside the scope" is always the SQL scope clause of :mod:`access.scopes` (the same
  rule every list, search and export applies), never a Python re-implementation;
* every answer is a ledger event naming who asked what about whom.

The home's operator (the CLI without ``--as``) is allowed everything here and recorded
as ``operator:<os user>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, select, true

import crm_models
from access import Decision, Explanation, Principal, Restriction, active_restrictions
from access import add_restriction as _add_restriction
from access import lift_restriction as _lift_restriction
from access import list_restrictions as _list_restrictions
from crm_models import RecordNotFound
from crmguard.errors import UnknownUser
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase
from crmguard.service.errors import AccessDenied, InvalidInput


@dataclass(frozen=True)
class AccessCheck:
    """The answer to "may USER do ACTION on RESOURCE[:ID]?"."""

    subject: str
    action: str
    resource: str
    record_id: int | None
    allowed: bool
    decision: Decision
    #: Whether the record lies inside the decision's scope; None when no record was asked.
    record_in_scope: bool | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            **self.decision.to_json(),
            "allowed": self.allowed,
            "reason": self.reason,
            "subject": self.subject,
            "action": self.action,
            "resource": self.resource,
            "record_id": self.record_id,
            "record_in_scope": self.record_in_scope,
        }


@dataclass(frozen=True)
class UserSummary:
    """One user as admins see them: no password, no token, no client data. ``email`` is
    given where an admin operation set or read it (add, update, deactivate), not in lists."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    team: str | None
    active: bool
    email: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "username": self.username,
            "display_name": self.display_name,
            "roles": list(self.roles),
            "team": self.team,
            "active": self.active,
        }
        if self.email is not None:
            out["email"] = self.email
        return out


class AdminMixin(GuardedBase):
    """check_access, explain_access, list_users, restrict_user, lift_restriction,
    list_restrictions."""

    def check_access(
        self,
        ctx: RequestContext,
        username: str,
        action: str,
        resource: str,
        record_id: int | None = None,
    ) -> AccessCheck:
        """May ``username`` do ``action`` on ``resource`` (and on record ``record_id``)?"""
        with self.engine.connect() as conn:
            subject = self._subject(conn, ctx, username, "access.check")
            decision = self._decide_for(conn, subject, action, resource)
            in_scope: bool | None = None
            reason = decision.reason
            if record_id is not None:
                in_scope = self._record_in_scope(conn, decision, subject, resource, record_id)
                if decision.allowed and not in_scope:
                    scope = decision.scope
                    reason = f"{resource} {record_id} is outside {username}'s {scope} scope"
        allowed = decision.allowed and in_scope is not False
        self._record_question(ctx, "access.check", username, action, resource, record_id, allowed)
        return AccessCheck(
            username, action, resource, record_id, allowed, decision, in_scope, reason
        )

    def explain_access(
        self,
        ctx: RequestContext,
        username: str,
        action: str,
        resource: str,
        record_id: int | None = None,
    ) -> Explanation:
        """Why may (or may not) ``username`` do ``action`` on this record, line by line."""
        with self.engine.connect() as conn:
            subject = self._subject(conn, ctx, username, "access.explain")
            decision = self._decide_for(conn, subject, action, resource)
            record: dict[str, Any] | None = None
            owner_team: int | None = None
            in_scope: bool | None = None
            if record_id is not None:
                record, owner_team = self._record_owner(conn, resource, record_id)
                in_scope = self._record_in_scope(conn, decision, subject, resource, record_id)
            restrictions = active_restrictions(conn, username, self.clock())
        explanation = self.access.explain(
            subject, action, resource, record, owner_team, restrictions, in_scope=in_scope
        )
        self._record_question(
            ctx, "access.explain", username, action, resource, record_id, explanation.allowed
        )
        return explanation

    def list_users(self, ctx: RequestContext) -> tuple[UserSummary, ...]:
        """The users in the caller's ``list user`` scope, by username."""
        users, teams = crm_models.User.__table__, crm_models.Team.__table__
        with self.engine.connect() as conn:
            decision = self._admit(conn, ctx, "list")
            rows = conn.execute(
                select(
                    users.c.username,
                    users.c.display_name,
                    users.c.roles,
                    users.c.active,
                    teams.c.name.label("team"),
                )
                .select_from(users.outerjoin(teams, users.c.team_id == teams.c.id))
                .where(self._user_scope(decision, ctx))
                .order_by(users.c.username)
            ).all()
        found = tuple(
            UserSummary(r.username, r.display_name, tuple(r.roles or ()), r.team, bool(r.active))
            for r in rows
        )
        self.record(self.event(ctx, "list", "user", record_ids=[u.username for u in found]))
        return found

    def restrict_user(
        self,
        ctx: RequestContext,
        username: str,
        kind: str,
        *,
        reason: str = "",
        expires_at: datetime | None = None,
        hours: float | None = None,
    ) -> Restriction:
        """Suspend ``username``, freeze their exports, or flag them as departing.

        The restriction and its ledger event are written in one transaction: either
        both exist or neither does.
        """
        if hours is not None:
            if hours <= 0:
                raise InvalidInput(f"hours must be more than 0, not {hours}")
            expires_at = self.clock() + timedelta(hours=hours)
        with self.engine.begin() as conn:
            decision = self._admit(conn, ctx, "restrict", username)
            self._in_user_scope(conn, ctx, decision, username)
            restriction = _add_restriction(
                conn,
                username=username,
                kind=kind,
                reason=reason,
                created_by=ctx.principal.username,
                now=self.clock(),
                expires_at=expires_at,
            )
            details = {
                "restriction": kind,
                "id": restriction.id,
                "reason": reason,
                "expires_at": str(restriction.expires_at) if restriction.expires_at else None,
                "rule": decision.rule if decision else "operator",
            }
            self.record(
                self.event(ctx, "restrict", "user", record_ids=[username], details=details), conn
            )
        return restriction

    def lift_restriction(self, ctx: RequestContext, restriction_id: int) -> Restriction:
        """End restriction ``restriction_id`` now (recorded in the same transaction)."""
        with self.engine.begin() as conn:
            placed = [r for r in _list_restrictions(conn) if r.id == restriction_id]
            decision = self._admit(conn, ctx, "restrict", placed[0].username if placed else None)
            if placed:
                self._in_user_scope(conn, ctx, decision, placed[0].username)
            lifted = _lift_restriction(
                conn, restriction_id, lifted_by=ctx.principal.username, now=self.clock()
            )
            self.record(
                self.event(
                    ctx,
                    "restrict",
                    "user",
                    record_ids=[lifted.username],
                    details={"lifted": lifted.kind, "restriction": restriction_id},
                ),
                conn,
            )
        return lifted

    def list_restrictions(
        self, ctx: RequestContext, username: str | None = None
    ) -> tuple[Restriction, ...]:
        """Restrictions (active and past, newest first) on users in the caller's scope."""
        users = crm_models.User.__table__
        with self.engine.connect() as conn:
            decision = self._admit(conn, ctx, "restrict", username)
            visible = set(
                conn.execute(
                    select(users.c.username).where(self._user_scope(decision, ctx))
                ).scalars()
            )
            found = tuple(r for r in _list_restrictions(conn, username) if r.username in visible)
        details = {"user": username} if username else {}
        self.record(
            self.event(
                ctx, "list", "restriction", record_ids=[r.id for r in found], details=details
            )
        )
        return found

    # -- private steps ---------------------------------------------------------------

    def _admit(
        self, conn: Connection, ctx: RequestContext, action: str, about: str | None = None
    ) -> Decision | None:
        """The caller's decision on ``user``; None for the home's operator.

        A refusal is recorded naming the user asked ``about``, so the ledger says who
        tried what on whom.
        """
        if ctx.operator:
            return None
        decision = self.decide_in(conn, ctx, action, "user")
        if not decision.allowed:
            raise self.deny(ctx, decision, record_ids=[about[:200]] if about else ())
        return decision

    def _user_scope(self, decision: Decision | None, ctx: RequestContext) -> ColumnElement[bool]:
        """The one scope rule, on the users table."""
        if decision is None:
            return true()
        return self.access.scope_clause(decision, ctx.principal)

    def _in_user_scope(
        self, conn: Connection, ctx: RequestContext, decision: Decision | None, username: str
    ) -> None:
        """Refuse (recorded) a user outside the caller's scope; unknown users are an error."""
        users = crm_models.User.__table__
        exists = conn.execute(select(users.c.id).where(users.c.username == username)).first()
        if exists is None:
            raise UnknownUser(username)
        if decision is None:
            return
        inside = conn.execute(
            select(users.c.id).where(users.c.username == username, self._user_scope(decision, ctx))
        ).first()
        if inside is None:
            raise self.deny(
                ctx,
                decision,
                record_ids=[username],
                details={"reason": "user outside the caller's scope"},
                error=AccessDenied(
                    ctx.principal.username,
                    decision.action,
                    f"user {username}",
                    f"outside your {decision.scope} scope",
                ),
            )

    def _subject(
        self, conn: Connection, ctx: RequestContext, username: str, question: str
    ) -> Principal:
        """The user asked about, if the caller may view them (``view user`` in scope)."""
        decision = self._admit(conn, ctx, "view", username)
        try:
            self._in_user_scope(conn, ctx, decision, username)
        except UnknownUser:
            self.record(
                self.event(
                    ctx,
                    question,
                    "user",
                    record_ids=[username[:200]],
                    outcome="error",
                    details={"reason": "unknown user"},
                )
            )
            raise
        return self.principal(username)

    def _decide_for(
        self, conn: Connection, subject: Principal, action: str, resource: str
    ) -> Decision:
        """The decision ``subject`` would get, with their restrictions in force."""
        return self.decide_in(conn, RequestContext(principal=subject), action, resource)

    def _record_in_scope(
        self,
        conn: Connection,
        decision: Decision,
        subject: Principal,
        resource: str,
        record_id: int,
    ) -> bool:
        """Is the record inside the decision's scope? Asked of the database, in SQL."""
        table = self._table(resource)
        if conn.execute(select(table.c.id).where(table.c.id == record_id)).first() is None:
            raise RecordNotFound(resource, record_id)
        clause = self.access.scope_clause(decision, subject)
        found = conn.execute(select(table.c.id).where(table.c.id == record_id, clause)).first()
        return found is not None

    def _record_owner(
        self, conn: Connection, resource: str, record_id: int
    ) -> tuple[dict[str, Any], int | None]:
        """The record's id and owner (never its contents), and the owner's team."""
        spec = crm_models.resource(resource)
        table = self._table(resource)
        cols = [table.c.id] + ([table.c[spec.owner_field]] if spec.owner_field else [])
        row = conn.execute(select(*cols).where(table.c.id == record_id)).mappings().first()
        if row is None:
            raise RecordNotFound(resource, record_id)
        owner = row.get(spec.owner_field) if spec.owner_field else None
        team = None
        if owner is not None:
            users = crm_models.User.__table__
            team = conn.execute(select(users.c.team_id).where(users.c.id == owner)).scalar()
        return dict(row), team

    @staticmethod
    def _table(resource: str) -> Any:
        if resource not in crm_models.RESOURCES:
            raise InvalidInput(
                f"{resource} records have no ids to check here; ask about the resource "
                f"alone (e.g. {resource}, not {resource}:ID)"
            )
        return crm_models.resource(resource).model.__table__

    def _record_question(
        self,
        ctx: RequestContext,
        question: str,
        username: str,
        action: str,
        resource: str,
        record_id: int | None,
        allowed: bool,
    ) -> None:
        asked: dict[str, Any] = {"action": action, "resource": resource}
        if record_id is not None:
            asked["record_id"] = record_id
        self.record(
            self.event(
                ctx,
                question,
                "user",
                record_ids=[username],
                details={"asked": asked, "answer": "allowed" if allowed else "denied"},
            )
        )
