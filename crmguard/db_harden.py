"""PostgreSQL hardening: the roles and grants that take the ledger out of the
application's hands.

The append-only triggers stop an UPDATE, a DELETE or a TRUNCATE, but whoever owns a
table may drop its triggers. So the tables belong to an owner role (the one that runs
``crmguard migrate``), and the application connects as a role that may read and write
the CRM, may only SELECT and INSERT the ledger tables, owns nothing, and may create
nothing: it cannot UPDATE, DELETE or TRUNCATE the ledger, nor drop or disable a trigger.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, inspect, text

from crmguard.errors import CrmguardError

LEDGER_TABLES = ("audit_ledger", "audit_checkpoints")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class HardenError(CrmguardError):
    """Hardening cannot be applied here (not PostgreSQL, a bad role name, no rights)."""


def _ident(name: str, what: str) -> str:
    if not _ROLE.match(name):
        raise HardenError(
            f"{what} {name!r} is not a plain role name (lowercase letters, digits, _)"
        )
    return f'"{name}"'


def plan(tables: list[str], app_role: str, owner_role: str) -> list[str]:
    """The statements, in order; every name is checked above or comes from the catalog."""
    app, owner = _ident(app_role, "application role"), _ident(owner_role, "owner role")
    if app == owner:
        raise HardenError("the application role must not be the owner role")
    crm = [t for t in sorted(tables) if t not in LEDGER_TABLES and t != "alembic_version"]
    ledger = [t for t in LEDGER_TABLES if t in tables]
    # DDL takes no bound parameters; both names matched _ROLE above, so they are plain.
    exists = "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{}') "
    statements = [
        exists.format(owner_role) + f"THEN CREATE ROLE {owner} NOLOGIN; END IF; END $$",
        exists.format(app_role) + f"THEN CREATE ROLE {app} LOGIN; END IF; END $$",
        f"ALTER ROLE {app} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
        f"REVOKE {owner} FROM {app}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {app}",
    ]
    for table in sorted(tables):
        statements.append(f'ALTER TABLE "{table}" OWNER TO {owner}')
        statements.append(f'REVOKE ALL ON "{table}" FROM {app}, PUBLIC')
    statements += [f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{t}" TO {app}' for t in crm]
    statements += [f'GRANT SELECT, INSERT ON "{t}" TO {app}' for t in ledger]
    if "alembic_version" in tables:
        statements.append(f'GRANT SELECT ON "alembic_version" TO {app}')
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}")
    statements.append(f"ALTER FUNCTION audit_append_only() OWNER TO {owner}")
    return statements


def harden(engine: Engine, app_role: str, owner_role: str | None, apply: bool) -> list[str]:
    """Plan (and with ``apply``, run in one transaction) the hardening of ``engine``'s DB."""
    if engine.dialect.name != "postgresql":
        raise HardenError(
            "db harden is for PostgreSQL; the embedded SQLite file is protected by the "
            "file's permissions and the anchors (see docs/audit.md)"
        )
    with engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names(schema="public") if _ROLE.match(t)]
        owner = owner_role or str(conn.execute(text("SELECT current_user")).scalar())
    if "audit_ledger" not in tables:
        raise HardenError("no crmguard schema in this database: run `crmguard init` first")
    statements = plan(tables, app_role, owner)
    if apply:
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        except Exception as exc:
            orig = getattr(exc, "orig", exc)
            first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(exc).__name__
            raise HardenError(f"hardening was not applied (nothing changed): {first}") from None
    return statements
