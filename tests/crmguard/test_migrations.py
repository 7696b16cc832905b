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


# SQLite cannot reflect an index on an expression, so there Alembic skips comparing
# ix_audit_ledger_actor_day (PostgreSQL compares it); the 0006 test checks it is there.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
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


def _legacy_rows(engine: Engine, key: bytes, n: int) -> None:
    """Entries as schema 0001 wrote them: the keyed hash, no seal column."""
    prev = GENESIS_HASH
    with engine.begin() as conn:
        for seq in range(1, n + 1):
            ts = f"2026-11-01T10:00:{seq:02d}.000000Z"
            body = canonical(seq, ts, "alice", "view", "contact", f"[{seq}]", 1, "allowed",
                             "web", None, None, "{}")  # fmt: skip
            digest = mac(key, prev, body)
            conn.execute(
                text(
                    "INSERT INTO audit_ledger (seq, ts, actor, action, resource, record_ids, "
                    "count, outcome, channel, ip, request_id, details, prev_hash, hash) VALUES "
                    "(:seq, :ts, 'alice', 'view', 'contact', :ids, 1, 'allowed', 'web', NULL, "
                    "NULL, '{}', :prev, :hash)"
                ),
                {"seq": seq, "ts": ts, "ids": f"[{seq}]", "prev": prev, "hash": digest},
            )
            prev = digest


def test_an_existing_ledger_keeps_verifying_after_0002(db_url: str) -> None:
    key = b"k" * 32
    engine = create_engine(db_url)
    upgrade(engine, "0001")
    _legacy_rows(engine, key, 5)
    upgrade(engine)  # 0002_ledger: the seal column, added in place
    assert current_revision(engine) == head_revision()
    ledger = Ledger(engine, key)
    assert ledger.verify().checked == 5
    for i in range(3):  # new entries link onto the old ones and carry a seal
        ledger.append(AuditEvent("bob", "view", "contact", (i,)))
    result = ledger.verify()
    assert (result.ok, result.checked) == (True, 8)
    auditor = verify_chain(engine, None)
    assert auditor.ok and "5 entries predate the public chain" in auditor.notes[0]
    with engine.begin() as conn:  # the guards survived the migration
        with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
            conn.execute(text("UPDATE audit_ledger SET actor = 'x' WHERE seq = 2"))
    engine.dispose()


def test_head_revision_read_from_the_files_is_alembics_head() -> None:
    """The CLI reads the head without loading Alembic; it must agree with Alembic."""
    from alembic.script import ScriptDirectory

    from crmguard.schema import MIGRATIONS_DIR

    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def _ledger_indexes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_ledger'"
        else:
            sql = (
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_ledger'"
            )
        return {str(r[0]) for r in conn.execute(text(sql))}


def test_0006_swaps_in_the_activity_index_and_back(db_url: str) -> None:
    """0006 puts the (actor, day, ...) index a user's activity per day is read from in
    the place of (actor, ts, ...), on an existing ledger; its downgrade swaps them back."""
    from alembic import command

    from crmguard.schema import _config

    engine = create_engine(db_url)
    upgrade(engine, "0005_ledger_index")
    _legacy_rows(engine, b"k" * 32, 3)
    assert "ix_audit_ledger_actor_day" not in _ledger_indexes(engine)
    upgrade(engine)
    assert current_revision(engine) == "0007_ledger_day_totals"
    indexes = _ledger_indexes(engine)
    assert "ix_audit_ledger_actor_day" in indexes
    assert "ix_audit_ledger_actor_activity" not in indexes  # replaced, not added to
    days = Ledger(engine, b"k" * 32).activity("alice")
    assert [(d.day, d.events) for d in days] == [("2026-11-01", 3)]
    cfg = _config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005_ledger_index")
    assert current_revision(engine) == "0005_ledger_index"
    indexes = _ledger_indexes(engine)
    assert "ix_audit_ledger_actor_day" not in indexes
    assert "ix_audit_ledger_actor_activity" in indexes
    engine.dispose()
