"""What verify's checks of data derived from the ledger share (the day totals, the
record index): each compares once the chain is proven, and the derived tables missing
is a note, never a verdict.

A database not migrated that far, or one whose derived tables were dropped, still holds
an intact ledger; the owners' questions there count from the ledger or fail loudly,
so verify says what it could not compare and judges only the chain.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from audit.errors import LedgerReadError, one_line
from audit.walk import Fault


def compare_when_present(
    engine: Engine,
    tables: tuple[str, ...],
    what: tuple[str, str],
    compare: Callable[[Connection], Fault | None],
) -> tuple[Fault | None, str | None]:
    """``compare``'s fault (or None) when every one of ``tables`` is there; else None and
    a note naming the first one missing (``what``: how the note calls the data, at length
    and short). Raises LedgerReadError when the database cannot be read."""
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            lost = [t for t in tables if t not in names]
            if lost:
                return None, f"the {what[0]} table {lost[0]} is missing: {what[1]} not compared"
            return compare(conn), None
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc
