"""Per-user and peer state: what "usual" means for each user, learned from the ledger.

Every user's day is summarised when their next day starts (a handful of numbers: the
records they read, exported and printed, their busiest hour and minute, their largest
export, ...), and levels are computed once a day from the last ``history_days`` of those
summaries with robust statistics on log volumes: the median and the MAD (one odd day moves
neither), capped by a high quantile times a margin. A user's own figures are combined with
their peers' (same role or team when the shell knows it, everyone otherwise) as a normal-
normal hierarchical estimate: a new user starts at their peers' level, and their own
weighs more with every day. Signals that need a user's own pattern wait for the learning
period (``learning_days``). A company-wide surge factor (the median user's volume today
against their usual at this time of day; exports apart) scales every threshold, so a
month end where everyone works harder does not page everyone; days are stored divided by
their surge, so surges do not inflate the baselines either.

All clocks are event time (seconds since the epoch); nothing here reads the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from alerts.request_rates import RequestCounts
from alerts.rules import Rules
from alerts.statistics import (
    _MAD_TO_SIGMA,
    _Z,
    Stats,
    median,
    quantile,
    stats_of_logs,
    t_equivalent,
)
from alerts.surge import HOUR, CompanySurge
from alerts.user_state import DAY, DayStat, UserState

#: An address is new for this long after a user is first seen on it (seconds).
NEW_ADDRESS: Final = 12 * HOUR
#: A user with nothing of their own yet is held to this quantile of their peers' levels
#: (a newcomer may well be one of the busier members; paging them for it helps no one).
PEER_LEVEL_QUANTILE: Final = 0.75
#: The same when the peers are everyone (no role or team known, as in a replay): the
#: newcomer could be any of them, an owner who exports the whole book once a month as
#: well as a support agent, so they are held to the level of the busiest few.
ANYONE_LEVEL_QUANTILE: Final = 0.95
#: The peers' spread weighs as much as this many days of one's own variation.
PRIOR_DAYS: Final = 5
#: A member's spread counts toward their peers' only from this many days on (the MAD of
#: one or two values is 0, of three or four it is still mostly noise).
MIN_SPREAD_DAYS: Final = 5
_UNKNOWN = Stats(math.nan, math.nan, math.nan, -1)  # not computed yet (own_stats' memo)


class Baseline(CompanySurge):
    """All users' state, their peers, and the company-wide surge (measured in
    :class:`~alerts.surge.CompanySurge`; how often users make requests:
    :class:`~alerts.request_rates.RequestRates`)."""

    def __init__(self, rules: Rules, peers: Mapping[str, str] | None = None) -> None:
        self._rules = rules
        self.departing_factor = rules.rule("departing")["threshold_factor"]
        self.peers = dict(peers or {})
        self.users: dict[str, UserState] = {}
        self.surge = 1.0
        self.surge_exfil = 1.0
        self.surge_by_day: dict[int, tuple[float, float]] = {}
        #: per day and action: (requests seen, requests expected by the users' own rates,
        #: users counted) among established users active that day
        self.requests_by_day: dict[int, dict[str, RequestCounts]] = {}
        self._requests_now: tuple[float, dict[str, RequestCounts]] = (-1.0, {})
        self._surge_day = -1
        self._next_surge = 0.0
        self._active_today: dict[str, UserState] = {}
        #: the established users among them: the ones the surge is measured on
        self._surge_pool: list[UserState] = []
        #: and those of them who exported today (in the order of their first export)
        self._surge_exporters: list[UserState] = []
        #: the surge without the one user it is applied to, for users above the median
        #: (leave-one-out: a user's own burst must not raise their own bar)
        self._surge_own = self._surge_exfil_own = 1.0
        self._above: frozenset[str] = frozenset()
        self._above_exfil: frozenset[str] = frozenset()
        #: bumped when the surge factors change: every user's cached limits are stale
        self.epoch = 0
        self._peer_cache: dict[tuple[str, int, str], Stats | None] = {}
        self._peer_rates: dict[tuple[str, int, str], float] = {}

    @property
    def rules(self) -> Rules:
        return self._rules

    @rules.setter
    def rules(self, rules: Rules) -> None:
        self._rules = rules
        self.departing_factor = rules.rule("departing")["threshold_factor"]
        self._peer_cache.clear()
        self.epoch += 1
        for state in self.users.values():
            state.reset_cache()

    @property
    def keep_days(self) -> int:
        lookback = int(self.rules.rule("departing")["lookback_days"])
        return max(self.rules.history_days, lookback) + 1

    # -- updating ----------------------------------------------------------------------

    def user(self, name: str, t: float) -> UserState:
        """The state of ``name`` at event time ``t``, with finished days summarised."""
        state = self.users.get(name)
        if state is None:
            state = self.users[name] = UserState(name, int(t // DAY), self.keep_days)
        elif t >= state.day_end:
            self._new_day(state, int(t // DAY))
        return state

    def read(self, name: str, t: float, n: int, exfil: str | None) -> UserState:
        """Count ``n`` records read by ``name`` at time ``t`` (``exfil`` names an export
        or print) and return their state, ready for the detectors.

        Every counted read comes through here, so the common case is kept to additions:
        day and hour change only when ``t`` passes the cached ends of the current ones.
        """
        state = self.users.get(name)
        if state is None:
            state = self.users[name] = UserState(name, int(t // DAY), self.keep_days)
        elif t >= state.day_end:
            self._new_day(state, int(t // DAY))
        if t >= self._next_surge:
            self._update_surge(t)
        if t >= state.hour_end:
            self._new_hour(state, t)
        state.hour_total += n
        state.total += n
        state.events += 1
        state.hod_volume[state.hod] += n
        if exfil is not None:
            state.exfil += n
            state.requests[exfil] = state.requests.get(exfil, 0) + 1
            if exfil == "export" and "export" not in state.day_by and state.established:
                self._surge_exporters.append(state)
            state.day_by[exfil] = state.day_by.get(exfil, 0.0) + n
            state.hour_by[exfil] = state.hour_by.get(exfil, 0.0) + n
            state.hour_exfil += n
        if state.epoch != self.epoch:  # the surge factor changed: limits are stale
            state.limits = {}
            state.epoch = self.epoch
        return state

    def _new_day(self, state: UserState, day: int) -> None:
        self._finish_day(state)
        state.day = day
        state.day_end = (day + 1) * DAY
        state.established = (
            day - state.first_day >= self.rules.learning_days and len(state.history) >= 3
        )

    def _new_hour(self, state: UserState, t: float) -> None:
        hour = int(t // HOUR)
        self._close_hour(state)
        state.hour = hour
        state.hour_end = float((hour + 1) * HOUR)
        state.hod = hour % 24
        if state.name not in self._active_today:  # every day starts with a new hour
            self._active_today[state.name] = state
            if state.established:  # (fixed for the day, as is the day itself)
                self._surge_pool.append(state)
        if hour not in state.hours:
            state.hours.add(hour)
            state.hour_slots[hour % 24] += 1
            state.slots += 1
            if (hour // 24 + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
                state.weekend_slots += 1

    def _finish_day(self, state: UserState) -> None:
        state.peak("hour_total", state.hour_total)
        self._close_hour(state)
        for action, value in state.day_by.items():
            state.peak("day:" + action, value)
        state.peak("read", state.total - state.exfil)
        if state.total > 0:
            surge, surge_exfil = self.surge_by_day.get(state.day, (1.0, 1.0))
            # volumes are divided by their surge; counts of requests ("winreq:") are not
            peaks = {
                k: v
                if k.startswith("winreq:")
                else v / (surge_exfil if ("export" in k or "print" in k) else surge)
                for k, v in state.peaks.items()
            }
            exfil, total = state.exfil / surge_exfil, state.total / surge
            logs = {k: math.log1p(v) for k, v in (("exfil", exfil), ("total", total)) if v > 0}
            logs.update((k, math.log1p(v)) for k, v in peaks.items() if v > 0)
            state.remember(
                DayStat(state.day, exfil, total, peaks, logs, state.requests, state.events)
            )
        state.exfil = state.total = 0.0
        state.requests = {}
        state.events = 0
        state.day_by = {}
        state.hour = -1
        state.hour_end = -math.inf
        state.peaks = {}
        state.reset_cache()
        since = (state.day - 1) * 24
        state.hours = {h for h in state.hours if h >= since}

    @staticmethod
    def _close_hour(state: UserState) -> None:
        peaks = state.peaks
        total = state.hour_total
        if total > peaks.get("hour_total", 0.0):
            peaks["hour_total"] = total
        read = total - state.hour_exfil
        if read > peaks.get("hour_read", 0.0):
            peaks["hour_read"] = read
        if state.hour_by:
            for action, value in state.hour_by.items():
                state.peak("hour:" + action, value)
            state.hour_by = {}
        state.hour_total = state.hour_exfil = 0.0

    # -- thresholds --------------------------------------------------------------------

    @staticmethod
    def established(state: UserState) -> bool:
        """Enough history of one's own (the learning period is over)."""
        return state.established

    def stats(self, state: UserState, metric: str) -> Stats:
        """This user's level of ``metric`` on the days it occurred, with their peers as prior.

        Only days where the metric was above zero count (most people export on a few days
        a month: the question is how large an export of theirs usually is, not how often
        it happens). The estimate is the normal-normal hierarchical one on log volumes: the
        user's own median weighs ``n / within^2``, the peers' typical level ``1 / between^2``,
        and the spread used for thresholds is the predictive one (their own variation plus
        what is still unknown about their level). A new user starts at their peers' level
        with a wide spread; after a few weeks the baseline is their own.
        """
        got = state.stats.get(metric)
        if got is not None:
            return got
        mine = self.own_stats(state, metric)
        peer = self.peer_stats(self.peers.get(state.name, "*"), state.day, metric)
        n = 0 if mine is None else mine.n
        if peer is None:
            got = mine if mine is not None else Stats(-1.0, 0.0, -1.0, 0)
        else:
            within2 = peer.spread**2
            center = peer.center
            between2 = max(peer.between, 0.1) ** 2
            if mine is not None:
                if n >= 2:
                    # a scaled-inverse-chi-square prior: the peers' spread counts as
                    # PRIOR_DAYS degrees of freedom, the user's own as n - 1
                    dof = n - 1
                    within2 = (dof * mine.spread**2 + PRIOR_DAYS * within2) / (dof + PRIOR_DAYS)
                within2 = max(within2, 1e-4)
                precision = n / within2 + 1 / between2
                center = (n / within2 * mine.center + peer.center / between2) / precision
                unknown = 1 / precision
            else:
                got = peer  # nothing of their own yet: held to their peers' level
                state.stats[metric] = got
                return got
            spread = math.sqrt(within2 + unknown)
            q = self.rules.baseline["quantile"]
            # the predicted quantile: with what is unknown about their level (a user
            # with one or two days of a measure is not held to a tight bar around a guess),
            # and with what is unknown about their spread: the next value's distribution
            # is Student's t with the spread's degrees of freedom, not normal
            dof = max(n - 1, 0) + PRIOR_DAYS
            got = Stats(center, spread, center + t_equivalent(_Z[q], dof) * spread, n, dof=dof)
        state.stats[metric] = got
        return got

    def usual(self, state: UserState, metric: str) -> float:
        """The level of ``metric`` above which this user is unusual (before any factor):
        ``max(e^(center + k * spread), e^high * margin)``; 0 when nothing is known."""
        got = state.thresholds.get(metric)
        if got is None:
            st = self.stats(state, metric)
            b = self.rules.baseline
            if st.center < 0:
                got = 0.0
            elif st.level >= 0:
                # nothing of their own yet: their peers' level. (How much someone reads
                # says little about how much they export: owners read least and export
                # the largest reports.)
                got = math.expm1(st.level)
            else:
                spread = max(st.spread, b["min_spread"])
                # k robust spreads above the median, but never more than margin times the
                # user's own high day: for a user whose days vary a lot, k spreads would
                # let almost anything through
                # (k is a normal z: with a spread estimated from few days, the same tail
                # of the predictive t lies further out, and margin x high bounds it)
                k = t_equivalent(b["k"], st.dof) if st.dof else b["k"]
                got = min(math.expm1(st.center + k * spread), math.expm1(st.high) * b["margin"])
            state.thresholds[metric] = got
        return got

    def own_stats(self, state: UserState, metric: str) -> Stats | None:
        """Log statistics of the user's own days where ``metric`` was above zero (None:
        no such day). Their history only changes when a day is summarised, so this is
        computed once a day per metric, for them and for every group they are a peer in."""
        own = state.own
        if metric in own:
            return own[metric]
        logs = state.logs_of(metric, self.rules.history_days)
        got = own[metric] = stats_of_logs(logs, self.rules.baseline["quantile"]) if logs else None
        return got

    def typical(self, state: UserState, metric: str) -> float:
        """The user's ordinary high level of ``metric`` (their ``quantile`` day), for words."""
        st = self.stats(state, metric)
        return 0.0 if st.center < 0 else math.expm1(st.high)

    def peer_stats(self, group: str, day: int, metric: str) -> Stats | None:
        """The typical established member of ``group``: the median of their centers, and
        a spread that adds how much members differ (a newcomer could be any of them)."""
        key = (group, day, metric)
        if key in self._peer_cache:
            return self._peer_cache[key]
        if len(self._peer_cache) > 10000:
            self._peer_cache.clear()
        members: list[Stats] = []
        b = self.rules.baseline
        own_stats = self.own_stats
        everyone = group == "*"
        for s in self.users.values():
            if s.established and (everyone or self.peers.get(s.name) == group):
                mine = s.own.get(metric, _UNKNOWN)
                if mine is _UNKNOWN:
                    mine = own_stats(s, metric)
                if mine is not None:
                    members.append(mine)
        if not members and group != "*":
            return self.peer_stats("*", day, metric)
        got = None
        if members:
            centers = [m.center for m in members]
            center = median(centers)
            between = _MAD_TO_SIGMA * median([abs(c - center) for c in centers])
            # a spread needs a few days: a member with one or two days has a MAD of 0,
            # and a median of such zeros would make every newcomer's baseline a point
            spreads = [m.spread for m in members if m.n >= MIN_SPREAD_DAYS]
            within = median(spreads) if spreads else b["min_spread"]
            if len(members) < 3:
                between = max(between, 1.0)  # too few peers to know how much people differ
            k, min_spread, log_margin = b["k"], b["min_spread"], math.log(b["margin"])
            levels = [
                max(
                    m.center + k * max(m.spread if m.n >= MIN_SPREAD_DAYS else within, min_spread),
                    m.high + log_margin,
                )
                for m in members
            ]
            got = Stats(
                center, within, median([m.high for m in members]), 0, between,
                quantile(levels, ANYONE_LEVEL_QUANTILE if group == "*" else PEER_LEVEL_QUANTILE),
            )  # fmt: skip
        self._peer_cache[key] = got
        return got

    def factor(
        self, state: UserState, rule: str, *, surge: bool = True, exfil: bool = False
    ) -> float:
        """What multiplies a threshold of ``rule`` for this user right now: the company
        surge, the user's false-positive factor, and for what leaves the CRM (``exfil``:
        exports and prints) the departing factor. Reading stays judged as usual: a
        departing user still works their last weeks, what matters is what they take."""
        if not surge:
            f = 1.0
        elif exfil:
            f = self._surge_exfil_own if state.name in self._above_exfil else self.surge_exfil
        else:
            f = self._surge_own if state.name in self._above else self.surge
        if state.fp:
            f *= state.fp.get(rule, 1.0)
        if exfil and state.departing_since is not None:
            f *= self.departing_factor
        return f

    def unusual_time(self, state: UserState, t: float) -> bool:
        """An hour of day, or a weekend, this user rarely works (their own pattern)."""
        if state.slots < 20:
            return False
        share = self.rules.rule("unusual_export")["rare_share"]
        hour = int(t // HOUR)
        weekend = (hour // 24 + 3) % 7 >= 5
        # the hour being judged is already counted (the session's first event opened
        # it): it cannot make itself usual
        own = 1 if hour in state.hours else 0
        slots = state.slots - own
        if slots <= 0:
            return False
        if (state.hour_slots[hour % 24] - own) / slots < share:
            return True
        return weekend and (state.weekend_slots - own) / slots < share

    def new_address(self, state: UserState, ip: str | None, t: float) -> bool:
        """An address first seen for this user in the last ``NEW_ADDRESS`` seconds (a
        session that starts from a new place and exports a minute later is still new)."""
        if not ip or not state.ips:
            return False
        seen = state.ips.get(ip)
        return seen is None or t - seen < NEW_ADDRESS
