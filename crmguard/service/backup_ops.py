"""Backups as guarded operations for the HTTP API: status, list, run, verify.

The policy has no ``backup`` resource yet, so these need ``manage`` on ``user`` (the
owner and admins, who run the company's operations); a policy line of its own belongs
to the access room and can replace :data:`PERMISSION` later. Each call is recorded:
``backup.run`` and ``backup.verify`` with outcome ``allowed`` or ``error`` (the names
the daemon uses), ``backup.status`` and ``backup.list`` for the reads. Run and verify
are :mod:`crmguard.backup_ops`' operations, the ones the CLI and the daemon call, so a
backup made through the API is recorded, scheduled and reported exactly like theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase
from crmguard.settings import Settings

if TYPE_CHECKING:
    from crmguard.backup_ops import Caller

#: (action, resource) a caller needs for backup operations.
PERMISSION = ("manage", "user")


class BackupOps:
    """Backup operations over one guarded CRM and the home's settings."""

    def __init__(self, crm: GuardedBase, settings: Settings) -> None:
        self.crm = crm
        self.settings = settings

    def _allow(self, ctx: RequestContext) -> None:
        if ctx.operator:
            return
        with self.crm.engine.connect() as conn:
            self.crm.require(conn, ctx, *PERMISSION)

    def _record(
        self,
        ctx: RequestContext,
        action: str,
        outcome: str = "allowed",
        record_ids: tuple[str, ...] = (),
        **details: Any,
    ) -> None:
        self.crm.record(
            self.crm.event(
                ctx, action, "backup", record_ids=record_ids, outcome=outcome, details=details
            )
        )

    def status(self, ctx: RequestContext) -> dict[str, Any]:
        """Last success, last failure and next run of each job, and the spooled backups."""
        from backup import spooled
        from crmguard import backups, schedule

        self._allow(ctx)
        jobs = [j.to_json() for j in schedule.status(self.settings, datetime.now(UTC))]
        pending = [e.backup_id for e in spooled(backups.spool_dir(self.settings))]
        self._record(ctx, "backup.status")
        return {"jobs": jobs, "spooled": pending}

    def list(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Complete backups and those waiting in the spool."""
        from backup import list_backups, spooled
        from crmguard import backups

        self._allow(ctx)
        entries = list_backups(backups.build_store(self.settings)) + spooled(
            backups.spool_dir(self.settings)
        )
        self._record(ctx, "backup.list", count=len(entries))
        return [
            {
                "id": e.backup_id,
                "created_at": e.manifest.created_at.isoformat(),
                "bytes": e.manifest.plaintext_bytes,
                "stored_bytes": e.manifest.stored_bytes,
                "key_id": e.key_id,
                "verified_at": e.verified_at.isoformat() if e.verified_at else None,
                "spooled": e.spooled,
            }
            for e in entries
        ]

    def run(self, ctx: RequestContext) -> dict[str, Any]:
        """Make a backup now: the same operation as ``crmguard backup run`` (its ledger
        event with the manifest and the ledger head, the job's outcome for ``status``)."""
        from crmguard import backup_ops

        self._allow(ctx)
        result = backup_ops.run(self.settings, _caller(ctx))
        m = result.manifest
        return {
            "id": m.backup_id,
            "bytes": m.plaintext_bytes,
            "stored_bytes": m.stored_bytes,
            "seconds": m.seconds,
            "spooled": result.spooled,
        }

    def verify(self, ctx: RequestContext, backup_id: str) -> dict[str, Any]:
        """Restore into a scratch place and check everything, including the ledger: the
        same operation as ``crmguard backup verify`` (it counts as the drill's success)."""
        from crmguard import backup_ops

        self._allow(ctx)
        report = backup_ops.verify(self.settings, _caller(ctx), backup_id)
        return {
            "id": report.backup_id,
            "ok": report.ok,
            "problem": report.problem,
            "tables": dict(report.tables),
            "ledger_ok": report.ledger.ok if report.ledger else None,
            "seconds": report.seconds,
        }


def _caller(ctx: RequestContext) -> Caller:
    """The backup room's caller for this request: the user, their channel, address and id."""
    from crmguard import backup_ops

    return backup_ops.Caller(
        ctx.principal.username, ctx.channel, ip=ctx.ip, request_id=ctx.request_id
    )
