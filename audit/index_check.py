"""Verify's check of the record index against the ledger entries it was filled from.

The index answers the owner's "who looked at contact 42?" (see :mod:`audit.record_index`).
It refuses UPDATE and DELETE like the ledger, but whoever can drop its triggers can
delete the row that shows their own read, and nobody needs a dropped trigger to INSERT
a row that names a colleague's entry for a record they never opened. The chain proves
neither, so once it is proven the deep check (``audit verify --index``) expands every
live entry's ids again, with the very SQL that fills the index, and compares: one union
of the two sides, grouped by (seq, rid, resource), in SQL. It costs several walks of the
chain on a ledger whose entries name many records, hence asked for, not run by every
verify.

What must hold, and why each rule is exactly what a query relies on:

- Up to the progress mark, the index holds what the entries name, no more and no less:
  a query reads the index alone there. A missing row hides a read, an extra one frames
  someone.
- Past the mark, a row must still be one the entry names. A query matches those entries
  one by one (or catches the index up first, keeping the rows there), so a right row is
  harmless and a missing one is filled in; a wrong one would become the index's word
  the moment the mark passes it, and a row for an entry not written yet would pin a
  record on whoever writes it.
- The mark lies at or below the head. Moved past it, the entries between would never be
  indexed and no query would look at them. Moved back, it hides nothing (the next
  catch-up indexes again from it and keeps the rows already there), so that is no fault.
- Entries archived out of the live table leave their rows with them
  (:func:`audit.archive.remove_archived`); a row left for an archived entry is a fault.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from audit import archive, record_index
from audit.derived import compare_when_present
from audit.walk import Fault

_NO_END = 2**63 - 1
"""The fill's upper bound when every live entry is expanded (the largest seq a column holds)."""

# Fixed SQL text; every value is a bound parameter. Each side tags its rows; a group of
# (seq, rid, resource) is wrong when the index holds it more often than the entries name
# it (at most once: the index's key), or, up to the mark, less often. No join: as a FULL
# JOIN, or a NOT EXISTS probe of the index's key per id, SQLite took as long or longer
# (docs/PERFORMANCE.md), and the totals check's join ran for minutes on PostgreSQL.
_DIFFER_SQL = """
    SELECT seq, rid, resource, max(named), sum(held)
    FROM (
        SELECT rid, resource, seq, 1 AS named, 0 AS held FROM ({named}) AS named_ids
        UNION ALL
        SELECT rid, resource, seq, 0, 1 FROM audit_record_index
    ) AS both_sides
    GROUP BY seq, rid, resource
    HAVING sum(held) > max(named) OR (seq <= :mark AND sum(held) < max(named))
    ORDER BY seq, rid, resource
    LIMIT 1
"""
# The mark and the head read at one moment (the mark never passes the head it saw).
_MARK_AND_HEAD = text(
    "SELECT (SELECT indexed_upto FROM audit_index_progress WHERE id = 1), "
    "(SELECT max(seq) FROM audit_ledger)"
)
# PostgreSQL, left to itself, hashes the groups (it expects a hundred ids an entry, as
# for any set-returning function) and then sorts them for the seq order anyway; sorting
# once measured about a fifth faster (docs/PERFORMANCE.md). For this transaction only.
_SORT_GROUPS = text("SET LOCAL enable_hashagg = off")
_ANY_ROW = text("SELECT 1 FROM audit_record_index LIMIT 1")
_ENTRY = text("SELECT actor, action, resource FROM audit_ledger WHERE seq = :seq")


def check_index(engine: Engine) -> tuple[Fault | None, str | None]:
    """A fault naming the first entry whose index rows disagree with it (or None), and a
    note when there was nothing to compare them with.

    Without the tables (a database not migrated to schema 0005, or one whose index was
    dropped) a question by record fails loudly, never answered wrong, so their absence
    is a note, not a verdict on the ledger. Raises LedgerReadError when the database
    cannot be read.
    """
    tables = ("audit_record_index", "audit_index_progress")
    return compare_when_present(engine, tables, ("record index", "index"), _compare)


def _compare(conn: Connection) -> Fault | None:
    row = conn.execute(_MARK_AND_HEAD).one()
    mark = int(row[0] or 0)
    head = int(row[1]) if row[1] is not None else archive.live_start(conn)[0] - 1
    differ = None
    if mark > 0 or conn.execute(_ANY_ROW).first() is not None:
        named = text(_DIFFER_SQL.format(named=record_index.named_sql(conn.dialect.name)))
        if conn.dialect.name == "postgresql":
            conn.execute(_SORT_GROUPS)
        differ = conn.execute(named, {"after": 0, "upto": _NO_END, "mark": mark}).first()
    if differ is not None:
        # Rows first: under a mark moved past the head, the entries written since lack
        # rows, and the first of them is a read already hidden.
        return _differs(conn, int(differ[0]), differ[1], differ[2], differ[3], differ[4])
    if mark > head:
        return Fault(
            head + 1,
            "misindexed",
            f"the record index claims to cover entries up to {mark}, but the ledger ends at "
            f"{head}: the next entries would never be indexed, hidden from every question "
            "by record (the ledger itself is intact)",
        )
    return None


def _differs(conn: Connection, seq: int, rid: str, resource: str, names: int, held: int) -> Fault:
    entry = conn.execute(_ENTRY, {"seq": seq}).first()
    record = f"{resource} {rid}"
    if entry is None:
        problem = (
            f"the record index names {record} in entry {seq}, which is not in the live "
            "ledger (never written, or archived): a read made up"
        )
    else:
        actor, action, about = entry
        if int(names) and int(held) > 1:
            problem = f"the record index holds {record} for entry {seq} {held} times"
        elif int(held) > int(names):
            problem = (
                f"the record index says entry {seq} ({actor}: {action} {about}) names "
                f"{record}, which it does not: a read made up"
            )
        else:
            problem = (
                f"the record index lacks {record} for entry {seq} ({actor}: {action} "
                f"{about}): a read hidden from who viewed {record}"
            )
    return Fault(seq, "misindexed", problem + " (the ledger itself is intact)")
