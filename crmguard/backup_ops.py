"""Backup operations as the shell runs them, each one a ledger event.

A backup is a copy of the whole client base, a restore can roll the database (and its
ledger) back: both must leave a trace in the tamper-evident history, whoever runs them
(a person at the CLI or the daemon). Every run, verify, drill, prune and restore appends
one event: action ``backup.run|verify|drill|prune|restore``, resource ``backup``, record
id the backup, outcome ``allowed`` or ``error``, with sizes and the ledger head the
backup holds in the details.

A restore also writes into the *restored* ledger: its first new event names the backup
and the head that was replaced, so rolling the database back by a restore is visible in
the very ledger that was rolled back. A restore into anywhere other than the home's own
database (a copy of the client base leaving the home) needs the home's ledger to record
it before it starts: if it cannot, nothing is restored (fail closed).

A database without a ledger (a bare CRM database backed up by the backup room alone)
has nowhere to record: the event is skipped with a warning.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from backup import (
    BackupError,
    BackupResult,
    LedgerHead,
    Progress,
    RestoreResult,
    VerifyReport,
    apply,
    list_backups,
    plan,
    store_lock,
)
from backup.retention import Decision
from crmguard import backups, schedule
from crmguard.db import make_engine
from crmguard.settings import Settings

if TYPE_CHECKING:
    from audit import Channel

log = structlog.get_logger("crmguard.backup_ops")
RESOURCE = "backup"
LEDGER_TABLE = "audit_ledger"


@dataclass(frozen=True)
class Caller:
    """Who runs a backup operation: ``operator:<os user>`` at the CLI, the daemon, or a
    signed-in user through the HTTP API (with the request's address and id, so the
    ledger event of an API backup reads like every other API event)."""

    actor: str
    channel: Channel = "cli"
    ip: str | None = None
    request_id: str | None = None


def cli_caller() -> Caller:
    """The home's operator, named like the ledger's other operator events."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Caller(f"operator:{who}", "cli")


def _head(head: LedgerHead | tuple[int, str] | None) -> dict[str, Any] | None:
    if head is None:
        return None
    if isinstance(head, LedgerHead):
        return {"seq": head.seq, "hash": head.hash}
    return {"seq": head[0], "hash": head[1]}


def _has_ledger(engine: Engine) -> bool:
    with engine.connect() as conn:
        return LEDGER_TABLE in inspect(conn).get_table_names()


def _open_ledger(settings: Settings, url: str) -> tuple[Engine, Any] | None:
    """The ledger in the database at ``url``, or None when that database has none."""
    from audit import Ledger, load_key_file

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    engine = make_engine(url)
    try:
        if not _has_ledger(engine):
            engine.dispose()
            return None
        return engine, Ledger(engine, load_key_file(settings.mac_key_file))
    except BaseException:
        engine.dispose()
        raise


def record(
    settings: Settings,
    caller: Caller,
    action: str,
    ok: bool,
    details: Mapping[str, Any],
    backup_id: str | None = None,
    *,
    url: str | None = None,
    count: int = 0,
) -> int | None:
    """Append one backup event to the ledger at ``url`` (default: the home's database).

    Returns the entry's seq, or None when that database holds no ledger.
    """
    from audit import AuditEvent

    opened = _open_ledger(settings, url or settings.database_url)
    if opened is None:
        log.info("backup_event_not_recorded", action=action, reason="no ledger")
        return None
    engine, ledger = opened
    try:
        entry = ledger.append(
            AuditEvent(
                actor=caller.actor,
                action=action,
                resource=RESOURCE,
                record_ids=(backup_id,) if backup_id else (),
                count=count,
                outcome="allowed" if ok else "error",
                channel=caller.channel,
                ip=caller.ip,
                request_id=caller.request_id,
                details=dict(details),
            )
        )
    finally:
        engine.dispose()
    return int(entry.seq)


@contextmanager
def _recorded_failure(
    settings: Settings, caller: Caller, action: str, backup_id: str | None, job: str | None
) -> Iterator[None]:
    """Record an ``error`` event (and the job's failure) when the block raises."""
    try:
        yield
    except Exception as exc:
        problem = str(exc) or exc.__class__.__name__
        try:
            if job:
                schedule.note_outcome(settings, job, datetime.now(UTC), False, problem)
            record(settings, caller, action, False, {"problem": problem}, backup_id)
        except Exception as rec_exc:  # the operation's own error is the one to report
            log.error("backup_event_lost", action=action, problem=str(rec_exc))
        raise


def _manifest_details(result: BackupResult) -> dict[str, Any]:
    m = result.manifest
    return {
        "backup_id": m.backup_id,
        "bytes": m.plaintext_bytes,
        "stored_bytes": m.stored_bytes,
        "rows": sum(m.tables.values()),
        "ledger_head": _head(m.ledger),
        "spooled": result.spooled,
        "key_id": m.key_id,
    }


