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
    """What a tamperer must do first: remove the append-only triggers (on the ledger, its
    checkpoints, its day totals and its record index)."""
    with engine.begin() as conn:
        for table in (
            "audit_ledger",
            "audit_checkpoints",
            "audit_day_totals",
            "audit_record_index",
        ):
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


def refuse_actor(engine: Engine, actor: str) -> None:
    """A real database refusal for one event's values: a trigger, as an operator or a
    constraint might add."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON audit_ledger "
                    f"WHEN NEW.actor = '{actor}' "
                    "BEGIN SELECT RAISE(ABORT, 'this actor is refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN IF NEW.actor = '{actor}' THEN "
                    "RAISE EXCEPTION 'this actor is refused'; END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON audit_ledger "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_one()"
                )
            )
