"""Volume per action and resource: records exported, printed, listed, viewed per window.

Counts record ids, not requests, so that a hundred small lists weigh what one export of
the same rows weighs. The limits are absolute per action; a user whose own busiest hour
for that action is larger gets ``margin`` times it instead (an integration account).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
)
from alerts.model import Event
from alerts.rules import Rules
from alerts.user_state import UserState


class VolumeDetector(Detector):
    """The engine's read path counts each (action, resource) in ``state.windows.spans``
    and asks :meth:`observe` only past the action's limit and any known user limit."""

    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})
    read_path = True

    def __init__(self) -> None:
        self._floors: Mapping[str, float] = {}
        #: per action: (baseline metric, key in ``state.limits``, absolute limit or None)
        self._by_action: dict[str, tuple[str, str, float | None]] = {}

    def configure(self, rules: Rules) -> None:
        rule = rules.rules["volume"]
        self._floors = rule.limits
        self._by_action = {}

    def _action(self, action: str) -> tuple[str, str, float | None]:
        metric = "vol:" + action
        got = self._by_action[action] = (metric, "volume:" + metric, self._floors.get(action))
        return got

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        assert state is not None
        action, resource = event.action, event.resource
        w = state.windows.span  # this event's (action, resource), counted by the read path
        window = w.events
        count = w.total
        got = self._by_action.get(action)
        metric, limit_key, floor = got if got is not None else self._action(action)
        if floor is None or count <= floor:
            return ()
        limit = state.limits.get(limit_key)
        if limit is None:
            b = ctx.baseline
            limit = state.limits[limit_key] = max(floor, b.usual(state, metric)) * b.factor(
                state, "volume", exfil=action in EXFIL_ACTIONS
            )
        if count <= limit:
            return ()
        b = ctx.baseline
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
                f"{span(max(t - window[0].t, 1))}; {usual_txt}",
                {
                    "action": action,
                    "resource": resource,
                    "records": round(count),
                    "threshold": round(limit, 1),
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]
