"""The daemon: scheduled backups and restore drills, and the policy watcher.

It runs missed jobs at start (a machine that was off at 02:00 still gets its night's
backup), records every job's outcome in the ledger as a ``system`` event (so failures
are in the same tamper-evident history the alerts room will read), and keeps a watch
on the policy files so a malformed edit is reported the moment it is saved.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

import structlog

from access import AccessControl, watch_policies
from audit import AuditEvent
from crmguard import schedule
from crmguard.app import open_engine
from crmguard.ledger_anchors import open_ledger
from crmguard.settings import Settings

log = structlog.get_logger()

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def record_results(settings: Settings, results: list[schedule.JobResult]) -> None:
    """Append one ledger event per job outcome."""
    if not results:
        return
    engine = open_engine(settings)
    try:
        ledger = open_ledger(settings, engine)
        for r in results:
            ledger.append(
                AuditEvent(
                    actor="system:daemon",
                    action=f"backup.{r.job}",
                    resource="database",
                    outcome="allowed" if r.ok else "error",
                    channel="system",
                    details={"scheduled_for": r.scheduled_for.isoformat(), "detail": r.detail},
                )
            )
        ledger.close()  # anchor what the daemon wrote
    finally:
        engine.dispose()


def run_once(settings: Settings, now: datetime | None = None) -> list[schedule.JobResult]:
    """Run whatever is due (including runs missed while stopped) and record the outcomes."""
    results = schedule.run_due_jobs(settings, now or _now())
    record_results(settings, results)
    for r in results:
        log.info("daemon_job", job=r.job, ok=r.ok)
    return results


def serve(settings: Settings, stop: threading.Event | None = None, clock: Clock = _now) -> None:
    """Run until ``stop`` is set (or SIGTERM / SIGINT arrives)."""
    stop = stop or threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)

    control = AccessControl.from_dir(settings.policy_dir)
    watcher = watch_policies(
        control, on_error=lambda exc: log.error("policy_rejected", problem=str(exc))
    )
    try:
        while not stop.is_set():
            run_once(settings, clock())
            upcoming = schedule.next_runs(settings, clock()).values()
            wait = min(((t - clock()).total_seconds() for t in upcoming), default=60.0)
            stop.wait(timeout=max(1.0, min(wait, 60.0)))
    finally:
        watcher.stop()
