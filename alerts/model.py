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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

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


class Event:
    """One ledger event as the detectors see it (event time is the only clock).

    A value, as a frozen dataclass would be: its fields are ``Final`` (mypy refuses an
    assignment after ``__init__``, and the compiled build gives them no setter), it
    compares equal by its fields, and its repr names them. Not a dataclass because a
    compiled dataclass is made by the ``__init__`` the dataclasses module generates,
    which the interpreter runs (a frozen one through ``object.__setattr__`` per field:
    over a microsecond an Event, and a replay makes one for every read a detector is
    shown); this ``__init__`` is compiled."""

    __slots__ = (
        "action", "actor", "channel", "count", "details", "ip", "outcome", "record_ids",
        "resource", "seq", "ts",
    )  # fmt: skip

    def __init__(
        self,
        ts: datetime,
        actor: str,
        action: str,
        resource: str,
        count: int,
        outcome: str,
        record_ids: tuple[int | str, ...] = (),
        ip: str | None = None,
        channel: str | None = None,
        details: Mapping[str, Any] | None = None,
        seq: int | None = None,
    ) -> None:
        self.ts: Final = ts
        self.actor: Final = actor
        self.action: Final = action
        self.resource: Final = resource
        self.count: Final = count
        self.outcome: Final = outcome
        self.record_ids: Final = record_ids
        self.ip: Final = ip
        self.channel: Final = channel
        self.details: Final[Mapping[str, Any]] = {} if details is None else details
        self.seq: Final = seq

    def _fields(self) -> tuple[object, ...]:
        return (
            self.ts, self.actor, self.action, self.resource, self.count, self.outcome,
            self.record_ids, self.ip, self.channel, self.details, self.seq,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # (details is a dict, as a frozen one's was)

    def __repr__(self) -> str:
        pairs = zip(EVENT_FIELD_NAMES, self._fields(), strict=True)
        return "Event(" + ", ".join(f"{k}={v!r}" for k, v in pairs) + ")"


#: an Event's fields in order, each one a key of a ``crmguard audit export`` line
EVENT_FIELD_NAMES: Final = (
    "ts", "actor", "action", "resource", "count", "outcome", "record_ids", "ip", "channel",
    "details", "seq",
)  # fmt: skip


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
