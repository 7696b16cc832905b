"""The demo company's own people: teams, users and their roles.

Every role the access policies know gets at least one user, and the sales floor is
shaped for the scenarios the product exists for: several sales teams each headed by a
sales manager, reps spread over them (a few already gone, ``active=False``), a support
team, and one sales manager picked as the *departing* one whose team still has active
reps, so that "same team" and "other team" comparisons always have someone to point at.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crmguard.seed.identity import fit_surname, local_part
from crmguard.seed.names import NAME_POOLS, POOL_CUM_WEIGHTS

SALES_TEAMS: tuple[str, ...] = ("Sales North", "Sales South", "Sales East", "Enterprise", "SMB")
SUPPORT_TEAM = "Support"

#: Roles filled by a fixed number of people, in the order their users are created.
FIXED_ROLES: tuple[tuple[str, int], ...] = (
    ("owner", 1),
    ("admin", 2),
    ("security", 2),
    ("auditor", 1),
    ("head_of_sales", 1),
)
ROLES: tuple[str, ...] = (
    "owner", "admin", "security", "auditor", "head_of_sales", "sales_manager",
    "sales_rep", "support",
)  # fmt: skip

#: The demo company's mail domain (``.example`` is reserved: no real mailbox behind it).
STAFF_DOMAIN = "crm-demo.example"

#: Each sales team needs two reps: one may be inactive and one must stay active.
MIN_USERS = sum(n for _, n in FIXED_ROLES) + len(SALES_TEAMS) * 3 + 2

#: How much more than an average rep the departing manager and the other managers own.
DEPARTING_WEIGHT = 4.0
MANAGER_WEIGHT = 1.5


@dataclass(frozen=True)
class Staff:
    """Rows for ``teams`` and ``users`` plus what the record generators and the
    summary need to know about them."""

    team_rows: list[dict[str, Any]]
    user_rows: list[dict[str, Any]]
    heads: dict[int, int]  # team id -> head user id
    seller_ids: tuple[int, ...]  # active sales reps and managers: owners of client records
    seller_weights: tuple[float, ...]
    support_ids: tuple[int, ...]
    departing_id: int
    rep_same_team_id: int
    rep_other_team_id: int

    def username(self, user_id: int) -> str:
        """The username of user ``user_id`` (ids are 1-based row positions)."""
        name: str = self.user_rows[user_id - 1]["username"]
        return name


def _unique_person(rng: random.Random, taken: set[str]) -> tuple[str, str, str]:
    """First name, last name and a username no one else has."""
    while True:
        pool = rng.choices(NAME_POOLS, cum_weights=POOL_CUM_WEIGHTS)[0]
        first = rng.choice(pool.first_names)
        last = fit_surname(pool.key, first, rng.choice(pool.last_names))
        username = local_part(first, last)
        if username not in taken:
            taken.add(username)
            return first, last, username


def build_staff(rng: random.Random, users: int, now: datetime) -> Staff:
    """Teams and ``users`` users in every role; raises ValueError below :data:`MIN_USERS`."""
    if users < MIN_USERS:
        raise ValueError(f"the demo needs at least {MIN_USERS} users, got {users}")
    team_names = (*SALES_TEAMS, SUPPORT_TEAM)
    team_ids = {name: i for i, name in enumerate(team_names, start=1)}
    support_team_id = team_ids[SUPPORT_TEAM]
    n_fixed = sum(n for _, n in FIXED_ROLES)
    n_support = max(2, users // 12)
    n_reps = users - n_fixed - len(SALES_TEAMS) - n_support

    plan: list[tuple[str, int | None]] = [
        (role, None) for role, count in FIXED_ROLES for _ in range(count)
    ]
    plan += [("sales_manager", team_ids[name]) for name in SALES_TEAMS]
    plan += [("support", support_team_id)] * n_support
    rep_teams = [team_ids[SALES_TEAMS[i % len(SALES_TEAMS)]] for i in range(n_reps)]
    rng.shuffle(rep_teams)
    plan += [("sales_rep", team_id) for team_id in rep_teams]

    first_rep_id = len(plan) - n_reps + 1
    reps_by_team: dict[int, list[int]] = {}
    for offset, rep_team in enumerate(rep_teams):
        reps_by_team.setdefault(rep_team, []).append(first_rep_id + offset)
    # At most one inactive rep per team: every team keeps an active rep.
    n_inactive = min(len(SALES_TEAMS), max(1, n_reps // 15))
    inactive = {rng.choice(reps_by_team[t]) for t in rng.sample(sorted(reps_by_team), n_inactive)}

    taken: set[str] = set()
    user_rows: list[dict[str, Any]] = []
    for user_id, (role, member_of) in enumerate(plan, start=1):
        first, last, username = _unique_person(rng, taken)
        created = now - timedelta(days=rng.randrange(60, 5 * 365), seconds=rng.randrange(86400))
        updated = now - timedelta(days=rng.randrange(0, 60)) if user_id in inactive else created
        user_rows.append(
            {
                "id": user_id,
                "username": username,
                "display_name": f"{first} {last}",
                "email": f"{username}@{STAFF_DOMAIN}",
                "active": user_id not in inactive,
                "team_id": member_of,
                "roles": [role],
                "created_at": created,
                "updated_at": max(created, updated),
            }
        )

    managers = {row["team_id"]: row["id"] for row in user_rows if row["roles"] == ["sales_manager"]}
    support_ids = tuple(row["id"] for row in user_rows if row["roles"] == ["support"])
    heads = dict(managers)
    heads[support_team_id] = support_ids[0]  # the support lead
    active_reps = {t: [u for u in ids if u not in inactive] for t, ids in reps_by_team.items()}

    departing_team = rng.choice(sorted(t for t, reps in active_reps.items() if reps))
    departing_id = managers[departing_team]
    rep_same = rng.choice(active_reps[departing_team])
    rep_other = rng.choice(
        sorted(u for t, reps in active_reps.items() if t != departing_team for u in reps)
    )

    seller_ids: list[int] = []
    seller_weights: list[float] = []
    for team_id in sorted(managers):
        seller_ids.append(managers[team_id])
        seller_weights.append(DEPARTING_WEIGHT if team_id == departing_team else MANAGER_WEIGHT)
        for rep in active_reps[team_id]:
            seller_ids.append(rep)
            seller_weights.append(round(rng.uniform(0.6, 1.6), 3))

    team_rows = [{"id": team_ids[name], "name": name, "head_id": None} for name in team_names]
    return Staff(
        team_rows=team_rows,
        user_rows=user_rows,
        heads=heads,
        seller_ids=tuple(seller_ids),
        seller_weights=tuple(seller_weights),
        support_ids=support_ids,
        departing_id=departing_id,
        rep_same_team_id=rep_same,
        rep_other_team_id=rep_other,
    )
