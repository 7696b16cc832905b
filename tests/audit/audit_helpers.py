"""Helpers shared by the ledger tests (a module name no other room uses)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

KEY = bytes(range(32))
START = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)


def stepping_clock(
    start: datetime = START, step: timedelta = timedelta(seconds=1)
) -> Callable[[], datetime]:
    """A clock that advances one step per reading, so every entry has a known ts."""
    state = {"now": start - step}

    def clock() -> datetime:
        state["now"] += step
        return state["now"]

    return clock


def drop_guards(engine: Engine) -> None:
    """What a tamperer must do first: remove the append-only triggers (on both tables)."""
    with engine.begin() as conn:
        for table in ("audit_ledger", "audit_checkpoints"):
            if engine.dialect.name == "sqlite":
                for op in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{op}"))
            else:
                for name in ("no_update_delete", "no_truncate"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"))


def tamper(engine: Engine, sql: str, **params: object) -> None:
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
