"""Volume per action and resource: records exported, printed, listed, viewed per window.

Counts record ids, not requests, so that a hundred small lists weigh what one export of
the same rows weighs. The limits are absolute per action; a user whose own busiest hour
for that action is larger gets ``margin`` times it instead (an integration account).
"""

from __future__ import annotations

from collections import deque
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
)
from alerts.model import Event

_METRICS: dict[str, str] = {}


class VolumeDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, str], tuple[deque[tuple[float, int]], list[float]]]
        self._windows = {}

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        assert state is not None
        rule = ctx.rules.rules["volume"]
        action, resource = event.action, event.resource
        n = len(event.record_ids) or event.count
        key = (state.name, action, resource)
        got = self._windows.get(key)
        if got is None:
            got = self._windows[key] = (deque(), [0.0])
        window, total = got
        window.append((t, n))
        total[0] += n
        horizon = t - rule.params["window_minutes"] * 60
        while window[0][0] <= horizon:
            total[0] -= window.popleft()[1]
        count = total[0]
        metric = _METRICS.get(action) or _METRICS.setdefault(action, "vol:" + action)
        peaks = state.peaks
        if count > peaks.get(metric, 0.0):
            peaks[metric] = count
        floor = rule.limits.get(action)
        if floor is None or count <= floor:
            return []
        b = ctx.baseline
        limit = max(floor, b.usual(state, metric)) * b.factor(
            state, "volume", exfil=action in EXFIL_ACTIONS
        )
        if count <= limit:
            return []
        verb = {"view": "viewed", "list": "listed", "search": "found by search"}.get(
            action, action + "ed"
        )
        usual = typical(ctx, state, metric)
        usual_txt = f"usually under {round(usual):,} an hour" if usual > 0 else "usually none"
        return [
            Signal(
                "volume",
                state.name,
                count / limit,
                f"{state.name} {verb} {records(resource, count)} in "
                f"{span(max(t - window[0][0], 1))}; {usual_txt}",
                {
                    "action": action,
                    "resource": resource,
                    "records": round(count),
                    "threshold": round(limit, 1),
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]
