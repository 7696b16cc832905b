"""The company-wide surge: how much more than usual everyone works today.

Every ``SURGE_EVERY`` seconds of event time the surge is the median, over the
established users active today, of their volume so far against their usual by this
hour (exports apart, against their usual export size), clamped to [1, cap]. Every
threshold is scaled by it, so that a month end where the whole team exports more does
not page everyone; a user above the median is held to the surge without them
(leave-one-out), so that their own burst cannot raise their own bar. A part of
:class:`~alerts.baseline.Baseline`, which holds the state these read.
"""

from __future__ import annotations

import math
from typing import Final

from alerts.request_rates import RequestRates
from alerts.statistics import Stats, _median_sorted
from alerts.user_state import DAY, UserState

HOUR: Final = 3600
#: How often (event time, seconds) the company-wide surge factor is recomputed.
SURGE_EVERY: Final = 600
_NOBODY: frozenset[str] = frozenset()


class CompanySurge(RequestRates):
    """Measures the surge factors; the state is :class:`~alerts.baseline.Baseline`'s."""

    surge: float
    surge_exfil: float
    surge_by_day: dict[int, tuple[float, float]]
    epoch: int
    _active_today: dict[str, UserState]
    _surge_exporters: list[UserState]
    _surge_own: float
    _surge_exfil_own: float
    _above: frozenset[str]
    _above_exfil: frozenset[str]

    def stats(self, state: UserState, metric: str) -> Stats:
        raise NotImplementedError  # the baseline's (a user's level with peers as prior)

    def _update_surge(self, t: float) -> None:
        """The median established user's volume today over their usual by this hour."""
        self._next_surge = (t // SURGE_EVERY + 1) * SURGE_EVERY
        day = int(t // DAY)
        before = self._factors()
        if day != self._surge_day:
            if self._surge_day >= 0:  # the day that ended: its request counts, once
                self.requests_by_day[self._surge_day] = self._request_counts(self._surge_day)
            self._surge_day, self.surge, self.surge_exfil = day, 1.0, 1.0
            self._surge_own = self._surge_exfil_own = 1.0
            self._above = self._above_exfil = frozenset()
            self._active_today = {}
            self._surge_pool = []
            self._surge_exporters = []
        else:
            self._measure_surge(day, int(t // HOUR) % 24)
        if self._factors() != before:
            self.epoch += 1

    def _factors(self) -> tuple[float, float, float, float, frozenset[str], frozenset[str]]:
        """Everything :meth:`factor` reads of the surge (a change makes limits stale).

        Who is above the median only matters while the surge without one of them
        differs from the surge: when both are the same (both clamped to 1, as on most
        hours), a new set of names above it changes no user's factor, and is not a
        change (every cached limit would be computed again to the same value)."""
        return (
            self.surge, self.surge_exfil, self._surge_own, self._surge_exfil_own,
            self._above if self._surge_own != self.surge else _NOBODY,
            self._above_exfil if self._surge_exfil_own != self.surge_exfil else _NOBODY,
        )  # fmt: skip

    def _measure_surge(self, day: int, hour: int) -> None:
        b = self._rules.baseline
        # this runs every SURGE_EVERY over every established user active today: one pass,
        # the ratios and their names in two lists, no tuple a user (a user's usual by
        # the hour is computed once a day)
        ratios: list[float] = []
        names: list[str] = []
        for s in self._surge_pool:
            usual = (s.cache.get("surge") or s.usual_by_hour())[hour]
            if usual:
                ratios.append(s.total / usual)
                names.append(s.name)
        exports: list[float] = []
        exporters: list[str] = []
        for s in self._surge_exporters:
            exported = s.day_by["export"]
            if exported:
                own = s.stats.get("day:export") or self.stats(s, "day:export")
                if own.n >= 3:
                    exports.append(exported / math.expm1(own.center))
                    exporters.append(s.name)
        least, cap = b["surge_min_users"], b["surge_cap"]
        self.surge, self._surge_own, self._above = _surge(ratios, names, least, cap)
        self.surge_exfil, self._surge_exfil_own, self._above_exfil = _surge(
            exports, exporters, least, cap
        )
        # days are stored divided by the surges measured (a reading surge says nothing of
        # how large that day's exports were, and dividing by it would lower baselines)
        self.surge_by_day[day] = (self.surge, self.surge_exfil)
        if len(exports) < least:
            # too few exporters with sizes of their own to measure the export surge (in a
            # small company, most days; early on a month end, every one): the bar follows
            # the day's workload, measured on everyone's reading, the evidence there is
            self.surge_exfil, self._surge_exfil_own, self._above_exfil = (
                self.surge, self._surge_own, self._above)  # fmt: skip


def _surge(
    ratios: list[float], names: list[str], least: float, cap: float
) -> tuple[float, float, frozenset[str]]:
    """(the median ratio, the median without any one user above it, the ``names`` of
    those users); 1.0 when fewer than ``least`` users take part. Clamped to [1, cap].
    Who is above matters only where the two differ (``Baseline.factor`` gives either
    the same way): otherwise the names are not gathered."""
    if len(ratios) < least:
        return 1.0, 1.0, _NOBODY
    values = sorted(ratios)
    mid = _median_sorted(values)
    n = len(values) - 1
    if n < least:
        without = 1.0
    else:
        # removing one value above the median leaves the lower half and the rest: the
        # order statistics below it stay (those of the first n values)
        without = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0
    surge, own = min(max(mid, 1.0), cap), min(max(without, 1.0), cap)
    if own == surge:
        return surge, own, _NOBODY
    return surge, own, frozenset([name for r, name in zip(ratios, names, strict=True) if r > mid])
