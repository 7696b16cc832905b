"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL,
and the migrated ledger refuses UPDATE and DELETE in the database itself."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.exc import DBAPIError

import access.schema
import alerts.schema
import audit.schema
import crm_models
import crmguard.auth.schema
from audit import GENESIS_HASH, AuditEvent, Ledger, verify_chain
from audit.chain import canonical, mac
from crmguard.schema import current_revision, head_revision, upgrade


def _combined() -> MetaData:
    combined = MetaData()
    for md in (
        crm_models.Base.metadata,
        access.schema.metadata,
        audit.schema.metadata,
        alerts.schema.metadata,
        crmguard.auth.schema.metadata,
    ):
        for table in md.tables.values():
            table.to_metadata(combined)
    return combined


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), _combined())
    assert diff == []
    upgrade(engine)  # running it again is harmless
    engine.dispose()


def test_migrated_ledger_refuses_update_and_delete(db_url: str) -> None:
    engine = create_engine(db_url)
    upgrade(engine)
    Ledger(engine, b"k" * 32).append(AuditEvent(actor="a", action="view", resource="contact"))
    for statement in ("UPDATE audit_ledger SET actor = 'b'", "DELETE FROM audit_ledger"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_ledger")).scalar_one() == "a"
    engine.dispose()


def test_upgrading_indexes_the_ledger_that_already_exists(db_url: str) -> None:
    engine = create_engine(db_url)
    upgrade(engine, "0001")
    _legacy_rows(engine, b"k" * 32, 2)  # contact views of records 1 and 2, as 0001 wrote them
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT rid, resource, seq FROM audit_record_index ORDER BY seq")
        ).all()
    assert [tuple(r) for r in rows] == [("1", "contact", 1), ("2", "contact", 2)]
    engine.dispose()
