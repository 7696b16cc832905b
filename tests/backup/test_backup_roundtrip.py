"""Backup and restore round trips on real SQLite and PostgreSQL, comparing every table."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from backup_helpers import fill_crm
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from audit import AuditEvent, Ledger
from backup import (
    FileKeyProvider,
    LedgerCheck,
    LedgerHead,
    LocalStore,
    TargetNotEmpty,
    create_backup,
    list_backups,
    restore_backup,
    verify_backup,
)
from crmguard.schema import upgrade


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, ordered, for comparison across engines."""
    engine = create_engine(url)
    md = MetaData()
    md.reflect(engine)
    out = {}
    with engine.connect() as c:
        for t in sorted(md.tables.values(), key=lambda t: t.name):
            rows = c.execute(select(t).order_by(*t.primary_key.columns)).all()
            out[t.name] = [tuple(str(v) if v is not None else None for v in r) for r in rows]
    engine.dispose()
    return out


@pytest.fixture
def pg_copy_url(pg_url: str) -> Iterator[str]:
    """A second database on the same server for a restore to create; dropped after."""
    target = make_url(pg_url)
    target = target.set(database=f"{target.database}_copy")
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        admin.dispose()


def test_round_trip_same_engine(
    db_url: str,
    key: FileKeyProvider,
    local_store: LocalStore,
    spool: Path,
    tmp_path: Path,
    pg_admin_url_or_none: str | None,
) -> None:
    fill_crm(db_url)
    seen: list[str] = []

    def head(url: str) -> LedgerHead:
        seen.append(url)
        return LedgerHead(41, "ab" * 32)

    result = create_backup(db_url, local_store, key, spool, ledger_head=head)
    m = result.manifest
    assert not result.spooled
    assert m.tables["contacts"] == 50 and m.tables["users"] == 1
    assert m.ledger == LedgerHead(41, "ab" * 32)
    assert [e.backup_id for e in list_backups(local_store)] == [m.backup_id]
    before = dump(db_url)

    if db_url.startswith("sqlite"):
        target = str(tmp_path / "restored.db")
        restore_backup(local_store, key, m.backup_id, target)
        assert dump(f"sqlite:///{target}") == before
    else:
        # wipe the source, then restore into it (it exists but is empty now)
        engine = create_engine(db_url)
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        restore_backup(local_store, key, m.backup_id, db_url, workdir=tmp_path)
        assert dump(db_url) == before

    checks: list[str] = []

    def ledger_verify(url: str) -> LedgerCheck:
        checks.append(url)
        return LedgerCheck(ok=True, checked=41)

    report = verify_backup(
        local_store,
        key,
        m.backup_id,
        tmp_path / "work",
        ledger_verify=ledger_verify,
        pg_server_url=pg_admin_url_or_none,
    )
    assert report.ok, report.problem
    assert report.tables["contacts"] == 50
    assert len(checks) == 1
    assert list_backups(local_store)[0].verified_at is not None


@pytest.fixture
def pg_admin_url_or_none(request: pytest.FixtureRequest, db_url: str) -> str | None:
    return db_url if db_url.startswith("postgresql") else None


