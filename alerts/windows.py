"""One user's sliding windows over event time: what the window detectors count.

The burst, volume and scraping detectors each judge a count over the last few seconds
or minutes of one user's reads. The engine keeps those counts up to date in one pass per
read event (:mod:`alerts.read_path`), on the user's own :class:`UserWindows`, and asks a
detector for its decision only when a count passes the detector's bar; the detectors
read these windows and keep only their decisions.
"""

from __future__ import annotations

from collections import deque


class Entry:
    """One read in a window: its time, its records and what they were.

    A compiled class rather than a tuple: the time stays a C double (a tuple would hold
    a float object, made for every read) and one entry serves both windows a read is
    counted in."""

    __slots__ = ("n", "resource", "t")

    def __init__(self, t: float, n: int, resource: str) -> None:
        self.t = t
        self.n = n
        self.resource = resource


class Window:
    """Entries of the last window (oldest first) and the sum of their records.

    An entry is an :class:`Entry` ``(t, n, resource)``. ``total`` starts as ``start``: the burst
    counts in whole records (an int), the volume window in a float, as their findings'
    words always did.

    Kept lazily by the read path: entries that left the window are dropped only when
    ``total`` (then an upper bound of the window's sum) passes ``gate``, the count under
    which nothing can happen (the day's peak, the detector's bar), valid while ``stamp``
    is the user's ``peaks`` or their ``limits``: a gate under the rule's floor depends on
    the day's peaks only (a new day replaces them), one above it on the user's limit
    too (a new factor replaces the limits, a new day both); a peak or a limit that
    appears in the meantime only raises what the gate could be, and new rules reset
    every gate (:meth:`UserWindows.reset_gates`). After that eviction, ``total`` is
    exact, which is when a detector reads it."""

    __slots__ = ("events", "gate", "stamp", "total")

    def __init__(self, start: float = 0) -> None:
        self.events: deque[Entry] = deque()
        self.total = start
        self.gate = -1.0
        self.stamp: object = None


class Viewed:
    """One single-record view in the scraping window: its time and its key."""

    __slots__ = ("key", "t")

    def __init__(self, t: float, key: object) -> None:
        self.t = t
        self.key = key


class Views:
    """Single-record views in the scraping window: each record's count and the id walk.

    A record's key is the tuple ``(resource, id)``, typed ``object`` so that the compiled
    build makes it once per view (a value of a tuple type is made anew each time it is
    used as a key). ``stamp`` is the user's ``peaks`` in which the distinct count was
    last compared with the day's peak: that count only grows when a record is new to
    the window, so the peak need not be looked at otherwise until a new day starts."""

    __slots__ = ("counts", "last_id", "last_resource", "run", "stamp", "step", "window")

    def __init__(self) -> None:
        self.window: deque[Viewed] = deque()
        self.counts: dict[object, int] = {}
        self.last_resource: str | None = None
        self.last_id: int | str = 0
        self.step = 0
        self.run = 1
        self.stamp: object = None


class UserWindows:
    """Every window of one user: reads in the burst window, exports and prints in the
    export-burst window (per kind), records per (action, resource) in the volume window,
    and single-record views in the scraping window."""

    __slots__ = ("exports", "minute", "quiet", "span", "spans", "views")

    def __init__(self) -> None:
        self.minute = Window()
        self.exports: dict[str, Window] = {}
        #: per (action, resource), by the engine's number for it (ReadRoute.slot)
        self.spans: dict[int, Window] = {}
        #: the volume window of the read being judged (set by the read path)
        self.span = Window(0.0)
        #: the user's ``cache`` while the detectors routed reads (after the read path)
        #: are all quiet on reads that take nothing out (``Detector.quiet_on_reads``)
        self.quiet: object = None
        self.views = Views()

    def reset_gates(self) -> None:
        """Forget every window's gate (new rules: new floors); the next read of each
        drops its old entries and sets it again."""
        for window in (self.minute, *self.exports.values(), *self.spans.values()):
            window.gate, window.stamp = -1.0, None
