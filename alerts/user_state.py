"""What the detection engine remembers of one user: their day summaries and today's counts.

A :class:`UserState` is the per-user half of :mod:`alerts.baseline` (bounded: a few weeks
of :class:`DayStat` summaries and the current day's and hour's running counts); the
detectors read it on every event, so it is a slotted object, not a dataclass.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from typing import Final

from alerts.statistics import Stats, median
from alerts.windows import UserWindows

DAY: Final = 86400


class DayStat:
    """One active day of one user, divided by that day's company surge.

    A value (``Final`` fields, no setter in the compiled build); a compiled class, not
    a frozen dataclass, for the reason :class:`alerts.model.Event` gives (one is made
    per user and day)."""

    __slots__ = ("day", "events", "exfil", "logs", "peaks", "requests", "total")

    def __init__(
        self,
        day: int,
        exfil: float,
        total: float,
        peaks: dict[str, float],
        logs: dict[str, float],
        requests: dict[str, int] | None = None,
        events: int = 0,
    ) -> None:
        self.day: Final = day
        self.exfil: Final = exfil
        self.total: Final = total
        #: (dicts, not Mappings: the compiled build reads a dict's items with C calls,
        #: and a Mapping's through a method looked up by name; nobody changes them)
        self.peaks: Final = peaks
        #: log1p of each of the above that is above zero ("exfil", "total", every
        #: peak): the baselines read these every day for 28 days; taken once
        self.logs: Final = logs
        #: requests per action that takes data out (export, print): counts, not divided
        #: by any surge
        self.requests: Final[dict[str, int]] = {} if requests is None else requests
        #: counted read requests of every kind (views, lists, searches, exports,
        #: prints): the exposure that request counts are judged against
        self.events: Final = events

    def __repr__(self) -> str:
        return (
            f"DayStat(day={self.day!r}, exfil={self.exfil!r}, total={self.total!r}, "
            f"peaks={self.peaks!r}, logs={self.logs!r}, requests={self.requests!r}, "
            f"events={self.events!r})"
        )


class UserState:
    """What the engine remembers about one user (bounded: a few days of summaries)."""

    __slots__ = (
        "cache",
        "columns",
        "day",
        "day_by",
        "day_end",
        "departing_since",
        "epoch",
        "established",
        "events",
        "exfil",
        "first_day",
        "fp",
        "history",
        "hod",
        "hod_volume",
        "hour",
        "hour_by",
        "hour_end",
        "hour_exfil",
        "hour_slots",
        "hour_total",
        "hours",
        "ips",
        "leak_alerts",
        "limits",
        "name",
        "own",
        "peaks",
        "requests",
        "slots",
        "stats",
        "summarised",
        "thresholds",
        "total",
        "weekend_slots",
        "windows",
    )

    def __init__(self, name: str, day: int, keep_days: int) -> None:
        self.name = name
        self.first_day = day
        self.day = day
        self.day_end = (day + 1) * DAY  # event time at which ``day`` is over
        self.exfil = 0.0
        self.requests: dict[str, int] = {}
        self.events = 0
        self.total = 0.0
        self.hour = -1
        self.hour_end = -math.inf  # event time at which ``hour`` is over
        self.hod = 0  # hour of the day of ``hour``
        self.day_by: dict[str, float] = {}
        self.hour_by: dict[str, float] = {}
        self.hour_exfil = 0.0
        self.hour_total = 0.0
        self.peaks: dict[str, float] = {}
        self.history: deque[DayStat] = deque(maxlen=keep_days)
        #: day summaries ever appended to ``history``, and per metric their ``logs``
        #: (the summary's number, the value) while in it: see :meth:`logs_of`
        self.summarised = 0
        self.columns: dict[str, tuple[list[int], list[float]]] = {}
        self.thresholds: dict[str, float] = {}
        self.stats: dict[str, Stats] = {}
        self.cache: dict[str, tuple[float, ...]] = {}
        #: detectors' thresholds as they compare them (level x factors): valid while
        #: ``epoch`` is the baseline's (a new surge factor) and until ``reset_cache``
        self.limits: dict[str, float] = {}
        self.epoch = 0
        #: log statistics of this user's own history per metric (None: no such days)
        self.own: dict[str, Stats | None] = {}
        self.hod_volume = [0.0] * 24
        self.hour_slots = [0] * 24
        self.slots = 0
        self.weekend_slots = 0
        self.hours: set[int] = set()
        self.ips: dict[str, float] = {}
        self.departing_since: float | None = None
        #: per rule that judges this user's own activity: when it last signalled (score
        #: 1 or more), so the departing look-back knows what was already found
        self.leak_alerts: dict[str, float] = {}
        #: enough history of one's own (set when a day is summarised)
        self.established = False
        self.fp: dict[str, float] = {}
        #: the burst, volume and scraping windows (kept by the engine's read path)
        self.windows = UserWindows()

    def peak(self, name: str, value: float) -> None:
        """Remember today's largest ``value`` of ``name`` (a window count, a run)."""
        if value > self.peaks.get(name, 0.0):
            self.peaks[name] = value

    def remember(self, day: DayStat) -> None:
        """Append a day's summary to ``history`` (the only way in), and its logs to their
        metrics' columns."""
        self.history.append(day)
        number = self.summarised
        self.summarised = number + 1
        gone = self.summarised - (self.history.maxlen or 0)  # numbers no longer in history
        columns = self.columns
        for metric, value in day.logs.items():
            column = columns.get(metric)
            if column is None:
                column = columns[metric] = ([], [])
            numbers, values = column
            if numbers and numbers[0] < gone:
                drop = bisect_left(numbers, gone)
                del numbers[:drop]
                del values[:drop]
            numbers.append(number)
            values.append(value)

    def logs_of(self, metric: str, days: int) -> list[float]:
        """``[d.logs[metric] for d in the last days of history if metric in d.logs]``,
        from the metric's column: the baselines ask for one metric of every user once a
        day, and a pass over every summary for each was most of a baseline's cost. (Lists,
        not deques: the days wanted are found by bisection and copied by one slice.)"""
        column = self.columns.get(metric)
        if column is None:
            return []
        numbers, values = column
        first = self.summarised - min(days, self.history.maxlen or 0)
        if not numbers or numbers[0] >= first:
            return values[:]
        return values[bisect_left(numbers, first) :]

    def reset_cache(self) -> None:
        """Forget today's derived thresholds (a new day, new rules, a new factor)."""
        self.thresholds = {}
        self.stats = {}
        self.cache = {}
        self.limits = {}
        self.own = {}

    def median_total(self) -> float:
        got = self.thresholds.get("_median_total")
        if got is None:
            got = median([d.total for d in self.history])
            self.thresholds["_median_total"] = got
        return got

    def usual_by_hour(self) -> tuple[float, ...]:
        """Per hour of the day, this user's usual volume by the end of it (their median
        day times the share usually done by then), 0 while that share is under a fifth:
        what the company-wide surge compares today with (cached with the shares)."""
        got = self.cache.get("surge")
        if got is None:
            total = self.median_total()
            self.share_before(0)  # the shares, computed once a day
            shares = self.cache["shares"]
            usual = [total * share for share in shares]
            got = self.cache["surge"] = tuple(
                u if shares[h] >= 0.2 and u > 0 else 0.0 for h, u in enumerate(usual)
            )
        return got

    def share_before(self, hour: int) -> float:
        """Share of this user's usual daily volume done before the end of ``hour``
        (from the days before today: computed once a day)."""
        shares = self.cache.get("shares")
        if shares is None:
            whole = sum(self.hod_volume) or 1.0
            run, acc = 0.0, []
            for v in self.hod_volume:
                run += v
                acc.append(run / whole)
            shares = self.cache["shares"] = tuple(acc)
        return shares[hour]


def values_of(history: Iterable[DayStat], metric: str, days: int) -> list[float]:
    """The last ``days`` daily values of ``metric`` (exfil, total, or a daily peak)."""
    recent = list(history)[-days:]
    if metric == "exfil":
        return [d.exfil for d in recent]
    if metric == "total":
        return [d.total for d in recent]
    return [d.peaks.get(metric, 0.0) for d in recent]
