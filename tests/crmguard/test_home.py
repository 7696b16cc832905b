"""Creating and resetting a home: a ledger that holds events is never emptied without a
question, and never deleted; a database URL given at init is remembered."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from audit import AuditEvent, Ledger, load_key_file
from crmguard.db import make_engine
from crmguard.errors import HomeExists
from crmguard.home import init_home, ledger_events, sqlite_path
from crmguard.settings import Settings


def add_events(settings: Settings, n: int) -> None:
    ledger = Ledger(make_engine(settings.database_url), load_key_file(settings.mac_key_file))
    try:
        for i in range(n):
            ledger.append(AuditEvent(actor="m", action="export", resource="contact", count=i))
    finally:
        ledger.engine.dispose()


def test_force_on_a_ledger_with_events_needs_yes_and_keeps_the_old_database(
    db_url: str, tmp_path: Path
) -> None:
    settings = Settings.load(tmp_path / "home", env={"CRMGUARD_DATABASE_URL": db_url})
    init_home(settings)
    add_events(settings, 3)
    with pytest.raises(HomeExists, match=r"holds 3 events.*--yes"):
        init_home(settings, force=True)
    assert ledger_events(settings) == 3  # untouched

    kept = init_home(settings, force=True, yes=True).kept
    assert kept is not None
    assert ledger_events(settings) == 0  # a fresh ledger ...
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            if settings.embedded:
                old = Path(kept)
                assert old.exists() and stat.S_IMODE(old.stat().st_mode) == 0o600
                conn.execute(text("ATTACH DATABASE :p AS old"), {"p": str(old)})
                n = conn.execute(text("SELECT count(*) FROM old.audit_ledger")).scalar_one()
            else:
                schema = kept.split()[1]
                n = conn.execute(text(f'SELECT count(*) FROM "{schema}".audit_ledger')).scalar_one()
        assert n == 3  # ... and the old one kept, whole
    finally:
        engine.dispose()


def test_force_on_an_empty_ledger_needs_no_question(db_url: str, tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "home", env={"CRMGUARD_DATABASE_URL": db_url})
    init_home(settings)
    assert init_home(settings, force=True).kept is None


def test_a_database_url_given_at_init_is_recorded(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(Settings.load(home, env={"CRMGUARD_DATABASE_URL": db_url}))
    again = Settings.load(home, env={})  # the next command, without the variable
    assert again.database_url == db_url
    assert stat.S_IMODE((home / "crmguard.toml").stat().st_mode) == 0o600
    assert not (home / "crmguard.db").exists()  # no stray embedded database


def test_the_embedded_database_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        settings = Settings.load(tmp_path / "home", env={})
        init_home(settings)
    finally:
        os.umask(old)
    db = sqlite_path(settings)
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(settings.settings_file.stat().st_mode) == 0o600
    assert "\nurl =" not in settings.settings_file.read_text()  # the default needs no line
