"""What a generated company is made of: its people, the stream and the injected leaks.

The values the generator builds and the scorer reads (:class:`Company`, :class:`Scenario`),
and the generator's fixed tables (roles, resources, each team's book), kept apart from the
code that draws the activity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

RESOURCES = ("contact", "company", "deal", "activity", "task")
RES_WEIGHTS = (0.5, 0.2, 0.2, 0.05, 0.05)
#: ids per resource per team (contacts, companies, ...): the team's book.
BOOK = {"contact": 4000, "company": 800, "deal": 1500, "activity": 6000, "task": 3000}


@dataclass(frozen=True)
class Scenario:
    """One injected leak: detected if an alert for ``user`` lands in [start, start+window]."""

    name: str
    user: str
    start: datetime
    window: timedelta
    #: from here to ``start + window`` the user's alerts are the leak's, not false ones
    attack_from: datetime
    #: an alert from here on counts as detection (``attack_from`` unless only later counts)
    detect_from: datetime | None = None
    #: the last malicious event, when the leak goes on after its detection window
    attack_to: datetime | None = None
    #: alerts of these rules do not count as detecting this leak
    not_by: tuple[str, ...] = ()


@dataclass
class User:
    name: str
    role: str
    team: int
    rate: float  # events on an ordinary day
    start_hour: float  # local
    hours: float
    export_p: float
    export_size: float
    home_p: float
    weekend_p: float
    late_p: float
    office_ip: str
    home_ip: str
    first_day: int = 0
    vacation: tuple[int, int] = (-1, -1)


@dataclass
class Company:
    """The generated stream (events in time order) and what was injected into it."""

    events: list[dict[str, Any]]
    scenarios: list[Scenario]
    users: list[str]
    start: datetime
    days: int
    learning_days: int
    roles: dict[str, str] = field(default_factory=dict)


ROLES = (
    # role, share, rate, export probability a day, export size
    ("sales_rep", 0.55, 45.0, 0.15, 120.0),
    ("sales_manager", 0.15, 35.0, 0.35, 600.0),
    ("support", 0.2, 60.0, 0.03, 40.0),
    ("head_of_sales", 0.04, 25.0, 0.4, 1500.0),
    ("auditor", 0.03, 10.0, 0.05, 300.0),
    ("owner", 0.03, 8.0, 0.2, 2500.0),
)
