"""How often users make requests (exports, prints), apart from how many records.

A drip is as much "exports more often than usual" as "more records": these are the
rates behind that test (a user's requests per counted request of any kind over their
history, their peers' median rate) and the company's request surge on a day, with the
user and the one colleague with the most requests left out. A part of
:class:`~alerts.baseline.Baseline`, which holds the state these read.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Final, NamedTuple

from alerts.rules import Rules
from alerts.statistics import median
from alerts.user_state import UserState

#: A company-wide rate of requests (exports, prints) is a ratio only when this many were
#: expected (fewer say nothing about a surge: most people export on few days).
MIN_EXPECTED_REQUESTS: Final = 3.0
#: Actions whose requests are counted per day (how often, apart from how many records).
REQUEST_ACTIONS = ("export", "print")


class RequestCounts(NamedTuple):
    """One day's requests of one action over the established users active that day."""

    seen: float
    #: what the users' own rates predict for the work they did
    expected: float
    users: int
    #: the two users with the most such requests: (requests, expected, name)
    heaviest: tuple[tuple[float, float, str], ...]


class RequestRates:
    """Request rates and the request surge; the state is :class:`~alerts.baseline.Baseline`'s."""

    _rules: Rules
    users: dict[str, UserState]
    peers: dict[str, str]
    #: per day and action: (requests seen, requests expected by the users' own rates,
    #: users counted) among established users active that day
    requests_by_day: dict[int, dict[str, RequestCounts]]
    _requests_now: tuple[float, dict[str, RequestCounts]]
    _peer_rates: dict[tuple[str, int, str], float]
    _surge_pool: list[UserState]
    _surge_day: int
    _next_surge: float

    def request_rate(self, state: UserState, action: str) -> float:
        """Requests of ``action`` per counted request of any kind over the user's history
        (once a day): how often, out of everything they do, they export (print)."""
        rates = state.cache.get("rates") or self._rates(state)
        return rates[REQUEST_ACTIONS.index(action)]

    def _rates(self, state: UserState) -> tuple[float, ...]:
        """:meth:`request_rate` of every action in ``REQUEST_ACTIONS``, once a day."""
        days = list(state.history)[-self._rules.history_days :]
        events = sum([d.events for d in days])
        got = state.cache["rates"] = tuple(
            sum([d.requests.get(action, 0) for d in days]) / events if events else 0.0
            for action in REQUEST_ACTIONS
        )
        return got

    def peer_request_rate(self, group: str, day: int, action: str) -> float:
        """The median established member's :meth:`request_rate` of ``action`` (everyone's
        when the group has no established member); once a day per group."""
        key = (group, day, action)
        got = self._peer_rates.get(key)
        if got is None:
            if len(self._peer_rates) > 10000:
                self._peer_rates.clear()
            rates = [
                self.request_rate(s, action)
                for s in self.users.values()
                if (group == "*" or self.peers.get(s.name) == group) and s.established
            ]
            if not rates and group != "*":
                got = self.peer_request_rate("*", day, action)
            else:
                got = median(rates) if rates else 0.0
            self._peer_rates[key] = got
        return got

    def _request_counts(self, day: int) -> dict[str, RequestCounts]:
        """Per action: the :class:`RequestCounts` of the established users active on
        ``day`` (today: so far). Computed when asked (a drip candidate) and once when a
        day ends, not per event."""
        counts: list[tuple[Mapping[str, int], int, tuple[float, ...], str]] = []
        for s in self._surge_pool:
            rates = s.cache.get("rates") or self._rates(s)
            if s.day == day:
                counts.append((s.requests, s.events, rates, s.name))
            elif s.history and s.history[-1].day == day:  # their day already summarised
                last = s.history[-1]
                counts.append((last.requests, last.events, rates, s.name))
        out = {}
        for i, action in enumerate(REQUEST_ACTIONS):
            per = [(float(req.get(action, 0)), r[i] * ev, name) for req, ev, r, name in counts]
            out[action] = RequestCounts(
                sum(c for c, _, _ in per), sum(e for _, e, _ in per), len(per),
                tuple(heapq.nlargest(2, per)),
            )  # fmt: skip
        return out

    def request_surge(
        self, state: UserState, day: int, action: str, own: float, own_events: float
    ) -> float:
        """How many times more often than usual the *other* users made requests of
        ``action`` on ``day`` (today: so far), for the work they did: requests seen over
        requests their own rates predict for their activity that day, pooled over the
        company (most users make none on a given day, so a median of ratios would say
        nothing). Leave-one-out: ``own`` (the user's requests that day) and what their
        ``own_events`` predict are taken out, so a user's own drip does not excuse itself,
        and so is the other user with the most such requests that day, so a colleague's
        leak does not excuse it either (a month end is many people exporting more, and
        stays one without any one of them). 1 when too few requests were expected to
        tell."""
        if day == self._surge_day:
            if self._requests_now[0] != self._next_surge:  # at most once per SURGE_EVERY
                self._requests_now = (self._next_surge, self._request_counts(day))
            got = self._requests_now[1].get(action)
        else:
            got = self.requests_by_day.get(day, {}).get(action)
        if got is None:
            return 1.0
        seen, expected, users, heaviest = got
        seen -= own
        expected -= self.request_rate(state, action) * own_events
        # and the one other user with the most such requests: a surge is shared by many,
        # one colleague's twenty exports (a leak of theirs) are not one
        other = next((h for h in heaviest if h[2] != state.name), None)
        if other is not None:
            seen, expected, users = seen - other[0], expected - other[1], users - 1
        if users - 1 < self._rules.baseline["surge_min_users"] or expected < MIN_EXPECTED_REQUESTS:
            return 1.0
        return min(max(seen / expected, 1.0), self._rules.baseline["surge_cap"])
