"""Slow drip: volume held above the user's usual for several days.

Someone who takes a little more every day stays under every daily threshold, so the rule
judges the last ``days`` active days together (today so far included, each divided by its
company surge), against the days before them (a drip under way cannot raise its own bar).
It raises on any of three kinds of evidence, each chosen for a low false-alarm rate:

- **reading held high**: every one of those days, records read (views, lists, searches)
  at least ``read_spreads`` robust spreads above the user's usual day. Reading is a
  smooth habit (exports are not: a manager's export days come and go), so a few days in a
  row this far above it is rare;
- **exports more often than ever**: an export or print on every one of those days, more
  requests than the user's own rate makes plausible (a negative binomial tail below
  ``alpha``: the rate is estimated from the user's history, with the uncertainty of an
  estimate; the expected count is scaled by the company's request surge on each day, so
  a month end where the managers export three times as often excuses them), and the
  whole volume of those days above the user's mean day (many tiny exports are not a leak
  of volume; the mean, not the median, so a manager's export days count as usual);
- **more taken on days that take data out**: an export (or print) on every one of those
  days, and every day's records (read and taken out) at least ``read_spreads`` spreads
  above the user's own earlier days with an export (print): a two-part view of exports,
  whether there is one (the count test) and how much such a day carries (this one), so a
  drip carried mostly in exports is seen even when it is not yet many more of them, and
  an owner whose export days are a hundred times their reading days is not paged for
  three of them in a row. Those days are few, so their spread is pooled with the spread
  of all the user's days, as the baselines pool a spread with a prior.

And the days together must exceed ``floor`` records. "Usual" follows a rising trend
when there clearly is one (see ``_level``), and while a user is new (less history than
``history_days``) it is at least what is ordinary for their peers: a new hire ramping up
is judged against where they are heading, not where they started.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, Final

from alerts.baseline import PRIOR_DAYS
from alerts.detectors.interface import Context, Detector, Kind, Signal, usual_words
from alerts.model import Event
from alerts.statistics import count_tail, least_unusual_count, mad_sigma, median
from alerts.user_state import DayStat, UserState

#: A rising trend is measured over this many most recent days before the judged ones.
RECENT_DAYS: Final = 7

# the plan's fields, once a day per user (see DripDetector._plan): the common ones (the
# reading terms, then the taken terms: level, center, spread, least z of the judged days,
# the action whose days set them), then six per action that takes data out (on every
# judged day, requests on the judged days, the fewest that could be unusual, requests in
# the days before, the judged days before today weighted by the company's request surge
# on each, the day-to-day dispersion)
_PREV, _MIN_READ_Z, _MEAN_TOTAL, _READ_LEVEL, _READ_C, _READ_S, _HIST_EVENTS = range(7)
_TAKEN_LEVEL, _TAKEN_C, _TAKEN_S, _MIN_TAKEN_Z, _TAKEN_BY = range(7, 12)
_ALL, _RECENT, _NEED, _HIST, _AHEAD, _DISPERSION = range(6)
_ACTIONS = (("export", 12), ("print", 18))
_EXFIL = frozenset(a for a, _ in _ACTIONS)
#: an action's terms when it was not requested on every judged day (it cannot drip)
_NEVER = [0.0, 0.0, math.inf, 0.0, 0.0, 1.0]
#: the taken terms (level, center, spread, least z, action) when the judged days were
#: not all held high
_NOT_HELD = [math.inf, 0.0, 1.0, -math.inf, -1.0]


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
        # the common case is a plan with no reading held high and no action requested
        # every day, which the plan already dropped; what is left is checked cheapest
        # first (the count test only on a request: that is when a count changes)
        level = plan[_READ_LEVEL]
        exfil = event.action in _EXFIL
        if level == math.inf and not exfil:
            return ()  # only a request can make its count unusual
        b = ctx.baseline
        held = level < math.inf and (state.total - state.exfil) / b.surge > level
        taken = None
        requests = state.requests
        for action, i in _ACTIONS if exfil else ():
            today = requests.get(action, 0)
            if not today:
                continue
            if plan[i + _ALL] <= 0:
                continue
            if math.isnan(plan[i + _NEED]):
                plan = _prepare_terms(state, ctx, plan, action, i)
            n = plan[i + _RECENT] + today
            if n < plan[i + _NEED]:
                continue
            rule = ctx.rules.rule("drip")
            key = "drip:" + action
            failed = state.cache.get(key)
            if failed is not None and failed[0] == n:
                continue  # more work at the same count only makes it less unusual
            if plan[_PREV] + state.total / b.surge <= rule["days"] * plan[_MEAN_TOTAL]:
                continue  # no more records than usual: many small requests, no leak
            # a month end where everyone exports three times as often is three days'
            # worth of exports a day, for everyone
            events = state.events
            surge = b.request_surge(state, state.day, action, today, events)
            ahead = plan[i + _AHEAD] + events * surge
            phi = plan[i + _DISPERSION]
            p = count_tail(int(n / phi), plan[i + _HIST] / phi, plan[_HIST_EVENTS], ahead)
            if p < rule["alpha"]:
                taken = (action, n, plan[i + _HIST], p, ahead)
                break
            state.cache[key] = (n,)
        # the records taken today, held high as on the judged days before: only on a day
        # with the same requests as theirs (the days it is judged against)
        took = (
            exfil
            and plan[_TAKEN_LEVEL] < math.inf
            and state.total / b.surge > plan[_TAKEN_LEVEL]
            and all(requests.get(a, 0) for a, i in _ACTIONS if plan[i + _ALL] > 0)
        )
        if not held and taken is None and not took:
            return ()
        rule = ctx.rules.rule("drip")
        total = state.total / b.surge
        if plan[_PREV] + total <= rule["floor"]:
            return ()
        read = (state.total - state.exfil) / b.surge
        return self._signal(state, ctx, plan, held, taken, read, total, took)

    def quiet_on_reads(self, state: UserState, ctx: Context) -> bool:
        """Not established, or today's plan holds no reading to judge (only a request
        can make a count unusual): see the first lines of :meth:`observe`. Makes the
        day's plan when there is none yet, as :meth:`observe` would (it reads the
        user's days, not the event)."""
        if not state.established:
            return True
        plan = state.cache.get("drip")
        if plan is None:
            plan = self._plan(state, ctx)
        return not plan or plan[_READ_LEVEL] == math.inf

    @staticmethod
    def _signal(
        state: UserState, ctx: Context, plan: tuple[float, ...], held: bool,
        taken: tuple[str, float, float, float, float] | None, read: float, total: float,
        took: bool,
    ) -> Sequence[Signal]:  # fmt: skip
        rule = ctx.rules.rule("drip")
        days = int(rule["days"])
        factor = ctx.baseline.factor(state, "drip", surge=False)
        score, reasons = 0.0, []
        usual_read = math.expm1(plan[_READ_C])
        if held:
            z = min(plan[_MIN_READ_Z], (math.log1p(read) - plan[_READ_C]) / plan[_READ_S])
            score = z / rule["read_spreads"]
            reasons.append(f"read more than usual each day ({usual_words(usual_read, 'day')})")
        if took:
            z = min(plan[_MIN_TAKEN_Z], (math.log1p(total) - plan[_TAKEN_C]) / plan[_TAKEN_S])
            score = max(score, z / rule["read_spreads"])
            usual_taken = math.expm1(plan[_TAKEN_C])
            verb = _ACTIONS[int(plan[_TAKEN_BY])][0]
            reasons.append(
                f"took more than usual each day (usually {round(usual_taken):,} on a day "
                f"they {verb})"
            )
        requests = 0.0
        if taken is not None:
            action, requests, before, p, ahead = taken
            score = max(score, math.log(max(p, 1e-300)) / math.log(rule["alpha"]))
            per = before / max(plan[_HIST_EVENTS], 1.0) * ahead
            verb = {"export": "exported", "print": "printed"}.get(action, action)
            reasons.append(f"{verb} {round(requests)} times where {per:.1f} were to be expected")
        score /= factor
        if score < 1.0:
            return ()
        whole = plan[_PREV] + total
        return [
            Signal(
                "drip",
                state.name,
                score,
                f"{state.name} read {round(whole):,} records over the last {days} active "
                f"days and {'; '.join(reasons)}",
                {
                    "records": round(whole),
                    "days": days,
                    "requests": round(requests),
                    "usual_day": round(plan[_MEAN_TOTAL], 1),
                    "usual_read_day": round(usual_read, 1),
                },
            )
        ]

    @staticmethod
    def _plan(state: UserState, ctx: Context) -> tuple[float, ...]:
        """Once a day: what the days before today say (see the module docstring)."""
        rule = ctx.rules.rule("drip")
        b = ctx.rules.baseline
        days = int(rule["days"])
        hist = list(state.history)[-ctx.rules.history_days :]
        recent = hist[-(days - 1) :] if days > 1 else []
        # the baseline is what came before the days being judged, so a drip under way
        # cannot raise its own bar
        older = hist[: len(hist) - len(recent)]
        fresh = all(d.day >= state.day - 2 * days for d in recent)
        if len(older) < days + 2 or not fresh:
            state.cache["drip"] = ()
            return ()
        # what can drip today at all, cheapest first: reading held high on the previous
        # days (the trend only raises the bar, so a plain median that rules it out is
        # enough), or an action requested on every one of them
        reads = [(d.day, d.peaks.get("read", 0.0)) for d in older]
        read_c, read_s = _median_level(reads, b["min_spread"])
        spreads = rule["read_spreads"]
        held = all(
            (math.log1p(d.peaks.get("read", 0.0)) - read_c) / read_s >= spreads for d in recent
        )
        every = [all(d.requests.get(a, 0) > 0 for d in recent) for a, _ in _ACTIONS]
        if not held and not any(every):
            state.cache["drip"] = ()  # nothing can drip today: most events stop here
            return ()
        baseline = ctx.baseline
        group = baseline.peers.get(state.name, "*")
        min_read = -math.inf
        if held:
            read_c = _trend(reads, recent[0].day if recent else state.day, read_c)
            if len(hist) < ctx.rules.history_days:
                # still new: their own level is not settled (a new hire ramps up), so a
                # drip must also be above what is ordinary for their peers
                peer = baseline.peer_stats(group, state.day, "read")
                if peer is not None:
                    read_c = max(read_c, peer.center)
            min_read = min(
                ((math.log1p(d.peaks.get("read", 0.0)) - read_c) / read_s for d in recent),
                default=math.inf,
            )
        taken_terms = _NOT_HELD
        if any(every):
            taken_terms = _taken_terms(older, recent, every, b["min_spread"], spreads)
        exposure = float(sum(d.events for d in older))
        prior = PRIOR_DAYS * exposure / len(older)
        got: list[float] = [
            sum(d.total for d in recent),
            min_read,
            # the mean, not the median: a manager's export days are part of their usual
            sum(d.total for d in older) / len(older),
            math.expm1(read_c + spreads * read_s) if min_read >= spreads else math.inf,
            read_c,
            read_s,
            exposure + prior,
            *taken_terms,
        ]
        for all_days in every:
            # the count test's terms are worked out at the user's first such request of
            # the day (NaN until then): most users make none on most days
            got += [1.0, 0.0, math.nan, 0.0, 0.0, 1.0] if all_days else _NEVER
        if got[_READ_LEVEL] == math.inf and not any(every):
            got = []
        plan = state.cache["drip"] = tuple(got)
        return plan


