"""The demo dataset: reproducible, every role present, references intact, international."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, select

from crm_models import (
    ACTIVITY_KINDS,
    DEAL_STAGES,
    TASK_STATUSES,
    Activity,
    Base,
    Company,
    Contact,
    Deal,
    Task,
    Team,
    User,
)
from crmguard.seed import (
    MIN_USERS,
    ROLES,
    DatabaseNotEmpty,
    DatasetSummary,
    ascii_fold,
    contact_rows,
    seed_dataset,
)
from crmguard.seed.identity import fit_surname

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
MODELS: tuple[type[Base], ...] = (Team, User, Company, Contact, Deal, Activity, Task)


def _engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _fk_on(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

    Base.metadata.create_all(engine)
    return engine


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            m.__tablename__: [
                tuple(r) for r in conn.execute(select(m.__table__).order_by(m.__table__.c.id))
            ]
            for m in MODELS
        }


def _seeded(url: str, **kwargs: Any) -> tuple[Engine, DatasetSummary]:
    engine = _engine(url)
    kwargs.setdefault("users", 30)
    kwargs.setdefault("contacts", 400)
    return engine, seed_dataset(engine, now=NOW, **kwargs)


def _rows(engine: Engine, model: type[Base]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(model.__table__))]


def _check_dataset(engine: Engine, s: DatasetSummary) -> None:
    """Everything a well-formed dataset promises, on whatever database it is in."""
    data = {m.__tablename__: _rows(engine, m) for m in MODELS}
    assert {t: len(rows) for t, rows in data.items()} == s.counts
    users = {u["id"]: u for u in data["users"]}
    by_name = {u["username"]: u for u in users.values()}
    teams = {t["id"]: t for t in data["teams"]}
    ids = {t: {r["id"] for r in rows} for t, rows in data.items()}

    # Every role is filled, and the summary's people have the roles it claims.
    roles = Counter(role for u in users.values() for role in u["roles"])
    assert set(roles) == set(ROLES)
    assert roles["owner"] == 1 and roles["sales_manager"] == len(s.sales_teams)
    for attr in ("owner", "admin", "security", "auditor", "head_of_sales"):
        assert by_name[getattr(s, attr)]["roles"] == [attr]
    for role, names in s.users_by_role.items():
        assert all(role in by_name[n]["roles"] for n in names)
    assert sorted(teams[i]["name"] for i in teams) == sorted(s.team_names)

    # The departing manager heads a sales team that still has active reps.
    departing = by_name[s.departing]
    assert departing["roles"] == ["sales_manager"] and departing["active"]
    assert departing["team_id"] == s.departing_team_id
    assert teams[s.departing_team_id]["head_id"] == departing["id"]
    assert teams[s.departing_team_id]["name"] == s.departing_team
    same, other = by_name[s.rep_same_team], by_name[s.rep_other_team]
    assert same["roles"] == ["sales_rep"] and same["active"]
    assert same["team_id"] == s.departing_team_id
    assert other["roles"] == ["sales_rep"] and other["active"]
    assert other["team_id"] not in (None, s.departing_team_id)
    assert teams[other["team_id"]]["name"] in s.sales_teams
    support = by_name[s.support]
    assert support["roles"] == ["support"]
    assert teams[support["team_id"]]["name"] == s.support_team
    for team in teams.values():  # every team has a head who is a member of it
        assert users[team["head_id"]]["team_id"] == team["id"]
    inactive = {u["username"] for u in users.values() if not u["active"]}
    assert inactive == set(s.inactive_users) and inactive
    assert all(by_name[n]["roles"] == ["sales_rep"] for n in inactive)
    assert s.user_ids == {u["username"]: u["id"] for u in users.values()}

    # References point at real rows; owners of client records are active sellers.
    sellers = {
        u["id"] for u in users.values()
        if u["active"] and u["roles"][0] in ("sales_rep", "sales_manager")
    }  # fmt: skip
    assert {c["owner_id"] for c in data["contacts"]} <= sellers
    assert {c["owner_id"] for c in data["companies"]} <= sellers
    assert {c["company_id"] for c in data["contacts"]} <= ids["companies"]
    contacts = {c["id"]: c for c in data["contacts"]}
    for d in data["deals"]:
        assert d["owner_id"] in sellers and d["stage"] in DEAL_STAGES
        assert d["company_id"] == contacts[d["contact_id"]]["company_id"]
    deal_contact = {d["id"]: d["contact_id"] for d in data["deals"]}
    for a in data["activities"]:
        assert a["owner_id"] in sellers and a["kind"] in ACTIVITY_KINDS
        assert a["contact_id"] in contacts
        assert a["deal_id"] is None or deal_contact[a["deal_id"]] == a["contact_id"]
        occurred = a["occurred_at"].replace(tzinfo=UTC)
        assert NOW - timedelta(days=90) <= occurred <= NOW
    related = {"contact": ids["contacts"], "deal": ids["deals"], "company": ids["companies"]}
    for t in data["tasks"]:
        assert t["status"] in TASK_STATUSES and t["assignee_id"] in users
        assert t["related_id"] in related[t["related_type"]]

    # Ownership is consistent: a contact's deals mostly belong to the contact's owner,
    # and the departing manager holds a good share of their team's contacts.
    same_owner = sum(d["owner_id"] == contacts[d["contact_id"]]["owner_id"] for d in data["deals"])
    assert same_owner >= 0.8 * len(data["deals"])
    team_members = {u["id"] for u in users.values() if u["team_id"] == s.departing_team_id}
    team_contacts = [c for c in data["contacts"] if c["owner_id"] in team_members]
    mine = sum(c["owner_id"] == departing["id"] for c in team_contacts)
    assert mine >= 0.25 * len(team_contacts)

    # Names are international, addresses ASCII.
    assert any(not c["last_name"].isascii() for c in data["contacts"])
    assert any(not u["display_name"].isascii() for u in users.values())
    for u in users.values():
        assert u["username"].isascii() and u["username"] == u["username"].lower()
        assert u["email"].isascii()
    assert all(c["email"].isascii() and "@" in c["email"] for c in data["contacts"])
    assert len({c["country"] for c in data["contacts"]}) >= 15


def test_seed_on_sqlite_is_well_formed(sqlite_url: str) -> None:
    engine, summary = _seeded(sqlite_url)
    _check_dataset(engine, summary)
    assert summary.counts["contacts"] == 400 and summary.counts["users"] == 30
    assert summary.counts["companies"] == 40
    assert 100 <= summary.counts["deals"] <= 220 and summary.counts["activities"] == 800


@pytest.mark.postgres
def test_seed_on_postgres_is_well_formed_and_leaves_sequences_usable(pg_url: str) -> None:
    engine, summary = _seeded(pg_url)
    _check_dataset(engine, summary)
    with engine.begin() as conn:  # the CRM's own inserts after seeding get fresh ids
        new_id = conn.execute(
            insert(Contact.__table__)
            .values(first_name="Zoë", last_name="Nguyễn", owner_id=1)
            .returning(Contact.__table__.c.id)
        ).scalar_one()
    assert new_id == summary.counts["contacts"] + 1


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Any) -> None:
    first = _dump(_seeded(f"sqlite:///{tmp_path / 'a.db'}", seed=7)[0])
    again = _dump(_seeded(f"sqlite:///{tmp_path / 'b.db'}", seed=7)[0])
    other = _dump(_seeded(f"sqlite:///{tmp_path / 'c.db'}", seed=8)[0])
    assert first == again
    for table in ("users", "contacts", "deals", "activities", "tasks"):
        assert first[table] != other[table], table


def test_defaults_give_at_least_fifty_users(sqlite_url: str) -> None:
    engine = _engine(sqlite_url)
    summary = seed_dataset(engine, contacts=300, now=NOW)  # default users and seed
    assert summary.counts["users"] >= 50
    assert len(summary.users_by_role["sales_rep"]) >= 30
    _check_dataset(engine, summary)


def test_refuses_a_database_that_holds_data(sqlite_url: str) -> None:
    engine = _engine(sqlite_url)
    with engine.begin() as conn:  # one stray contact is enough to refuse
        conn.execute(insert(Contact.__table__).values(first_name="Ngozi", last_name="Okafor"))
    before = _dump(engine)
    with pytest.raises(DatabaseNotEmpty, match="contacts"):
        seed_dataset(engine, contacts=50, now=NOW)
    assert _dump(engine) == before


def test_refuses_to_seed_twice(sqlite_url: str) -> None:
    engine, _ = _seeded(sqlite_url, contacts=50)
    before = _dump(engine)
    with pytest.raises(DatabaseNotEmpty, match="teams"):
        seed_dataset(engine, contacts=50, now=NOW)
    assert _dump(engine) == before


def test_too_few_users_is_refused(sqlite_url: str) -> None:
    engine = _engine(sqlite_url)
    with pytest.raises(ValueError, match=str(MIN_USERS)):
        seed_dataset(engine, users=MIN_USERS - 1, contacts=10, now=NOW)
    assert all(not rows for rows in _dump(engine).values())


def test_contact_rows_for_benchmarks() -> None:
    rows = contact_rows(
        random.Random(1), 2_000, [5, 6], [10, 11], NOW, start_id=101,
        company_domains=["fjord.no", "amber.pl"],
    )  # fmt: skip
    assert [r["id"] for r in rows] == list(range(101, 2_101))
    assert {r["owner_id"] for r in rows} == {5, 6}
    domain = {10: "fjord.no", 11: "amber.pl"}
    assert all(r["email"].endswith("@" + domain[r["company_id"]]) for r in rows)
    assert all(r["created_at"] <= r["updated_at"] <= NOW for r in rows)
    assert rows == contact_rows(
        random.Random(1), 2_000, [5, 6], [10, 11], NOW, start_id=101,
        company_domains=["fjord.no", "amber.pl"],
    )  # fmt: skip
    with pytest.raises(ValueError, match="aligned"):
        contact_rows(random.Random(1), 1, [5], [10, 11], NOW, company_domains=["x.no"])


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Łukasz Wiśniewski", "Lukasz Wisniewski"),
        ("Søren Jørgensen", "Soren Jorgensen"),
        ("Þórður Guðmundsson", "Thordur Gudmundsson"),
        ("Nguyễn Đặng", "Nguyen Dang"),
        ("Zoë Çelik Yılmaz", "Zoe Celik Yilmaz"),  # noqa: RUF001
        ("Schröder Straße", "Schroder Strasse"),
    ],
)
def test_ascii_fold(name: str, folded: str) -> None:
    assert ascii_fold(name) == folded


@pytest.mark.parametrize(
    ("pool", "first", "last", "carried"),
    [
        ("polish", "Joanna", "Kowalski", "Kowalska"),
        ("polish", "Łukasz", "Kowalski", "Kowalski"),
        ("polish", "Zofia", "Nowak", "Nowak"),
        ("czech", "Tereza", "Novák", "Nováková"),
        ("czech", "Lucie", "Černý", "Černá"),
        ("czech", "Kateřina", "Němec", "Němcová"),
        ("czech", "Tomáš", "Dvořák", "Dvořák"),
        ("icelandic", "Guðrún", "Jónsson", "Jónsdóttir"),
        ("icelandic", "Ólafur", "Jónsson", "Jónsson"),
        ("german", "Anna", "Schröder", "Schröder"),
    ],
)
def test_surnames_follow_the_bearer(pool: str, first: str, last: str, carried: str) -> None:
    assert fit_surname(pool, first, last) == carried


def test_generated_polish_women_carry_feminine_surnames() -> None:
    rows = contact_rows(random.Random(3), 3_000, [1], [1], NOW)
    polish_women = [r for r in rows if r["country"] == "PL" and r["first_name"].endswith("a")]
    assert polish_women
    assert not any(r["last_name"].endswith("ski") for r in polish_women)
