"""Fill an empty CRM database with a realistic, reproducible demo client base.

The demo, the usage simulation and the benchmarks all start from here, so it must be
deterministic (one ``random.Random(seed)``, every timestamp relative to ``now``, ids
assigned here rather than by the database) and fast: all rows are built in memory and
written with Core ``executemany`` inserts in a single transaction, which on SQLite is
an order of magnitude quicker than ORM flushes. The returned :class:`DatasetSummary`
names the people the scenarios need, so callers never go looking for "a sales manager
whose team has reps" themselves.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update

from crm_models import Activity, Base, Company, Contact, Deal, Task, Team, User
from crmguard.errors import CrmguardError
from crmguard.seed.clients import company_rows, contact_rows
from crmguard.seed.history import activity_rows, deal_rows, task_rows
from crmguard.seed.staff import ROLES, SALES_TEAMS, SUPPORT_TEAM, Staff, build_staff

#: Companies per contact in the default mix (20,000 contacts -> 2,000 companies).
COMPANIES_PER_CONTACT = 0.1

#: Insert order: every foreign key points at a table written before it.
TABLE_ORDER: tuple[type[Base], ...] = (Team, User, Company, Contact, Deal, Activity, Task)


class DatabaseNotEmpty(CrmguardError):
    """The seeder was pointed at a database that already holds CRM data."""

    http_status = 409

    def __init__(self, table: str) -> None:
        super().__init__(
            f"table {table!r} already holds rows: the demo dataset is only written into an "
            "empty database (create a fresh one, or drop and recreate the tables)"
        )
        self.table = table


@dataclass(frozen=True)
class DatasetSummary:
    """Who is who in the seeded CRM, and how much of everything there is.

    The named users are the cast of the security scenarios: the departing sales
    manager (whose team still has active reps), a rep in that team, a rep in another
    team, and one user for each oversight role.
    """

    seed: int
    now: datetime
    owner: str
    admin: str
    security: str
    auditor: str
    head_of_sales: str
    departing: str
    departing_team: str
    departing_team_id: int
    rep_same_team: str
    rep_other_team: str
    support: str
    sales_teams: tuple[str, ...]
    support_team: str
    users_by_role: dict[str, tuple[str, ...]]
    inactive_users: tuple[str, ...]
    user_ids: dict[str, int]
    counts: dict[str, int]

    @property
    def team_names(self) -> tuple[str, ...]:
        """Every team, sales teams first."""
        return (*self.sales_teams, self.support_team)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _assign_company_owners(
    rng: random.Random,
    companies: list[dict[str, Any]],
    contacts: Sequence[dict[str, Any]],
    staff: Staff,
) -> None:
    """An account belongs to the seller of its first contact; empty ones to anyone."""
    first_owner: dict[int, int] = {}
    for contact in contacts:
        first_owner.setdefault(contact["company_id"], contact["owner_id"])
    for company in companies:
        owner = first_owner.get(company["id"])
        if owner is None:
            owner = rng.choices(staff.seller_ids, weights=staff.seller_weights)[0]
        company["owner_id"] = owner


def _table(model: type[Base]) -> Table:
    """The Core table behind ``model`` (typed as a Table, which Core DML asks for)."""
    return Base.metadata.tables[model.__tablename__]


def _require_empty(conn: Connection) -> None:
    for model in TABLE_ORDER:
        if conn.execute(select(func.count()).select_from(_table(model))).scalar_one():
            raise DatabaseNotEmpty(model.__tablename__)


def _write(conn: Connection, tables: dict[type[Base], list[dict[str, Any]]], staff: Staff) -> None:
    for model, rows in tables.items():
        if rows:
            conn.execute(insert(_table(model)), rows)
        if model is User:  # heads can only be named once their users exist
            teams = _table(Team)
            conn.execute(
                update(teams)
                .where(teams.c.id == bindparam("t_id"))
                .values(head_id=bindparam("t_head")),
                [{"t_id": t, "t_head": u} for t, u in sorted(staff.heads.items())],
            )
    if conn.dialect.name == "postgresql":
        # Explicit ids leave the serial sequences at 1; move them past the seeded rows
        # so that the CRM's own inserts afterwards get fresh ids.
        for model, rows in tables.items():
            if rows:
                seq = func.pg_get_serial_sequence(model.__tablename__, "id")
                conn.execute(select(func.setval(seq, max(r["id"] for r in rows))))


def seed_dataset(
    engine: Engine,
    *,
    seed: int = 42,
    users: int = 60,
    contacts: int = 20_000,
    now: datetime | None = None,
) -> DatasetSummary:
    """Write teams, ``users`` users, ~``contacts``/10 companies, ``contacts`` contacts,
    ~0.4 deals, ~2 activities and ~0.3 tasks per contact into an empty database.

    Raises :class:`DatabaseNotEmpty` if any CRM table already has rows and ValueError
    if ``users`` is too small to fill every role. The same ``seed`` and ``now`` give the
    same rows; ``now`` defaults to the current UTC time.
    """
    if contacts < 0:
        raise ValueError(f"contacts must not be negative, got {contacts}")
    now = _utc(now)
    rng = random.Random(seed)
    staff = build_staff(rng, users, now)
    companies = company_rows(rng, max(1, round(contacts * COMPANIES_PER_CONTACT)), now)
    contact_list = contact_rows(
        rng,
        contacts,
        staff.seller_ids,
        [c["id"] for c in companies],
        now,
        owner_weights=staff.seller_weights,
        company_domains=[c["website"].removeprefix("https://www.") for c in companies],
    )
    _assign_company_owners(rng, companies, contact_list, staff)
    names = {c["id"]: c["name"] for c in companies}
    deals = deal_rows(rng, contact_list, names, staff.seller_ids, now)
    activities = activity_rows(rng, contact_list, deals, names, staff.seller_ids, now)
    tasks = task_rows(rng, contact_list, deals, companies, staff.seller_ids, staff.support_ids, now)
    tables: dict[type[Base], list[dict[str, Any]]] = {
        Team: staff.team_rows,
        User: staff.user_rows,
        Company: companies,
        Contact: contact_list,
        Deal: deals,
        Activity: activities,
        Task: tasks,
    }
    with engine.begin() as conn:
        _require_empty(conn)
        _write(conn, tables, staff)
    return _summary(seed, now, staff, {m.__tablename__: len(r) for m, r in tables.items()})


def _summary(seed: int, now: datetime, staff: Staff, counts: dict[str, int]) -> DatasetSummary:
    by_role: dict[str, list[str]] = {role: [] for role in ROLES}
    for row in staff.user_rows:
        for role in row["roles"]:
            by_role[role].append(row["username"])
    departing_team_id = staff.user_rows[staff.departing_id - 1]["team_id"]
    return DatasetSummary(
        seed=seed,
        now=now,
        owner=by_role["owner"][0],
        admin=by_role["admin"][0],
        security=by_role["security"][0],
        auditor=by_role["auditor"][0],
        head_of_sales=by_role["head_of_sales"][0],
        departing=staff.username(staff.departing_id),
        departing_team=staff.team_rows[departing_team_id - 1]["name"],
        departing_team_id=departing_team_id,
        rep_same_team=staff.username(staff.rep_same_team_id),
        rep_other_team=staff.username(staff.rep_other_team_id),
        support=staff.username(staff.support_ids[-1]),
        sales_teams=SALES_TEAMS,
        support_team=SUPPORT_TEAM,
        users_by_role={role: tuple(names) for role, names in by_role.items()},
        inactive_users=tuple(r["username"] for r in staff.user_rows if not r["active"]),
        user_ids={r["username"]: r["id"] for r in staff.user_rows},
        counts=counts,
    )
