"""Departing users: lower thresholds from the flag on, and a look-back at the flag.

The ``restrict`` event with ``details.restriction == "departing"`` marks the user (lifting
it, ``details.lifted == "departing"``, unmarks them). From then on every threshold of
theirs on what leaves the CRM (exports, prints) is multiplied by ``threshold_factor`` (the
baseline applies it for every rule), and this rule raises on an export or print above the
lowered daily level, or of at least ``unusual_export.min_records`` records and larger than
most of theirs (``size_spreads``), or their first of its kind in ``history_days``, or
larger than every one of theirs (before the flag and since) and than their peers' usual
size (few exports on record leave one file's size ambiguous; topping them all after
notice is the pattern itself), or at
least their usual size and at an unusual hour or from a new address (a page printed at
night is no leak). At the flag itself, the look-back re-scores the last
``lookback_days`` of their days at the lowered level, and names the alerts the window
already had: a manager who took the client base two weeks before telling anyone is found
the moment HR flags them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import ClassVar

from alerts.baseline import PRIOR_DAYS
from alerts.detectors.interface import Context, Detector, Kind, Signal, records, usual_words
from alerts.detectors.unusual import unusual_reasons
from alerts.model import Event
from alerts.request_rates import REQUEST_ACTIONS
from alerts.statistics import count_tail, log_stats
from alerts.user_state import DAY, UserState, values_of


class DepartingDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read", "denied", "other"})
    actions = frozenset({"restrict", "export", "print"})

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        if event.action == "restrict":
            return self._restrict(event, t, ctx)
        if event.action not in ("export", "print"):
            return []
        b = ctx.baseline
        st = state if state is not None else b.users.get(event.actor)
        if st is None or st.departing_since is None:
            return []
        if event.outcome != "allowed":
            return []
        rule = ctx.rules.rule("departing")
        floor = ctx.rules.rule("baseline_day")["floor"]
        action = event.action
        today = st.day_by.get(action, 0.0)
        limit = max(floor, b.usual(st, "day:" + action)) * b.factor(st, "departing", exfil=True)
        n = len(event.record_ids) or event.count
        reasons = unusual_reasons(ctx, st, t, event.ip, n, action)
        size = b.stats(st, "size:" + action)
        # an hour or an address alone is no leak when what left is smaller than what this
        # user usually takes out, or than unusual_export's min_records: a departing user
        # still prints a page at night
        small = ctx.rules.rule("unusual_export")["min_records"]
        if n < small or (size.center >= 0 and n <= math.expm1(size.center)):
            reasons = [r for r in reasons if r.startswith("usually")]
        if n >= small and b.established(st) and b.own_stats(st, "size:" + action) is None:
            # none in their history: no size of theirs to be within (the peers' sizes,
            # which a first export would be judged by, span sellers and owners alike)
            reasons.append(f"their first {action} in {ctx.rules.history_days} days")
        elif n >= small and size.center >= 0 and not any(r.startswith("usually") for r in reasons):
            # the size alone, as the hour and the address, only for min_records or more:
            # a departing user's print of three pages is no leak however small their usual
            spread = max(size.spread, ctx.rules.baseline["min_spread"])
            bar = math.expm1(size.center + rule["size_spreads"] * spread)
            if n > bar:
                reasons.append(f"larger than their usual {action} of {round(bar):,}")
            elif n >= st.peaks.get("size:" + action, 0.0) and n > _record(st, action, ctx):
                # one export judged alone cannot tell a departing user's 3x file from an
                # ordinary large one when they have few exports on record; one after notice
                # that tops every one of theirs (before the flag and since) and their peers'
                # usual is the pattern itself. The open alert is updated, not repeated, so a
                # flag pages once for it unless security closed the first
                reasons.append(f"their largest {action} yet, after notice")
        score = max(today / limit, 1.0 if reasons else 0.0)
        if score < 1:
            return []
        extra = f" ({'; '.join(reasons)})" if reasons else ""
        return [
            Signal(
                "departing",
                st.name,
                score,
                f"{st.name}, flagged departing, {event.action}ed {records(event.resource, n)}"
                f"{extra}; {round(today):,} today against a lowered level of "
                f"{round(limit):,} (x{rule['threshold_factor']:g})",
                {
                    "records_today": round(today),
                    "threshold": round(limit, 1),
                    "signals": reasons,
                    "record_ids": ctx.sample(event.record_ids),
                },
            )
        ]

    def _restrict(self, event: Event, t: float, ctx: Context) -> list[Signal]:
        details = event.details
        if not event.record_ids:
            return []
        user = str(event.record_ids[0])
        b = ctx.baseline
        if details.get("lifted") == "departing":
            st = b.users.get(user)
            if st is not None:
                st.departing_since = None
                st.reset_cache()
            return []
        if details.get("restriction") != "departing":
            return []
        st = b.user(user, t)
        if st.departing_since is None:
            st.departing_since = t
            st.reset_cache()
        return self._look_back(st, t, ctx)

    @staticmethod
    def _look_back(st: UserState, t: float, ctx: Context) -> list[Signal]:
        """Re-score the last ``lookback_days`` at the lowered level.

        Each day's volume (everything read, and what was exported) against the user's
        level times ``threshold_factor``. The days being judged are part of the user's own
        history, so the level is built to resist them: the user's median (moved by no
        minority of days) and their peers' day-to-day spread (which the judged days cannot
        widen), ``k`` spreads above. Any alert the ordinary rules raised on the user in the
        window counts too: it crossed a higher bar than the lowered one (a slow drip is
        judged over days that no single day's level re-scores).
        """
        rule = ctx.rules.rule("departing")
        b = ctx.baseline
        since = st.day - int(rule["lookback_days"])
        days = [(d.day, d.exfil, d.total) for d in st.history if d.day >= since]
        days.append((st.day, st.exfil, st.total))
        floor = ctx.rules.rule("baseline_day")["floor"]
        factor = rule["threshold_factor"] * st.fp.get("departing_lookback", 1.0)
        lim_exfil = max(floor, _level(st, "day:export", ctx)) * factor
        lim_total = max(floor, _level(st, "total", ctx)) * factor

        counted = _count_scores(st, since, ctx)

        def ratio(d: tuple[int, float, float]) -> float:
            return max(d[1] / lim_exfil, d[2] / lim_total, counted.get(d[0], 0.0))

        worst = max(days, key=ratio)
        # what the ordinary thresholds already found in the window crossed the lowered
        # ones too (an alert judged harmless was dropped from ``leak_alerts``)
        found = sorted(
            (when, name)
            for name, when in st.leak_alerts.items()
            if when >= t - rule["lookback_days"] * DAY and not name.startswith("departing")
        )
        score = max(ratio(worst), 1.0 if found else 0.0)
        if score < 1:
            return []
        exported = sum(d[1] for d in days)
        heavy = [d for d in days if ratio(d) >= 1]
        on = datetime.fromtimestamp(worst[0] * DAY, UTC).date().isoformat()
        heavy_words = (
            f"{len(heavy)} unusual day(s), the largest {on} with {round(worst[2]):,} read; "
            if heavy
            else ""
        )
        usual = usual_words(b.typical(st, "total"), "day")
        return [
            Signal(
                "departing_lookback",
                st.name,
                score,
                f"{st.name}, flagged departing, read {round(sum(d[2] for d in days)):,} records "
                f"(exported or printed {round(exported):,}) in the last "
                f"{int(rule['lookback_days'])} days; {heavy_words}{usual}{_already(found)}",
                {
                    "exported": round(exported),
                    "unusual_days": [
                        datetime.fromtimestamp(d[0] * DAY, UTC).date().isoformat() for d in heavy
                    ][:31],
                    "threshold_exfil": round(lim_exfil, 1),
                    "threshold_total": round(lim_total, 1),
                    "earlier_alerts": [{"rule": name, "ts": _iso(when)} for when, name in found],
                },
            )
        ]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _already(found: list[tuple[float, str]]) -> str:
    """The summary's words for the alerts the window already had ('' for none)."""
    if not found:
        return ""
    named = ", ".join(f"{name} on {_iso(when)[:10]}" for when, name in found)
    return f"; already alerted: {named}"


def _level(st: UserState, metric: str, ctx: Context) -> float:
    """The look-back's usual level: own median, peers' spread (see ``_look_back``)."""
    b = ctx.baseline
    base = ctx.rules.baseline
    own = [v for v in values_of(st.history, metric, len(st.history)) if v > 0]
    peer = b.peer_stats(b.peers.get(st.name, "*"), st.day, metric)
    if not own and peer is None:
        return 0.0
    center = log_stats(own, base["quantile"]).center if own else peer.center  # type: ignore[union-attr]
    spread = peer.spread if peer is not None else log_stats(own, base["quantile"]).spread
    return math.expm1(center + base["k"] * max(spread, base["min_spread"]))


def _count_scores(st: UserState, since: int, ctx: Context) -> dict[int, float]:
    """Days since ``since`` on which the user exported (printed) far more often than
    their own rate, for the work they did that day, makes plausible: the drip's count
    test on one day. The rate comes from their ordinary days (heavy days cannot excuse
    themselves) with the peers' rate as a prior worth ``PRIOR_DAYS`` days of their work.
    Score: log p / log alpha (>= 1 when p < alpha), and only on days with more records
    than the user's mean day (many tiny requests are no leak)."""
    b = ctx.baseline
    alpha = ctx.rules.rule("drip")["alpha"]
    days = list(st.history)
    if len(days) < ctx.rules.learning_days:
        return {}
    mean_total = sum(d.total for d in days) / len(days)
    group = b.peers.get(st.name, "*")
    out: dict[int, float] = {}
    for action in REQUEST_ACTIONS:
        # the rate from the user's ordinary days: the busiest fifth of their days (by
        # count) left out, as a departing user's heavy days are what is being looked for
        ranked = sorted(days, key=lambda d: d.requests.get(action, 0))
        usual = ranked[: len(ranked) - max(1, len(ranked) // 5)]
        events = sum(d.events for d in usual)
        count = sum(d.requests.get(action, 0) for d in usual)
        prior = PRIOR_DAYS * events / max(len(usual), 1)
        peer_rate = b.peer_request_rate(group, st.day, action)
        for d in days:
            k = d.requests.get(action, 0)
            if d.day < since or k < 2 or d.total <= mean_total:
                continue
            p = count_tail(k, count + peer_rate * prior, events + prior, d.events)
            if p < alpha:
                score = math.log(max(p, 1e-300)) / math.log(alpha)
                out[d.day] = max(out.get(d.day, 0.0), score)
    return out


def _record(st: UserState, action: str, ctx: Context) -> float:
    """The size to top: the largest of the user's own on earlier days in ``history_days``
    (today's are in ``peaks``) and their peers' usual (median) size, the larger (no own
    sizes: infinite, the first-of-its-kind reason covers that)."""
    metric = "size:" + action
    since = st.day - ctx.rules.history_days
    own = [d.logs[metric] for d in st.history if d.day >= since and metric in d.logs]
    if not own:
        return math.inf
    peer = ctx.baseline.peer_stats(ctx.baseline.peers.get(st.name, "*"), st.day, metric)
    top = max(max(own), peer.center if peer is not None else 0.0)
    return math.expm1(top)
