"""Scraping: many distinct records opened one by one in a short time, or an id walk.

A person reading their clients opens a few records a minute, scattered over ids; a
script (or a patient copier) opens hundreds in a row, often in id order. Two signals:
distinct single-record views within the window above ``max(distinct_floor, the user's
usual busiest window)``, and a run of views whose ids step by one.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from alerts.baseline import UserState
from alerts.detectors.interface import Context, Detector, Kind, Signal, records, span
from alerts.model import Event


class _Views:
    __slots__ = ("counts", "last", "run", "step", "window")

    def __init__(self) -> None:
        self.window: deque[tuple[float, tuple[str, int | str]]] = deque()
        self.counts: dict[tuple[str, int | str], int] = {}
        self.last: tuple[str, int | str] | None = None
        self.step = 0
        self.run = 1


class ScrapingDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})
    actions = frozenset({"view"})

    def __init__(self) -> None:
        self._users: dict[str, _Views] = {}

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        if event.action != "view" or len(event.record_ids) != 1:
            return []
        assert state is not None
        rule = ctx.rules.rules["scraping"]
        v = self._users.get(state.name)
        if v is None:
            v = self._users[state.name] = _Views()
        key = (event.resource, event.record_ids[0])
        v.window.append((t, key))
        v.counts[key] = v.counts.get(key, 0) + 1
        horizon = t - rule["window_minutes"] * 60
        while v.window[0][0] <= horizon:
            old = v.window.popleft()[1]
            left = v.counts[old] - 1
            if left:
                v.counts[old] = left
            else:
                del v.counts[old]
        self._walk(v, key)
        distinct = len(v.counts)
        peaks = state.peaks
        if distinct > peaks.get("views", 0.0):
            peaks["views"] = distinct
        if distinct <= rule["distinct_floor"] and v.run < rule["sequential_run"]:
            return []  # under the lowest possible bars
        b = ctx.baseline
        factor = b.factor(state, "scraping")
        out: list[Signal] = []
        limit = max(rule["distinct_floor"], b.usual(state, "views")) * factor
        run_limit = rule["sequential_run"] * state.fp.get("scraping", 1.0)
        score = max(
            distinct / limit if distinct > limit else 0.0,
            v.run / run_limit if v.run >= run_limit else 0.0,
        )
        if score >= 1:
            walk = f", {v.run} of them in id order" if v.run >= run_limit else ""
            out.append(
                Signal(
                    "scraping",
                    state.name,
                    score,
                    f"{state.name} opened {records(event.resource, distinct)} one by one in "
                    f"{span(max(t - v.window[0][0], 1))}{walk}; alert level {round(limit):,}",
                    {
                        "distinct_views": distinct,
                        "id_run": v.run,
                        "threshold": round(limit, 1),
                        "record_ids": [k[1] for k in list(v.counts)[-ctx.rules.sample_ids :]],
                    },
                )
            )
        return out

    @staticmethod
    def _walk(v: _Views, key: tuple[str, int | str]) -> None:
        last, v.last = v.last, key
        if last is None or last[0] != key[0]:
            v.run, v.step = 1, 0
            return
        a, b = last[1], key[1]
        if isinstance(a, int) and isinstance(b, int) and abs(b - a) == 1:
            if b - a == v.step:
                v.run += 1
            else:
                v.run, v.step = 2, b - a
        elif a != b:
            v.run, v.step = 1, 0
