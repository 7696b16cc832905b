"""Scraping: many distinct records opened one by one in a short time, or an id walk.

A person reading their clients opens a few records a minute, scattered over ids; a
script (or a patient copier) opens hundreds in a row, often in id order. Two signals:
distinct single-record views within the window above ``max(distinct_floor, the user's
usual busiest window)``, and a run of views whose ids step by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, cast

from alerts.detectors.interface import Context, Detector, Kind, Signal, records, span
from alerts.model import Event
from alerts.rules import Rules
from alerts.user_state import UserState


class ScrapingDetector(Detector):
    """The engine's read path counts single-record views in ``state.windows.views`` and
    asks :meth:`observe` only when the distinct views pass the floor or the id run its
    bar."""

    kinds: ClassVar[frozenset[Kind]] = frozenset({"read"})
    actions = frozenset({"view"})
    read_path = True

    def __init__(self) -> None:
        self._floor = 0.0
        self._run = 0.0

    def configure(self, rules: Rules) -> None:
        params = rules.rules["scraping"].params
        self._floor = params["distinct_floor"]
        self._run = params["sequential_run"]

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        ids = event.record_ids
        if len(ids) != 1 or event.action != "view":
            return ()
        assert state is not None
        v = state.windows.views  # this view counted by the read path
        distinct = len(v.counts)
        if distinct <= self._floor and v.run < self._run:
            return ()  # under the lowest possible bars
        limit = state.limits.get("scraping:views")
        if limit is None:
            b = ctx.baseline
            factor = b.factor(state, "scraping")
            limit = max(self._floor, b.usual(state, "views")) * factor
            state.limits["scraping:views"] = limit
        rule = ctx.rules.rules["scraping"]
        out: list[Signal] = []
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
                    f"{span(max(t - v.window[0].t, 1))}{walk}; alert level {round(limit):,}",
                    {
                        "distinct_views": distinct,
                        "id_run": v.run,
                        "threshold": round(limit, 1),
                        "record_ids": [
                            _record_id(k) for k in list(v.counts)[-ctx.rules.sample_ids :]
                        ],
                    },
                )
            )
        return out


def _record_id(key: object) -> int | str:
    """The id of a key of ``Views.counts`` (a ``(resource, id)`` tuple, typed object)."""
    return cast(tuple[str, int | str], key)[1]
