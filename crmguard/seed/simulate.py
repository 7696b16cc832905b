"""A history of simulated usage, played through the guarded service.

The demo's ledger must hold real events, made the way real ones are: every view, list,
search, print and export below goes through :class:`~crmguard.service.GuardedCRM`, with
its decisions, scopes, masks, caps and denials. Only the clock is simulated. The
departing sales manager behaves normally until the last days, then exports far more
than usual, partly out of hours: the pattern the leak detectors look for.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import Engine, select

import crm_models
from access import Principal
from crmguard.service import AccessDenied, GuardedCRM, RequestContext
from crmguard.service.errors import ExportLimitExceeded

Action = Callable[[GuardedCRM, RequestContext, random.Random], None]


@dataclass
class SimClock:
    """A clock the simulation moves forward; the ledger and the service read it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class SimulationStats:
    """What the simulation did, for the demo's summary."""

    events: int = 0
    denied: int = 0
    exports: int = 0
    departing_exported_rows: int = 0
    by_action: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Staff:
    principal: Principal
    roles: frozenset[str]
    own_contacts: tuple[int, ...]
    team_owner_ids: tuple[int, ...]


def _load_staff(engine: Engine) -> list[_Staff]:
    users, contacts = crm_models.User.__table__, crm_models.Contact.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(users).where(users.c.active.is_(True))).all()
        owned: dict[int, list[int]] = {}
        for cid, owner in conn.execute(select(contacts.c.id, contacts.c.owner_id)):
            owned.setdefault(owner, []).append(cid)
    by_team: dict[int | None, list[int]] = {}
    for r in rows:
        by_team.setdefault(r.team_id, []).append(r.id)
    return [
        _Staff(
            Principal(r.id, r.username, r.team_id, tuple(r.roles or ()), True),
            frozenset(r.roles or ()),
            tuple(owned.get(r.id, ())),
            tuple(by_team.get(r.team_id, ())) if r.team_id is not None else (),
        )
        for r in rows
    ]


def _workday_times(
    rng: random.Random, day: datetime, n: int, off_hours: bool = False
) -> list[datetime]:
    times = []
    for _ in range(n):
        if off_hours:
            hour = rng.choice([5, 6, 21, 22, 23])
        else:
            hour = rng.choices(range(8, 19), weights=[2, 5, 6, 6, 3, 4, 6, 6, 5, 3, 1])[0]
        minute, second = rng.randrange(60), rng.randrange(60)
        times.append(datetime.combine(day.date(), time(hour, minute, second), day.tzinfo))
    return times


def _phone(rng: random.Random) -> str:
    """A new phone number in the international form the demo's contacts use."""
    digits = "".join(str(rng.randrange(10)) for _ in range(8))
    return f"+{rng.choice((31, 33, 44, 47, 48, 49))} {digits[:2]} {digits[2:5]} {digits[5:]}"


