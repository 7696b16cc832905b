"""The daemon: scheduled backups and restore drills, the policy watcher, and alerts
(live detection over the ledger and delivery of the outbox, in their own threads).

It runs missed jobs at start (a machine that was off at 02:00 still gets its night's
backup), records every job's outcome in the ledger as a ``system:daemon`` event with
resource ``backup`` (``backup.run``, ``backup.drill``, and ``backup.overdue`` once per
missed slot), so failures are in the same tamper-evident history the alerts room reads,
and keeps a watch on the policy files so a malformed edit is reported the moment it is
saved. The policy in force at start, every reload and every rejected edit are ledger
events (``policy.reload``, resource ``policy``, with the files' hash and the version), so
a change of who may do what is on the record like any use of that power. At start it
sweeps plaintext scratch folders a killed backup left in the spool.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

import structlog

from access import AccessControl, PolicyReload, policy_hash, watch_policies
from audit import AuditError, AuditEvent, Ledger
from crmguard import schedule
from crmguard.app import open_engine
from crmguard.ledger_anchors import open_ledger
from crmguard.settings import Settings

log = structlog.get_logger()

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def record_overdue(settings: Settings, now: datetime) -> None:
    """One ``backup.overdue`` event per job and missed slot."""
    from crmguard import backup_ops

    caller = backup_ops.Caller(schedule.DAEMON, "system")
    for job in schedule.status(settings, now):
        slot = job.scheduled_for
        if not job.overdue or slot is None:
            continue
        if schedule.mark_overdue_reported(settings, job.job, slot):
            details = {
                "job": job.job,
                "scheduled_for": slot.isoformat(),
                "last_success": job.last_success.isoformat() if job.last_success else None,
                "last_error": job.last_error,
            }
            backup_ops.record(settings, caller, "backup.overdue", False, details)


def record_policy_reload(settings: Settings, reload: PolicyReload, *, start: bool = False) -> None:
    """Append the ``policy.reload`` event of one reload (or of the policy found at start)."""
    details = reload.details()
    if start:
        details["start"] = True
    engine = open_engine(settings)
    try:
        ledger = open_ledger(settings, engine)
        ledger.append(
            AuditEvent(
                actor="system:daemon",
                action="policy.reload",
                resource="policy",
                outcome="allowed" if reload.ok else "error",
                channel="system",
                details=details,
            )
        )
        ledger.close()  # anchor what the daemon wrote
    finally:
        engine.dispose()


def run_once(settings: Settings, now: datetime | None = None) -> list[schedule.JobResult]:
    """Run whatever is due (including runs missed while stopped); each job records its
    own ledger event, an overdue job one more."""
    from crmguard.backups import sweep_scratch

    now = now or _now()
    sweep_scratch(settings)  # cheap: folders still locked by a live run are left alone
    results = schedule.run_due_jobs(settings, now)
    record_overdue(settings, now)
    for r in results:
        log.info("daemon_job", job=r.job, ok=r.ok)
    return results


def upkeep(ledger: Ledger) -> None:
    """Bring the ledger's derived tables up to date between jobs (the record index to
    the head, the day totals to the last ended day), so that owners' questions find
    them current; cheap when there is nothing new. A failure is logged and tried again
    at the next turn: the questions catch up on their own anyway."""
    try:
        ledger.index_records()
        ledger.sum_days()
    except AuditError as exc:
        log.warning("ledger_upkeep_failed", problem=str(exc))


def serve(settings: Settings, stop: threading.Event | None = None, clock: Clock = _now) -> None:
    """Run until ``stop`` is set (or SIGTERM / SIGINT arrives)."""
    stop = stop or threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)

    from crmguard.backups import sweep_scratch

    sweep_scratch(settings)
    control = AccessControl.from_dir(settings.policy_dir)
    start_hash = policy_hash(settings.policy_dir)
    # Watch first, then record the policy in force: an edit saved the moment the start
    # is on the record is seen, never lost between the two.
    watcher = watch_policies(
        control,
        on_error=lambda exc: log.error("policy_rejected", problem=str(exc)),
        on_reload=lambda reload: record_policy_reload(settings, reload),
    )
    try:
        record_policy_reload(settings, PolicyReload(True, control.version, start_hash), start=True)
        alerts_engine = open_engine(settings)
        alerts_ledger = open_ledger(settings, alerts_engine)
        try:
            from crmguard.alerting import start_workers

            alert_workers = start_workers(settings, alerts_engine, alerts_ledger)
        except Exception:
            alerts_engine.dispose()
            raise
    except Exception:
        watcher.stop()
        raise
    try:
        while not stop.is_set():
            run_once(settings, clock())
            upkeep(alerts_ledger)
            upcoming = schedule.next_runs(settings, clock()).values()
            wait = min(((t - clock()).total_seconds() for t in upcoming), default=60.0)
            stop.wait(timeout=max(1.0, min(wait, 60.0)))
    finally:
        watcher.stop()
        alert_workers.stop()
        alerts_ledger.close()  # anchor what the alerts wrote
        alerts_engine.dispose()
