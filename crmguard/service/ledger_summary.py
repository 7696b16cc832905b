"""Summaries of the ledger built on the guarded ledger reads: a user's activity per day,
and one's own events.

Everything here goes through :meth:`audit_entries`, so the ledger's read scope (own
events for most roles) and its recording apply exactly as to a plain ledger search.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit import LedgerEntry
from crmguard.service.context import RequestContext
from crmguard.service.ledger_reads import LedgerReadsMixin


@dataclass(frozen=True)
class DayActivity:
    """How many events and records one actor had on one day, per action and outcome."""

    day: str
    action: str
    resource: str
    outcome: str
    events: int
    records: int

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "action": self.action,
            "resource": self.resource,
            "outcome": self.outcome,
            "events": self.events,
            "records": self.records,
        }


class LedgerSummaryMixin(LedgerReadsMixin):
    """audit_activity, audit_own."""

    def audit_activity(
        self,
        ctx: RequestContext,
        actor: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10000,
    ) -> list[DayActivity]:
        """``actor``'s events per UTC day, action, resource and outcome ("what did the
        departing manager take?")."""
        entries = self.audit_entries(
            ctx, actor=actor, since=since, until=until, limit=limit, newest_first=False
        )
        events: Counter[tuple[str, str, str, str]] = Counter()
        records: Counter[tuple[str, str, str, str]] = Counter()
        for e in entries:
            key = (e.ts.date().isoformat(), e.action, e.resource, e.outcome)
            events[key] += 1
            records[key] += e.count
        return [DayActivity(*key, events[key], records[key]) for key in sorted(events)]

    def audit_own(
        self, ctx: RequestContext, *, since: datetime | None = None, limit: int = 1000
    ) -> list[LedgerEntry]:
        """The caller's own events: every employee may see what the ledger holds on them."""
        return self.audit_entries(ctx, actor=ctx.principal.username, since=since, limit=limit)
