"""Fixtures for the access tests: the shipped policy, editable copies, seeded databases."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

import access
from access import AccessControl
from crm_models import Base, Contact, Team, User
from policies import DEFAULT_DIR


@pytest.fixture(scope="session")
def shipped() -> AccessControl:
    """The policy exactly as it ships."""
    return AccessControl.from_dir(DEFAULT_DIR)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """An editable copy of the shipped model.conf and policy.csv."""
    target = tmp_path / "policies"
    target.mkdir()
    for name in ("model.conf", "policy.csv"):
        shutil.copy(DEFAULT_DIR / name, target / name)
    return target


# Seed: teams 1 and 2; users 1, 2 in team 1, user 3 in team 2, user 4 without a team.
# Contact ids are 10 * owner + n, so expected sets can be read off at a glance.
USERS = [
    {"id": 1, "username": "ann", "display_name": "Ann", "team_id": 1, "roles": ["sales_rep"]},
    {"id": 2, "username": "bob", "display_name": "Bob", "team_id": 1, "roles": ["sales_rep"]},
    {"id": 3, "username": "cat", "display_name": "Cat", "team_id": 2, "roles": ["sales_rep"]},
    {"id": 4, "username": "dan", "display_name": "Dan", "team_id": None, "roles": ["support"]},
]
CONTACTS = [
    {
        "id": 10 * owner + n,
        "first_name": f"F{owner}{n}",
        "last_name": "L",
        "email": f"c{owner}{n}@example.com",
        "phone": f"+100000{owner}{n}",
        "owner_id": owner,
    }
    for owner in (1, 2, 3, 4)
    for n in (1, 2)
] + [
    {"id": 99, "first_name": "Nobody", "last_name": "L", "email": "", "phone": "", "owner_id": None}
]


def _seed(url: str) -> Engine:
    eng = create_engine(url)
    Base.metadata.create_all(eng)
    access.metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(insert(Team), [{"id": 1, "name": "north"}, {"id": 2, "name": "south"}])
        conn.execute(insert(User), USERS)
        conn.execute(insert(Contact), CONTACTS)
    return eng


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A fresh seeded database (SQLite and PostgreSQL) for tests that write."""
    eng = _seed(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def seeded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Engine]:
    """One seeded database per module and backend, for read-only tests.

    Creating a PostgreSQL database costs about a second, so read-only tests share one
    (created and dropped here on the same server the root ``pg_url`` fixture uses).
    """
    if request.param == "sqlite":
        eng = _seed(f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.db'}")
        yield eng
        eng.dispose()
        return
    admin_url: str = request.getfixturevalue("pg_admin_url")
    name = f"crmguard_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = _seed(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
