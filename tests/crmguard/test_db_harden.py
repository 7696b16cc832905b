"""`crmguard db harden` on the real server: afterwards the application's role can read
and write the CRM and append to the ledger, and nothing else to the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from audit import AuditEvent, Ledger
from crmguard.db_harden import HardenError, harden, plan
from crmguard.schema import upgrade

KEY = b"k" * 32


@pytest.fixture
def roles(pg_url: str) -> Iterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:8]
    app, owner = f"crm_app_{tag}", f"crm_owner_{tag}"
    yield app, owner
    # Roles are server-wide: release what they own or were granted here, then drop them.
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for role in (app, owner):
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
            if exists.first():
                conn.execute(text(f'DROP OWNED BY "{role}" CASCADE'))
                conn.execute(text(f'DROP ROLE "{role}"'))
    admin.dispose()


@pytest.mark.postgres
def test_the_app_role_cannot_rewrite_the_ledger(pg_url: str, roles: tuple[str, str]) -> None:
    app_role, owner_role = roles
    admin = create_engine(pg_url)
    upgrade(admin)
    Ledger(admin, KEY).append(AuditEvent("alice", "view", "contact", (1,)))
    printed = harden(admin, app_role, owner_role, apply=False)
    assert any('GRANT SELECT, INSERT ON "audit_ledger"' in s for s in printed)
    harden(admin, app_role, owner_role, apply=True)
    harden(admin, app_role, owner_role, apply=True)  # running it again is harmless
    admin.dispose()

    as_app = create_engine(make_url(pg_url).set(username=app_role))
    ledger = Ledger(as_app, KEY)
    ledger.append(AuditEvent("bob", "view", "contact", (2,)))  # the app still records
    with as_app.begin() as conn:  # and still works the CRM
        conn.execute(text("INSERT INTO teams (name) VALUES ('sales')"))
        conn.execute(text("UPDATE teams SET name = 'sales-2'"))
        conn.execute(text("DELETE FROM teams"))
    for attack in (
        "UPDATE audit_ledger SET actor = 'x'",
        "DELETE FROM audit_ledger",
        "TRUNCATE audit_ledger",
        "DELETE FROM audit_checkpoints",
        "DROP TRIGGER audit_ledger_no_update_delete ON audit_ledger",
        "ALTER TABLE audit_ledger DISABLE TRIGGER USER",
        "DROP TABLE audit_ledger",
        "CREATE TABLE audit_ledger_copy (x int)",
        "ALTER FUNCTION audit_append_only() RENAME TO gone",
    ):
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            with as_app.begin() as conn:
                conn.execute(text(attack))
    assert ledger.verify().ok
    assert ledger.verify().checked == 2
    as_app.dispose()


def test_bad_role_names_and_sqlite_are_refused(sqlite_url: str) -> None:
    with pytest.raises(HardenError, match="not a plain role name"):
        plan(["audit_ledger"], "app; DROP TABLE x", "owner")
    with pytest.raises(HardenError, match="must not be the owner"):
        plan(["audit_ledger"], "same", "same")
    with pytest.raises(HardenError, match="for PostgreSQL"):
        harden(create_engine(sqlite_url), "crmguard_app", None, apply=False)
