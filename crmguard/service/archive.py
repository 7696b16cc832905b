"""Archiving the ledger: old entries move to the archive store, sealed and signed, and
leave the live table only after the stored copy was read back and the step recorded.

An owner keeps years of evidence without a live table that grows for ever, and nothing
is lost on the way: the segment is verified before sealing, stored, read back and
compared, the archive step is itself a ledger event, and only then do the rows leave
(the database refuses to let any entry go that a signed archive row does not cover).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from audit import ArchiveError, ArchiveManifest, audit_ledger, format_ts
from backup import Store
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase


@dataclass(frozen=True)
class ArchiveReport:
    """What one archive step moved, and where."""

    segments: tuple[ArchiveManifest, ...]
    store: str

    @property
    def entries(self) -> int:
        return sum(m.entries for m in self.segments)

    def to_json(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "store": self.store,
            "segments": [m.to_json() for m in self.segments],
        }


def manifest_key(object_key: str) -> str:
    """Where a segment's manifest is stored beside it (readable without the database)."""
    return f"{object_key}.manifest.json"


class LedgerArchiveMixin(GuardedBase):
    """archive_ledger, ledger_archives."""

    def archive_ledger(
        self, ctx: RequestContext, store: Store, *, before: datetime
    ) -> ArchiveReport:
        """Move every live entry older than ``before`` to ``store`` (needs ``manage`` on
        ``audit``; the home's operator may too). Recorded before any row leaves."""
        if before > self.clock():
            raise ArchiveError("--before must be in the past: the live ledger's newest "
                               "entries are never archived")  # fmt: skip
        self._authorize_archive(ctx)
        with self.engine.connect() as conn:
            upto = conn.execute(
                select(func.max(audit_ledger.c.seq)).where(audit_ledger.c.ts < format_ts(before))
            ).scalar()
        done: list[ArchiveManifest] = []
        start = self.ledger.archives()[-1].seq_to + 1 if self.ledger.archives() else 1
        while upto is not None and start <= int(upto):
            segment = self.ledger.seal_archive(int(upto))
            m = segment.manifest
            store.put_bytes(m.object_key, segment.data)
            store.put_bytes(manifest_key(m.object_key), json.dumps(m.to_json()).encode())
            stored = store.get_bytes(m.object_key)
            if hashlib.sha256(stored).hexdigest() != m.sha256:
                raise ArchiveError(
                    f"the copy of {m.object_key} read back from {store.describe()} differs "
                    "from what was written; nothing was removed from the ledger"
                )
            self.record(
                self.event(
                    ctx,
                    "audit.archive",
                    "audit",
                    count=m.entries,
                    details={
                        "seq_from": m.seq_from,
                        "seq_to": m.seq_to,
                        "object_key": m.object_key,
                        "sha256": m.sha256,
                        "size": m.size,
                        "store": store.describe(),
                    },
                )
            )
            self.ledger.remove_archived(m)
            done.append(m)
            start = m.seq_to + 1
        return ArchiveReport(tuple(done), store.describe())

    def ledger_archives(self, ctx: RequestContext) -> list[ArchiveManifest]:
        """The archived segments (needs ``audit.read`` with scope ``all``; recorded)."""
        if not ctx.operator:
            with self.engine.connect() as conn:
                decision = self.require(conn, ctx, "audit.read", "audit")
            self.require_all(ctx, decision, "archives span every user")
        found = self.ledger.archives()
        self.record(
            self.event(ctx, "audit.read", "audit", count=len(found), details={"kind": "archives"})
        )
        return found

    def _authorize_archive(self, ctx: RequestContext) -> None:
        if ctx.operator:
            return
        with self.engine.connect() as conn:
            self.require(conn, ctx, "manage", "audit")
