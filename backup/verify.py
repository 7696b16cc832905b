"""Proving a backup restorable: download, decrypt, check every hash, open the restored
database, run its integrity check and the ledger's own verification.

A bad backup is a result (``ok=False``, exit 1) and not an exception, so ``verify
--all`` reports every backup; "could not run" (store away, wrong key) stays an error
(exit 2). Success is recorded beside the backup, and retention protects the newest
verified one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from backup.catalog import load_record, mark_verified
from backup.errors import BackupCorrupt
from backup.interface import KeyProvider, LedgerCheck, LedgerVerifyFn, Progress, Store, no_progress
from backup.reader import read_backup
from backup.scratch import private_dir, scratch_dir, sweep
from backup.snapshot import PG_CUSTOM
from backup.targets import PgTarget, check_sqlite, write_sqlite

log = structlog.get_logger("backup.verify")


@dataclass(frozen=True)
class VerifyReport:
    """The outcome for one backup; ``problem`` names what is wrong when not ``ok``."""

    backup_id: str
    ok: bool
    problem: str | None = None
    tables: dict[str, int] = field(default_factory=dict)
    ledger: LedgerCheck | None = None
    restored: bool = True
    seconds: float = 0.0


def verify_backup(
    store: Store,
    provider: KeyProvider,
    backup_id: str,
    workdir: Path,
    *,
    ledger_verify: LedgerVerifyFn | None = None,
    pg_server_url: str | None = None,
    progress: Progress = no_progress,
) -> VerifyReport:
    started = time.perf_counter()
    manifest = load_record(store, backup_id).manifest
    private_dir(workdir)
    sweep(workdir)
    restored = True
    ledger = None
    try:
        if manifest.payload != PG_CUSTOM:
            with scratch_dir(workdir, ".verify-") as tmp:
                path = Path(tmp) / "restored.db"
                write_sqlite(store, provider, backup_id, path, progress)
                tables = check_sqlite(path, manifest, full=True)
                ledger = ledger_verify(f"sqlite:///{path}") if ledger_verify else None
        elif pg_server_url:
            target = PgTarget(pg_server_url)
            scratch = target.create_scratch("verify")
            try:
                tables = target.fill(
                    scratch, store, provider, backup_id, manifest, workdir, progress
                )
                scratch_url = target.url_of(scratch).render_as_string(hide_password=False)
                ledger = ledger_verify(scratch_url) if ledger_verify else None
            finally:
                target.drop(scratch)
                target.dispose()
        else:
            read_backup(store, provider, backup_id, lambda _b: None, progress)
            tables, restored = {}, False
        if ledger is not None and not ledger.ok:
            raise BackupCorrupt(f"backup {backup_id}: ledger verification failed: {ledger.problem}")
    except BackupCorrupt as exc:
        log.warning("backup_verify_failed", backup_id=backup_id, problem=str(exc))
        return VerifyReport(
            backup_id,
            False,
            str(exc),
            ledger=ledger,
            seconds=round(time.perf_counter() - started, 3),
        )
    mark_verified(store, backup_id)
    return VerifyReport(
        backup_id, True, None, tables, ledger, restored, round(time.perf_counter() - started, 3)
    )