def run(settings: Settings, caller: Caller, progress: Progress | None = None) -> BackupResult:
    """Make a backup now; ``backup.run``."""
    with _recorded_failure(settings, caller, "backup.run", None, "backup"):
        result = backups.run_backup(settings, progress)
    details = _manifest_details(result)
    record(settings, caller, "backup.run", True, details, result.backup_id, count=details["rows"])
    if not result.spooled:
        schedule.note_outcome(settings, "backup", datetime.now(UTC), True, result.backup_id)
    return result


def verify(
    settings: Settings,
    caller: Caller,
    backup_id: str,
    progress: Progress | None = None,
    action: str = "backup.verify",
) -> VerifyReport:
    """Verify one backup (``backup.verify``, or ``backup.drill`` for the restore drill).

    A successful verify proves a restore works: it counts as the drill job's success.
    """
    with _recorded_failure(settings, caller, action, backup_id, "drill"):
        report = backups.verify(settings, backup_id, progress)
    details = {
        "backup_id": backup_id,
        "ok": report.ok,
        "problem": report.problem,
        "rows": sum(report.tables.values()),
        "restored": report.restored,
        "ledger_checked": report.ledger.checked if report.ledger else None,
    }
    record(settings, caller, action, report.ok, details, backup_id)
    schedule.note_outcome(
        settings,
        "drill",
        datetime.now(UTC),
        report.ok,
        backup_id if report.ok else str(report.problem),
    )
    return report


def drill(settings: Settings, caller: Caller) -> VerifyReport:
    """The restore drill: verify the newest backup; ``backup.drill``."""
    with _recorded_failure(settings, caller, "backup.drill", None, None):
        entries = list_backups(backups.build_store(settings))
        if not entries:
            raise BackupError("no backup to verify (run: crmguard backup run)")
    return verify(settings, caller, entries[-1].backup_id, action="backup.drill")


def prune(settings: Settings, caller: Caller, dry_run: bool) -> tuple[list[Decision], list[str]]:
    """Apply the retention policy; a real prune (not a dry run) is ``backup.prune``."""
    store = backups.build_store(settings)
    decisions = plan(list_backups(store), backups.retention_policy(settings), store_lock(store))
    if dry_run:
        return decisions, []
    with _recorded_failure(settings, caller, "backup.prune", None, None):
        deleted = apply(store, decisions)
    details = {"deleted": deleted, "kept": sum(1 for d in decisions if d.keep)}
    record(settings, caller, "backup.prune", True, details, count=len(deleted))
    return decisions, deleted


def _target_url(target: str) -> str:
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).absolute()}"


def _same_database(a: str, b: str) -> bool:
    try:
        ua, ub = make_url(a), make_url(b)
    except ArgumentError:
        return False
    if ua.get_backend_name() == "sqlite" and ub.get_backend_name() == "sqlite":
        pa, pb = Path(ua.database or ""), Path(ub.database or "")
        return pa.absolute().resolve() == pb.absolute().resolve()
    return (ua.host, ua.port, ua.database) == (ub.host, ub.port, ub.database)


def _ledger_head_at(settings: Settings, url: str, strict: bool) -> dict[str, Any] | None:
    """The head of the ledger at ``url``; an unreadable target holds none, unless
    ``strict`` (the home's own ledger, which must be able to record)."""
    try:
        opened = _open_ledger(settings, url)
    except Exception:
        if strict:
            raise
        return None
    if opened is None:
        return None
    engine, ledger = opened
    try:
        return _head(ledger.head())
    finally:
        engine.dispose()


def restore(
    settings: Settings,
    caller: Caller,
    backup_id: str,
    target: str,
    force: bool,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore a backup; ``backup.restore`` in the restored ledger (and in the home's
    ledger when the target is another database)."""
    url = _target_url(target)
    into_home = _same_database(url, settings.database_url)
    replaced = _ledger_head_at(settings, url, strict=False)
    home_head = None if into_home else _ledger_head_at(settings, settings.database_url, True)
    base = {"backup_id": backup_id, "target": backups.describe_target(url), "force": force}
    if not into_home and home_head is not None:
        # A full copy of the client base leaves the home: recorded before it starts.
        record(settings, caller, "backup.restore", True, {**base, "stage": "start"}, backup_id)
    with _recorded_failure(settings, caller, "backup.restore", backup_id, None):
        result = backups.restore(settings, backup_id, target, force, progress)
    manifest_head = backups.manifest_ledger_head(settings, backup_id)
    details = {
        **base,
        "bytes": result.bytes,
        "rows": sum(result.tables.values()),
        "restored_head": _head(manifest_head),
        "replaced_head": replaced,
    }
    record(settings, caller, "backup.restore", True, details, backup_id, url=url)
    if not into_home:
        record(settings, caller, "backup.restore", True, {**details, "stage": "done"}, backup_id)
    return result
