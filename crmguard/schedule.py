"""Scheduled backups and restore drills, run by the daemon.

Cron expressions come from the settings. The state file in the home remembers each
job's last attempt, success and failure, so a run missed while the machine was off is
run at the next start, and ``backup status`` can show what happened. Alerts do not exist
yet: failures and overdue backups are recorded here and logged as warnings, where the
alerts room can pick them up.
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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for k in ("last_success", "last_failure", "next_run"):
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
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


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


def default_runners() -> dict[str, JobRunner]:
    from crmguard import backups

    def run(settings: Settings) -> str:
        result = backups.run_backup(settings)
        if result.spooled:
            raise RuntimeError(f"backup {result.backup_id} spooled: the store is unreachable")
        return result.backup_id

    def drill(settings: Settings) -> str:
        from backup import list_backups

        entries = list_backups(backups.build_store(settings))
        if not entries:
            raise RuntimeError("no backup to verify")
        report = backups.verify(settings, entries[-1].backup_id)
        if not report.ok:
            raise RuntimeError(report.problem or "verify failed")
        return entries[-1].backup_id

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
        state = load_state(settings)
        entry = state.setdefault(name, {})
        entry["last_attempt"] = now.isoformat()
        if ok:
            entry["last_success"] = now.isoformat()
            entry["last_detail"] = detail
        else:
            entry["last_failure"] = now.isoformat()
            entry["last_error"] = detail
        _save_state(settings, state)
        results.append(JobResult(name, slot, ok, detail))
    return results


def status(settings: Settings, now: datetime) -> list[JobStatus]:
    """Last success, last failure and next run per job; overdue when a scheduled run is
    more than an hour late without success."""
    state = load_state(settings)
    out = []
    for name, expr in jobs(settings).items():
        entry = state.get(name, {})
        success = _ts(entry.get("last_success"))
        slot = _prev(expr, now)
        overdue = now - slot > GRACE and (success is None or success < slot)
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
            )
        )
    return out
