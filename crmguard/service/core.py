"""The heart of the guarded service: decide once, scope in SQL, record before returning.

Every public method of :class:`~crmguard.service.GuardedCRM` follows the same way:

1. ``decide`` (one policy decision per request, with the user's active restrictions);
2. a denial is written to the ledger and raised as :class:`AccessDenied`;
3. the query runs with the decision's scope as an SQL filter and masks as SQL literals;
4. the event is appended to the ledger *before* any row is handed back; if the ledger
   refuses the write, the caller gets the ledger's error and no data (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, select

import crm_models
from access import AccessControl, Decision, Principal, active_restrictions
from audit import AuditEvent, Ledger, LedgerEntry
from crmguard.errors import UnknownUser
from crmguard.service.context import Channel, RequestContext, new_request_id
from crmguard.service.errors import AccessDenied

Clock = Callable[[], datetime]

#: Longest claimed username written to the ledger (the actor column holds 200).
CLAIMED_MAX = 200


def _utcnow() -> datetime:
    return datetime.now(UTC)


class GuardedBase:
    """State and the three shared steps (decide, deny, record) of the guarded service."""

    def __init__(
        self,
        engine: Engine,
        access: AccessControl,
        ledger: Ledger,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.access = access
        self.ledger = ledger
        self.clock: Clock = clock or _utcnow
        self._stmt_cache: dict[tuple[Decision, Principal], Select[Any]] = {}

    # -- principals ------------------------------------------------------------------

    def principal(self, username: str) -> Principal:
        """Resolve a username to a principal (roles and team come from the database)."""
        users = crm_models.User.__table__
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    users.c.id, users.c.username, users.c.team_id, users.c.roles, users.c.active
                ).where(users.c.username == username)
            ).first()
        if row is None:
            raise UnknownUser(username)
        return Principal(
            user_id=row.id,
            username=row.username,
            team_id=row.team_id,
            roles=tuple(row.roles or ()),
            active=bool(row.active),
        )

    def context_for(
        self,
        username: str,
        *,
        channel: Channel = "cli",
        ip: str | None = None,
        os_user: str | None = None,
    ) -> RequestContext:
        """The request context of ``username``; an unknown name is refused AND recorded.

        Someone trying names (``--as owner``, ``--as no.such.user``) is probing, and
        probing is a signal: the refusal is a ledger event (action ``act_as``, resource
        ``user``, outcome ``denied``) naming the claimed name in ``record_ids``. The actor
        is who actually asked: the operating-system user for the CLI, else ``unknown``.
        """
        try:
            principal = self.principal(username)
        except UnknownUser:
            claimed = username[:CLAIMED_MAX]
            actor = f"operator:{os_user}" if os_user else "unknown"
            self.record(
                AuditEvent(
                    actor=actor[:CLAIMED_MAX],
                    action="act_as",
                    resource="user",
                    record_ids=(claimed,),
                    count=0,
                    outcome="denied",
                    channel=channel,
                    ip=ip,
                    request_id=new_request_id(),
                    details={"claimed": claimed, "reason": "unknown user"},
                )
            )
            raise
        return RequestContext(principal=principal, channel=channel, ip=ip, os_user=os_user)

    # -- the three steps ---------------------------------------------------------------

    def decide_in(
        self, conn: Connection, ctx: RequestContext, action: str, resource: str
    ) -> Decision:
        """One decision for this request, shaped by the user's active restrictions."""
        restrictions = active_restrictions(conn, ctx.principal.username, self.clock())
        return self.access.decide(ctx.principal, action, resource, restrictions)

    def decide(self, ctx: RequestContext, action: str, resource: str) -> Decision:
        """Like :meth:`decide_in` on a connection of its own."""
        with self.engine.connect() as conn:
            return self.decide_in(conn, ctx, action, resource)

    def event(
        self,
        ctx: RequestContext,
        action: str,
        resource: str,
        *,
        record_ids: Sequence[int | str] = (),
        count: int | None = None,
        outcome: str = "allowed",
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """The ledger event for this request (with the OS user behind a claimed name)."""
        info = dict(details or {})
        if ctx.os_user is not None:
            info.setdefault("os_user", ctx.os_user)
        return AuditEvent(
            actor=ctx.principal.username,
            action=action,
            resource=resource,
            record_ids=tuple(record_ids),
            count=len(record_ids) if count is None else count,
            outcome=outcome,  # type: ignore[arg-type]
            channel=ctx.channel,
            ip=ctx.ip,
            request_id=ctx.request_id,
            details=info,
        )

    def record(self, event: AuditEvent, conn: Connection | None = None) -> LedgerEntry:
        """Append ``event``; inside ``conn``'s transaction when given (atomic with a change)."""
        if conn is not None:
            return self.ledger.append_in(conn, event)
        return self.ledger.append(event)

    def deny(
        self,
        ctx: RequestContext,
        decision: Decision,
        *,
        record_ids: Sequence[int | str] = (),
        details: Mapping[str, Any] | None = None,
        error: Exception | None = None,
    ) -> Exception:
        """Write the denial to the ledger (probing is a signal) and return the error to raise."""
        info = {"rule": decision.rule, **(details or {})}
        if decision.restrictions:
            info["restrictions"] = list(decision.restrictions)
        self.record(
            self.event(
                ctx,
                decision.action,
                decision.resource,
                record_ids=record_ids,
                count=0,
                outcome="denied",
                details=info,
            )
        )
        return error or AccessDenied(
            ctx.principal.username,
            decision.action,
            decision.resource,
            decision.reason or decision.rule,
        )

    def require_all(
        self,
        ctx: RequestContext,
        decision: Decision,
        reason: str,
        error: Exception | None = None,
    ) -> None:
        """Refuse, recorded like any denial, unless ``decision`` reaches every user: for
        what spans the whole ledger whatever the reader's own scope (archives, alerts, the
        deep check of the record index)."""
        if decision.scope != "all":
            raise self.deny(ctx, decision, details={"reason": reason}, error=error)

    def require(
        self, conn: Connection, ctx: RequestContext, action: str, resource: str
    ) -> Decision:
        """Decide and raise (after recording) unless allowed."""
        decision = self.decide_in(conn, ctx, action, resource)
        if not decision.allowed:
            raise self.deny(ctx, decision)
        return decision

    def scope(self, decision: Decision, ctx: RequestContext) -> list[Any]:
        """The row scope of ``decision`` as a list of WHERE clauses."""
        return [self.access.scope_clause(decision, ctx.principal)]
