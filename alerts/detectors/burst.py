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
    """One user's events of one kind (read, export, print) in the last window_seconds."""

    __slots__ = ("events", "total")

    def __init__(self) -> None:
        self.events: deque[tuple[float, int, str]] = deque()  # (t, records, resource)
        self.total = 0


#: What an action counts as here: reading, or taking out as a file or on paper.
_KIND = {action: action for action in EXFIL_ACTIONS}


class BurstDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})

    def __init__(self) -> None:
        self._seconds = 0.0
        #: per kind: (baseline metric, key in ``state.limits``, floor, windows by user)
        self._by_kind: dict[str, tuple[str, str, float, dict[str, _Window]]] = {}

    def configure(self, rules: Rules) -> None:
        params = rules.rules["burst"].params
        self._seconds = params["window_seconds"]
        old = self._by_kind
        self._by_kind = {"read": ("minute", "burst:minute", params["floor"], {})}
        for kind in EXFIL_ACTIONS:
            metric = "minute:" + kind
            self._by_kind[kind] = (metric, "burst:" + metric, params["export_floor"], {})
        for kind, got in old.items():  # windows outlive a reload
            self._by_kind[kind][3].update(got[3])

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        assert state is not None
        kind = _KIND.get(event.action, "read")
        metric, key, floor, windows = self._by_kind[kind]
        w = windows.get(state.name)
        if w is None:
            w = windows[state.name] = _Window()
        n = len(event.record_ids) or event.count
        events = w.events
        events.append((t, n, event.resource))
        w.total += n
        horizon = t - self._seconds
        while events[0][0] <= horizon:
            w.total -= events.popleft()[1]
        count = w.total
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
        first = events[0][0]
        kinds = {e[2] for e in events}
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