def test_restore_refuses_non_empty_target_without_force(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    target = tmp_path / "other.db"
    fill_crm(f"sqlite:///{target}", contacts=3)
    with pytest.raises(TargetNotEmpty, match="--force"):
        restore_backup(local_store, key, bid, str(target))
    assert dump(f"sqlite:///{target}")["contacts"].__len__() == 3
    restore_backup(local_store, key, bid, str(target), force=True)
    assert len(dump(f"sqlite:///{target}")["contacts"]) == 50
    assert not list(tmp_path.glob(".crmguard-restore-*"))


@pytest.mark.postgres
def test_sqlite_backup_restores_into_postgresql(
    sqlite_url: str,
    pg_url: str,
    key: FileKeyProvider,
    local_store: LocalStore,
    spool: Path,
    tmp_path: Path,
) -> None:
    fill_crm(sqlite_url)
    bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    restore_backup(local_store, key, bid, pg_url, workdir=tmp_path)
    src, dst = dump(sqlite_url), dump(pg_url)
    assert set(src) == set(dst)
    for name in src:
        assert len(src[name]) == len(dst[name]), name
    engine = create_engine(pg_url)
    with engine.begin() as c:  # the sequences were moved past the copied ids
        c.execute(text("INSERT INTO teams (name) VALUES ('South')"))
    engine.dispose()


def test_verify_fails_when_the_ledger_check_fails(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    report = verify_backup(
        local_store,
        key,
        bid,
        tmp_path / "w",
        ledger_verify=lambda _u: LedgerCheck(ok=False, checked=7, problem="entry 7: bad MAC"),
    )
    assert not report.ok
    assert "entry 7" in (report.problem or "")
    assert list_backups(local_store)[0].verified_at is None


def test_wal_database_goes_through_the_online_backup_api(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    engine = create_engine(sqlite_url)
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode=WAL").scalar() == "wal"
        # a committed row that lives only in the WAL until a checkpoint
        c.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        c.exec_driver_sql("INSERT INTO teams (name) VALUES ('only-in-wal')")
        c.commit()
        bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    engine.dispose()
    target = tmp_path / "r.db"
    restore_backup(local_store, key, bid, str(target))
    assert ("2", "only-in-wal", None) in dump(f"sqlite:///{target}")["teams"]


@pytest.mark.postgres
def test_postgresql_without_pg_dump_exports_in_one_snapshot(
    pg_url: str,
    pg_copy_url: str,
    key: FileKeyProvider,
    local_store: LocalStore,
    spool: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No pg_dump on the PATH: the REPEATABLE READ export (rows in a SQLite file plus the
    server's own schema) restores into PostgreSQL with every row, time zones, sequences,
    and the ledger's append-only triggers."""
    source = create_engine(pg_url)
    upgrade(source)  # the real schema: migrations, ledger guards
    fill_crm(pg_url)
    ledger = Ledger(source, b"k" * 32)
    for i in range(3):
        ledger.append(
            AuditEvent(actor="user:boss", action="view", resource="contact", record_ids=(i,))
        )
    source.dispose()
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without pg_dump or pg_restore
    m = create_backup(pg_url, local_store, key, spool).manifest
    assert (m.engine, m.payload) == ("postgresql", "sqlite-file")
    assert m.tables["contacts"] == 50 and m.tables["audit_ledger"] == 3
    result = restore_backup(local_store, key, m.backup_id, pg_copy_url, workdir=tmp_path)
    assert result.tables == m.tables
    assert dump(pg_copy_url) == dump(pg_url)
    copy = create_engine(pg_copy_url)
    try:
        assert Ledger(copy, b"k" * 32).verify().ok
        with copy.begin() as c:  # sequences continue past the copied ids
            c.execute(text("INSERT INTO teams (name) VALUES ('South')"))
        with pytest.raises(DBAPIError), copy.begin() as c:  # guards came back
            c.execute(text("UPDATE audit_ledger SET actor = 'user:nobody'"))
    finally:
        copy.dispose()
    assert verify_backup(local_store, key, m.backup_id, tmp_path / "w").ok


@pytest.mark.postgres
def test_export_without_pg_dump_keeps_what_sqlite_cannot_express(
    pg_url: str,
    pg_copy_url: str,
    key: FileKeyProvider,
    local_store: LocalStore,
    spool: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Identity ALWAYS, a stored generated column, jsonb, numeric, a check, a partial
    unique index, and a trigger function whose body holds ':=' and '%'."""
    source = create_engine(pg_url, execution_options={"no_parameters": True})  # '%' as is
    with source.begin() as c:
        c.exec_driver_sql(
            "CREATE TABLE deals (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "amount numeric(12,2) NOT NULL CHECK (amount >= 0), "
            "vat numeric(12,2) GENERATED ALWAYS AS (amount * 0.2) STORED, "
            "meta jsonb NOT NULL DEFAULT '{}'::jsonb, closed_at timestamptz, "
            "code text, note text)"
        )
        c.exec_driver_sql(
            "CREATE UNIQUE INDEX deals_open_code ON deals (code) WHERE closed_at IS NULL"
        )
        c.exec_driver_sql(
            "CREATE FUNCTION deals_note() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE pct text; BEGIN pct := format('%s%%', NEW.amount); "
            "NEW.note := pct; RETURN NEW; END $$"
        )
        c.exec_driver_sql(
            "CREATE TRIGGER deals_note BEFORE INSERT ON deals "
            "FOR EACH ROW EXECUTE FUNCTION deals_note()"
        )
        c.exec_driver_sql(
            "INSERT INTO deals (amount, meta, closed_at, code) VALUES "
            "(100.50, '{\"stage\": \"won\"}', '2026-01-02 03:04:05+03', 'A'), (7, '{}', NULL, 'B')"
        )
    source.dispose()
    monkeypatch.setenv("PATH", str(tmp_path))
    bid = create_backup(pg_url, local_store, key, spool).backup_id
    restore_backup(local_store, key, bid, pg_copy_url, workdir=tmp_path)
    assert dump(pg_copy_url) == dump(pg_url)
    copy = create_engine(pg_copy_url)
    try:
        with copy.begin() as c:
            row = c.execute(
                text("INSERT INTO deals (amount, code) VALUES (10, 'C') RETURNING id, vat, note")
            ).one()
            assert tuple(row) == (3, Decimal("2.00"), "10.00%")  # identity, generated, trigger
            types = dict(
                c.execute(
                    text(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = 'deals'"
                    )
                ).all()
            )
            assert types["meta"] == "jsonb"
            assert types["closed_at"] == "timestamp with time zone"
        with pytest.raises(DBAPIError), copy.begin() as c:  # the check constraint
            c.execute(text("INSERT INTO deals (amount) VALUES (-1)"))
        with pytest.raises(DBAPIError), copy.begin() as c:  # the partial unique index
            c.execute(text("INSERT INTO deals (amount, code) VALUES (1, 'B')"))
        with pytest.raises(DBAPIError), copy.begin() as c:  # identity is ALWAYS again
            c.execute(text("INSERT INTO deals (id, amount) VALUES (99, 1)"))
    finally:
        copy.dispose()
