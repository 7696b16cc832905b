"""What every bulk read must pass besides the scope: masks, page size and read budget.

* Masks: rows are read with the decision's mask columns and searched through its
  search columns (``access.scopes``), and a filter or sort on a masked field is refused
  and recorded: a mask that can be filtered on is an oracle.
* Page size: one call hands out at most :data:`MAX_PAGE_SIZE` rows.
* Read budget: the rows returned by ``list`` and ``search``, and the related rows a
  ``view`` included, in the last 24 hours count against the decision's budget. The count
  comes from the ledger itself (the sum of ``count`` of the caller's allowed list and
  search events, and ``count - 1`` of their views, since 24 hours ago, read from the
  covering ``(actor, day, action, resource, outcome, count, ts)`` index), so it needs no state
  of its own and cannot be reset without editing the ledger. A request whose rows would cross
  the budget is refused whole, not trimmed (a trimmed page would silently break paging),
  before any row leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from access import READ_ACTIONS, READ_BUDGET_HOURS, Decision
from audit import audit_ledger, format_ts, parse_ts
from audit.schema import day_bounds
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase
from crmguard.service.errors import MaskedFieldQuery, PageTooLarge, ReadBudgetExceeded

#: The most rows one list or search call hands out.
MAX_PAGE_SIZE = 500

_WINDOW = timedelta(hours=READ_BUDGET_HOURS)
_READS = tuple(sorted(READ_ACTIONS | {"view"}))


def _charged() -> Any:
    """Rows an event charged to the budget: a view's own record is free, its includes not."""
    t = audit_ledger
    return case((t.c.action == "view", t.c["count"] - 1), else_=t.c["count"])


class ReadGuardMixin(GuardedBase):
    """Mask-aware SQL pieces, query-field checks, page bounds and the read budget."""

    def masks(self, decision: Decision, ctx: RequestContext) -> dict[str, Any]:
        """``replace=`` for the decision: masked columns, lifted per row where granted."""
        return self.access.mask_columns(decision, ctx.principal)

    def searchable(self, decision: Decision, ctx: RequestContext) -> dict[str, Any]:
        """``search_in=`` for the decision: masked values never decide a match."""
        return self.access.search_columns(decision, ctx.principal)

    def refuse_masked_query(
        self,
        ctx: RequestContext,
        decision: Decision,
        filters: Mapping[str, Any] | None,
        order_by: str | None = None,
    ) -> None:
        """Refuse (and record) a filter or sort on a field masked for the caller."""
        fields: list[str] = list(filters or {})
        if order_by:
            fields.append(order_by.lstrip("-"))
        masked = self.access.masked_among(decision, fields)
        if masked:
            raise self.deny(
                ctx,
                decision,
                details={"reason": "filter or sort on a masked field", "fields": list(masked)},
                error=MaskedFieldQuery(
                    ctx.principal.username, decision.action, decision.resource, masked
                ),
            )

    def bound_page(self, ctx: RequestContext, decision: Decision, size: int) -> None:
        """Refuse (and record) a page larger than :data:`MAX_PAGE_SIZE`."""
        if size > MAX_PAGE_SIZE:
            raise self.deny(
                ctx,
                decision,
                details={"reason": "page size above the limit", "requested": size},
                error=PageTooLarge(size, MAX_PAGE_SIZE),
            )

    def charge_budget(
        self, conn: Connection, ctx: RequestContext, decision: Decision, rows: int
    ) -> None:
        """Refuse (and record) a read whose ``rows`` would pass the rolling budget."""
        budget = decision.budget
        if budget is None or rows == 0:
            return
        now = self.clock()
        since = format_ts(now - _WINDOW)
        used = self._rows_read(conn, ctx.principal.username, since)
        if used + rows <= budget:
            return
        until = None
        if rows <= budget:
            until = self._frees_at(conn, ctx.principal.username, since, used + rows - budget)
        details = {
            "reason": "read budget exceeded",
            "budget": budget,
            "used": used,
            "requested": rows,
            "until": until,
        }
        raise self.deny(
            ctx,
            decision,
            details=details,
            error=ReadBudgetExceeded(
                ctx.principal.username,
                decision.action,
                decision.resource,
                budget=budget,
                used=used,
                requested=rows,
                until=until,
            ),
        )

    def _mine(self, actor: str, since: str) -> Any:
        t = audit_ledger
        return and_(
            t.c.actor == actor,
            t.c.ts >= since,
            # The window's days: what the (actor, day, ...) index ranges over.
            *day_bounds(t.c.ts, since, None),
            t.c.action.in_(_READS),
            t.c.outcome == "allowed",
        )

    def _rows_read(self, conn: Connection, actor: str, since: str) -> int:
        stmt = select(func.coalesce(func.sum(_charged()), 0)).where(self._mine(actor, since))
        return int(conn.execute(stmt).scalar_one())

    def _frees_at(self, conn: Connection, actor: str, since: str, needed: int) -> str | None:
        """When enough of the window's reads age out to free ``needed`` rows."""
        t = audit_ledger
        stmt = select(t.c.ts, _charged()).where(self._mine(actor, since)).order_by(t.c.ts)
        freed = 0
        for ts, count in conn.execute(stmt):
            freed += int(count)
            if freed >= needed:
                return format_ts(parse_ts(ts) + _WINDOW)
        return None
