"""The values that cross the room's border: what a caller hands in, what is stored, and
what a verification found.

They are frozen so that an entry handed to the alerts room or written to an export is
exactly the entry that was hashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Outcome = Literal["allowed", "denied", "error"]
Channel = Literal["api", "web", "cli", "system"]
OUTCOMES: tuple[Outcome, ...] = ("allowed", "denied", "error")
CHANNELS: tuple[Channel, ...] = ("api", "web", "cli", "system")

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry: there is nothing before it."""

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_ts(ts: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z``: ``2026-11-22T10:00:00.123456Z``.

    Fixed width, so the stored string sorts and compares as time does, and it is the
    exact text that is hashed (no float or time-zone round trip can change it).
    """
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("ledger timestamps must be timezone-aware")
    return ts.astimezone(UTC).strftime(_TS_FORMAT)


def parse_ts(text: str) -> datetime:
    """Inverse of :func:`format_ts`.

    Every entry an owner reads passes through here, so the exact shape ``format_ts``
    writes is parsed with ``fromisoformat`` (under a microsecond; ``strptime`` takes
    tens, most of the cost of turning a page of rows into entries); anything else goes
    to ``strptime``, which parses the same format or refuses it.
    """
    if (
        len(text) == 27
        and text.isascii()
        and text[4] == text[7] == "-"
        and text[10] == "T"
        and text[13] == text[16] == ":"
        and text[19] == "."
        and text[26] == "Z"
    ):
        try:
            return datetime.fromisoformat(text[:26]).replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditEvent:
    """What a caller hands in: who did what to which records, through which channel."""

    actor: str
    action: str
    resource: str
    record_ids: tuple[int | str, ...] = ()
    count: int = 0
    outcome: Outcome = "allowed"
    channel: Channel = "system"
    ip: str | None = None
    request_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActivityDay:
    """One user's activity on one UTC day, per action, resource and outcome: the owner's
    per-day view ("what did the departing manager take, day by day?")."""

    day: str
    action: str
    resource: str
    outcome: str
    events: int
    records: int

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "action": self.action,
            "resource": self.resource,
            "outcome": self.outcome,
            "events": self.events,
            "records": self.records,
        }


@dataclass(frozen=True)
class LedgerEntry:
    """One stored event with its place in the chain."""

    seq: int
    ts: datetime
    actor: str
    action: str
    resource: str
    record_ids: tuple[int | str, ...]
    count: int
    outcome: Outcome
    channel: Channel
    ip: str | None
    request_id: str | None
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    @property
    def event(self) -> AuditEvent:
        """The event as the caller handed it in."""
        return AuditEvent(
            actor=self.actor,
            action=self.action,
            resource=self.resource,
            record_ids=self.record_ids,
            count=self.count,
            outcome=self.outcome,
            channel=self.channel,
            ip=self.ip,
            request_id=self.request_id,
            details=self.details,
        )

    def to_json(self) -> dict[str, Any]:
        """The export contract: these keys, in this order, with ``ts`` as stored."""
        return {
            "seq": self.seq,
            "ts": format_ts(self.ts),
            "actor": self.actor,
            "action": self.action,
            "resource": self.resource,
            "record_ids": list(self.record_ids),
            "count": self.count,
            "outcome": self.outcome,
            "channel": self.channel,
            "ip": self.ip,
            "request_id": self.request_id,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


TamperKind = Literal[
    "altered", "deleted", "inserted", "forged", "reordered", "rewritten", "truncated",
    "emptied", "dropped", "rolled_back", "miscounted", "misindexed",
]  # fmt: skip


@dataclass(frozen=True)
class VerifyResult:
    """The verdict on the chain: ok, or the first entry that is wrong and why.

    ``kind`` names the tampering (None when intact); ``anchored_seq`` is the highest
    entry that an anchor outside the database vouches for (None: no anchor was read),
    so an auditor knows how far the proof reaches; ``head_seq`` is the last entry seen.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None
    kind: TamperKind | None = None
    anchored_seq: int | None = None
    head_seq: int | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The contract: these four keys (also what a ``verify`` event records)."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }

    def report(self) -> dict[str, Any]:
        """The contract's keys plus the diagnosis and how far the anchors reach."""
        return {
            **self.to_json(),
            "kind": self.kind,
            "anchored_seq": self.anchored_seq,
            "head_seq": self.head_seq,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Vouch:
    """Someone's word that the chain had ``hash`` at ``seq``.

    ``outside`` is True for what lives outside the database (anchor files, S3 anchors,
    backup manifests): those still hold after the database was edited or rolled back.
    """

    seq: int
    hash: str
    source: str
    outside: bool = True


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "the chain had this hash at this seq", kept outside the chain.

    It exposes truncation of the tail, which a hash chain alone cannot: deleting the
    last entries leaves a shorter chain that still verifies.
    """

    seq: int
    hash: str
    ts: datetime
    signature: str
    public_key: str
