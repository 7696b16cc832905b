"""The ledger's tables (on their own MetaData) and the database-side append-only guards.

The guards live in the database, not in Python, so that a script, a console session or
another application with the same credentials cannot quietly rewrite history either:
anyone who wants to edit the ledger must first drop a trigger, which is itself a loud,
deliberate act (and the chain still shows the edit).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)

from audit import day_totals, record_index
from audit.day_totals import entry_day as entry_day  # the index below is on it
from audit.errors import SchemaError

metadata = MetaData()

audit_ledger = Table(
    "audit_ledger",
    metadata,
    # seq is the primary key: two writers that read the same head collide here, and the
    # loser re-reads the head and retries, so the chain stays one line without a lock.
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("ts", String(27), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("record_ids", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("ip", String(64), nullable=True),
    Column("request_id", String(100), nullable=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # The keyed seal over ``hash`` (see audit.chain); NULL only on entries written before
    # the public chain existed (schema revision 0001).
    Column("mac", String(64), nullable=True),
    Index("ix_audit_ledger_ts", "ts"),
    Index("ix_audit_ledger_resource_ts", "resource", "ts"),
    # The owners' searches read newest first by one field: these keep each of them an
    # index range scan in seq order instead of a sort of every matching row.
    Index("ix_audit_ledger_actor_seq", "actor", "seq"),
    Index("ix_audit_ledger_action_seq", "action", "seq"),
    Index("ix_audit_ledger_actor_action_seq", "actor", "action", "seq"),
    Index("ix_audit_ledger_outcome_seq", "outcome", "seq"),
    Index("ix_audit_ledger_channel_seq", "channel", "seq"),
)


# One user's events by day (actor, day, action, resource, outcome, count, time): a
# user's activity per day comes out of it in group order, so counting a year of their
# events is one pass over the index with no sort or hash (SQLite sorted 117,000 events
# into a temporary B-tree, about 3x slower); the read budget and a user's entries in a
# time window read it alone too, the window's days bounding the range (see
# :func:`day_bounds`). It took the place of (actor, ts, action, resource, outcome,
# count), so an append maintains as many indexes as before.
Index(
    "ix_audit_ledger_actor_day",
    audit_ledger.c.actor,
    entry_day(audit_ledger.c.ts),
    audit_ledger.c.action,
    audit_ledger.c.resource,
    audit_ledger.c.outcome,
    audit_ledger.c["count"],
    audit_ledger.c.ts,
)


def day_bounds(
    ts: ColumnElement[str], since: str | None, until: str | None
) -> list[ColumnElement[bool]]:
    """The days a window of stored times (``since`` inclusive, ``until`` exclusive) touches,
    as clauses on :func:`entry_day`: redundant with the exact bounds, but they are what
    lets the (actor, day, ...) index range over the window instead of the user's whole
    history."""
    day = entry_day(ts)
    out: list[ColumnElement[bool]] = []
    if since is not None:
        out.append(day >= since[:10])
    if until is not None:
        out.append(day <= until[:10])
    return out


audit_record_index, audit_index_progress = record_index.define(metadata)
audit_day_totals, audit_totals_progress = day_totals.define(metadata)

_SEQ = BigInteger().with_variant(Integer, "sqlite")

# One row per archived segment (see audit.archive); the triggers let an entry leave the
# live table only when a row here covers it, and this table is append-only itself.
audit_archives = Table(
    "audit_archives",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq_from", _SEQ, nullable=False, unique=True),
    Column("seq_to", _SEQ, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("first_ts", String(27), nullable=False),
    Column("last_ts", String(27), nullable=False),
    Column("object_key", String(300), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", _SEQ, nullable=False),
    Column("sealed_at", String(27), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("public_key", String(64), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("ts", String(27), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("public_key", String(64), nullable=False),
    Index("ix_audit_checkpoints_seq", "seq"),
)

GUARDED_TABLES = (
    "audit_ledger",
    "audit_checkpoints",
    "audit_record_index",
    "audit_archives",
    "audit_day_totals",
)
#: Tables whose rows may leave once an archive covers their seq (and only then).
ARCHIVABLE_TABLES = ("audit_ledger", "audit_record_index")
APPEND_ONLY_MESSAGE = "is append-only"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('audit_ledger', 'audit_record_index') THEN
        IF EXISTS (SELECT 1 FROM audit_archives a
                   WHERE OLD.seq BETWEEN a.seq_from AND a.seq_to) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

_ARCHIVED = "EXISTS (SELECT 1 FROM audit_archives WHERE OLD.seq BETWEEN seq_from AND seq_to)"


def _sqlite_guards(table: str) -> list[str]:
    out = []
    for op in ("UPDATE", "DELETE"):
        when = f"WHEN NOT {_ARCHIVED} " if op == "DELETE" and table in ARCHIVABLE_TABLES else ""
        out.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"{when}BEGIN SELECT RAISE(ABORT, '{table} {APPEND_ONLY_MESSAGE}'); END"
        )
    return out


def drop_sqlite_delete_guards(conn: Connection) -> None:
    """For the migration that introduces archives: the old DELETE triggers had no
    exception for archived entries; they are dropped and installed again."""
    for table in ARCHIVABLE_TABLES:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))


def _pg_guards(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
    ]


def install_append_only_guards(conn: Connection) -> None:
    """Make the ledger tables refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

    Idempotent: the shell's migration and :func:`create_tables` may both call it. The
    table names are constants of this module, never input, so the DDL is fixed text.
    """
    dialect = conn.dialect.name
    # A migration that predates a guarded table guards what exists; the one that
    # creates the table calls this again.
    present = [t for t in GUARDED_TABLES if inspect(conn).has_table(t)]
    if dialect == "sqlite":
        statements = [s for t in present for s in _sqlite_guards(t)]
    elif dialect == "postgresql":
        statements = [_PG_FUNCTION] + [s for t in present for s in _pg_guards(t)]
    else:
        raise SchemaError(
            f"no append-only guards for the {dialect} database; use SQLite or PostgreSQL"
        )
    for statement in statements:
        conn.execute(text(statement))


def create_tables(engine: Engine) -> None:
    """Create the ledger tables if missing and install the guards, in one transaction."""
    with engine.begin() as conn:
        metadata.create_all(conn)
        install_append_only_guards(conn)
