"""What every detector shares: the signal it emits, the context it reads, its error.

A detector looks at one event (already counted in the user's baseline by the engine) and
says, for zero or more (user, rule) pairs, how far past its threshold the user is: a
``Signal`` with ``score = observed / threshold``. The engine alone turns signals into
findings (severity from the score, one active alert per user and rule, escalation), so
detectors stay small and never repeat that policy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final, Literal

from alerts.baseline import Baseline
from alerts.errors import AlertsError
from alerts.model import Event
from alerts.rules import Rules
from alerts.user_state import UserState

#: What an event is to the router: a counted read of client data, a denial, or other.
Kind = Literal["read", "denied", "other"]

#: Actions that read client data (their record ids are counted as volume).
READ_ACTIONS: Final = frozenset({"view", "list", "search", "print", "export"})
#: Reads that take data out of the CRM as a file or on paper.
EXFIL_ACTIONS: Final = frozenset({"export", "print"})

_PLURALS = {"company": "companies", "activity": "activities"}


class DetectorError(AlertsError):
    """A detector met an event it cannot reason about (raised, never swallowed)."""


@dataclass(frozen=True)
class Signal:
    """``user`` crossed ``rule``'s threshold by ``score`` (>= 1 raises an alert)."""

    rule: str
    user: str
    score: float
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    first_ts: datetime | None = None


@dataclass
class Context:
    """The shared state a detector may read and update (one per engine)."""

    rules: Rules
    baseline: Baseline

    def sample(self, ids: Sequence[int | str]) -> list[int | str]:
        """The first few record ids, as evidence (never record contents)."""
        return list(ids[: self.rules.sample_ids])


class Detector(ABC):
    """One family of rules over the event stream."""

    #: The kinds of event this detector is shown.
    kinds: ClassVar[frozenset[Kind]]
    #: Only these actions (None: every action of those kinds); the engine routes by it.
    actions: ClassVar[frozenset[str] | None] = None
    #: Shown reads by the engine's read path (:mod:`alerts.read_path`), which keeps the
    #: detector's windows and asks it only when a count passes its bar; not routed.
    read_path: ClassVar[bool] = False

    def configure(self, rules: Rules) -> None:  # noqa: B027 - most detectors need nothing
        """Take what this detector reads of ``rules`` into plain attributes, so the hot
        path does no lookups; the engine calls it before the first event and on every
        reload of the rules."""

    def quiet_on_reads(self, state: UserState, ctx: Context) -> bool:
        """True when :meth:`observe` is now certain to return nothing, and to change
        nothing, for every read of this user that takes nothing out (no export or print)
        until ``state.cache`` is replaced (a new day, new rules, a new factor): the
        engine then stops showing them to it. Asked before such a read is shown (it may
        do the first work of :meth:`observe` that needs no event, which it would do the
        same on the read) and again after."""
        return False

    @abstractmethod
    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> Sequence[Signal]:
        """Signals raised by ``event`` at event time ``t`` (``state``: the actor's, for reads).

        This runs for every event of its kinds, so the common case (nothing raised) should
        cost a few additions and one comparison: a threshold that needs the baseline is
        kept in ``state.limits`` (see :class:`~alerts.baseline.UserState`) once known.
        """


def records(resource: str, n: float) -> str:
    """``"4,812 contacts"``, ``"1 company"``."""
    whole = round(n)
    word = resource if whole == 1 else _PLURALS.get(resource, resource + "s")
    return f"{whole:,} {word}"


def span(seconds: float) -> str:
    """A duration in plain words: ``"40 seconds"``, ``"6 minutes"``, ``"3 hours"``."""
    if seconds < 90:
        s = max(1, round(seconds))
        return f"{s} second{'s' if s != 1 else ''}"
    if seconds < 5400:
        m = round(seconds / 60)
        return f"{m} minutes"
    h = round(seconds / 3600)
    return f"{h} hours"


def usual_words(value: float, per: str) -> str:
    """``"usually under 120 a day"``, ``"usually under 40 an hour"``, or ``"usually none in
    a minute"`` when nothing of the kind is on record."""
    article = "an" if per[0] in "aeiouh" else "a"
    if value <= 0:
        return f"usually none in {article} {per}"
    return f"usually under {max(1, round(value)):,} {article} {per}"


def typical(ctx: Context, state: UserState, metric: str) -> float:
    """The user's ordinary high level of ``metric`` (their own, else their peers')."""
    return ctx.baseline.typical(state, metric)
