"""Copy every table between engines: the PostgreSQL export when pg_dump is absent, and
the migration path that restores a SQLite backup into PostgreSQL.

Types are reduced to their generic SQLAlchemy form so a schema reflected on one engine
can be created on the other; foreign keys are added after the rows on PostgreSQL so that
cyclic references (teams <-> users) load in any order. Rows stream in batches; nothing
holds a whole table in memory.
"""

from __future__ import annotations

import warnings
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SAWarning
from sqlalchemy.schema import AddConstraint
from sqlalchemy.types import NullType, TypeEngine

from backup.pg_schema import SCHEMA_TABLE

BATCH = 5000


def _generic(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    try:
        return type_.as_generic()
    except NotImplementedError:
        return NullType()


def _tables(md: MetaData) -> list[Table]:
    """Tables by name: rows load before foreign keys exist, so order does not matter."""
    return [md.tables[name] for name in sorted(md.tables)]


def portable_metadata(source: MetaData, with_fks: bool) -> MetaData:
    """A copy of ``source`` with generic types, the primary keys and (optionally) FKs."""
    out = MetaData()
    for table in _tables(source):
        single_key = len(table.primary_key.columns) == 1
        cols = [
            Column(
                c.name,
                _generic(c.type),
                primary_key=c.primary_key,
                nullable=c.nullable,
                # SQLite can only autoincrement a table's one-column integer key.
                autoincrement=bool(single_key and c.primary_key and isinstance(c.type, Integer)),
            )
            for c in table.columns
        ]
        fks = []
        if with_fks:
            for fk in table.foreign_key_constraints:
                fks.append(
                    ForeignKeyConstraint(
                        [c.name for c in fk.columns],
                        [f"{e.column.table.name}.{e.column.name}" for e in fk.elements],
                        name=fk.name,
                    )
                )
        Table(table.name, out, *cols, *fks)
    return out


def copy_database(src: Connection, dst: Connection) -> dict[str, int]:
    """Create every table of ``src`` in ``dst`` and copy the rows; returns row counts."""
    source = MetaData()
    source.reflect(bind=src, only=lambda name, _md: name != SCHEMA_TABLE)
    pg = dst.dialect.name == "postgresql"
    target = portable_metadata(source, with_fks=not pg)
    with warnings.catch_warnings():  # cyclic FKs (teams <-> users) are fine on SQLite
        warnings.simplefilter("ignore", SAWarning)
        target.create_all(dst)
    counts: dict[str, int] = {}
    for table in _tables(source):
        dest = target.tables[table.name]
        n = 0
        result = src.execution_options(yield_per=BATCH).execute(select(table))
        for part in result.partitions(BATCH):
            dst.execute(insert(dest), [dict(row._mapping) for row in part])
            n += len(part)
        counts[table.name] = n
    if pg:
        with_fks = portable_metadata(source, with_fks=True)
        for table in _tables(with_fks):
            for fk in table.foreign_key_constraints:
                dst.execute(AddConstraint(fk))
        _reset_sequences(dst, target)
    return counts


def _reset_sequences(dst: Connection, md: MetaData) -> None:
    """After explicit ids were inserted, move each serial past the largest id."""
    for table in _tables(md):
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        top = dst.execute(select(func.max(pk[0]))).scalar()
        if top is None:
            continue
        seq = dst.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}
        ).scalar()
        if seq:
            dst.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": int(top)})
