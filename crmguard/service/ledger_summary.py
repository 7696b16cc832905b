"""Summaries of the ledger built on the guarded ledger reads: a user's activity per day,
and one's own events.

Both apply the ledger's read scope (own events for most roles) and are recorded exactly
like a plain ledger search.
"""

from __future__ import annotations

from datetime import datetime

from audit import ActivityDay
from crmguard.service.context import RequestContext
from crmguard.service.ledger_reads import LedgerPage, LedgerReadsMixin


class LedgerSummaryMixin(LedgerReadsMixin):
    """audit_activity, audit_own."""

    def audit_activity(
        self,
        ctx: RequestContext,
        actor: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ActivityDay]:
        """``actor``'s events per UTC day, action, resource and outcome ("what did the
        departing manager take?"), counted in the database within the reader's ledger
        scope (a reader with ``own`` scope sees only their own days); recorded."""
        decision = self._authorize(ctx, "audit.read")
        days = self.ledger.activity(actor, since, until, where=self._ledger_scope(decision, ctx))
        details = {
            "kind": "activity",
            "query": {
                k: str(v)
                for k, v in (("actor", actor), ("since", since), ("until", until))
                if v is not None
            },
            "scope": "all" if decision is None else decision.scope,
        }
        self.record(
            self.event(
                ctx, "audit.read", "audit", record_ids=[actor], count=len(days), details=details
            )
        )
        return days

    def audit_own(
        self, ctx: RequestContext, *, since: datetime | None = None, limit: int = 1000
    ) -> LedgerPage:
        """The caller's own events: every employee may see what the ledger holds on them."""
        return self.audit_entries(ctx, actor=ctx.principal.username, since=since, limit=limit)
