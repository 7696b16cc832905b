"""The per-user baseline: this hour's and today's volume against the user's own history.

Measured for everything read, and apart for what left as a file or on paper (export,
print: a user who prints three pages a day and exports twice a month has two habits).
The threshold is the user's (or, while they are new, their peers') robust usual level,
never below the rule's absolute floor, times the company surge and the user's factors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from alerts.detectors.interface import Context, Detector, Kind, Signal, typical, usual_words
from alerts.model import Event
from alerts.rules import Rules
from alerts.user_state import UserState

_VERBS = {"export": "exported", "print": "printed"}
_READ: Final = "viewed, listed or found"


class UsualVolumeDetector(Detector):
    """The engine's read path asks :meth:`observe` for every export and print, and for
    a read once the hour's or the day's records pass the floors."""

    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})
    read_path = True

    def __init__(self) -> None:
        self._hour_floor = 0.0
        self._day_floor = 0.0

    def configure(self, rules: Rules) -> None:
        self._hour_floor = rules.rules["baseline_hour"].params["floor"]
        self._day_floor = rules.rules["baseline_day"].params["floor"]

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        assert state is not None
        action = event.action
        verb = _VERBS.get(action)
        hour_read = state.hour_total - state.hour_exfil
        day_read = state.total - state.exfil
        if verb is None:  # a read: nothing to do while under the absolute floors
            if state.hour_total <= self._hour_floor and state.total <= self._day_floor:
                return ()
            # nor while under the limits already known for this user
            limits = state.limits
            hour_limit = limits.get("baseline_hour:hour_read")
            day_limit = limits.get("baseline_day:read")
            if (
                hour_limit is not None and hour_read <= hour_limit
                and day_limit is not None and day_read <= day_limit
            ):  # fmt: skip
                return ()
        checks = [
            ("baseline_hour", "hour_read", hour_read, _READ, "hour"),
            ("baseline_day", "read", day_read, _READ, "day"),
        ]  # fmt: skip
        if verb is not None:
            checks.append(("baseline_hour", "hour:" + action, state.hour_by[action], verb, "hour"))
            checks.append(("baseline_day", "day:" + action, state.day_by[action], verb, "day"))
        b = ctx.baseline
        best: dict[str, tuple[float, str, float, float, str, str]] = {}
        for rule_name, metric, value, words, period in checks:
            key = rule_name + ":" + metric
            limit = state.limits.get(key)
            if limit is None:
                floor = ctx.rules.rule(rule_name)["floor"]
                factor = b.factor(state, rule_name, exfil=words != _READ)
                if value <= floor * factor:
                    continue  # the baseline is not consulted under the floor
                limit = state.limits[key] = max(floor, b.usual(state, metric)) * factor
            if value <= limit:
                continue
            score = value / limit
            if score > best.get(rule_name, (0.0,))[0]:
                best[rule_name] = (score, words, value, limit, period, metric)
        out = []
        for rule_name, (score, words, value, limit, period, metric) in best.items():
            when = "this hour" if period == "hour" else "today"
            usual = usual_words(typical(ctx, state, metric), period)
            out.append(
                Signal(
                    rule_name,
                    state.name,
                    score,
                    f"{state.name} {words} {round(value):,} records {when}; {usual}",
                    {
                        "metric": metric,
                        "records": round(value),
                        "threshold": round(limit, 1),
                        "surge": round(b.surge, 2),
                        "record_ids": ctx.sample(event.record_ids),
                    },
                )
            )
        return out