def _prepare_terms(
    state: UserState, ctx: Context, plan: tuple[float, ...], action: str, i: int
) -> tuple[float, ...]:
    """The plan with the count test's terms for ``action`` (at offset ``i``) filled in."""
    rule = ctx.rules.rule("drip")
    days = int(rule["days"])
    hist = list(state.history)[-ctx.rules.history_days :]
    recent = hist[-(days - 1) :] if days > 1 else []
    older = hist[: len(hist) - len(recent)]
    baseline = ctx.baseline
    group = baseline.peers.get(state.name, "*")
    exposure = float(sum(d.events for d in older))
    prior = PRIOR_DAYS * exposure / len(older)
    counts = [(d.requests.get(action, 0), d.events) for d in older]
    phi = _dispersion(counts)
    # the peers' rate as a prior worth PRIOR_DAYS of the user's own work: someone who
    # never exported is not unusual for exporting as often as everyone does
    peer_rate = baseline.peer_request_rate(group, state.day, action)
    before = float(sum(c for c, _ in counts)) + peer_rate * prior
    # the judged days before today, each as much work as the user did that day, times
    # how much more often everyone else made such requests that day
    ahead = sum(
        d.events * baseline.request_surge(state, d.day, action, d.requests.get(action, 0), d.events)
        for d in recent
    )
    terms = [
        1.0,
        float(sum(d.requests.get(action, 0) for d in recent)),
        # with no surge today: a surge only raises it
        phi * least_unusual_count(before / phi, exposure + prior, ahead, rule["alpha"]),
        before,
        ahead,
        phi,
    ]
    got = plan[:i] + tuple(terms) + plan[i + len(terms) :]
    state.cache["drip"] = got
    return got


