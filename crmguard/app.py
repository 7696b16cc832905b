"""Composition root: the one place that opens every room and wires them together.

The CLI, the daemon, the demo and the benchmarks all start here, so the rooms are
always composed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from access import AccessControl
from audit import Ledger
from crmguard.db import check_connection, make_engine, safe_url
from crmguard.errors import DatabaseUnavailable, HomeMissing
from crmguard.ledger_anchors import open_ledger
from crmguard.schema import current_revision, head_revision
from crmguard.service import GuardedCRM
from crmguard.settings import Settings


@dataclass
class App:
    """The composed application; close it to release database connections."""

    settings: Settings
    engine: Engine
    access: AccessControl
    ledger: Ledger
    crm: GuardedCRM

    def close(self) -> None:
        """Write the shutdown anchor, then release the database connections."""
        try:
            self.ledger.close()
        finally:
            self.engine.dispose()


def open_engine(settings: Settings, *, bulk: bool = False) -> Engine:
    """Open and check the database, and make sure its schema is the one the code expects."""
    engine = make_engine(settings.database_url, bulk=bulk)
    check_connection(engine)
    current, head = current_revision(engine), head_revision()
    if current is None:
        engine.dispose()
        raise HomeMissing(
            f"no crmguard database at {safe_url(settings.database_url)}: run `crmguard init` "
            "(or `crmguard demo` for a seeded one), or pass --home / set CRMGUARD_HOME"
        )
    if current != head:
        engine.dispose()
        raise DatabaseUnavailable(
            f"the database schema is at revision {current or 'none'}, this version needs {head}: "
            "run `crmguard migrate`"
        )
    return engine


def open_app(settings: Settings, *, bulk: bool = False) -> App:
    """Open an initialised home."""
    if settings.embedded and not Path(settings.database_url.removeprefix("sqlite:///")).exists():
        raise HomeMissing(
            f"no crmguard home at {settings.home}: run `crmguard init` "
            "(or `crmguard demo` for a seeded one), or pass --home / set CRMGUARD_HOME"
        )
    engine = open_engine(settings, bulk=bulk)
    try:
        access = AccessControl.from_dir(settings.policy_dir)
        ledger = open_ledger(settings, engine)
    except Exception:
        engine.dispose()
        raise
    return App(settings, engine, access, ledger, GuardedCRM(engine, access, ledger))
