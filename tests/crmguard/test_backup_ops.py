"""Backups leave a trace: every run, verify, drill, prune and restore is a ledger event,
and a restore that rolls the database back says so in the restored ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from audit import AuditEvent, Ledger, LedgerEntry, load_key_file
from backup import BackupNotFound
from crmguard import backup_ops, schedule
from crmguard.db import make_engine
from crmguard.home import init_home
from crmguard.settings import Settings

CALLER = backup_ops.Caller("operator:tester", "cli")


@pytest.fixture
def home(db_url: str, tmp_path: Path) -> Settings:
    settings = Settings.load(tmp_path / "home", env={"CRMGUARD_DATABASE_URL": db_url})
    init_home(settings)
    return settings


def ledger_at(settings: Settings, url: str | None = None) -> Ledger:
    return Ledger(make_engine(url or settings.database_url), load_key_file(settings.mac_key_file))


def entries(settings: Settings, url: str | None = None) -> list[LedgerEntry]:
    ledger = ledger_at(settings, url)
    try:
        return list(ledger.entries())
    finally:
        ledger.engine.dispose()


def append(settings: Settings, action: str) -> None:
    ledger = ledger_at(settings)
    try:
        ledger.append(AuditEvent(actor="rep", action=action, resource="contact", channel="cli"))
    finally:
        ledger.engine.dispose()


def test_every_backup_operation_is_an_event(home: Settings) -> None:
    append(home, "view")
    result = backup_ops.run(home, CALLER)
    made = entries(home)[-1]
    assert (made.action, made.resource, made.outcome) == ("backup.run", "backup", "allowed")
    assert made.actor == "operator:tester" and made.record_ids == (result.backup_id,)
    head = result.manifest.ledger
    assert head is not None and made.details["ledger_head"] == {"seq": head.seq, "hash": head.hash}
    assert made.details["bytes"] == result.manifest.plaintext_bytes > 0
    assert made.details["stored_bytes"] == result.manifest.stored_bytes

    assert backup_ops.verify(home, CALLER, result.backup_id).ok
    assert backup_ops.drill(home, CALLER).ok
    backup_ops.prune(home, CALLER, dry_run=False)
    backup_ops.prune(home, CALLER, dry_run=True)  # a dry run deletes nothing: no event
    with pytest.raises(BackupNotFound):
        backup_ops.verify(home, CALLER, "19990101T000000Z-000000")
    tail = [(e.action, e.outcome) for e in entries(home)[-4:]]
    assert tail == [
        ("backup.verify", "allowed"),
        ("backup.drill", "allowed"),
        ("backup.prune", "allowed"),
        ("backup.verify", "error"),
    ]
    assert {e.resource for e in entries(home) if e.action.startswith("backup.")} == {"backup"}
    assert ledger_at(home).verify().ok

    # manual runs count for `backup status`
    status = {j.job: j for j in schedule.status(home, datetime.now(UTC))}
    assert not status["backup"].never_run and status["backup"].last_success is not None
    assert status["drill"].last_success is not None


def test_a_restore_that_rolls_back_is_visible_in_the_restored_ledger(home: Settings) -> None:
    append(home, "view")
    result = backup_ops.run(home, CALLER)
    append(home, "export")  # what the rollback hides
    append(home, "export")
    before = ledger_at(home).head()
    assert before is not None

    backup_ops.restore(home, CALLER, result.backup_id, home.database_url, force=True)
    after = entries(home)
    held = result.manifest.ledger
    assert held is not None
    assert [e.action for e in after].count("export") == 0  # rolled back ...
    # the backup holds the ledger up to its snapshot; the next event is the restore
    assert after[-1].seq == held.seq + 1
    first_new = after[-1]
    assert first_new.action == "backup.restore" and first_new.outcome == "allowed"
    assert first_new.details["replaced_head"] == {"seq": before[0], "hash": before[1]}
    assert first_new.details["restored_head"] == {"seq": held.seq, "hash": held.hash}
    assert first_new.record_ids == (result.backup_id,)
    assert ledger_at(home).verify().ok


def second_pg_database(url: str) -> Iterator[str]:
    """A sibling database on the same server, dropped afterwards."""
    name = f"crmguard_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_a_restore_elsewhere_is_recorded_in_both_ledgers(home: Settings, tmp_path: Path) -> None:
    result = backup_ops.run(home, CALLER)
    with (
        contextmanager(second_pg_database)(home.database_url)
        if home.database_url.startswith("postgresql")
        else nullcontext(f"sqlite:///{tmp_path / 'copy.db'}") as target
    ):
        backup_ops.restore(home, CALLER, result.backup_id, target, force=False)
        home_events = [e for e in entries(home) if e.action == "backup.restore"]
        assert [e.details["stage"] for e in home_events] == ["start", "done"]
        assert "***" not in home_events[0].details["target"]
        copy = entries(home, target)
        assert copy[-1].action == "backup.restore" and copy[-1].details["replaced_head"] is None


def test_a_failed_restore_is_an_error_event(home: Settings, tmp_path: Path) -> None:
    result = backup_ops.run(home, CALLER)
    target = tmp_path / "dev"
    target.symlink_to("/dev/null")
    with pytest.raises(Exception, match=r"not a regular file|pg_dump archive"):
        backup_ops.restore(home, CALLER, result.backup_id, str(target), force=True)
    last = entries(home)[-1]
    assert (last.action, last.outcome) == ("backup.restore", "error")
    assert target.is_symlink()