def _taken_terms(
    older: list[DayStat], recent: list[DayStat], every: list[bool], min_spread: float,
    spreads: float,
) -> list[float]:  # fmt: skip
    """(level, center, spread, least z, action) of the records taken on the judged days,
    the action being the index in ``_ACTIONS`` of the request whose days set the bar, or
    ``_NOT_HELD`` when they were not all held high: a hurdle model's second part. Whether
    the user exports at all on a day is the count test's to judge; how much such a day
    carries is judged against their own earlier days with the same request (an owner
    whose export days are a hundred times their reading days is not paged for three of
    them). Those are few (most people export on a few days a month) and the MAD of three
    days says little, so their spread is pooled with the spread of all the user's days as
    the baselines pool a spread with a prior: the prior counts as ``PRIOR_DAYS`` degrees of
    freedom, the export days as one less than there are. With several actions requested
    on every judged day, each one's days set a bar and the highest holds; an action with
    no more such days than are judged sets none that could be trusted, and then nothing
    is judged."""
    low = min((math.log1p(d.total) for d in recent), default=math.inf)
    prior2 = -1.0
    best = _NOT_HELD
    for k, ((action, _), all_days) in enumerate(zip(_ACTIONS, every, strict=True)):
        if not all_days:
            continue
        same = [math.log1p(d.total) for d in older if d.requests.get(action, 0)]
        if len(same) <= len(recent):
            return _NOT_HELD
        center = median(same)
        if low - center < spreads * min_spread:
            return _NOT_HELD  # not held whatever the spread (it is at least min_spread)
        if prior2 < 0:
            logs = [math.log1p(d.total) for d in older]
            prior2 = mad_sigma(logs, median(logs)) ** 2
        dof = len(same) - 1
        spread2 = (dof * mad_sigma(same, center) ** 2 + PRIOR_DAYS * prior2) / (dof + PRIOR_DAYS)
        spread = max(math.sqrt(spread2), min_spread)
        least = min(((math.log1p(d.total) - center) / spread for d in recent), default=math.inf)
        if least < spreads:
            return _NOT_HELD
        level = math.expm1(center + spreads * spread)
        if best is _NOT_HELD or level > best[0]:
            best = [level, center, spread, least, float(k)]
    return best


