"""Unusual exports: an hour or day the user rarely works, a new address, a bigger file.

Each signal alone is common (people work late, travel, and now and then export more), so
the rule asks for ``min_signals`` of them on one export or print. "Rarely" is the user's
own pattern: under ``rare_share`` of their active hours fall in that hour of the day (or
on weekends); an address is new when it was never seen on any event of theirs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import ClassVar

from alerts.detectors.interface import Context, Detector, Kind, Signal, records, typical
from alerts.model import Event
from alerts.statistics import t_equivalent
from alerts.user_state import UserState


class UnusualExportDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})
    actions = frozenset({"export", "print"})

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        assert state is not None
        if event.action not in ("export", "print"):
            return []
        n = len(event.record_ids) or event.count
        reasons = unusual_reasons(ctx, state, t, event.ip, n, event.action)
        state.peak("size:" + event.action, n)
        rule = ctx.rules.rule("unusual_export")
        if n < rule["min_records"]:
            return []
        need = rule["min_signals"] * state.fp.get("unusual_export", 1.0)
        if len(reasons) < need:
            return []
        return [
            Signal(
                "unusual_export",
                state.name,
                len(reasons) / need,
                f"{state.name} {event.action}ed {records(event.resource, n)} "
                f"({'; '.join(reasons)})",
                {
                    "signals": reasons,
                    "records": n,
                    "ip": event.ip,
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]


def unusual_reasons(
    ctx: Context, state: UserState, t: float, ip: str | None, n: int, action: str
) -> list[str]:
    """Which of time, address and size are unusual for this user (empty while learning)."""
    b = ctx.baseline
    if not b.established(state):
        return []
    reasons = []
    if b.unusual_time(state, t):
        at = datetime.fromtimestamp(t, UTC)
        reasons.append(f"at {at:%a %H:%M} UTC, outside their usual hours")
    if b.new_address(state, ip, t):
        reasons.append(f"from a new address {ip}")
    st = b.stats(state, "size:" + action)
    if st.center >= 0:
        spread = max(st.spread, ctx.rules.baseline["min_spread"])
        z = ctx.rules.rule("unusual_export")["size_spreads"]
        if st.dof:  # a spread known from few exports: the same tail of the predictive t
            z = t_equivalent(z, st.dof)
        if n > math.expm1(st.center + z * spread):
            reasons.append(f"usually under {round(typical(ctx, state, 'size:' + action)):,} "
                           f"per {action}")  # fmt: skip
    return reasons
