"""Alerts in the database and their lifecycle; every raise and status change is a ledger
event written in the same transaction as the change.

One active (open or acknowledged) alert per user and rule: a new finding for a pair that
already has one updates it (severity only rises, the time span widens) instead of
repeating it, so security staff see one line per problem, not one per event. Functions
take the caller's ``Connection``; the caller owns the transaction, which is how the live
loop commits the alert, its outbox rows, its response and its cursor together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from alerts.errors import AlertNotFound, AlertStateError
from alerts.model import ACTIVE_STATUSES, STATUSES, Alert, Finding, Status, severity_rank
from alerts.schema import alerts as t
from audit import AuditEvent, Channel, Ledger

#: The actor of events the alerts room writes on its own (raises, responses).
SYSTEM_ACTOR = "system:alerts"

#: Status -> the statuses it may be reached from, and the ledger action that records it.
_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledged": (frozenset({"open"}), "alert.ack"),
    "resolved": (frozenset({"open", "acknowledged"}), "alert.resolve"),
    "false_positive": (frozenset({"open", "acknowledged"}), "alert.false_positive"),
}
#: Lists in evidence are samples: an alert names some record ids, never a whole export.
MAX_EVIDENCE_IDS = 50


@dataclass(frozen=True)
class Stored:
    """What storing a finding did: the alert as it is now, and whether it is new."""

    alert: Alert
    new: bool
    escalated: bool


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC; SQLite hands back naive datetimes that were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware(value: datetime) -> datetime:
    out = _utc(value)
    assert out is not None
    return out


def _active_key(user: str, rule: str) -> str:
    return f"{user}/{rule}"


def _sample(value: Any) -> Any:
    """Evidence made safe to store: JSON values, long lists cut to a sample."""
    if isinstance(value, Mapping):
        return {str(k): _sample(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        return [_sample(v) for v in items[:MAX_EVIDENCE_IDS]]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def evidence_json(evidence: Mapping[str, Any]) -> str:
    return json.dumps(_sample(evidence), sort_keys=True, ensure_ascii=False)


def row_to_alert(row: Any) -> Alert:
    return Alert(
        id=int(row.id),
        user=row.username,
        rule=row.rule,
        severity=row.severity,
        score=float(row.score),
        summary=row.summary,
        evidence=json.loads(row.evidence),
        first_ts=_aware(row.first_ts),
        last_ts=_aware(row.last_ts),
        status=row.status,
        status_by=row.status_by,
        status_at=_utc(row.status_at),
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
    )


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """The JSON shape of an alert (``alerts list --json``, ``show --json``, channels)."""
    return {
        "id": alert.id,
        "user": alert.user,
        "rule": alert.rule,
        "severity": alert.severity,
        "score": round(alert.score, 3),
        "summary": alert.summary,
        "evidence": dict(alert.evidence),
        "first_ts": alert.first_ts.isoformat(),
        "last_ts": alert.last_ts.isoformat(),
        "status": alert.status,
        "status_by": alert.status_by,
        "status_at": alert.status_at.isoformat() if alert.status_at else None,
        "created_at": alert.created_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
    }


def get_alert(conn: Connection, alert_id: int, *, for_update: bool = False) -> Alert:
    stmt = select(t).where(t.c.id == alert_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise AlertNotFound(alert_id)
    return row_to_alert(row)


def active_alert(conn: Connection, user: str, rule: str) -> Alert | None:
    """The open or acknowledged alert for (user, rule), if any."""
    stmt = select(t).where(t.c.active_key == _active_key(user, rule)).with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else row_to_alert(row)


def list_alerts(
    conn: Connection,
    *,
    status: str | None = None,
    user: str | None = None,
    limit: int | None = 200,
) -> list[Alert]:
    """Alerts, newest first; ``status`` "active" means open or acknowledged."""
    stmt = select(t).order_by(t.c.id.desc())
    if status == "active":
        stmt = stmt.where(t.c.status.in_(sorted(ACTIVE_STATUSES)))
    elif status is not None:
        if status not in STATUSES:
            raise AlertStateError(
                f"unknown status {status!r}: use one of {', '.join(STATUSES)} or active"
            )
        stmt = stmt.where(t.c.status == status)
    if user is not None:
        stmt = stmt.where(t.c.username == user)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [row_to_alert(r) for r in conn.execute(stmt)]


def record_finding(conn: Connection, ledger: Ledger, finding: Finding, now: datetime) -> Stored:
    """Store ``finding``: a new alert, or the update of the active one for its pair.

    A new alert, or a rise in an active alert's severity, writes an ``alert.raise`` event
    in this transaction (``escalation`` true in its details for a rise); a finding that
    repeats an active alert at the same severity only refreshes it.
    """
    current = active_alert(conn, finding.user, finding.rule)
    evidence = evidence_json(finding.evidence)
    if current is None:
        values = {
            "username": finding.user,
            "rule": finding.rule,
            "severity": finding.severity,
            "score": float(finding.score),
            "summary": finding.summary,
            "evidence": evidence,
            "first_ts": finding.first_ts,
            "last_ts": finding.last_ts,
            "status": "open",
            "status_by": None,
            "status_at": None,
            "active_key": _active_key(finding.user, finding.rule),
            "created_at": now,
            "updated_at": now,
        }
        new_id = int(conn.execute(t.insert().values(**values).returning(t.c.id)).scalar_one())
        alert = get_alert(conn, new_id)
        _raise_event(conn, ledger, alert, escalation=False)
        return Stored(alert, new=True, escalated=False)
    escalated = severity_rank(finding.severity) > severity_rank(current.severity)
    severity = finding.severity if escalated else current.severity
    conn.execute(
        t.update()
        .where(t.c.id == current.id)
        .values(
            severity=severity,
            score=max(float(finding.score), current.score),
            summary=finding.summary,
            evidence=evidence,
            first_ts=min(current.first_ts, _aware(finding.first_ts)),
            last_ts=max(current.last_ts, _aware(finding.last_ts)),
            updated_at=now,
        )
    )
    alert = get_alert(conn, current.id)
    if escalated:  # a repeat of the same severity updates quietly: no page, no event
        _raise_event(conn, ledger, alert, escalation=True)
    return Stored(alert, new=False, escalated=escalated)


def _raise_event(conn: Connection, ledger: Ledger, alert: Alert, *, escalation: bool) -> None:
    ledger.append_in(
        conn,
        AuditEvent(
            actor=SYSTEM_ACTOR,
            action="alert.raise",
            resource="alert",
            record_ids=(alert.id,),
            count=1,
            channel="system",
            details={
                "user": alert.user,
                "rule": alert.rule,
                "severity": alert.severity,
                "score": round(alert.score, 3),
                "escalation": escalation,
                "seq_range": alert.evidence.get("seq_range"),
            },
        ),
    )


def change_status(
    conn: Connection,
    ledger: Ledger,
    alert_id: int,
    status: Status,
    *,
    by: str,
    now: datetime,
    channel: Channel = "cli",
    ip: str | None = None,
    request_id: str | None = None,
    note: str | None = None,
    os_user: str | None = None,
) -> Alert:
    """Move an alert to ``status`` (ack, resolve, false positive) and record who did it
    (and ``os_user``, the operator behind a name claimed on the command line)."""
    if status not in _TRANSITIONS:
        raise AlertStateError(f"an alert can be moved to {', '.join(_TRANSITIONS)}, not {status!r}")
    allowed_from, action = _TRANSITIONS[status]
    current = get_alert(conn, alert_id, for_update=True)
    if current.status not in allowed_from:
        by_whom = f" by {current.status_by}" if current.status_by else ""
        raise AlertStateError(
            f"alert #{alert_id} is {current.status}{by_whom}; it cannot become {status}"
        )
    conn.execute(
        t.update()
        .where(t.c.id == alert_id)
        .values(
            status=status,
            status_by=by,
            status_at=now,
            updated_at=now,
            active_key=_active_key(current.user, current.rule)
            if status in ACTIVE_STATUSES
            else None,
        )
    )
    details: dict[str, Any] = {
        "user": current.user,
        "rule": current.rule,
        "from": current.status,
        "to": status,
    }
    if note:
        details["note"] = note
    if os_user:
        details["os_user"] = os_user
    ledger.append_in(
        conn,
        AuditEvent(
            actor=by,
            action=action,
            resource="alert",
            record_ids=(alert_id,),
            count=1,
            channel=channel,
            ip=ip,
            request_id=request_id,
            details=details,
        ),
    )
    return get_alert(conn, alert_id)
