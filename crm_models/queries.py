"""Plain queries over the CRM: get, list with filters and pagination, search, iterate.

No security lives here. Callers that guard access pass their row scope as ``where``
clauses, may ``replace`` columns (for example with a masked literal) and may say what a
text search looks at instead of a field (``search_in``); every query honours all three,
so a scope applied once covers every read path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from crm_models.errors import RecordNotFound, UnknownField
from crm_models.resources import ResourceSpec, resource

Row = dict[str, Any]
Where = Sequence[ColumnElement[bool]]
#: Field -> the expression a text search looks at instead of the column; None: skip it.
SearchIn = Mapping[str, ColumnElement[Any] | None]


@dataclass(frozen=True)
class Page:
    """One page of a list: the rows, and how many rows match in all."""

    items: list[Row]
    total: int
    page: int
    page_size: int


def _filters(spec: ResourceSpec, filters: Mapping[str, Any] | None) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for field, value in (filters or {}).items():
        if field not in spec.fields:
            raise UnknownField(spec.name, field)
        clauses.append(spec.column(field) == value)
    return clauses


def _search(spec: ResourceSpec, text: str, search_in: SearchIn | None) -> ColumnElement[bool]:
    # The text is matched literally: %, _ and \ in it are not wildcards (the same on
    # SQLite and PostgreSQL, whose LIKE would otherwise treat \ as an escape).
    literal = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{literal}%"
    over = search_in or {}
    exprs = [over[f] if f in over else spec.column(f) for f in spec.search_fields]
    clauses = [func.lower(e).like(pattern, escape="\\") for e in exprs if e is not None]
    return or_(*clauses) if clauses else false()


def select_records(
    name: str,
    *,
    where: Where = (),
    filters: Mapping[str, Any] | None = None,
    text: str | None = None,
    fields: Sequence[str] | None = None,
    replace: Mapping[str, ColumnElement[Any]] | None = None,
    order_by: str = "id",
    search_in: SearchIn | None = None,
) -> Select[Any]:
    """Build the SELECT every read path shares.

    ``replace`` substitutes an expression for a field (labelled with the field's
    name), so that masking happens inside the database and costs nothing per row.
    """
    spec = resource(name)
    wanted = tuple(fields) if fields else spec.fields
    replace = replace or {}
    cols: list[Any] = []
    for field in wanted:
        if field not in spec.fields:
            raise UnknownField(spec.name, field)
        cols.append(replace[field].label(field) if field in replace else spec.column(field))
    if order_by.lstrip("-") not in spec.fields:
        raise UnknownField(spec.name, order_by.lstrip("-"))
    order_col = spec.column(order_by.lstrip("-"))
    stmt = select(*cols).where(*where, *_filters(spec, filters))
    if text:
        stmt = stmt.where(_search(spec, text, search_in))
    return stmt.order_by(order_col.desc() if order_by.startswith("-") else order_col)


def get_record(
    session: Session | Connection,
    name: str,
    record_id: int,
    *,
    where: Where = (),
    replace: Mapping[str, ColumnElement[Any]] | None = None,
) -> Row:
    """One record by id, seen through ``where``; :class:`RecordNotFound` if none."""
    spec = resource(name)
    stmt = select_records(name, where=(*where, spec.column("id") == record_id), replace=replace)
    row = session.execute(stmt).mappings().first()
    if row is None:
        raise RecordNotFound(name, record_id)
    return dict(row)


def count_records(
    session: Session | Connection,
    name: str,
    *,
    where: Where = (),
    filters: Mapping[str, Any] | None = None,
    text: str | None = None,
    search_in: SearchIn | None = None,
) -> int:
    """How many records match."""
    spec = resource(name)
    stmt = select(func.count()).select_from(spec.model).where(*where, *_filters(spec, filters))
    if text:
        stmt = stmt.where(_search(spec, text, search_in))
    return int(session.execute(stmt).scalar_one())


def list_records(
    session: Session | Connection,
    name: str,
    *,
    where: Where = (),
    filters: Mapping[str, Any] | None = None,
    text: str | None = None,
    page: int = 1,
    page_size: int = 50,
    order_by: str = "id",
    replace: Mapping[str, ColumnElement[Any]] | None = None,
    search_in: SearchIn | None = None,
) -> Page:
    """A page of records; ``page`` counts from 1."""
    if page < 1 or page_size < 1:
        raise ValueError("page and page_size must be at least 1")
    stmt = select_records(
        name,
        where=where,
        filters=filters,
        text=text,
        order_by=order_by,
        replace=replace,
        search_in=search_in,
    )
    rows = session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).mappings()
    items = [dict(r) for r in rows]
    total = count_records(
        session, name, where=where, filters=filters, text=text, search_in=search_in
    )
    return Page(items=items, total=total, page=page, page_size=page_size)


def search_records(
    session: Session | Connection,
    name: str,
    text: str,
    *,
    where: Where = (),
    limit: int = 50,
    replace: Mapping[str, ColumnElement[Any]] | None = None,
    search_in: SearchIn | None = None,
) -> list[Row]:
    """Records whose searchable fields contain ``text`` (case-insensitive)."""
    stmt = select_records(name, where=where, text=text, replace=replace, search_in=search_in).limit(
        limit
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def iter_records(
    conn: Session | Connection,
    name: str,
    *,
    where: Where = (),
    filters: Mapping[str, Any] | None = None,
    fields: Sequence[str] | None = None,
    replace: Mapping[str, ColumnElement[Any]] | None = None,
    limit: int | None = None,
    batch_size: int = 5000,
    text: str | None = None,
    search_in: SearchIn | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Stream rows as tuples in field order, for exports of any size."""
    stmt = select_records(
        name,
        where=where,
        filters=filters,
        fields=fields,
        replace=replace,
        text=text,
        search_in=search_in,
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    result = conn.execute(stmt.execution_options(yield_per=batch_size))
    for row in result:
        yield tuple(row)
