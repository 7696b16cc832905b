"""Engines and schema: one place that knows how to open the CRM database.

SQLite gets WAL (readers never block the ledger writer), foreign keys and a busy
timeout; ``synchronous=FULL`` by default because an audit event that a power cut can
roll back is an event lost. Seeding a demo may ask for ``bulk=True`` (no fsync per
commit): the data is synthetic and the home is thrown away if seeding fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from crmguard.errors import DatabaseUnavailable

_USERINFO = re.compile(r"^([a-z0-9+.\-]*:/*[^:/@]*:).*@", re.IGNORECASE)


def redact_url(url: str) -> str:
    """Hide a password even in a URL too malformed to parse (``postgresql:/u:pw@/``);
    everything up to the last ``@`` goes, so a password holding an ``@`` is hidden too."""
    return _USERINFO.sub(r"\1***@", url)


def safe_url(url: str) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    try:
        make_url(url)
    except ArgumentError:
        return f"<malformed database URL {redact_url(url)!r}>"
    return redact_url(url)


def make_engine(url: str, *, bulk: bool = False) -> Engine:
    """Create an engine for ``url`` with the pragmas crmguard relies on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"malformed database URL {redact_url(url)!r}: expected e.g. sqlite:///path/crm.db "
            "or postgresql+psycopg://user@host:5432/db"
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 5}
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseUnavailable(f"cannot use database {safe_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine, synchronous="OFF" if bulk else "FULL")
    return engine


def _sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()


def check_connection(engine: Engine) -> None:
    """Fail with a message a person can act on when the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if engine.dialect.name == "sqlite" and engine.url.database:
            problem = read_only_problem(Path(engine.url.database))
            if problem:
                raise DatabaseUnavailable(problem) from None
        raise DatabaseUnavailable(
            f"cannot reach the database at {safe_url(str(engine.url))}: {reason}"
        ) from None
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            f"database {safe_url(str(engine.url))} refused to work: {exc.__class__.__name__}"
        ) from None


def read_only_problem(db: Path) -> str | None:
    """Say what is read-only about a SQLite database and what to do, or None.

    crmguard writes on every read (the ledger event comes first), and SQLite in WAL mode
    needs to create files beside the database: a read-only file or folder stops both.
    """
    folder = db.parent
    try:
        ro_fs = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return None
    if ro_fs:
        return (
            f"the database {db} is on a read-only file system: crmguard records every "
            "read in the ledger, so it needs to write there; remount it read-write or "
            "copy the home to a writable place (--home)"
        )
    for path, what in ((folder, "folder"), (db, "file")):
        if path.exists() and not os.access(path, os.W_OK):
            return (
                f"the database {what} {path} is read-only for this user: crmguard records "
                f"every read in the ledger, so it needs to write there; run: chmod u+w {path} "
                "(or run crmguard as the home's owner)"
            )
    return None
