"""Bad input and broken homes: one line a person can act on, exit 2, never a traceback."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Integer, column, create_engine, select, table, text
from sqlalchemy.exc import OperationalError

from access import UnknownRole
from crmguard.cli.common import describe
from tests.e2e.cli import run


@pytest.fixture(scope="module")
def small_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("small")
    result = run(home, "init", "--demo", "--seed", "7", "--days", "1", "--contacts", "100")
    assert result.returncode == 0, result.stderr
    return home


def _user(home: Path, role: str) -> str:
    import json

    users = json.loads(run(home, "users", "list", "--json").stdout)
    return next(u["username"] for u in users if role in u["roles"] and u["active"])


def _one_clean_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "sqlalche.me" not in stderr, stderr
    return " ".join(stderr.split())


def test_an_id_too_large_is_refused_with_the_range(small_home: Path) -> None:
    owner = _user(small_home, "owner")
    for command in ("view", "print", "history"):
        result = run(small_home, "contacts", command, "99999999999999999999", "--as", owner)
        assert result.returncode == 2
        assert "2147483647" in _one_clean_line(result.stderr)


def test_a_missing_table_says_run_migrate(small_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "broken"
    shutil.copytree(small_home, home)
    owner = _user(home, "owner")
    with sqlite3.connect(home / "crmguard.db") as db:
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute("DROP TABLE contacts")
    result = run(home, "contacts", "view", "1", "--as", owner)
    assert result.returncode == 2
    line = _one_clean_line(result.stderr)
    assert "no such table: contacts" in line and "crmguard migrate" in line


def test_a_policy_section_name_reaches_the_reader(small_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "policy"
    shutil.copytree(small_home, home)
    owner = _user(home, "owner")
    model = home / "policies" / "model.conf"
    model.write_text(model.read_text().split("[matchers]")[0])
    result = run(home, "access", "check", owner, "view", "contact")
    assert result.returncode == 2
    assert "missing [matchers] section" in _one_clean_line(result.stderr)


def test_database_errors_are_explained_without_links(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            with pytest.raises(Exception) as missing:
                conn.execute(select(column("id", Integer)).select_from(table("no_such_thing")))
            conn.rollback()
            with pytest.raises(Exception) as too_big:
                conn.execute(text("SELECT CAST(:v AS INTEGER) + 1"), {"v": 2**70})
    finally:
        engine.dispose()
    for exc in (missing.value, too_big.value):
        message = describe(exc)
        assert "sqlalche.me" not in message and "\n" not in message
        assert "[SQL:" not in message
    assert "crmguard migrate" in describe(missing.value)
    assert "too large" in describe(too_big.value)


def test_a_bare_error_still_says_something() -> None:
    bare = OperationalError("SELECT 1", {}, sqlite3.OperationalError())
    message = describe(bare)
    assert message.startswith("the database refused the operation (OperationalError)")
    assert "sqlalche.me" not in message
    assert describe(RuntimeError()) == "unexpected error (RuntimeError); run again with --verbose"


def test_an_empty_list_of_known_names_says_none() -> None:
    assert "(known: )" not in str(UnknownRole("sales", []))
    assert "known: none" in str(UnknownRole("sales", []))
