"""One user's sliding windows over event time: what the window detectors count.

The burst, volume and scraping detectors each judge a count over the last few seconds
or minutes of one user's reads. The engine keeps those counts up to date in one pass per
read event (:mod:`alerts.read_path`), on the user's own :class:`UserWindows`, and asks a
detector for its decision only when a count passes the detector's bar; the detectors
read these windows and keep only their decisions.
"""

from __future__ import annotations

from collections import deque


class Window:
    """Entries of the last window (oldest first) and the sum of their records.

    An entry is ``(t, records, resource)``. ``total`` starts as ``start``: the burst
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
        self.events: deque[tuple[float, int, str]] = deque()
        self.total = start
        self.gate = -1.0
        self.stamp: object = None


class Views:
    """Single-record views in the scraping window: each record's count and the id walk."""

    __slots__ = ("counts", "last", "run", "step", "window")

    def __init__(self) -> None:
        self.window: deque[tuple[float, tuple[str, int | str]]] = deque()
        self.counts: dict[tuple[str, int | str], int] = {}
        self.last: tuple[str, int | str] | None = None
        self.step = 0
        self.run = 1


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
