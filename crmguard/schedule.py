"""Scheduled backups and restore drills, run by the daemon.

Cron expressions come from the settings. The state file in the home remembers each
job's last attempt, success and failure, so a run missed while the machine was off is
run at the next start, and ``backup status`` can show what happened. Every successful
run counts, manual ones (``backup run``, ``backup verify``) too. A job is overdue only
when a scheduled time passed since the home was created (or since its last success)
more than an hour ago without a success: a new home says "never run", not OVERDUE.
Overdue jobs become ``backup.overdue`` ledger events through the daemon.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from croniter import croniter

from crmguard.errors import SettingsError
from crmguard.settings import Settings

STATE_FILE = "backup-schedule.json"
GRACE = timedelta(hours=1)
log = structlog.get_logger("crmguard.schedule")

JobRunner = Callable[[Settings], str]
"""Runs a job and returns a short detail (e.g. the backup id); raises on failure."""


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job run."""

    job: str
    scheduled_for: datetime
    ok: bool
    detail: str


@dataclass(frozen=True)
class JobStatus:
    """What ``backup status`` shows for one job."""

    job: str
    schedule: str
    last_success: datetime | None
    last_failure: datetime | None
    last_error: str | None
    next_run: datetime
    overdue: bool
    never_run: bool = False
    scheduled_for: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for k in ("last_success", "last_failure", "next_run", "scheduled_for"):
            data[k] = data[k].isoformat() if data[k] else None
        return data


def _state_path(settings: Settings) -> Path:
    return settings.home / STATE_FILE


def load_state(settings: Settings) -> dict[str, dict[str, Any]]:
    path = _state_path(settings)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("schedule_state_unreadable", path=str(path))
        return {}
    return data if isinstance(data, dict) else {}


def _save_state(settings: Settings, state: Mapping[str, Any]) -> None:
    path = _state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


def mark_created(settings: Settings, now: datetime) -> None:
    """Remember when the home began, so a schedule is not overdue before its first slot."""
    state = load_state(settings)
    if "since" not in state:
        state["since"] = {"at": now.isoformat()}
        _save_state(settings, state)


def note_outcome(settings: Settings, job: str, now: datetime, ok: bool, detail: str) -> None:
    """Record a job's outcome, whoever ran it (the daemon or a person)."""
    state = load_state(settings)
    entry = state.setdefault(job, {})
    entry["last_attempt"] = now.isoformat()
    if ok:
        entry["last_success"] = now.isoformat()
        entry["last_detail"] = detail
    else:
        entry["last_failure"] = now.isoformat()
        entry["last_error"] = detail
    _save_state(settings, state)


def mark_overdue_reported(settings: Settings, job: str, slot: datetime) -> bool:
    """True the first time an overdue ``slot`` is reported (one ledger event per slot)."""
    state = load_state(settings)
    entry = state.setdefault(job, {})
    if entry.get("overdue_reported") == slot.isoformat():
        return False
    entry["overdue_reported"] = slot.isoformat()
    _save_state(settings, state)
    return True


def jobs(settings: Settings) -> dict[str, str]:
    """Job name -> cron expression."""
    out = {"backup": settings.backup.schedule, "drill": settings.backup.drill_schedule}
    for name, expr in out.items():
        if not croniter.is_valid(expr):
            raise SettingsError(f"backup {name} schedule {expr!r} is not a cron expression")
    return out


def _ts(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _prev(expr: str, now: datetime) -> datetime:
    return croniter(expr, now).get_prev(datetime).astimezone(UTC)


def _next(expr: str, now: datetime) -> datetime:
    return croniter(expr, now).get_next(datetime).astimezone(UTC)


def next_runs(settings: Settings, now: datetime) -> dict[str, datetime]:
    """When each job runs next."""
    return {name: _next(expr, now) for name, expr in jobs(settings).items()}


def due_jobs(settings: Settings, now: datetime) -> dict[str, datetime]:
    """Jobs whose latest scheduled time has not been attempted (missed runs included)."""
    state = load_state(settings)
    due = {}
    for name, expr in jobs(settings).items():
        last = _ts(state.get(name, {}).get("last_attempt"))
        slot = _prev(expr, now)
        if last is None or last < slot:
            due[name] = slot
    return due


DAEMON = "system:daemon"


def default_runners() -> dict[str, JobRunner]:
    """The daemon's jobs; each records itself in the ledger as ``system:daemon``."""
    from crmguard import backup_ops

    def run(settings: Settings) -> str:
        result = backup_ops.run(settings, backup_ops.Caller(DAEMON, "system"))
        if result.spooled:
            raise RuntimeError(f"backup {result.backup_id} spooled: the store is unreachable")
        return result.backup_id

    def drill(settings: Settings) -> str:
        report = backup_ops.drill(settings, backup_ops.Caller(DAEMON, "system"))
        if not report.ok:
            raise RuntimeError(report.problem or "verify failed")
        return report.backup_id

    return {"backup": run, "drill": drill}


def run_due_jobs(
    settings: Settings, now: datetime, runners: Mapping[str, JobRunner] | None = None
) -> list[JobResult]:
    """Run every due job once (a missed run runs now) and record the outcome."""
    runners = runners or default_runners()
    results = []
    for name, slot in due_jobs(settings, now).items():
        try:
            detail, ok = runners[name](settings), True
        except Exception as exc:  # a job failure is recorded, never fatal to the daemon
            detail, ok = str(exc) or exc.__class__.__name__, False
            log.warning("backup_job_failed", job=name, problem=detail)
        note_outcome(settings, name, now, ok, detail)
        results.append(JobResult(name, slot, ok, detail))
    return results


def status(settings: Settings, now: datetime) -> list[JobStatus]:
    """Last success, last failure and next run per job; overdue when a scheduled run is
    more than an hour late without success (and came after the home was created)."""
    state = load_state(settings)
    since = _ts(state.get("since", {}).get("at"))
    out = []
    for name, expr in jobs(settings).items():
        entry = state.get(name, {})
        success = _ts(entry.get("last_success"))
        failure = _ts(entry.get("last_failure"))
        slot = _prev(expr, now)
        late = now - slot > GRACE
        if success is not None:
            overdue = late and success < slot
        elif since is not None:
            overdue = late and since < slot
        else:  # no record of when the home began: only a failed attempt makes it late
            overdue = late and failure is not None
        if overdue:
            log.warning("backup_job_overdue", job=name, scheduled_for=slot.isoformat())
        out.append(
            JobStatus(
                name,
                expr,
                success,
                _ts(entry.get("last_failure")),
                entry.get("last_error"),
                _next(expr, now),
                overdue,
                never_run=success is None and failure is None,
                scheduled_for=slot,
            )
        )
    return out
