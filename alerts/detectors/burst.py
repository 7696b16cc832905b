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

from collections.abc import Sequence
from typing import ClassVar

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
from alerts.user_state import UserState, values_of
from alerts.windows import Entry, Window

#: What an action counts as here: reading, or taking out as a file or on paper.
_KIND = {action: action for action in EXFIL_ACTIONS}


class BurstDetector(Detector):
    """Reads: the engine's read path counts them in ``state.windows.minute`` and asks
    :meth:`observe` only past the floor and any known limit. Exports and prints are
    counted and judged here (a few a day)."""

    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})
    read_path = True

    def __init__(self) -> None:
        self._seconds = 0.0
        self._export_seconds = 0.0
        self._floor = 0.0
        self._export_floor = 0.0
        self._export_requests = 0.0
        #: per exfil kind: (volume metric, requests metric, limit key)
        self._by_kind: dict[str, tuple[str, str, str]] = {}

    def configure(self, rules: Rules) -> None:
        params = rules.rules["burst"].params
        self._seconds = params["window_seconds"]
        self._export_seconds = params["export_window_seconds"]
        self._floor = params["floor"]
        self._export_floor = params["export_floor"]
        self._export_requests = params["export_requests"]
        self._by_kind = {
            kind: ("win:" + kind, "winreq:" + kind, "burst:win:" + kind) for kind in EXFIL_ACTIONS
        }

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        assert state is not None
        kind = _KIND.get(event.action)
        if kind is not None:
            return self._exports(kind, event, t, state, ctx)
        w = state.windows.minute  # this event counted by the read path
        events = w.events
        count = w.total
        floor = self._floor
        if count <= floor:
            return ()
        limit = state.limits.get("burst:minute")
        if limit is None:
            b = ctx.baseline
            limit = state.limits["burst:minute"] = max(floor, b.usual(state, "minute")) * b.factor(
                state, "burst"
            )
        if count <= limit:
            return ()
        rule = ctx.rules.rules["burst"]
        first = events[0].t
        kinds = {e.resource for e in events}
        what = records(kinds.pop(), count) if len(kinds) == 1 else f"{round(count):,} records"
        usual = usual_words(typical(ctx, state, "minute"), "minute")
        return [
            Signal(
                "burst",
                state.name,
                count / limit,
                f"{state.name} read {what} in {span(max(t - first, 1))}; {usual}",
                {
                    "records": round(count),  # (a window's total, whole records)
                    "metric": "minute",
                    "window_seconds": rule["window_seconds"],
                    "threshold": round(limit, 1),
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]

    def _exports(
        self, kind: str, event: Event, t: float, state: UserState, ctx: Context
    ) -> Sequence[Signal]:
        """Several exports (or prints) within ``export_window_seconds``: see the module."""
        volume_metric, count_metric, key = self._by_kind[kind]
        windows = state.windows.exports
        w = windows.get(kind)
        if w is None:
            w = windows[kind] = Window()
        n = len(event.record_ids) or event.count
        events = w.events
        events.append(Entry(t, n, event.resource))
        w.total += n
        horizon = t - self._export_seconds
        while events[0].t <= horizon:
            w.total -= events.popleft().n
        count, k = w.total, len(events)
        state.peak(volume_metric, count)
        state.peak(count_metric, k)
        floor = self._export_floor
        if k < 2 or count <= floor:
            return ()
        b = ctx.baseline
        factor = b.factor(state, "burst", exfil=True)
        limit = state.limits.get(key)
        if limit is None:
            limit = state.limits[key] = max(floor, b.usual(state, volume_metric)) * factor
        need = max(self._export_requests, _most_requests(state, count_metric, ctx) + 1)
        need *= state.fp.get("burst", 1.0)
        score = count / limit if count > limit else 0.0
        if k >= need and count > floor * factor:
            score = max(score, k / need)
        if score < 1.0:
            return ()
        first = events[0].t
        kinds = {e.resource for e in events}
        what = records(kinds.pop(), count) if len(kinds) == 1 else f"{round(count):,} records"
        verb = {"export": "exported", "print": "printed"}[kind]
        usual = usual_words(typical(ctx, state, volume_metric), "5 minutes")
        rule = ctx.rules.rules["burst"]
        return [
            Signal(
                "burst",
                state.name,
                score,
                f"{state.name} {verb} {what} in {k} requests within "
                f"{span(max(t - first, 1))}; {usual}",
                {
                    "records": round(count),
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
