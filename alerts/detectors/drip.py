"""Slow drip: volume held above the user's usual for several days.

Someone who takes a little more every day stays under every daily threshold. The rule
adds the last ``days`` active days (today so far included, each divided by its company
surge) and compares the sum with the user's usual sum over that many days (median and
``k`` robust spreads of their own history of such sums, at least ``floor``), but only
when every one of those days was above the user's usual day: a drip, not one spike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from alerts.baseline import UserState
from alerts.detectors.interface import Context, Detector, Kind, Signal, usual_words
from alerts.model import Event
from alerts.statistics import mad_sigma, median, robust_threshold

_METRICS = (("total", "read"),)


class DripDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        assert state is not None
        if not state.established:
            return ()
        plan = state.cache.get("drip")
        if plan is None:
            plan = self._plan(state, ctx)
        if not plan:
            return ()
        b = ctx.baseline
        rule = ctx.rules.rule("drip")
        days = int(rule["days"])
        best: tuple[float, str, float, float, float] | None = None
        for i, (metric, verb) in enumerate(_METRICS):
            prev, limit, day_level = plan[3 * i : 3 * i + 3]
            if prev < 0:
                continue
            today = getattr(state, metric) / b.surge
            if today <= day_level:
                continue
            limit *= b.factor(state, "drip", surge=False)
            total = prev + today
            if total > limit and (best is None or total / limit > best[0]):
                best = (total / limit, verb, total, limit, day_level)
        if best is None:
            return []
        score, verb, total, limit, day_level = best
        return [
            Signal(
                "drip",
                state.name,
                score,
                f"{state.name} {verb} {round(total):,} records over the last {days} active "
                f"days, each day above their usual; {usual_words(limit / days, 'day')} "
                "over such a stretch",
                {"records": round(total), "days": days, "threshold": round(limit, 1)},
            )
        ]

    @staticmethod
    def _plan(state: UserState, ctx: Context) -> tuple[float, ...]:
        """Once a day: per metric (sum of the previous days or -1, sum limit, day level);
        empty when nothing can be judged today (too little history, or no metric held
        above the usual day on the previous days), so most events stop at the lookup."""
        rule = ctx.rules.rule("drip")
        b = ctx.rules.baseline
        days = int(rule["days"])
        hist = list(state.history)[-ctx.rules.history_days :]
        recent = hist[-(days - 1) :] if days > 1 else []
        # the baseline is what came before the days being judged, so a drip under way
        # cannot raise its own bar
        older = hist[: len(hist) - len(recent)]
        if len(older) < days + 2:
            state.cache["drip"] = ()
            return ()
        plan: list[float] = []
        # a metric whose previous days were not all recent and above the user's usual day
        # cannot drip today: its bar is not even computed
        fresh = all(d.day >= state.day - 2 * days for d in recent)
        for metric, _ in _METRICS:
            if not fresh:
                plan += [-1.0, 0.0, 0.0]
                continue
            vals = [getattr(d, metric) for d in older]
            logs = [math.log1p(v) for v in vals]
            center = median(logs)
            spread = max(mad_sigma(logs, center), b["min_spread"])
            day_level = math.expm1(center + spread)
            if not all(getattr(d, metric) > day_level for d in recent):
                plan += [-1.0, 0.0, 0.0]
                continue
            sums = [sum(vals[i : i + days]) for i in range(len(vals) - days + 1)]
            limit = max(rule["floor"], robust_threshold(sums, rule["k"], b["min_spread"]))
            plan += [sum(getattr(d, metric) for d in recent), limit, day_level]
        # nothing to judge today when no metric's previous days were all held high
        got = tuple(plan) if any(prev >= 0 for prev in plan[::3]) else ()
        state.cache["drip"] = got
        return got
