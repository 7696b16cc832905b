"""The outbox: every message to every channel is a row until that channel took it.

Messages are queued in the transaction that stores the alert, so an alert is never in
the database without its messages, nor a message without its alert. Delivery runs
apart (the daemon's delivery worker): a row is claimed with a lease (two workers on one
PostgreSQL database never send the same row), sent, and marked delivered. When a channel
fails, that channel backs off exponentially (base x 2^n, capped) as a whole, so a down
mail server is not hammered, the rest keep flowing, and its messages go out in their
original order, each once, when it comes back. Nothing is ever dropped: a message waits,
with its last error visible in ``crmguard alerts status``, until it is delivered.

Delivery is at-least-once in the strict sense: a crash between a channel accepting a
message and the row being marked delivered (a few milliseconds) would send it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy import Connection, Engine, func, select, update

from alerts.channels.interface import Channel, ChannelError, one_line
from alerts.model import Alert, severity_rank
from alerts.schema import alert_outbox as t

log = structlog.get_logger("alerts.outbox")

MessageKind = Literal["raised", "escalated", "test"]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def message_for(alert: Alert, kind: MessageKind) -> dict[str, Any]:
    """What a channel receives about ``alert``: counts and ids, never record contents."""
    return {
        "kind": kind,
        "alert_id": alert.id,
        "user": alert.user,
        "rule": alert.rule,
        "severity": alert.severity,
        "score": round(alert.score, 3),
        "summary": alert.summary,
        "status": alert.status,
        "first_ts": alert.first_ts.isoformat(),
        "last_ts": alert.last_ts.isoformat(),
        "evidence": dict(alert.evidence),
    }


def enqueue(
    conn: Connection,
    alert: Alert,
    kind: MessageKind,
    routes: Mapping[str, str],
    now: datetime,
) -> list[str]:
    """Queue ``alert`` for every channel whose minimum severity it reaches.

    ``routes`` maps channel name to minimum severity; returns the channels queued for.
    """
    payload = json.dumps(message_for(alert, kind), ensure_ascii=False, sort_keys=True)
    chosen = [
        name
        for name, minimum in routes.items()
        if severity_rank(alert.severity) >= severity_rank(minimum)
    ]
    for name in chosen:
        conn.execute(
            t.insert().values(
                alert_id=alert.id,
                channel=name,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return chosen


def routes_of(channels: Iterable[Channel]) -> dict[str, str]:
    return {c.name: c.min_severity for c in channels}


@dataclass(frozen=True)
class DeliveryRound:
    """What one pass of the worker did."""

    delivered: int
    failed: int


@dataclass(frozen=True)
class ChannelStatus:
    """One channel's delivery state, as ``alerts status`` shows it."""

    channel: str
    configured: bool
    description: str
    min_severity: str | None
    pending: int
    failing: int
    delivered: int
    oldest_pending: datetime | None
    next_attempt: datetime | None
    last_error: str | None
    last_delivered: datetime | None

    @property
    def healthy(self) -> bool:
        return self.configured and self.failing == 0

    def to_json(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "channel": self.channel,
            "configured": self.configured,
            "description": self.description,
            "min_severity": self.min_severity,
            "pending": self.pending,
            "failing": self.failing,
            "delivered": self.delivered,
            "oldest_pending": iso(self.oldest_pending),
            "next_attempt": iso(self.next_attempt),
            "last_error": self.last_error,
            "last_delivered": iso(self.last_delivered),
            "healthy": self.healthy,
        }


