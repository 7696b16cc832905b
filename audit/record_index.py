"""The record index: from a record (resource and id) to the ledger entries that name it.

Owners ask "who looked at client 42?" of ledgers with millions of events, and a LIKE
over every entry's id list does not scale. The index is derived data, filled in SQL from
the ledger itself (``catch_up``), never by the writer: an append stays one INSERT, and an
export of 100,000 records does not make the exporter's request pay for 100,000 index
rows. Every query by record catches the index up first and also scans whatever lies
beyond it, so an answer is never stale, even on a database that refuses writes.

An id names its record in one of two forms: a plain id, which belongs to the entry's own
resource (``resource=contact, record_ids=[42]``), or a qualified ``resource:id`` for
records of another kind the event touched (``"company:12"`` included in a contact's
view). Both land in the index as (id, resource), so "who viewed company 12" finds the
contact views that included it. Ids match in both spellings: 42 and "42" are one id.

The index refuses UPDATE and DELETE like the ledger (a deleted row would hide a read
from "who viewed"); it can always be rebuilt from the ledger, which stays the evidence.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    select,
    text,
)

CATCH_UP_BATCH = 50_000
"""Ledger entries indexed per transaction: bounded work, short write locks."""

QUALIFIER = ":"


def split_record(resource: str, rid: int | str) -> tuple[str, str]:
    """(resource, id) named by ``rid`` in an entry about ``resource`` (see module doc)."""
    text_id = str(rid)
    if isinstance(rid, str) and QUALIFIER in text_id:
        kind, _, ident = text_id.partition(QUALIFIER)
        return kind, ident
    return resource, text_id


def names_record(
    resource: str, record_ids: tuple[int | str, ...], record: tuple[str | None, str]
) -> bool:
    """Does an entry about ``resource`` name ``record`` ((kind or None for any, id))?"""
    wanted, wanted_id = record
    for rid in record_ids:
        kind, ident = split_record(resource, rid)
        if ident == wanted_id and (wanted is None or kind == wanted):
            return True
    return False


def define(metadata: MetaData) -> tuple[Table, Table]:
    """The index table and its one-row progress table, on the ledger's MetaData."""
    index = Table(
        "audit_record_index",
        metadata,
        Column("rid", Text, primary_key=True),
        Column("resource", String(100), primary_key=True),
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    progress = Table(
        "audit_index_progress",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("indexed_upto", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    )
    return index, progress


# Fixed SQL text; every value is a bound parameter. What the entries in (after, upto]
# name, one row per (rid, resource, seq) and id: the fill inserts it, and verify
# (:mod:`audit.index_check`) compares the index with it, so both read ids one way.
_SQLITE_NAMED = """
    SELECT CASE WHEN q THEN substr(v, instr(v, ':') + 1) ELSE v END AS rid,
           CASE WHEN q THEN substr(v, 1, instr(v, ':') - 1) ELSE resource END AS resource,
           seq
    FROM (
        SELECT l.seq AS seq, l.resource AS resource, CAST(j.value AS TEXT) AS v,
               (j.type = 'text' AND instr(j.value, ':') > 0) AS q
        FROM audit_ledger AS l, json_each(l.record_ids) AS j
        WHERE l.seq > :after AND l.seq <= :upto
    ) AS ids
"""
_PG_NAMED = """
    SELECT CASE WHEN q THEN substr(v, strpos(v, ':') + 1) ELSE v END AS rid,
           CASE WHEN q THEN substr(v, 1, strpos(v, ':') - 1) ELSE resource END AS resource,
           seq
    FROM (
        SELECT l.seq AS seq, l.resource AS resource, j.value AS v,
               (jsonb_typeof(j.raw) = 'string' AND strpos(j.value, ':') > 0) AS q
        FROM audit_ledger AS l
        CROSS JOIN LATERAL (
            SELECT e AS raw, e #>> '{}' AS value
            FROM jsonb_array_elements(l.record_ids::jsonb) AS e
        ) AS j
        WHERE l.seq > :after AND l.seq <= :upto
    ) AS ids
"""
_SQLITE_FILL = text("INSERT OR IGNORE INTO audit_record_index (rid, resource, seq)" + _SQLITE_NAMED)
_PG_FILL = text(
    "INSERT INTO audit_record_index (rid, resource, seq)" + _PG_NAMED + "ON CONFLICT DO NOTHING"
)
_SQLITE_PROGRESS = text(
    "INSERT INTO audit_index_progress (id, indexed_upto) VALUES (1, :upto) "
    "ON CONFLICT (id) DO UPDATE SET indexed_upto = excluded.indexed_upto "
    "WHERE excluded.indexed_upto > audit_index_progress.indexed_upto"
)
_PG_PROGRESS = text(
    "INSERT INTO audit_index_progress (id, indexed_upto) VALUES (1, :upto) "
    "ON CONFLICT (id) DO UPDATE SET indexed_upto = excluded.indexed_upto "
    "WHERE excluded.indexed_upto > audit_index_progress.indexed_upto"
)
_PROGRESS = text("SELECT indexed_upto FROM audit_index_progress WHERE id = 1")
_HEAD = text("SELECT max(seq) FROM audit_ledger")


def named_sql(dialect: str) -> str:
    """The SELECT of (rid, resource, seq) that the entries with ``:after < seq <=
    :upto`` name, as :func:`catch_up` indexes them (fixed text, two bound values)."""
    return _PG_NAMED if dialect == "postgresql" else _SQLITE_NAMED


def indexed_upto(conn: Connection) -> int:
    """The last ledger seq the index covers (0: none)."""
    value = conn.execute(_PROGRESS).scalar()
    return int(value or 0)


def catch_up(conn: Connection, batch: int = CATCH_UP_BATCH) -> int:
    """Index every committed entry past the progress mark; returns the new mark.

    Runs in the caller's transaction, one batch at a time; concurrent catch-ups are
    harmless (duplicate rows are ignored and the mark only moves forward). Entries become
    visible in seq order (a writer can only link to a committed predecessor), so nothing
    below the head can appear later and be missed.
    """
    pg = conn.dialect.name == "postgresql"
    fill, progress = (_PG_FILL, _PG_PROGRESS) if pg else (_SQLITE_FILL, _SQLITE_PROGRESS)
    after = indexed_upto(conn)
    head = int(conn.execute(_HEAD).scalar() or 0)
    while after < head:
        upto = min(after + batch, head)
        conn.execute(fill, {"after": after, "upto": upto})
        conn.execute(progress, {"upto": upto})
        after = upto
    return after


def seqs_naming(index: Table, rid: str, resource: str | None, upto: int) -> Select[tuple[int]]:
    """The seqs of the entries up to ``upto`` (the mark) the index knows to name the
    record. Rows past the mark are left to the entry-by-entry match of the tail, which
    would otherwise return their entries twice (a mark moved back on a read-only copy)."""
    stmt = select(index.c.seq).where(index.c.rid == rid, index.c.seq <= upto)
    if resource is not None:
        stmt = stmt.where(index.c.resource == resource)
    return stmt
