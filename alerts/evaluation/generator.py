"""A company's activity, seedable, as ``crmguard audit export`` lines, with injected leaks.

Dozens of users in every role work their own hours (a start time, a day length, a lunch
lull), take vacations, work late or from home now and then, and export more at month
end; a new hire ramps up; an integration account syncs thousands of records a day around
the clock. Into this the generator injects the leaks the detectors exist for (a burst
export, a drip over days, view-by-view scraping, an off-hours export from a new address, a
departing user, a look-back case, probing) and two system faults, and returns each as a
:class:`Scenario` with the moment it starts and the window it must be detected in.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alerts.evaluation.company import (
    BOOK,
    RES_WEIGHTS,
    RESOURCES,
    ROLES,
    Company,
    Scenario,
    User,
)


def generate(seed: int = 1, users: int = 60, days: int = 42, learning_days: int = 7) -> Company:
    """A company of about ``users`` people over ``days`` days, deterministic in ``seed``."""
    if days < learning_days + 21 or users < 10:
        raise ValueError(
            f"need at least {learning_days + 21} days and 10 users (a learning period, then "
            "room for every injected leak and its window)"
        )
    g = _Gen(random.Random(seed), users, days, learning_days)
    return g.run()


class _Gen:
    def __init__(self, rng: random.Random, n: int, days: int, learning_days: int) -> None:
        self.rng = rng
        self.days = days
        self.learning_days = learning_days
        self.offset = rng.choice((-5, -3, 0, 1, 2, 3))  # company's UTC offset, hours
        first = date(2026, rng.randint(1, 10), 1) + timedelta(days=rng.randint(0, 20))
        self.start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        self.events: list[tuple[float, int, dict[str, Any]]] = []
        self.n = 0
        self.users = self._staff(n)
        self.scenarios: list[Scenario] = []
        self.busy: set[str] = set()

    # -- people --------------------------------------------------------------------------

    def _staff(self, n: int) -> list[User]:
        rng = self.rng
        out = []
        teams = max(2, n // 7)
        for i in range(n):
            role = rng.choices([r[0] for r in ROLES], [r[1] for r in ROLES])[0]
            _, _, rate, p, size = next(r for r in ROLES if r[0] == role)
            team = i % teams
            u = User(
                name=f"{role.split('_')[0]}{i:03d}",
                role=role,
                team=team,
                rate=rate * math.exp(rng.gauss(0, 0.4)),
                start_hour=rng.gauss(8.8, 0.8),
                hours=rng.uniform(7.5, 9.5),
                export_p=min(0.9, p * math.exp(rng.gauss(0, 0.5))),
                export_size=size * math.exp(rng.gauss(0, 0.5)),
                home_p=rng.choice((0.0, 0.05, 0.1, 0.2, 0.4)),
                weekend_p=rng.choice((0.0, 0.0, 0.0, 0.05, 0.15)),
                late_p=rng.uniform(0.02, 0.12),
                office_ip=f"10.{team}.{i // 250}.{i % 250 + 2}",
                home_ip=f"198.51.{i // 250}.{i % 250 + 2}",
            )
            if rng.random() < 0.35:
                v0 = rng.randint(0, self.days - 8)
                u.vacation = (v0, v0 + rng.randint(4, 9))
            out.append(u)
        hire = out[-1]  # the new hire joins after the learning period and ramps up
        hire.first_day = rng.randint(self.learning_days + 3, self.learning_days + 10)
        hire.vacation = (-1, -1)
        hire.name = "newhire" + hire.name
        return out

    # -- emitting ------------------------------------------------------------------------

    def emit(self, t: float, actor: str, action: str, resource: str,
             ids: list[int] | list[str] | None,
             outcome: str = "allowed", ip: str | None = None, channel: str = "web",
             details: dict[str, Any] | None = None, count: int | None = None) -> None:  # fmt: skip
        rid = list(ids or [])
        self.n += 1
        self.events.append((t, self.n, {
            "ts": t, "actor": actor, "action": action, "resource": resource,
            "record_ids": rid, "count": len(rid) if count is None else count,
            "outcome": outcome, "channel": channel, "ip": ip,
            "details": details or {},
        }))  # fmt: skip

    def local(self, day: int, hour: float) -> float:
        """Event time (epoch seconds, UTC) of local ``hour`` on ``day``."""
        return self.start.timestamp() + day * 86400 + (hour - self.offset) * 3600

    def weekday(self, day: int) -> int:
        return (self.start + timedelta(days=day)).weekday()

    def month_end(self, day: int) -> bool:
        """The last two working days of a month: reports, so everyone reads and exports more."""
        d = (self.start + timedelta(days=day)).date()
        work_left = 0
        probe = d + timedelta(days=1)
        while probe.month == d.month:
            if probe.weekday() < 5:
                work_left += 1
            probe += timedelta(days=1)
        return d.weekday() < 5 and work_left <= 1

    def ids(self, u: User, resource: str, k: int) -> list[int]:
        base = (u.team + 1) * 100000
        size = BOOK[resource]
        k = min(k, size)
        return [base + i for i in self.rng.sample(range(1, size + 1), k)]

    # -- ordinary work -------------------------------------------------------------------

    def run(self) -> Company:
        for day in range(self.days):
            self._system(day)
            self._sync(day)
            for u in self.users:
                self._workday(u, day)
        self._inject()
        self.events.sort(key=lambda e: (e[0], e[1]))
        out = []
        for seq, (t, _, ev) in enumerate(self.events, start=1):
            ev["ts"] = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            out.append({"seq": seq, **ev})
        return Company(
            out,
            self.scenarios,
            [u.name for u in self.users] + ["svc.sync"],
            self.start,
            self.days,
            self.learning_days,
            {u.name: u.role for u in self.users},
        )

    def _system(self, day: int) -> None:
        t = self.local(day, 2.0)
        self.emit(t, "system:daemon", "backup.run", "backup", [], channel="daemon")

    def _sync(self, day: int) -> None:
        """An integration account: a page of changed records every 15 minutes, all day."""
        rng = self.rng
        for slot in range(96):
            t = self.local(day, slot / 4 + rng.uniform(0, 0.05))
            res = rng.choice(("contact", "deal", "company"))
            base = 900000 + {"contact": 0, "deal": 20000, "company": 40000}[res]
            k = rng.randint(20, 160)
            ids = [base + rng.randint(1, 19999) for _ in range(k)]
            self.emit(t, "svc.sync", "list", res, ids, ip="10.200.0.5", channel="api")

    def _workday(self, u: User, day: int, extra: float = 1.0) -> None:
        rng = self.rng
        if day < u.first_day or u.vacation[0] <= day < u.vacation[1]:
            return
        weekend = self.weekday(day) >= 5
        if weekend and rng.random() >= u.weekend_p:
            return
        ramp = min(1.0, 0.2 + 0.08 * (day - u.first_day)) if u.first_day else 1.0
        surge = 1.6 if self.month_end(day) else 1.0
        n = rng.lognormvariate(0, 0.35) * u.rate * ramp * surge * (0.3 if weekend else 1.0)
        ip = u.home_ip if rng.random() < u.home_p else u.office_ip
        if rng.random() < 0.01:
            ip = f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"  # travelling
        start = u.start_hour + rng.gauss(0, 0.4)
        end = start + u.hours + rng.gauss(0, 0.4)
        times = sorted(rng.uniform(start, end) for _ in range(max(1, round(n))))
        if rng.random() < u.late_p:
            late = end + rng.uniform(0.5, 3.0)
            times += sorted(rng.uniform(end, late) for _ in range(rng.randint(2, 8)))
        for h in times:
            self._action(u, self.local(day, h), ip)
        ep = u.export_p * (3.0 if surge > 1 else 1.0) * ramp
        if rng.random() < ep and not weekend:
            size = u.export_size * rng.lognormvariate(0, 0.5) * (1.5 if surge > 1 else 1.0)
            t = self.local(day, rng.uniform(start + 0.5, end - 0.2))
            res = rng.choices(RESOURCES[:3], (0.7, 0.15, 0.15))[0]
            self.emit(t, u.name, "export", res, self.ids(u, res, max(1, round(size))), ip=ip,
                      details={"format": "csv"})  # fmt: skip
        if rng.random() < 0.08:
            t = self.local(day, rng.uniform(start, end))
            self.emit(t, u.name, "export", "contact", [], outcome="denied", ip=ip,
                      count=0, details={"reason": "export row cap exceeded"})  # fmt: skip

    def _action(self, u: User, t: float, ip: str) -> None:
        rng = self.rng
        res = rng.choices(RESOURCES, RES_WEIGHTS)[0]
        r = rng.random()
        if r < 0.58:
            self.emit(t, u.name, "view", res, self.ids(u, res, 1), ip=ip)
        elif r < 0.83:
            self.emit(t, u.name, "list", res, self.ids(u, res, rng.choice((10, 20, 25, 50))),
                      ip=ip)  # fmt: skip
        elif r < 0.98:
            self.emit(t, u.name, "search", res, self.ids(u, res, rng.randint(0, 20)), ip=ip)
        else:
            self.emit(t, u.name, "print", res, self.ids(u, res, rng.randint(1, 3)), ip=ip)

    # -- leaks ---------------------------------------------------------------------------

    def _pick(self, roles: tuple[str, ...] = ("sales_rep", "sales_manager")) -> User:
        pool = [u for u in self.users if u.role in roles and u.name not in self.busy
                and not u.first_day]  # fmt: skip
        u = self.rng.choice(pool)
        self.busy.add(u.name)
        return u

    def _workday_after(self, u: User, lo: int) -> int:
        """A working day on or after ``lo`` outside the user's vacation."""
        day = lo
        while self.weekday(day) >= 5 or u.vacation[0] <= day < u.vacation[1]:
            day += 1
        return day

    def _scenario(self, name: str, u: User, t: float, window: timedelta,
                  attack_from: float | None = None) -> None:  # fmt: skip
        def at(x: float) -> datetime:
            return datetime.fromtimestamp(x, UTC)

        self.scenarios.append(
            Scenario(name, u.name, at(t), window, at(attack_from if attack_from else t))
        )

    def _inject(self) -> None:
        rng = self.rng
        lo, hi = self.learning_days + 7, self.days - 5
        # burst export: thousands of contacts in a few minutes
        u = self._pick()
        day = self._workday_after(u, rng.randint(lo, hi))
        t0 = self.local(day, u.start_hour + rng.uniform(1, 6))
        for i in range(rng.randint(3, 6)):
            self.emit(t0 + i * 70, u.name, "export", "contact",
                      self.ids(u, "contact", rng.randint(600, 1400)), ip=u.office_ip)  # fmt: skip
        self._scenario("burst export", u, t0, timedelta(minutes=5))
        # scraping: contacts opened one by one, in id order or not
        u = self._pick(("sales_rep", "support"))
        day = self._workday_after(u, rng.randint(lo, hi))
        t0 = self.local(day, u.start_hour + rng.uniform(1, 6))
        walk = rng.random() < 0.5
        first = (u.team + 1) * 100000 + rng.randint(1, 1000)
        pool = self.ids(u, "contact", 400)
        for i in range(rng.randint(150, 400)):
            rid = first + i if walk else pool[i]
            self.emit(t0 + i * rng.uniform(3, 9), u.name, "view", "contact", [rid], ip=u.office_ip)
        self._scenario("scraping", u, t0, timedelta(minutes=30))
        # off-hours export from a new address
        u = self._pick()
        day = rng.randint(lo, hi)
        t0 = self.local(day, rng.choice((22.5, 23.5, 0.5, 1.5, 4.5)) + rng.random() * 0.4)
        ip = f"185.{rng.randint(1, 250)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}"
        self.emit(t0, u.name, "list", "contact", self.ids(u, "contact", 50), ip=ip)
        self.emit(t0 + 60, u.name, "export", "contact",
                  self.ids(u, "contact", max(50, round(u.export_size))), ip=ip)  # fmt: skip
        self._scenario("off-hours export, new address", u, t0 + 60, timedelta(hours=1), t0)
        # probing: a run of refusals
        u = self._pick(("sales_rep", "support"))
        day = self._workday_after(u, rng.randint(lo, hi))
        t0 = self.local(day, u.start_hour + rng.uniform(1, 6))
        other = ((u.team + 1) % 3 + 1) * 100000
        for i in range(rng.randint(10, 25)):
            act = rng.choice(("view", "view", "export", "list"))
            self.emit(t0 + i * rng.uniform(10, 40), u.name, act, "contact",
                      [other + rng.randint(1, 4000)] if act == "view" else [],
                      outcome="denied", ip=u.office_ip, count=0)  # fmt: skip
        self._scenario("probing", u, t0, timedelta(minutes=15))
        self._drip(lo, hi)
        self._departing(lo, hi)
        self._lookback()
        # system faults
        day = rng.randint(lo, hi)
        t0 = self.local(day, 2.0) + 30
        self.emit(t0, "system:daemon", "backup.run", "backup", [], outcome="error",
                  channel="daemon", details={"error": "store unreachable"})  # fmt: skip
        self.scenarios.append(Scenario("backup failed", "system", _dt(t0), timedelta(minutes=15),
                                       _dt(t0)))  # fmt: skip
        t1 = self.local(rng.randint(lo, hi), 11.0)
        self.emit(t1, "admin", "policy.reload", "policy", [], outcome="error", channel="daemon",
                  details={"error": "policy.csv line 12: unknown role"})  # fmt: skip
        self.scenarios.append(Scenario("policy edit rejected", "system", _dt(t1),
                                       timedelta(minutes=15), _dt(t1)))  # fmt: skip

    def _extra_day(self, u: User, day: int, volume: float, ip: str | None = None) -> float:
        """Extra reads and small exports totalling about ``volume`` records; first time."""
        rng = self.rng
        left, first = volume, None
        while left > 0:
            t = self.local(day, u.start_hour + rng.uniform(0.3, u.hours - 0.3))
            first = t if first is None else min(first, t)
            if rng.random() < 0.5:
                k = min(round(left), rng.randint(60, 200))
                self.emit(t, u.name, "export", "contact", self.ids(u, "contact", max(1, k)),
                          ip=ip or u.office_ip)  # fmt: skip
            else:
                k = 50
                self.emit(t, u.name, "list", rng.choice(("contact", "deal")),
                          self.ids(u, "contact", k), ip=ip or u.office_ip)  # fmt: skip
            left -= k
        assert first is not None
        return first

    def _worked_by(self, u: User, n: int) -> int:
        """The day after the user's ``n``-th working day (weekdays outside vacation)."""
        day, worked = u.first_day, 0
        while worked < n and day < self.days:
            if self.weekday(day) < 5 and not u.vacation[0] <= day < u.vacation[1]:
                worked += 1
            day += 1
        return day

    def _usual_day(self, u: User) -> float:
        lists = 0.25 * 31 + 0.15 * 10
        return u.rate * (lists + 0.58) + u.export_p * u.export_size

    def _drip(self, lo: int, hi: int) -> None:
        u = self._pick()
        # held above their usual presupposes a usual: a user away for most of the first
        # weeks starts only once they have worked learning_days working days
        lo = min(max(lo, self._worked_by(u, self.learning_days)), hi - 3)
        day = self._workday_after(u, self.rng.randint(lo, hi - 3))
        while self.weekday(day) > 2:  # three working days in a row: Monday to Wednesday
            day = self._workday_after(u, day + 1)
        first = None
        for d in range(5):
            day_d = self._workday_after(u, day + d)
            t = self._extra_day(u, day_d, self._usual_day(u) * self.rng.uniform(1.5, 2.5))
            first = t if first is None else first
            last = self.local(day_d, 24.0)
        assert first is not None
        self._scenario("drip", u, first, timedelta(days=3))
        self.scenarios[-1] = replace(self.scenarios[-1], attack_to=_dt(last))

    def _departing(self, lo: int, hi: int) -> None:
        u = self._pick()
        day = self._workday_after(u, self.rng.randint(lo, hi - 2))
        t_flag = self.local(day, u.start_hour - 0.5)
        self.emit(t_flag, "admin", "restrict", "user", [u.name], channel="cli",
                  details={"restriction": "departing", "reason": "notice given"})  # fmt: skip
        d2 = self._workday_after(u, day + self.rng.randint(0, 1))
        t = self.local(d2, u.start_hour + self.rng.uniform(1, 5))
        size = self._unusual_export(u, t, self.rng.uniform(3.0, 6.0))
        self.emit(t, u.name, "export", "contact", self.ids(u, "contact", size), ip=u.office_ip)
        self._scenario("departing user", u, t, timedelta(days=1), t_flag)
        # what counts is an alert on what they do after the flag, not the look-back
        self.scenarios[-1] = replace(self.scenarios[-1], not_by=("departing_lookback",))

    def _unusual_export(self, u: User, t: float, factor: float) -> int:
        """A size well past what the user has actually exported before ``t``.

        Sized against their own record, not only their latent size: an ordinary export
        can be a 3-sigma draw of its own, and a leak smaller than one of the user's past
        exports would not be unusual for them (no detector should page on it).
        """
        past = sorted(
            ev["count"] for when, _, ev in self.events
            if when < t and ev["actor"] == u.name and ev["action"] == "export"
            and ev["outcome"] == "allowed"
        )  # fmt: skip
        usual = max(u.export_size, past[len(past) // 2]) if past else u.export_size
        largest = past[-1] if past else 0
        return max(150, round(usual * factor), round(largest * 1.5))

    def _lookback(self) -> None:
        """Took data on several days in the weeks before the flag, all of it unflagged."""
        u = self._pick()
        flag_day = self._workday_after(u, self.days - 3)
        start = None
        # five of the working days they were in (not weekends, not their vacation): a day
        # drawn onto a vacation would leave the case with fewer days taken, or none
        worked = [
            back for back in range(3, 20)
            if self.weekday(flag_day - back) < 5
            and not u.vacation[0] <= flag_day - back < u.vacation[1]
        ]  # fmt: skip
        for back in sorted(self.rng.sample(worked, min(5, len(worked))), reverse=True):
            day = flag_day - back
            t = self._extra_day(u, day, self._usual_day(u) * self.rng.uniform(2.5, 4.0))
            start = t if start is None else min(start, t)
        t_flag = self.local(flag_day, u.start_hour - 0.5)
        self.emit(t_flag, "admin", "restrict", "user", [u.name], channel="cli",
                  details={"restriction": "departing", "reason": "resigned"})  # fmt: skip
        self._scenario("look-back", u, t_flag, timedelta(days=1), start or t_flag)
        self.scenarios[-1] = replace(self.scenarios[-1], detect_from=_dt(t_flag))


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
