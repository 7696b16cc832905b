"""Bursts: many records read by one user within a minute.

The template is the rule's floor (more than 50 records in 60 seconds). Reading (view,
list, search) and taking out (export, print) are measured apart: a user whose own busiest
minutes, or own usual exports, are larger (an integration account, a manager's weekly
report) is held to their baseline instead, so the rule pages on the unusual, not on the
habitual.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from alerts.baseline import UserState
from alerts.detectors.interface import (
    EXFIL_ACTIONS,
    Context,
    Detector,
    Kind,
    Signal,
    records,
    span,
    typical,
    usual_words,
)
from alerts.model import Event
from alerts.rules import Rules


class _Window:
    __slots__ = ("events", "sums")

    def __init__(self) -> None:
        self.events: deque[tuple[float, int, str, str]] = deque()
        self.sums: dict[str, int] = {}


#: What an action counts as here: reading, or taking out as a file or on paper.
_KIND = {action: action for action in EXFIL_ACTIONS}


class BurstDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}
        self._rules: Rules | None = None
        self._seconds = 0.0
        #: per kind: (baseline metric, key in ``state.limits``, floor)
        self._by_kind: dict[str, tuple[str, str, float]] = {}

    def _configure(self, rules: Rules) -> None:
        params = rules.rules["burst"].params
        self._rules = rules
        self._seconds = params["window_seconds"]
        self._by_kind = {"read": ("minute", "burst:minute", params["floor"])}
        for kind in EXFIL_ACTIONS:
            metric = "minute:" + kind
            self._by_kind[kind] = (metric, "burst:" + metric, params["export_floor"])

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        assert state is not None
        if ctx.rules is not self._rules:
            self._configure(ctx.rules)
        n = len(event.record_ids) or event.count
        w = self._windows.get(state.name)
        if w is None:
            w = self._windows[state.name] = _Window()
        kind = _KIND.get(event.action, "read")
        events = w.events
        events.append((t, n, kind, event.resource))
        sums = w.sums
        sums[kind] = sums.get(kind, 0) + n
        horizon = t - self._seconds
        while events[0][0] <= horizon:
            _, old, old_kind, _ = events.popleft()
            sums[old_kind] -= old
        count = sums[kind]
        metric, key, floor = self._by_kind[kind]
        peaks = state.peaks
        if count > peaks.get(metric, 0.0):
            peaks[metric] = count
        if count <= floor:
            return ()
        limit = state.limits.get(key)
        if limit is None:
            b = ctx.baseline
            limit = state.limits[key] = max(floor, b.usual(state, metric)) * b.factor(
                state, "burst", exfil=kind != "read"
            )
        if count <= limit:
            return ()
        rule = ctx.rules.rules["burst"]
        first = next(e[0] for e in w.events if e[2] == kind)
        kinds = {e[3] for e in w.events if e[2] == kind}
        what = records(kinds.pop(), count) if len(kinds) == 1 else f"{count:,} records"
        verb = {"export": "exported", "print": "printed"}.get(kind, "read")
        usual = usual_words(typical(ctx, state, metric), "minute")
        return [
            Signal(
                "burst",
                state.name,
                count / limit,
                f"{state.name} {verb} {what} in {span(max(t - first, 1))}; {usual}",
                {
                    "records": count,
                    "metric": metric,
                    "window_seconds": rule["window_seconds"],
                    "threshold": round(limit, 1),
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]