class Simulation:
    """Plays ``days`` of usage ending at ``end`` through ``crm``."""

    def __init__(
        self, crm: GuardedCRM, clock: SimClock, engine: Engine, departing: str, seed: int
    ) -> None:
        self.crm, self.clock, self.engine = crm, clock, engine
        self.rng = random.Random(seed)
        self.staff = _load_staff(engine)
        self.departing = departing
        self.stats = SimulationStats()
        self.all_contacts = [c for s in self.staff for c in s.own_contacts]
        self.owned = {s.principal.user_id: s.own_contacts for s in self.staff}

    def run(self, days: int, end: datetime) -> SimulationStats:
        start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
        for d in range(days):
            day = start + timedelta(days=d)
            last_days = days - d <= 3
            plan: list[tuple[datetime, _Staff, str]] = []
            for member in self.staff:
                for when, op in self._plan_for(member, day, last_days):
                    plan.append((when, member, op))
            plan.sort(key=lambda item: (item[0], item[1].principal.user_id))
            for when, member, op in plan:
                if when > end:
                    continue
                self.clock.now = when
                self._do(member, op)
        return self.stats

    def _plan_for(self, m: _Staff, day: datetime, last_days: bool) -> list[tuple[datetime, str]]:
        rng = self.rng
        weekend = day.weekday() >= 5
        ops: list[str] = []
        if weekend and rng.random() < 0.9:
            return self._departing_plan(m, day, last_days)
        if m.roles & {"sales_rep", "sales_manager"}:
            ops += ["view"] * rng.randint(3, 8) + ["list"] * rng.randint(1, 2)
            ops += ["search"] * rng.randint(0, 2)
            if rng.random() < 0.15:
                ops.append("print")
            if rng.random() < 0.08:
                ops.append("export_own")
            if rng.random() < 0.03:
                ops.append("probe")  # a look at another team's contact: denied
            if "sales_manager" in m.roles and rng.random() < 0.2:
                ops.append("view_team")
            if rng.random() < 0.1:
                ops.append("update")  # a client moved or changed numbers
        if "support" in m.roles:
            ops += ["view_any"] * rng.randint(2, 6) + ["search"] * rng.randint(1, 3)
        if "head_of_sales" in m.roles:
            ops += ["list"] * rng.randint(1, 3) + ["view_any"] * rng.randint(1, 3)
            if rng.random() < 0.2:
                ops.append("print")
        if m.roles & {"owner", "auditor", "security"} and rng.random() < 0.3:
            ops.append("audit")
        if "owner" in m.roles:
            ops += ["view_any"] * rng.randint(0, 2)
        times = _workday_times(rng, day, len(ops))
        planned = list(zip(times, ops, strict=True))
        return planned + self._departing_plan(m, day, last_days)

    def _departing_plan(
        self, m: _Staff, day: datetime, last_days: bool
    ) -> list[tuple[datetime, str]]:
        """The departing manager's last days: mass exports, some out of hours, weekend or
        not, so the story holds however few days are simulated."""
        if m.principal.username != self.departing or not last_days:
            return []
        rng = self.rng
        n = rng.randint(6, 10)
        planned = [(t, "export_team") for t in _workday_times(rng, day, n)]
        planned += [(t, "export_team") for t in _workday_times(rng, day, 3, off_hours=True)]
        planned += [(t, "view_team") for t in _workday_times(rng, day, 25)]
        # ... and leaves wrong numbers behind for the clients he means to take along.
        planned += [(t, "overwrite") for t in _workday_times(rng, day, 2, off_hours=True)]
        return planned

    def _do(self, m: _Staff, op: str) -> None:
        ctx = RequestContext(
            principal=m.principal,
            channel=self.rng.choice(("web", "web", "api")),
            ip=f"10.0.{m.principal.user_id % 250}.{self.rng.randint(2, 250)}",
        )
        rng, crm = self.rng, self.crm
        try:
            if op == "view" and m.own_contacts:
                crm.view(
                    ctx,
                    "contact",
                    rng.choice(m.own_contacts),
                    include=("deals",) if rng.random() < 0.3 else (),
                )
            elif op in ("view_any", "probe", "view_team") and self.all_contacts:
                crm.view(ctx, "contact", self._pick(m, op))
            elif op == "list":
                crm.list(ctx, "contact", page=rng.randint(1, 5), page_size=25)
            elif op == "search":
                crm.search(ctx, "contact", rng.choice("aeiourln") + rng.choice("aeinost"), limit=20)
            elif op == "print" and m.own_contacts:
                crm.print_record(ctx, "contact", rng.choice(m.own_contacts))
            elif op == "export_own":
                self._export(ctx, {"owner_id": m.principal.user_id})
            elif op == "export_team" and self._team_sellers(m):
                owner = rng.choice(self._team_sellers(m))
                self.stats.departing_exported_rows += self._export(ctx, {"owner_id": owner})
            elif op == "audit":
                crm.audit_entries(ctx, limit=50)
            elif op == "update" and m.own_contacts:
                crm.update(ctx, "contact", rng.choice(m.own_contacts), {"phone": _phone(rng)})
            elif op == "overwrite" and self._team_sellers(m):
                owner = rng.choice(self._team_sellers(m))
                crm.update(ctx, "contact", rng.choice(self.owned[owner]), {"phone": _phone(rng)})
            else:
                return
        except (AccessDenied, crm_models.RecordNotFound):
            self.stats.denied += 1
        self.stats.events += 1
        self.stats.by_action[op] = self.stats.by_action.get(op, 0) + 1

    def _team_sellers(self, m: _Staff) -> tuple[int, ...]:
        """Members of ``m``'s team who own contacts (an export of nobody's rows is no story)."""
        return tuple(o for o in m.team_owner_ids if self.owned.get(o))

    def _pick(self, m: _Staff, op: str) -> int:
        """A contact to look at; the scope, not this choice, decides whether it is visible."""
        if op == "view_team":
            team_contacts = [c for o in m.team_owner_ids for c in self.owned.get(o, ())[:50]]
            if team_contacts:
                return self.rng.choice(team_contacts)
        return self.rng.choice(self.all_contacts)

    def _export(self, ctx: RequestContext, filters: dict[str, int]) -> int:
        try:
            result = self.crm.export(ctx, "contact", io.StringIO(), fmt="csv", filters=filters)
        except ExportLimitExceeded:
            self.stats.denied += 1
            return 0
        self.stats.exports += 1
        return result.count
