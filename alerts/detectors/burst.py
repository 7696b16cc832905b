"""Bursts: many records read by one user within a minute, or several exports in minutes.

Reading (view, list, search): the template is the rule's floor (more than 50 records in
60 seconds); a user whose own busiest minutes are larger (an integration account) is held
to their baseline instead, so the rule pages on the unusual, not on the habitual.

Taking out (export, print) is a different act: one request is many records in one second
by nature, and a single large export is judged by the size rules (``baseline_hour``,
``baseline_day``, ``volume``, ``unusual_export``). A burst of exports is *several*
requests within ``export_window_seconds`` (5 minutes: someone pulling the base out in
pieces, each under a per-request limit). It raises when the window holds at least two
requests and either

- their records exceed the user's usual busiest window of exports (``export_floor`` at
  least), or
- there are more requests than the user has ever made in such a window (at least
  ``export_requests``) carrying more than ``export_floor`` records: a user whose every
  export is large still does not export four times in five minutes.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from alerts.baseline import UserState, values_of
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


class _Window:
    __slots__ = ("events", "sums")

    def __init__(self) -> None:
        self.events: deque[tuple[float, int, str, str]] = deque()
        self.sums: dict[str, int] = {}


class _ExfilWindow:
    __slots__ = ("events", "requests", "sums")

    def __init__(self) -> None:
        self.events: deque[tuple[float, int, str, str]] = deque()
        self.sums: dict[str, int] = {}
        self.requests: dict[str, int] = {}


class BurstDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}
        self._exfil: dict[str, _ExfilWindow] = {}

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        assert state is not None
        action = event.action
        if action in EXFIL_ACTIONS:
            return self._exports(event, t, state, ctx)
        rule = ctx.rules.rules["burst"]
        params = rule.params
        n = len(event.record_ids) or event.count
        w = self._windows.get(state.name)
        if w is None:
            w = self._windows[state.name] = _Window()
        kind = "read"
        events = w.events
        events.append((t, n, kind, event.resource))
        sums = w.sums
        count = sums[kind] = sums.get(kind, 0) + n
        horizon = t - params["window_seconds"]
        while events[0][0] <= horizon:
            _, old, old_kind, _ = events.popleft()
            sums[old_kind] -= old
        count = sums[kind]
        metric = "minute"
        peaks = state.peaks
        if count > peaks.get(metric, 0.0):
            peaks[metric] = count
        floor = params["floor"]
        if count <= floor:
            return []
        b = ctx.baseline
        limit = max(floor, b.usual(state, metric)) * b.factor(state, "burst")
        if count <= limit:
            return []
        first = events[0][0]
        kinds = {e[3] for e in events}
        what = records(kinds.pop(), count) if len(kinds) == 1 else f"{count:,} records"
        usual = usual_words(typical(ctx, state, metric), "minute")
        return [
            Signal(
                "burst",
                state.name,
                count / limit,
                f"{state.name} read {what} in {span(max(t - first, 1))}; {usual}",
                {
                    "records": count,
                    "metric": metric,
                    "window_seconds": rule["window_seconds"],
                    "threshold": round(limit, 1),
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]

    def _exports(self, event: Event, t: float, state: UserState, ctx: Context) -> list[Signal]:
        """Several exports (or prints) within ``export_window_seconds``: see the module."""
        rule = ctx.rules.rules["burst"]
        params = rule.params
        kind = event.action
        n = len(event.record_ids) or event.count
        w = self._exfil.get(state.name)
        if w is None:
            w = self._exfil[state.name] = _ExfilWindow()
        events, sums, requests = w.events, w.sums, w.requests
        events.append((t, n, kind, event.resource))
        sums[kind] = sums.get(kind, 0) + n
        requests[kind] = requests.get(kind, 0) + 1
        horizon = t - params["export_window_seconds"]
        while events[0][0] <= horizon:
            _, old, old_kind, _ = events.popleft()
            sums[old_kind] -= old
            requests[old_kind] -= 1
        count, k = sums[kind], requests[kind]
        volume_metric, count_metric = "win:" + kind, "winreq:" + kind
        state.peak(volume_metric, count)
        state.peak(count_metric, k)
        floor = params["export_floor"]
        if k < 2 or count <= floor:
            return []
        b = ctx.baseline
        factor = b.factor(state, "burst", exfil=True)
        limit = max(floor, b.usual(state, volume_metric)) * factor
        need = max(params["export_requests"], _most_requests(state, count_metric, ctx) + 1)
        need *= state.fp.get("burst", 1.0)
        score = count / limit if count > limit else 0.0
        if k >= need and count > floor * factor:
            score = max(score, k / need)
        if score < 1.0:
            return []
        first = next(e[0] for e in events if e[2] == kind)
        kinds = {e[3] for e in events if e[2] == kind}
        what = records(kinds.pop(), count) if len(kinds) == 1 else f"{count:,} records"
        verb = {"export": "exported", "print": "printed"}[kind]
        usual = usual_words(typical(ctx, state, volume_metric), "5 minutes")
        return [
            Signal(
                "burst",
                state.name,
                score,
                f"{state.name} {verb} {what} in {k} requests within "
                f"{span(max(t - first, 1))}; {usual}",
                {
                    "records": count,
                    "requests": k,
                    "metric": volume_metric,
                    "window_seconds": rule["export_window_seconds"],
                    "threshold": round(limit, 1),
                    "requests_threshold": round(need, 1),
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]


def _most_requests(state: UserState, metric: str, ctx: Context) -> float:
    """The most requests of one kind this user made within one window on any day of
    their history (computed once a day)."""
    got = state.thresholds.get(metric)
    if got is None:
        got = state.thresholds[metric] = max(
            values_of(state.history, metric, ctx.rules.history_days), default=0.0
        )
    return got
