"""Engines and schema: one place that knows how to open the CRM database.

SQLite gets WAL (readers never block the ledger writer), foreign keys and a busy
timeout; ``synchronous=FULL`` by default because an audit event that a power cut can
roll back is an event lost. Seeding a demo may ask for ``bulk=True`` (no fsync per
commit): the data is synthetic and the home is thrown away if seeding fails.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from crmguard.errors import DatabaseUnavailable


def safe_url(url: str) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed database URL>"


def make_engine(url: str, *, bulk: bool = False) -> Engine:
    """Create an engine for ``url`` with the pragmas crmguard relies on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"malformed database URL {url!r}: expected e.g. sqlite:///path/crm.db or "
            "postgresql+psycopg://user@host:5432/db"
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
        raise DatabaseUnavailable(
            f"cannot reach the database at {safe_url(str(engine.url))}: {reason}"
        ) from None
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            f"database {safe_url(str(engine.url))} refused to work: {exc.__class__.__name__}"
        ) from None
