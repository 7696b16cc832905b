"""Probing: a run of denied requests (someone feeling for the edges of their access).

Denials are ledger events too. One or two a day are ordinary (a cap hit, a wrong click);
``denied`` of them within the window from one user is a search for a way around.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from alerts.detectors.interface import Context, Detector, Kind, Signal, span
from alerts.model import Event
from alerts.user_state import UserState


class ProbingDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"denied"})

    def __init__(self) -> None:
        self._denied: dict[str, deque[tuple[float, str]]] = {}

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        rule = ctx.rules.rule("probing")
        user = event.actor
        window = self._denied.setdefault(user, deque())
        window.append((t, f"{event.action} {event.resource}"))
        horizon = t - rule["window_minutes"] * 60
        while window[0][0] <= horizon:
            window.popleft()
        st = ctx.baseline.users.get(user)
        factor = 1.0 if st is None else ctx.baseline.factor(st, "probing", surge=False)
        limit = rule["denied"] * factor
        if len(window) < limit:
            return []
        what = sorted({w for _, w in window})
        return [
            Signal(
                "probing",
                user,
                len(window) / limit,
                f"{user} was refused {len(window)} times in "
                f"{span(max(t - window[0][0], 1))} ({', '.join(what[:4])})",
                {"denied": len(window), "threshold": limit, "requests": what[:10]},
            )
        ]