class Outbox:
    """Delivers queued messages to ``channels`` with retries and exponential backoff."""

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        *,
        base_delay: float = 5.0,
        max_delay: float = 3600.0,
        lease: float = 120.0,
        clock: Clock = _now,
    ) -> None:
        self.engine = engine
        self.channels = dict(channels)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = timedelta(seconds=lease)
        self.clock = clock

    def delay(self, attempts: int) -> timedelta:
        """Backoff after the ``attempts``-th failure in a row: base x 2^(n-1), capped."""
        seconds = self.base_delay * 2 ** min(max(attempts - 1, 0), 30)
        return timedelta(seconds=min(seconds, self.max_delay))

    def deliver_due(self, limit: int = 200) -> DeliveryRound:
        """Send what is due, oldest first; a channel that fails is skipped for this round."""
        now = self.clock()
        names = sorted(self.channels)
        if not names:
            return DeliveryRound(0, 0)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.channel, t.c.payload, t.c.attempts)
                .where(
                    t.c.status == "pending",
                    t.c.next_attempt_at <= now,
                    t.c.channel.in_(names),
                )
                .order_by(t.c.id)
                .limit(limit)
            ).all()
        delivered = failed = 0
        down: set[str] = set()
        for row in rows:
            if row.channel in down or not self._claim(row.id):
                continue
            try:
                self.channels[row.channel].send(json.loads(row.payload))
            except Exception as exc:  # a misbehaving channel never loses a message
                problem = (
                    one_line(exc)
                    if isinstance(exc, ChannelError)
                    else (f"{exc.__class__.__name__}: {one_line(exc)}")
                )
                self._failed(row.id, row.channel, int(row.attempts) + 1, problem)
                down.add(row.channel)
                failed += 1
                continue
            self._delivered(row.id, int(row.attempts) + 1)
            delivered += 1
        return DeliveryRound(delivered, failed)

    def _claim(self, row_id: int) -> bool:
        now = self.clock()
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(t)
                .where(
                    t.c.id == row_id,
                    t.c.status == "pending",
                    (t.c.lease_until.is_(None)) | (t.c.lease_until < now),
                )
                .values(lease_until=now + self.lease)
            ).rowcount
        return claimed == 1

    def _delivered(self, row_id: int, attempts: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == row_id)
                .values(
                    status="delivered",
                    attempts=attempts,
                    delivered_at=self.clock(),
                    lease_until=None,
                    last_error=None,
                )
            )

    def _failed(self, row_id: int, channel: str, attempts: int, problem: str) -> None:
        retry_at = self.clock() + self.delay(attempts)
        log.warning("alerts.delivery_failed", channel=channel, attempts=attempts, problem=problem)
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.id == row_id)
                .values(
                    attempts=attempts,
                    next_attempt_at=retry_at,
                    lease_until=None,
                    last_error=problem[:500],
                )
            )
            # The whole channel waits, so its messages keep their order.
            conn.execute(
                update(t)
                .where(
                    t.c.channel == channel,
                    t.c.status == "pending",
                    t.c.next_attempt_at < retry_at,
                )
                .values(next_attempt_at=retry_at)
            )

    def status(self) -> list[ChannelStatus]:
        """Per channel (configured or still holding messages): counts, errors, ages."""
        with self.engine.connect() as conn:
            counts = conn.execute(
                select(
                    t.c.channel,
                    t.c.status,
                    func.count(),
                    func.min(t.c.created_at),
                    func.min(t.c.next_attempt_at),
                    func.max(t.c.delivered_at),
                ).group_by(t.c.channel, t.c.status)
            ).all()
            failing: dict[str, int] = {
                str(channel): int(n)
                for channel, n in conn.execute(
                    select(t.c.channel, func.count())
                    .where(t.c.status == "pending", t.c.attempts > 0)
                    .group_by(t.c.channel)
                )
            }
            errors: dict[str, str] = {}
            for channel, error in conn.execute(
                select(t.c.channel, t.c.last_error)
                .where(t.c.status == "pending", t.c.last_error.is_not(None))
                .order_by(t.c.id)
            ):
                errors[channel] = error
        per: dict[str, dict[str, Any]] = {}
        for channel, status, count, oldest, next_at, last_delivered in counts:
            entry = per.setdefault(channel, {})
            entry[status] = (int(count), _utc(oldest), _utc(next_at), _utc(last_delivered))
        out = []
        for name in [*self.channels, *sorted(set(per) - set(self.channels))]:
            entry = per.get(name, {})
            pending = entry.get("pending", (0, None, None, None))
            done = entry.get("delivered", (0, None, None, None))
            channel = self.channels.get(name)
            out.append(
                ChannelStatus(
                    channel=name,
                    configured=channel is not None,
                    description=channel.describe() if channel else "not configured any more",
                    min_severity=channel.min_severity if channel else None,
                    pending=pending[0],
                    failing=int(failing.get(name, 0)),
                    delivered=done[0],
                    oldest_pending=pending[1],
                    next_attempt=pending[2],
                    last_error=errors.get(name),
                    last_delivered=done[3],
                )
            )
        return out