def _median_level(values: list[tuple[int, float]], min_spread: float) -> tuple[float, float]:
    """(median, robust spread) of log1p of the daily ``values`` (day, value)."""
    logs = [math.log1p(v) for _, v in values]
    center = median(logs)
    return center, max(mad_sigma(logs, center), min_spread)


def _trend(values: list[tuple[int, float]], at: int, center: float) -> float:
    """The level of log1p(values) for day ``at``: ``center`` (their median), unless the
    last ``RECENT_DAYS`` clearly rise (a one-sided Mann-Kendall test at 5%: days of
    ordinary variation rise now and then); then their Theil-Sen line (the median of
    pairwise slopes, robust to a minority of odd days) carried on to ``at``, so a new hire
    ramping up is judged against where they are heading, not where they started. A
    falling trend is not followed (someone back from a quiet spell is still held to their
    usual)."""
    tail = [(day, math.log1p(v)) for day, v in values[-RECENT_DAYS:]]
    slopes = [
        (y2 - y1) / (d2 - d1)
        for i, (d1, y1) in enumerate(tail)
        for d2, y2 in tail[i + 1 :]
        if d2 > d1
    ]
    slope = median(slopes) if len(slopes) >= 3 else 0.0
    if slope > 0 and _rising(tail):
        return max(center, median([y + slope * (at - day) for day, y in tail]))
    return center


def _rising(points: list[tuple[int, float]]) -> bool:
    """Mann-Kendall: do ``points`` (day, value) rise more than chance would have them (one
    sided, 5%, the normal approximation with a continuity correction)?"""
    n = len(points)
    if n < 4:
        return False
    s = 0
    for i, (_, a) in enumerate(points):
        for _, b in points[i + 1 :]:
            s += (b > a) - (b < a)
    sd = math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    return (s - 1) / sd >= _MK_Z


#: One-sided 5% point of the standard normal.
_MK_Z: Final = 1.6449


def _dispersion(counts: list[tuple[int, int]]) -> float:
    """How much more the daily counts (count, exposure) vary than Poisson counts at the
    user's rate would (Pearson's statistic over its degrees of freedom, at least 1): a
    quasi-Poisson scale. Someone whose prints come in busy and quiet days is not unusual
    for a busy stretch; counts are judged in units of this."""
    exposure = sum(e for _, e in counts)
    rate = sum(c for c, _ in counts) / exposure if exposure else 0.0
    used = [(c, rate * e) for c, e in counts if e > 0]
    if rate <= 0 or len(used) < 2:
        return 1.0
    pearson = sum((c - m) ** 2 / m for c, m in used)
    return max(1.0, pearson / (len(used) - 1))
