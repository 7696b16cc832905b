"""The database itself refuses to rewrite the ledger."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audit import AuditEvent, Ledger, install_append_only_guards


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_ledger SET actor = 'mallory'",
        "DELETE FROM audit_ledger",
        "UPDATE audit_checkpoints SET seq = 0",
        "DELETE FROM audit_checkpoints",
    ],
)
def test_update_and_delete_are_refused(engine: Engine, sql: str) -> None:
    ledger = Ledger(engine, bytes(32), signing_key=Ed25519PrivateKey.generate())
    ledger.append(AuditEvent("alice", "view", "contact", (1,)))
    ledger.checkpoint()
    with pytest.raises(DBAPIError, match="is append-only"), engine.begin() as conn:
        conn.execute(text(sql))
    assert [e.actor for e in ledger.entries()] == ["alice"]
    assert ledger.verify().ok


def test_truncate_is_refused_on_postgresql(pg_url: str) -> None:
    from sqlalchemy import create_engine

    from audit import create_tables

    engine = create_engine(pg_url)
    create_tables(engine)
    Ledger(engine, bytes(32)).append(AuditEvent("alice", "view", "contact"))
    with pytest.raises(DBAPIError, match="audit_ledger is append-only"), engine.begin() as c:
        c.execute(text("TRUNCATE audit_ledger"))
    assert Ledger(engine, bytes(32)).head() is not None
    engine.dispose()


def test_installing_the_guards_twice_is_harmless(engine: Engine, ledger: Ledger) -> None:
    with engine.begin() as conn:
        install_append_only_guards(conn)
        install_append_only_guards(conn)
    ledger.append(AuditEvent("alice", "view", "contact"))
    with pytest.raises(DBAPIError, match="is append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_ledger"))
