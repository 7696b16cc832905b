"""Guarded reads of the ledger itself: reading or exporting the ledger is an event too.

Owners and auditors ask "who looked at client X?" and "what did the departing manager
take?"; both answers come from here, and the asking is recorded like any other read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import IO, Any

from audit import LedgerEntry, LedgerWriteError, Outcome, VerifyResult, Vouch
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase


class LedgerReadsMixin(GuardedBase):
    """audit_entries, audit_export, audit_verify."""

    def audit_entries(
        self,
        ctx: RequestContext,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        resource: str | None = None,
        record_id: int | str | None = None,
        outcome: Outcome | None = None,
        limit: int | None = 1000,
        newest_first: bool = True,
    ) -> list[LedgerEntry]:
        """Ledger entries matching the filters (needs ``audit.read``)."""
        self._authorize(ctx)
        filters: dict[str, Any] = {
            "since": since,
            "until": until,
            "actor": actor,
            "action": action,
            "resource": resource,
            "record_id": record_id,
            "outcome": outcome,
        }
        entries = list(
            self.ledger.entries(
                since,
                until,
                actor=actor,
                action=action,
                resource=resource,
                record_id=record_id,
                outcome=outcome,
                limit=limit,
                newest_first=newest_first,
            )
        )
        details = {
            "query": {k: str(v) for k, v in filters.items() if v is not None},
            "returned": len(entries),
        }
        self.record(self.event(ctx, "audit.read", "audit", count=len(entries), details=details))
        return entries

    def audit_export(
        self,
        ctx: RequestContext,
        out: IO[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Export the ledger as JSON Lines (needs ``audit.read``); returns the line count.

        The export event is appended first, so the exported file includes its own export.
        """
        self._authorize(ctx)
        details = {
            "kind": "export",
            "since": str(since) if since else None,
            "until": str(until) if until else None,
        }
        self.record(self.event(ctx, "audit.read", "audit", details=details))
        return self.ledger.export_jsonl(out, since, until)

    def audit_verify(
        self,
        ctx: RequestContext,
        *,
        vouches: Sequence[Vouch] = (),
        progress: Callable[[int], None] | None = None,
    ) -> VerifyResult:
        """Walk the chain against what ``vouches`` remember (anchors, backups); needs
        ``audit.read``. The verification is recorded afterwards."""
        self._authorize(ctx)
        result = self.ledger.verify(progress, vouches)
        event = self.event(
            ctx,
            "audit.read",
            "audit",
            count=result.checked,
            details={"kind": "verify", **result.to_json()},
        )
        try:
            self.record(event)
        except LedgerWriteError as exc:
            if result.ok:
                raise  # fail closed: an unrecorded read returns nothing
            # A ledger found tampered with (its table dropped, say) may refuse the record
            # of that finding too; the finding itself must still reach the person asking.
            return replace(result, notes=(*result.notes, f"this check was not recorded: {exc}"))
        return result

    def _authorize(self, ctx: RequestContext) -> None:
        if ctx.operator:
            return
        with self.engine.connect() as conn:
            self.require(conn, ctx, "audit.read", "audit")

    def iter_audit(self, **filters: Any) -> Iterator[LedgerEntry]:
        """Unguarded iteration for the shell's own system jobs (not exposed to users)."""
        return self.ledger.entries(**filters)
