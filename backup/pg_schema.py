"""A PostgreSQL schema as the server itself describes it, for the export without pg_dump.

When pg_dump is missing, the snapshot is exported row by row into a SQLite file. A schema
rebuilt from that file alone would lose what SQLite cannot express: ``timestamptz``
(times would come back naive), ``jsonb``, exact numeric precision, sequences, indexes,
check constraints, and the triggers that make the audit ledger append-only. So the export
also records the source schema, read from the catalogs inside the same REPEATABLE READ
snapshot (``format_type``, ``pg_get_constraintdef``, ``pg_get_indexdef``,
``pg_get_functiondef``, ``pg_get_triggerdef``), in the table :data:`SCHEMA_TABLE` of the
file. A restore into PostgreSQL replays it: sequences and tables first, rows next, then
constraints, indexes, sequence positions, functions and triggers (last, so the ledger's
guards do not refuse the load).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, MetaData, Table, insert, select, text

SCHEMA_TABLE = "_crmguard_pg_schema"
"""Holds the JSON schema in an export file; not a CRM table (never counted or copied)."""
BATCH = 5000


@dataclass(frozen=True)
class PgColumn:
    name: str
    type: str
    not_null: bool
    default: str | None
    identity: str  # '' | 'a' (always) | 'd' (by default)
    generated: str | None  # expression of a STORED generated column


@dataclass(frozen=True)
class PgTable:
    name: str
    columns: list[PgColumn]
    constraints: list[tuple[str, str, str]]  # (name, kind p/u/c/x/f, definition)
    indexes: list[str]
    triggers: list[str]


@dataclass(frozen=True)
class PgSequence:
    name: str
    data_type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    last_value: int | None
    owned_by: tuple[str, str] | None  # (table, column)


@dataclass(frozen=True)
class PgSchema:
    tables: list[PgTable]
    sequences: list[PgSequence] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> PgSchema:
        doc = json.loads(raw)
        tables = [
            PgTable(
                t["name"],
                [PgColumn(**c) for c in t["columns"]],
                [(c[0], c[1], c[2]) for c in t["constraints"]],
                list(t["indexes"]),
                list(t["triggers"]),
            )
            for t in doc["tables"]
        ]
        sequences = [
            PgSequence(**{**s, "owned_by": tuple(s["owned_by"]) if s["owned_by"] else None})
            for s in doc["sequences"]
        ]
        return cls(tables, sequences, list(doc["functions"]))


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params).all())


def read_schema(conn: Connection) -> PgSchema:
    """The current schema's tables, sequences, trigger functions (one snapshot)."""
    tables = []
    for oid, name in _rows(
        conn,
        "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname",
    ):
        columns = [
            PgColumn(
                r[0],
                r[1],
                bool(r[2]),
                r[3] if not r[5] else None,
                r[4] or "",
                r[3] if r[5] else None,
            )
            for r in _rows(
                conn,
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                "pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated <> '' "
                "FROM pg_attribute a LEFT JOIN pg_attrdef d "
                "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE a.attrelid = :oid AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum",
                oid=oid,
            )
        ]
        constraints = [
            (r[0], r[1], r[2])
            for r in _rows(
                conn,
                "SELECT conname, contype::text, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = :oid AND contype IN ('p', 'u', 'c', 'x', 'f') "
                "ORDER BY contype = 'f', conname",
                oid=oid,
            )
        ]
        indexes = [
            r[0]
            for r in _rows(
                conn,
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = :oid "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
                "AND c.conrelid = :oid) ORDER BY i.indexrelid::regclass::text",
                oid=oid,
            )
        ]
        triggers = [
            r[0]
            for r in _rows(
                conn,
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = :oid AND NOT tgisinternal ORDER BY tgname",
                oid=oid,
            )
        ]
        tables.append(PgTable(name, columns, constraints, indexes, triggers))
    sequences = [
        PgSequence(
            r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], (r[8], r[9]) if r[8] else None
        )
        for r in _rows(
            conn,
            "SELECT s.sequencename, s.data_type::text, s.start_value, s.increment_by, "
            "s.min_value, s.max_value, s.cycle, s.last_value, t.relname, a.attname "
            "FROM pg_sequences s "
            "JOIN pg_class c ON c.relname = s.sequencename "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname "
            "LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass "
            "AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' "
            "LEFT JOIN pg_class t ON t.oid = d.refobjid "
            "LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
            "WHERE s.schemaname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.objid = c.oid AND i.deptype = 'i') "
            "ORDER BY s.sequencename",
        )
    ]
    functions = [
        r[0]
        for r in _rows(
            conn,
            "SELECT DISTINCT pg_get_functiondef(t.tgfoid) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
        )
    ]
    return PgSchema(tables, sequences, sorted(functions))


