"""When the database refuses the write, the caller gets LedgerWriteError and no entry exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_helpers import KEY
from sqlalchemy import Engine, create_engine, text

from audit import AuditEvent, Ledger, LedgerReadError, LedgerWriteError, create_tables


def test_read_only_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    writable = create_engine(f"sqlite:///{db}")
    create_tables(writable)
    Ledger(writable, KEY).append(AuditEvent("alice", "view", "contact", (1,)))
    writable.dispose()
    read_only = create_engine(f"sqlite:///file:{db}?mode=ro&uri=true")
    ledger = Ledger(read_only, KEY)
    with pytest.raises(LedgerWriteError) as info:
        ledger.append(AuditEvent("alice", "view", "contact", (2,)))
    message = str(info.value)
    assert message == (
        "the audit ledger refused the write (attempt to write a readonly database); "
        "nothing was returned"
    )
    assert info.value.exit_code == 2
    assert ledger.head() is not None and ledger.head()[0] == 1  # type: ignore[index]
    read_only.dispose()


def test_postgresql_trigger_refusal(pg_url: str) -> None:
    engine = create_engine(pg_url)
    create_tables(engine)
    ledger = Ledger(engine, KEY)
    ledger.append(AuditEvent("alice", "view", "contact", (1,)))
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'disk quota exceeded'; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit_ledger "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        )
    with pytest.raises(LedgerWriteError, match=r"\(disk quota exceeded\); nothing was returned"):
        ledger.append(AuditEvent("alice", "view", "contact", (2,), details={"big": "x"}))
    with pytest.raises(LedgerWriteError), engine.begin() as conn:
        ledger.append_in(conn, AuditEvent("alice", "view", "contact", (3,)))
    assert [e.seq for e in ledger.entries()] == [1]
    assert ledger.verify().ok
    engine.dispose()


def test_sqlite_trigger_refusal_is_not_mistaken_for_a_collision(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    create_tables(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit_ledger "
                "BEGIN SELECT RAISE(ABORT, 'ledger frozen by the operator'); END"
            )
        )
    with pytest.raises(LedgerWriteError, match="ledger frozen by the operator"):
        Ledger(engine, KEY).append(AuditEvent("alice", "view", "contact"))
    engine.dispose()


def gone_engine() -> Engine:
    return create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2}
    )


def test_missing_table_and_unreachable_server(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(LedgerWriteError, match="no such table: audit_ledger"):
        Ledger(engine, KEY).append(AuditEvent("alice", "view", "contact"))
    # A ledger table that is not there was dropped: a verdict, not a failure to run.
    result = Ledger(engine, KEY).verify()
    assert (result.ok, result.kind, result.first_bad_seq) == (False, "dropped", 1)
    with pytest.raises(LedgerReadError, match="connection"):
        Ledger(gone_engine(), KEY).verify()
    gone = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2}
    )
    with pytest.raises(LedgerWriteError, match="refused the write"):
        Ledger(gone, KEY).append(AuditEvent("alice", "view", "contact"))


def test_a_sqlite_lock_that_never_clears_fails_closed(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "crm.db"
    engine = create_engine(f"sqlite:///{db}", connect_args={"timeout": 0.01})
    create_tables(engine)
    ledger = Ledger(engine, KEY)
    ledger.append(AuditEvent("alice", "view", "contact", (1,)))
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock throughout
    try:
        with pytest.raises(LedgerWriteError, match=r"\(database is locked\)"):
            ledger.append(AuditEvent("alice", "view", "contact", (2,)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert ledger.append(AuditEvent("alice", "view", "contact", (3,))).seq == 2
    assert ledger.verify().ok
    engine.dispose()
