"""The values that cross the alerts room's border.

``Event`` is what detectors read: a ledger entry (live, from :mod:`audit`) or a line of
``crmguard audit export`` (replay), reduced to the fields detection needs, so that the
live daemon and the offline replay run the very same detectors on the very same values.

``Finding`` is what detection produces: a new alert, or an open alert whose severity
rose. ``Alert`` is a finding once it is stored, with its lifecycle. Alerts carry counts
and record ids, never record contents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")

Status = Literal["open", "acknowledged", "resolved", "false_positive"]
STATUSES: tuple[Status, ...] = ("open", "acknowledged", "resolved", "false_positive")
#: An alert in one of these states is still "the open alert" for its (user, rule).
ACTIVE_STATUSES: frozenset[str] = frozenset({"open", "acknowledged"})

#: What a rule may do to the user at once, through the shell's restriction callback.
Response = Literal["freeze_exports", "suspend"]
RESPONSES: tuple[Response, ...] = ("freeze_exports", "suspend")


def severity_rank(severity: str) -> int:
    """0 for low ... 3 for critical; comparisons of severities go through this."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type,unused-ignore]


@dataclass(frozen=True)
class Event:
    """One ledger event as the detectors see it (event time is the only clock)."""

    ts: datetime
    actor: str
    action: str
    resource: str
    count: int
    outcome: str
    record_ids: tuple[int | str, ...] = ()
    ip: str | None = None
    channel: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    seq: int | None = None


@dataclass(frozen=True)
class Finding:
    """A detector's verdict: raise an alert for (user, rule), or raise its severity."""

    ts: datetime
    user: str
    rule: str
    severity: Severity
    score: float
    summary: str
    evidence: Mapping[str, Any]
    first_ts: datetime
    last_ts: datetime
    response: Response | None = None
    escalation: bool = False

    def to_contract(self) -> dict[str, Any]:
        """The line ``crmguard alerts replay`` prints (the replay contract)."""
        return {
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "user": self.user,
            "rule": self.rule,
            "severity": self.severity,
            "score": round(self.score, 3),
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Alert:
    """A stored alert with its lifecycle; one active alert per (user, rule)."""

    id: int
    user: str
    rule: str
    severity: Severity
    score: float
    summary: str
    evidence: Mapping[str, Any]
    first_ts: datetime
    last_ts: datetime
    status: Status
    status_by: str | None
    status_at: datetime | None
    created_at: datetime
    updated_at: datetime
