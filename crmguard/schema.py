"""Schema management: Alembic migrations run on the engine crmguard opened.

``crmguard init`` and ``crmguard migrate`` both come here; the migration scripts live
in :mod:`crmguard.migrations` and run unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision``."""
    from alembic import command

    cfg = _config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: never migrated).

    Read straight from Alembic's version table: every command that opens a home asks
    this, and loading Alembic for it would cost more than the command's own work.
    """
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None if not rows else ",".join(sorted(rows))


def head_revision() -> str | None:
    """The newest revision the code knows: the one no migration names as its parent.

    Read from the migration files' ``revision``/``down_revision`` lines without loading
    Alembic (a test holds this equal to Alembic's own answer).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _ASSIGN.findall(path.read_text(encoding="utf-8")):
            found = set(re.findall(r"""['"]([^'"]+)['"]""", value))
            (revisions if name == "revision" else parents).update(found)
    heads = sorted(revisions - parents)
    return heads[0] if len(heads) == 1 else None if not heads else ",".join(heads)
