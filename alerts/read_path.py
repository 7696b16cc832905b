"""The engine's one pass over a counted read: every window updated, decisions on demand.

Most reads raise nothing, and each window detector (burst, volume, scraping) and the
usual-volume rule would otherwise be called for every one of them only to add a number
to its own window and compare it with a bar. Here one pass per event updates the user's
windows (:class:`~alerts.windows.UserWindows`) and their daily peaks, and a detector's
``observe`` is called only when a count passes the bar below which that detector returns
nothing: its rule's floor and, once known, the user's cached limit (``state.limits``).
The detectors keep their decisions; the bars here are the first lines of those decisions
and must move with them. The burst and volume windows are kept lazily: old entries are
dropped, and peaks and bars looked at, only when a window's running sum passes the count
under which none of that can matter (see :class:`~alerts.windows.Window`).

The order of everything (window updates, peaks, the detectors' calls and so their
signals and the limits they compute) is the order in which the detectors ran when each
kept its own windows: burst, volume, usual volume, scraping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from alerts.detectors.interface import EXFIL_ACTIONS, Context, Detector, Signal
from alerts.model import Event
from alerts.rules import Rules
from alerts.user_state import UserState
from alerts.windows import Entry, Viewed, Window

#: a detector's ``observe``, as the engine routes events to it
Observe = Callable[[Event, float, UserState | None, Context], Sequence[Signal]]

#: what the caller builds the Event from (the Event itself, or a replay's parsed line)
L = TypeVar("L")

#: the usual-volume rule's floors times the user's factor, in ``state.limits``
_HOUR_BAR: Final = "floor:baseline_hour"
_DAY_BAR: Final = "floor:baseline_day"

#: deque's own methods, looked up once: the compiled build calls a deque's methods by
#: name (a lookup on the type per call), and calls these directly
_push: Final[Callable[[deque[Entry], Entry], None]] = deque.append
_pop: Final[Callable[[deque[Entry]], Entry]] = deque.popleft
_push_view: Final[Callable[[deque[Viewed], Viewed], None]] = deque.append
_pop_view: Final[Callable[[deque[Viewed]], Viewed]] = deque.popleft

#: the read-path detectors by name of class, in the order they run
_NAMES = ("BurstDetector", "VolumeDetector", "UsualVolumeDetector", "ScrapingDetector")


@dataclass(frozen=True, slots=True)
class ReadRoute:
    """What the engine knows of one (action, resource) of a counted read, once."""

    #: this (action, resource)'s key in ``state.windows.spans``
    slot: int
    resource: str
    #: "export" or "print" (what leaves the CRM), else None
    exfil: str | None
    #: a single-record view (the scraping window) when it has one id
    view: bool
    #: the volume metric, its key in ``state.limits`` and the action's absolute limit
    metric: str
    limit_key: str
    floor: float | None
    #: the ``observe`` of the other detectors shown this read, in their order
    route: tuple[Observe, ...]
    #: for a read that takes nothing out: their ``quiet_on_reads``, asked before and
    #: after the route runs (while all say so, the user's ``windows.quiet`` skips it)
    quiet: tuple[Callable[[UserState, Context], bool], ...] | None


class ReadPath:
    """See the module docstring; one per engine."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        by_name = {type(d).__name__: d for d in detectors if d.read_path}
        if tuple(by_name) != _NAMES:
            raise ValueError(f"the read path runs {_NAMES}, got {tuple(by_name)}")
        self._burst = by_name["BurstDetector"].observe
        self._volume = by_name["VolumeDetector"].observe
        self._usual = by_name["UsualVolumeDetector"].observe
        self._scraping = by_name["ScrapingDetector"].observe
        self._burst_seconds = self._burst_floor = 0.0
        self._volume_seconds = 0.0
        self._volume_limits: dict[str, float] = {}
        self._hour_floor = self._day_floor = 0.0
        self._view_seconds = self._view_floor = self._view_run = 0.0
        #: a small number per (action, resource) read: the users' volume windows' keys
        self._slots: dict[tuple[str, str], int] = {}

    def configure(self, rules: Rules) -> None:
        """The windows' lengths and the detectors' floors (the engine calls it with the
        detectors' own ``configure``)."""
        burst = rules.rules["burst"].params
        self._burst_seconds = burst["window_seconds"]
        self._burst_floor = burst["floor"]
        volume = rules.rules["volume"]
        self._volume_seconds = volume.params["window_minutes"] * 60
        self._volume_limits = dict(volume.limits)
        self._hour_floor = rules.rules["baseline_hour"].params["floor"]
        self._day_floor = rules.rules["baseline_day"].params["floor"]
        scraping = rules.rules["scraping"].params
        self._view_seconds = scraping["window_minutes"] * 60
        self._view_floor = scraping["distinct_floor"]
        self._view_run = scraping["sequential_run"]

    def _usual_asked(self, state: UserState, ctx: Context) -> bool:
        """Can the usual-volume rule say anything of a read (one that takes nothing out)
        past its floors? Not while the hour's and the day's reading are each under the
        first bar the rule compares them with: the user's limit once known, else the
        rule's floor times the user's factor (under which the rule does not look the
        limit up). That bar is kept in ``state.limits`` as the limits are, which are
        replaced whenever a factor changes."""
        hour_bar = _first_bar(
            state, ctx, "baseline_hour:hour_read", _HOUR_BAR, self._hour_floor, "baseline_hour"
        )
        if state.hour_total - state.hour_exfil > hour_bar:
            return True
        day_bar = _first_bar(
            state, ctx, "baseline_day:read", _DAY_BAR, self._day_floor, "baseline_day"
        )
        return state.total - state.exfil > day_bar

    def route(self, action: str, resource: str, route: Sequence[Detector]) -> ReadRoute:
        metric = "vol:" + action
        exfil = action if action in EXFIL_ACTIONS else None
        self._slots.setdefault((action, resource), len(self._slots))
        return ReadRoute(
            self._slots[action, resource], resource, exfil, action == "view", metric,
            "volume:" + metric, self._volume_limits.get(action), tuple(d.observe for d in route),
            tuple(d.quiet_on_reads for d in route) if exfil is None else None,
        )  # fmt: skip

    def observe(
        self,
        line: L,
        build: Callable[[L], Event],
        ids: Sequence[int | str],
        t: float,
        state: UserState,
        n: int,
        r: ReadRoute,
        ctx: Context,
    ) -> list[Signal] | None:
        """The signals of the read-path detectors for this read (None: none); ``n`` is
        its records, already counted in ``state`` by the baseline, ``ids`` its record ids.
        The Event, which a detector reads, is ``build(line)``: built only for a detector
        asked (see :meth:`alerts.engine.DetectionEngine.observe_fields`)."""
        out: list[Signal] | None = None
        w = state.windows
        peaks = state.peaks
        resource = r.resource
        # burst: reads in its window; exports and prints are the detector's own
        entry = Entry(t, n, resource)  # (one for both windows: entries are read only)
        limits = state.limits
        if r.exfil is None:
            minute = w.minute
            events = minute.events
            _push(events, entry)
            count = minute.total + n
            stamp = minute.stamp
            if count > minute.gate or (stamp is not peaks and stamp is not limits):
                horizon = t - self._burst_seconds
                while events[0].t <= horizon:
                    count -= _pop(events).n
                peak = peaks.get("minute", 0.0)
                if count > peak:
                    peak = peaks["minute"] = count
                floor = self._burst_floor
                if peak <= floor:  # (and so is the count: the rule says nothing)
                    minute.gate, minute.stamp = peak, peaks
                else:
                    if count > floor:
                        minute.total = count
                        limit = limits.get("burst:minute")
                        if limit is None or count > limit:
                            got = self._burst(build(line), t, state, ctx)
                            if got:
                                out = list(got)
                    # the gate: min(peak, bar), the bar the floor or the user's limit
                    limit = limits.get("burst:minute")
                    if limit is None or limit <= floor:
                        minute.gate, minute.stamp = floor, peaks
                    else:
                        minute.gate, minute.stamp = (limit if limit < peak else peak), limits
            minute.total = count
        else:
            got = self._burst(build(line), t, state, ctx)
            if got:
                out = list(got)
        # volume: records per (action, resource) in its window
        span = w.spans.get(r.slot)
        if span is None:
            span = w.spans[r.slot] = Window(0.0)
        events = span.events
        _push(events, entry)
        total = span.total + n
        stamp = span.stamp
        if total > span.gate or (stamp is not peaks and stamp is not limits):
            horizon = t - self._volume_seconds
            while events[0].t <= horizon:
                total -= _pop(events).n
            metric = r.metric
            peak = peaks.get(metric, 0.0)
            if total > peak:
                peak = peaks[metric] = total
            most = r.floor
            if most is None or peak <= most:  # (and so is the total)
                span.gate, span.stamp = peak, peaks
            else:
                if total > most:
                    limit = limits.get(r.limit_key)
                    if limit is None or total > limit:
                        w.span, span.total = span, total
                        got = self._volume(build(line), t, state, ctx)
                        if got:
                            out = list(got) if out is None else out + list(got)
                limit = limits.get(r.limit_key)
                if limit is None or limit <= most:
                    span.gate, span.stamp = most, peaks
                else:
                    span.gate, span.stamp = (limit if limit < peak else peak), limits
        span.total = total
        # usual volume: every export and print, reads past the floors and their bars
        if r.exfil is not None or (
            (state.hour_total > self._hour_floor or state.total > self._day_floor)
            and self._usual_asked(state, ctx)
        ):
            got = self._usual(build(line), t, state, ctx)
            if got:
                out = list(got) if out is None else out + list(got)
        # scraping: single-record views in its window, and the walk through ids
        if r.view and len(ids) == 1:
            v = w.views
            rid = ids[0]
            key: object = (resource, rid)
            window, counts = v.window, v.counts
            _push_view(window, Viewed(t, key))
            seen = counts.get(key)
            counts[key] = 1 if seen is None else seen + 1
            horizon = t - self._view_seconds
            while window[0].t <= horizon:
                old = _pop_view(window).key
                left = counts[old] - 1
                if left:
                    counts[old] = left
                else:
                    del counts[old]
            # a walk through ids one apart, in one direction, extends the run
            if v.last_resource != resource:
                v.run, v.step = 1, 0
            else:
                was = v.last_id
                if isinstance(was, int) and isinstance(rid, int) and abs(rid - was) == 1:
                    if rid - was == v.step:
                        v.run += 1
                    else:
                        v.run, v.step = 2, rid - was
                elif was != rid:
                    v.run, v.step = 1, 0
            v.last_resource, v.last_id = resource, rid
            distinct = len(counts)
            # the count grew only if the record is new to the window (or a new day began)
            if seen is None or v.stamp is not peaks:
                if distinct > peaks.get("views", 0.0):
                    peaks["views"] = distinct
                v.stamp = peaks
            if distinct > self._view_floor or v.run >= self._view_run:
                got = self._scraping(build(line), t, state, ctx)
                if got:
                    out = list(got) if out is None else out + list(got)
        return out


def _first_bar(
    state: UserState, ctx: Context, limit: str, cached: str, floor: float, rule: str
) -> float:
    """The first bar a rule compares a volume with: the user's ``limit`` once known, else
    the rule's ``floor`` times the user's factor, kept under ``cached`` in the limits."""
    limits = state.limits
    bar = limits.get(limit)
    if bar is None:
        bar = limits.get(cached)
        if bar is None:
            bar = limits[cached] = floor * ctx.baseline.factor(state, rule)
    return bar
