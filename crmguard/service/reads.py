"""Guarded reads: view one record (with related records), list, search, print.

All four go through the same scope clause and the same masks (``access.scopes``), so no
path reveals a record or a value the list would hide; related records are included only
where the user may view them, each through its own scope and masks. List and search
also pass the read guard: no filter, sort or search on a masked value, bounded pages,
and the rolling read budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, bindparam

import crm_models
from access import Decision
from audit import qualified_id
from crm_models import Page, RecordNotFound, Row
from crmguard.service.context import RequestContext
from crmguard.service.read_guard import ReadGuardMixin

#: For each resource, the related records a view may include: name -> (resource, link field, on).
#: ``on`` is "child" when the related rows point at the viewed record, "parent" when the
#: viewed record points at them.
RELATED: dict[str, dict[str, tuple[str, str, str]]] = {
    "contact": {
        "company": ("company", "company_id", "parent"),
        "deals": ("deal", "contact_id", "child"),
        "activities": ("activity", "contact_id", "child"),
    },
    "deal": {
        "company": ("company", "company_id", "parent"),
        "contact": ("contact", "contact_id", "parent"),
        "activities": ("activity", "deal_id", "child"),
    },
    "company": {
        "contacts": ("contact", "company_id", "child"),
        "deals": ("deal", "company_id", "child"),
    },
}


def _included_ids(value: Any) -> list[Any]:
    """Ids of one include: a list of child rows, or the one parent row."""
    rows = value if isinstance(value, list) else [value]
    return [r["id"] for r in rows]


class ReadsMixin(ReadGuardMixin):
    """view, list, search and print."""

    def view(
        self,
        ctx: RequestContext,
        resource: str,
        record_id: int,
        include: Sequence[str] = (),
    ) -> Row:
        """One record, with ``include`` related records the user may see."""
        unknown = [name for name in include if name not in RELATED.get(resource, {})]
        if unknown:
            known = ", ".join(sorted(RELATED.get(resource, {}))) or "none"
            raise crm_models.UnknownField(resource, f"{unknown[0]} (includes: {known})")
        with self.engine.connect() as conn:
            decision = self.require(conn, ctx, "view", resource)
            found = (
                conn.execute(self._one_record_stmt(decision, ctx), {"record_id": record_id})
                .mappings()
                .first()
            )
            row = dict(found) if found is not None else None
            if row is None:
                # Out of scope and missing look the same to the caller: existence is not leaked.
                raise self.deny(
                    ctx,
                    decision,
                    record_ids=[record_id],
                    details={"reason": "not found or out of scope"},
                    error=RecordNotFound(resource, record_id),
                )
            included, withheld = self._related(conn, ctx, decision, row, include)
        details: dict[str, Any] = {}
        if decision.masked_fields:
            details["masked"] = list(decision.masked_fields)
        record_ids: list[int | str] = [record_id]
        if included:
            # Included records are disclosed too, so "who viewed company 12" must find this
            # event: they go into record_ids qualified by resource ("company:12").
            shown = {name: _included_ids(value) for name, value in included.items()}
            details["included"] = shown
            for name, ids in shown.items():
                target = RELATED[resource][name][0]
                record_ids += [qualified_id(target, i) for i in ids]
        if withheld:
            details["withheld"] = withheld
        self.record(self.event(ctx, "view", resource, record_ids=record_ids, details=details))
        return {**row, **included}

    def _one_record_stmt(self, decision: Decision, ctx: RequestContext) -> Select[Any]:
        """The scoped, masked single-record SELECT, built once per (decision, principal).

        Building a SQLAlchemy statement costs more than running it on an indexed key, and
        a single view is the hottest path there is.
        """
        key = (decision, ctx.principal)
        stmt = self._stmt_cache.get(key)
        if stmt is None:
            spec = crm_models.resource(decision.resource)
            stmt = crm_models.select_records(
                decision.resource,
                where=(*self.scope(decision, ctx), spec.column("id") == bindparam("record_id")),
                replace=self.masks(decision, ctx),
            )
            if len(self._stmt_cache) >= 4096:
                self._stmt_cache.clear()
            self._stmt_cache[key] = stmt
        return stmt

    def _related(
        self,
        conn: Any,
        ctx: RequestContext,
        viewed: Decision,
        row: Mapping[str, Any],
        include: Sequence[str],
    ) -> tuple[dict[str, Any], list[str]]:
        included: dict[str, Any] = {}
        withheld: list[str] = []
        for name in include:
            target, link, on = RELATED[viewed.resource][name]
            decision = self.decide_in(conn, ctx, "view", target)
            # Following a masked link would reveal it (which company a masked company_id is).
            linked_by = viewed if on == "parent" else decision
            if not decision.allowed or self.access.masked_among(linked_by, (link,)):
                withheld.append(name)
                continue
            if on == "parent":
                if row.get(link) is None:
                    continue
                link_filter = {"id": row[link]}
            else:
                link_filter = {link: row["id"]}
            rows = crm_models.list_records(
                conn,
                target,
                where=self.scope(decision, ctx),
                filters=link_filter,
                page_size=500,
                replace=self.masks(decision, ctx),
            ).items
            if on == "child" and rows:
                # Child rows are a list in all but name: they count against the read
                # budget, or repeated views with includes would page the base out.
                self.charge_budget(conn, ctx, self.decide_in(conn, ctx, "list", target), len(rows))
            included[name] = rows if on == "child" else (rows[0] if rows else None)
            if on == "parent" and not rows:
                withheld.append(name)
                included.pop(name)
        return {k: v for k, v in included.items() if v is not None}, withheld

    def search(
        self, ctx: RequestContext, resource: str, text: str, *, limit: int = 50
    ) -> list[Row]:
        """Records the user may see whose searchable fields contain ``text``.

        A field masked for the caller is searched only on the rows where it is shown.
        """
        with self.engine.connect() as conn:
            decision = self.require(conn, ctx, "search", resource)
            self.bound_page(ctx, decision, limit)
            rows = crm_models.search_records(
                conn,
                resource,
                text,
                where=self.scope(decision, ctx),
                limit=limit,
                replace=self.masks(decision, ctx),
                search_in=self.searchable(decision, ctx),
            )
            self.charge_budget(conn, ctx, decision, len(rows))
        ids = [r["id"] for r in rows]
        # What was asked is evidence (masked-field probing shows in it); the ledger is read
        # only within scope, and the text never goes to application logs (crmguard.logs).
        details = {"text": text, "limit": limit}
        self.record(self.event(ctx, "search", resource, record_ids=ids, details=details))
        return rows

    def print_record(self, ctx: RequestContext, resource: str, record_id: int) -> str:
        """A printable plain-text document of one record (document / report generation)."""
        with self.engine.connect() as conn:
            decision = self.require(conn, ctx, "print", resource)
            try:
                row = crm_models.get_record(
                    conn,
                    resource,
                    record_id,
                    where=self.scope(decision, ctx),
                    replace=self.masks(decision, ctx),
                )
            except RecordNotFound:
                raise self.deny(
                    ctx,
                    decision,
                    record_ids=[record_id],
                    details={"reason": "not found or out of scope"},
                    error=RecordNotFound(resource, record_id),
                ) from None
        self.record(self.event(ctx, "print", resource, record_ids=[record_id]))
        width = max(len(k) for k in row)
        lines = [f"{resource.upper()} #{record_id}", "=" * (len(resource) + 8)]
        lines += [f"{k.ljust(width)}  {v}" for k, v in row.items()]
        lines.append(f"\nprinted for {ctx.principal.username}, request {ctx.request_id}")
        return "\n".join(lines) + "\n"

    def list(
        self,
        ctx: RequestContext,
        resource: str,
        *,
        filters: Mapping[str, Any] | None = None,
        text: str | None = None,
        page: int = 1,
        page_size: int = 50,
        order_by: str = "id",
        after_id: int | None = None,
    ) -> Page:
        """A page (at most 500 rows) of the records the user may see.

        Filters and the sort may not name a masked field; the text search skips masked
        values; the rows returned count against the caller's read budget. ``after_id``
        (with ``order_by="id"``) is keyset paging for API cursors: still inside the
        scope, so a forged cursor can skip rows but never reveal one outside it.
        """
        with self.engine.connect() as conn:
            decision = self.require(conn, ctx, "list", resource)
            self.refuse_masked_query(ctx, decision, filters, order_by)
            self.bound_page(ctx, decision, page_size)
            where = self.scope(decision, ctx)
            if after_id is not None:
                where.append(crm_models.resource(resource).column("id") > after_id)
            result = crm_models.list_records(
                conn,
                resource,
                where=where,
                filters=filters,
                text=text or None,
                page=page,
                page_size=page_size,
                order_by=order_by,
                replace=self.masks(decision, ctx),
                search_in=self.searchable(decision, ctx),
            )
            self.charge_budget(conn, ctx, decision, len(result.items))
        details: dict[str, Any] = {"page": page, "page_size": page_size, "total": result.total}
        if after_id is not None:
            details["after_id"] = after_id
        if filters:
            details["filters"] = dict(filters)
        if text:
            details["text"] = text
        ids = [r["id"] for r in result.items]
        self.record(self.event(ctx, "list", resource, record_ids=ids, details=details))
        return result