def _ddl(conn: Connection, sql: str) -> None:
    """Run DDL text as is: definitions written by the server may hold colons and percent
    signs that a parameter parser would misread."""
    conn.exec_driver_sql(sql, execution_options={"no_parameters": True})


def _column_sql(q: Any, c: PgColumn) -> str:
    parts = [q(c.name), c.type]
    if c.generated:
        parts.append(f"GENERATED ALWAYS AS ({c.generated}) STORED")
    elif c.identity:
        parts.append("GENERATED BY DEFAULT AS IDENTITY")  # ALWAYS is restored after the load
    elif c.default is not None:
        parts.append(f"DEFAULT {c.default}")
    if c.not_null:
        parts.append("NOT NULL")
    return " ".join(parts)


def replay_schema(src: Connection, dst: Connection, schema: PgSchema) -> dict[str, int]:
    """Create ``schema`` in ``dst`` and load the rows of the export file ``src``."""
    q = dst.dialect.identifier_preparer.quote
    dst.execute(text("SET LOCAL TIME ZONE 'UTC'"))  # the export wrote times in UTC
    for s in schema.sequences:
        cycle = "CYCLE" if s.cycle else "NO CYCLE"
        _ddl(
            dst,
            f"CREATE SEQUENCE {q(s.name)} AS {s.data_type} START {int(s.start)} "
            f"INCREMENT {int(s.increment)} MINVALUE {int(s.minimum)} "
            f"MAXVALUE {int(s.maximum)} {cycle}",
        )
    for t in schema.tables:
        cols = ", ".join(_column_sql(q, c) for c in t.columns)
        _ddl(dst, f"CREATE TABLE {q(t.name)} ({cols})")
    counts = _load_rows(src, dst, schema)
    for foreign in (False, True):  # keys and checks of every table before any FK
        for t in schema.tables:
            for name, kind, definition in t.constraints:
                if (kind == "f") == foreign:
                    _ddl(dst, f"ALTER TABLE {q(t.name)} ADD CONSTRAINT {q(name)} {definition}")
    for t in schema.tables:
        for index in t.indexes:
            _ddl(dst, index)
        for c in t.columns:
            if c.identity == "a":
                _ddl(dst, f"ALTER TABLE {q(t.name)} ALTER COLUMN {q(c.name)} SET GENERATED ALWAYS")
            if c.identity:
                dst.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:t, :c), "  # noqa: S608 quoted names
                        f"coalesce((SELECT max({q(c.name)}) FROM {q(t.name)}), 1), "
                        f"(SELECT count(*) > 0 FROM {q(t.name)}))"
                    ),
                    {"t": t.name, "c": c.name},
                )
    for s in schema.sequences:
        if s.owned_by:
            table, column = s.owned_by
            _ddl(dst, f"ALTER SEQUENCE {q(s.name)} OWNED BY {q(table)}.{q(column)}")
        if s.last_value is not None:
            dst.execute(text("SELECT setval(:s, :v, true)"), {"s": s.name, "v": s.last_value})
    for function in schema.functions:
        _ddl(dst, function)
    for t in schema.tables:
        for trigger in t.triggers:
            _ddl(dst, trigger)
    return counts


def _load_rows(src: Connection, dst: Connection, schema: PgSchema) -> dict[str, int]:
    source, target = MetaData(), MetaData()
    names = [t.name for t in schema.tables]
    source.reflect(bind=src, only=names)
    target.reflect(bind=dst, only=names)
    counts: dict[str, int] = {}
    for t in schema.tables:
        dest: Table = target.tables[t.name]
        skip = {c.name for c in t.columns if c.generated}
        cols = [c for c in source.tables[t.name].columns if c.name not in skip]
        n = 0
        result = src.execution_options(yield_per=BATCH).execute(select(*cols))
        for part in result.partitions(BATCH):
            dst.execute(insert(dest), [dict(row._mapping) for row in part])
            n += len(part)
        counts[t.name] = n
    return counts
