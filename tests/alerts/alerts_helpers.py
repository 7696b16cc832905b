"""Helpers shared by the alerts tests (a module name no other room uses): events and an
ordinary working history that gives every user a baseline."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.engine import DetectionEngine
from alerts.model import Event, Finding

#: A Monday.
START = datetime(2026, 11, 2, tzinfo=UTC)


def ev(
    ts: datetime,
    actor: str,
    action: str = "view",
    resource: str = "contact",
    ids: Iterable[int | str] = (),
    outcome: str = "allowed",
    ip: str | None = "10.0.0.1",
    details: dict[str, Any] | None = None,
    seq: int | None = None,
) -> Event:
    rid = tuple(ids)
    return Event(ts, actor, action, resource, len(rid), outcome, rid, ip, "web", details or {}, seq)


def workday(
    user: str, day: int, rng: random.Random, *, export: int = 0, ip: str = "10.0.0.1",
    scale: float = 1.0,
) -> list[Event]:  # fmt: skip
    """An ordinary day: lists of 20 and single views from 9:00 to 17:00, maybe one export."""
    base = START + timedelta(days=day, hours=9)
    out = []
    for i in range(round(16 * scale)):
        t = base + timedelta(minutes=30 * i / scale + rng.uniform(0, 10))
        out.append(ev(t, user, "list", "contact", rng.sample(range(1, 5000), 20), ip=ip))
        v = rng.randint(1, 5000)
        out.append(ev(t + timedelta(minutes=2), user, "view", "contact", [v], ip=ip))
    if export:
        t = base + timedelta(hours=3, minutes=rng.uniform(0, 60))
        out.append(ev(t, user, "export", "contact", range(1, export + 1), ip=ip))
    return out


def history(
    users: Iterable[str], days: int, seed: int = 7, export_every: int = 4, export: int = 100,
    scale: float = 1.0,
) -> list[Event]:  # fmt: skip
    """``days`` working days (weekends skipped) of every user, in time order."""
    rng = random.Random(seed)
    out: list[Event] = []
    for day in range(days):
        if (START + timedelta(days=day)).weekday() >= 5:
            continue
        for n, user in enumerate(sorted(users)):
            size = round(export * rng.uniform(0.8, 1.25)) if (day + n) % export_every == 0 else 0
            out.extend(workday(user, day, rng, export=size, scale=scale))
    return sorted(out, key=lambda e: e.ts)


def feed(engine: DetectionEngine, events: Iterable[Event]) -> list[Finding]:
    found: list[Finding] = []
    for event in events:
        found.extend(engine.process(event))
    return found


def day_at(day: int, hour: float) -> datetime:
    return START + timedelta(days=day, hours=hour)
