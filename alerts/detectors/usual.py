"""The per-user baseline: this hour's and today's volume against the user's own history.

Measured for everything read, and apart for what left as a file or on paper (export,
print: a user who prints three pages a day and exports twice a month has two habits).
The threshold is the user's (or, while they are new, their peers') robust usual level,
never below the rule's absolute floor, times the company surge and the user's factors.
"""

from __future__ import annotations

from typing import ClassVar

from alerts.baseline import UserState
from alerts.detectors.interface import Context, Detector, Kind, Signal, typical, usual_words
from alerts.model import Event

_VERBS = {"export": "exported", "print": "printed"}
_READ = "viewed, listed or found"


class UsualVolumeDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        assert state is not None
        action = event.action
        verb = _VERBS.get(action)
        b = ctx.baseline
        if verb is None:  # a read: cheap exit while under the absolute floors
            hour_floor = ctx.rules.rules["baseline_hour"].params["floor"]
            day_floor = ctx.rules.rules["baseline_day"].params["floor"]
            if state.hour_total <= hour_floor and state.total <= day_floor:
                return []
        checks = [
            ("baseline_hour", "hour_read", state.hour_total - state.hour_exfil, _READ, "hour"),
            ("baseline_day", "read", state.total - state.exfil, _READ, "day"),
        ]  # fmt: skip
        if verb is not None:
            checks.append(("baseline_hour", "hour:" + action, state.hour_by[action], verb, "hour"))
            checks.append(("baseline_day", "day:" + action, state.day_by[action], verb, "day"))
        best: dict[str, tuple[float, str, float, float, str, str]] = {}
        for rule_name, metric, value, words, period in checks:
            floor = ctx.rules.rule(rule_name)["floor"]
            factor = b.factor(state, rule_name, exfil=words != _READ)
            if value <= floor * factor:
                continue
            limit = max(floor, b.usual(state, metric)) * factor
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
