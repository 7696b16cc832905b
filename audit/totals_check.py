"""Verify's check of the day totals against the ledger they were summed from.

The totals answer the owner's "what did this user do, day by day" (see
:mod:`audit.day_totals`). They refuse UPDATE and DELETE like the ledger, but whoever can
drop the triggers to edit the ledger can edit them too, and hiding one's mass export
from the owner's chart is cheaper than rewriting a chain. So once the chain is proven,
``audit verify`` sums the ledger again over the days the totals cover and compares: one
pass over the (actor, day, action, resource, outcome, count) index, which holds every
value it needs, in SQL.

Compared: every user's every day before the oldest entry the totals do not hold yet,
except a user's days whose totals hold an entry since archived. Those are exactly the
days an activity question reads from the totals (it counts the others from the ledger),
so marking a user's day as archived hides nothing; and it is decided per user and day,
so marking one blinds the check to no other.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from audit.day_totals import totals_upto
from audit.derived import compare_when_present
from audit.walk import Fault

# Fixed SQL text; every value is a bound parameter. The ledger side reads only columns
# of the (actor, day, ...) index, grouped in its order; the totals' rows are added to
# its groups and any group whose two sides differ comes out (no join: PostgreSQL chose a
# nested loop over the two sides' hundreds of thousands of groups for one).
_DIFFER_SQL = """
    SELECT actor, day, action, resource, outcome,
           sum(held), sum(held_records), sum(summed), sum(summed_records)
    FROM (
        SELECT actor, substr(ts, 1, 10) AS day, action, resource, outcome,
               count(*) AS held, sum("count") AS held_records,
               0 AS summed, 0 AS summed_records
        FROM audit_ledger
        WHERE substr(ts, 1, 10) < :hi {ledger_days}
        GROUP BY actor, substr(ts, 1, 10), action, resource, outcome
        UNION ALL
        SELECT actor, day, action, resource, outcome, 0, 0, events, records
        FROM audit_day_totals
        WHERE upto <= :mark AND day < :hi {totals_days}
    ) AS both_sides
    GROUP BY actor, day, action, resource, outcome
    HAVING sum(held) <> sum(summed) OR sum(held_records) <> sum(summed_records)
    LIMIT 1
"""
_MIXED = "SELECT actor, day FROM audit_day_totals WHERE first_seq < :live AND upto <= :mark"
_DIFFER = text(_DIFFER_SQL.format(ledger_days="", totals_days=""))
# With some user's days holding archived entries: those (user, day) pairs left out. Only
# then, since the test on every entry costs SQLite about as much as the pass itself.
_DIFFER_BUT_MIXED = text(
    _DIFFER_SQL.format(
        ledger_days=f"AND (actor, substr(ts, 1, 10)) NOT IN ({_MIXED})",
        totals_days=f"AND (actor, day) NOT IN ({_MIXED})",
    )
)
_ANY_MIXED = text(_MIXED + " LIMIT 1")
_LIVE_START = text("SELECT min(seq) FROM audit_ledger")
_TAIL_DAY = text("SELECT min(substr(ts, 1, 10)) FROM audit_ledger WHERE seq > :mark")
_FIRST_OF_GROUP = text(
    "SELECT min(seq) FROM audit_ledger WHERE actor = :actor AND substr(ts, 1, 10) = :day "
    "AND action = :action AND resource = :resource AND outcome = :outcome"
)
_FIRST_SUMMED = text(
    "SELECT min(first_seq) FROM audit_day_totals WHERE actor = :actor AND day = :day "
    "AND action = :action AND resource = :resource AND outcome = :outcome"
)


def check_totals(engine: Engine) -> tuple[Fault | None, str | None]:
    """A fault naming the first group whose totals disagree with the ledger (or None),
    and a note when there was nothing to compare them with.

    Without the tables (a database not migrated to schema 0007, or one whose totals
    were dropped) an owner's activity question is counted from the ledger or fails
    loudly, never answered wrong, so their absence is a note, not a verdict on the
    ledger. Raises LedgerReadError when the database cannot be read.
    """
    tables = ("audit_day_totals", "audit_totals_progress")
    return compare_when_present(engine, tables, ("day totals", "totals"), _compare)


def _compare(conn: Connection) -> Fault | None:
    mark = totals_upto(conn)
    if mark <= 0:
        return None
    live = conn.execute(_LIVE_START).scalar()
    tail = conn.execute(_TAIL_DAY, {"mark": mark}).scalar()
    hi = "9999" if tail is None else str(tail)
    bounds = {"hi": hi, "mark": mark, "live": int(live) if live is not None else mark + 1}
    mixed = conn.execute(_ANY_MIXED, bounds).first() is not None
    row = conn.execute(_DIFFER_BUT_MIXED if mixed else _DIFFER, bounds).first()
    if row is None:
        return None
    actor, day, action, resource, outcome, held, held_records, summed, summed_records = row
    group = {"actor": actor, "day": day, "action": action, "resource": resource,
             "outcome": outcome}  # fmt: skip
    seq = (
        conn.execute(_FIRST_OF_GROUP, group).scalar() or conn.execute(_FIRST_SUMMED, group).scalar()
    )
    said = "nothing" if not summed else f"{summed} events and {summed_records} records"
    return Fault(
        int(seq or 1),
        "miscounted",
        f"the day totals of {actor} on {day} ({action} {resource}, {outcome}) say {said}, "
        f"the ledger holds {held} events and {held_records} records: the totals were "
        "edited (the ledger itself is intact)",
    )
