"""Routes for client records: create, view (with includes), update, delete, list with
cursor pages, search, export (CSV or JSON Lines, streamed) and print.

Every route is one call to a :class:`~crmguard.service.GuardedCRM` method with the
caller's context: the decision, the scope, the masks, the caps and the ledger event
all happen there, exactly as for the CLI. A record outside the caller's scope answers
404, like a record that does not exist (the service records the attempt as a denial),
so a probe learns nothing about which ids exist.

The list cursor is the last id of the page (keyset paging on ``id``), encoded; the
next page is still filtered by the caller's scope, so a forged cursor can skip rows but
can never reveal a row outside the scope.
"""

import base64
import binascii
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel

import crm_models
from crmguard.api import models as m
from crmguard.api.deps import caller, state
from crmguard.service import InvalidInput, RequestContext
from crmguard.service.reads import RELATED

MAX_ID = 2**62
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class RecordKind:
    """How one resource appears on the API."""

    name: str
    plural: str
    create: type[BaseModel]
    update: type[BaseModel]
    out: type[BaseModel]
    view: type[BaseModel]


KINDS = (
    RecordKind(
        "contact", "contacts", m.ContactCreate, m.ContactUpdate, m.ContactOut, m.ContactView
    ),
    RecordKind(
        "company", "companies", m.CompanyCreate, m.CompanyUpdate, m.CompanyOut, m.CompanyView
    ),
    RecordKind("deal", "deals", m.DealCreate, m.DealUpdate, m.DealOut, m.DealView),
    RecordKind(
        "activity", "activities", m.ActivityCreate, m.ActivityUpdate, m.ActivityOut, m.ActivityOut
    ),
    RecordKind("task", "tasks", m.TaskCreate, m.TaskUpdate, m.TaskOut, m.TaskOut),
)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor continues after; a malformed cursor is a 422 naming ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        prefix, _, number = raw.partition(":")
        value = int(number)
        if prefix != "after" or not 0 <= value <= MAX_ID:
            raise ValueError
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor: not a cursor this API issued") from None


def parse_filters(resource: str, raw: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` pairs, each value converted to its column's type."""
    spec = crm_models.resource(resource)
    out: dict[str, Any] = {}
    for item in raw:
        field, sep, value = item.partition("=")
        if not sep or field not in spec.fields:
            raise InvalidInput(
                f"filter: {item!r} must be FIELD=VALUE with FIELD one of {', '.join(spec.fields)}"
            )
        m.refuse_nul(value, "filter")
        kind = spec.table.c[field].type.python_type
        try:
            if kind is int:
                number = int(value)
                if abs(number) > MAX_ID:
                    raise ValueError
                out[field] = number
            elif kind is Decimal:
                out[field] = Decimal(value)
            elif kind is bool:
                out[field] = value.lower() in ("1", "true", "yes")
            elif kind is datetime:
                out[field] = datetime.fromisoformat(value)
            else:
                out[field] = value
        except (ValueError, InvalidOperation):
            raise InvalidInput(f"filter {field}: {value!r} is not a {kind.__name__}") from None
    return out


def _chunks(payload: str) -> Iterator[bytes]:
    data = payload.encode("utf-8")
    for start in range(0, len(data), _CHUNK):
        yield data[start : start + _CHUNK]


def register(router: APIRouter, kind: RecordKind) -> None:
    """Add the routes of one resource to ``router``."""
    name, tag = kind.name, kind.plural
    base = f"/{kind.plural}"
    includes = tuple(sorted(RELATED.get(name, {})))

    def create_record(request: Request, body: Any, ctx: RequestContext = Depends(caller)) -> Any:
        return state(request).crm.create(ctx, name, body.model_dump(exclude_unset=True))

    create_record.__annotations__["body"] = kind.create
    router.add_api_route(
        base,
        create_record,
        methods=["POST"],
        status_code=201,
        response_model=kind.out,
        tags=[tag],
        summary=f"Create a {name} owned by the caller",
        operation_id=f"create_{name}",
    )

    def list_records(
        request: Request,
        ctx: RequestContext = Depends(caller),
        limit: int = Query(50, ge=1, le=500, description="Rows per page (at most 500)."),
        cursor: str | None = Query(None, max_length=200, description="`next` of the last page."),
        filter: list[str] = Query(
            [], description="FIELD=VALUE (repeatable); equality on that field."
        ),
    ) -> Any:
        after = decode_cursor(cursor) if cursor else None
        filters = parse_filters(name, filter)
        page = state(request).crm.list(
            ctx, name, filters=filters or None, page_size=limit, after_id=after
        )
        items = page.items
        more = page.total > len(items)  # the total counts the rows after the cursor
        return {"items": items, "next": encode_cursor(items[-1]["id"]) if more else None}

    router.add_api_route(
        base,
        list_records,
        methods=["GET"],
        response_model=m.Page[kind.out],  # type: ignore[name-defined]
        tags=[tag],
        summary=f"List the {kind.plural} the caller may see, a page at a time",
        operation_id=f"list_{name}",
    )

    def search_records(
        request: Request,
        ctx: RequestContext = Depends(caller),
        q: str = Query(..., min_length=1, max_length=200, description="Text to look for."),
        limit: int = Query(50, ge=1, le=500),
    ) -> Any:
        m.refuse_nul(q, "q")
        rows = state(request).crm.search(ctx, name, q, limit=limit)
        return {"items": rows, "next": None}

    router.add_api_route(
        f"{base}/search",
        search_records,
        methods=["GET"],
        response_model=m.Page[kind.out],  # type: ignore[name-defined]
        tags=[tag],
        summary=f"Search the {kind.plural} the caller may see",
        operation_id=f"search_{name}",
    )

    def export_records(
        request: Request,
        ctx: RequestContext = Depends(caller),
        format: Literal["csv", "jsonl"] = Query("csv"),
        filter: list[str] = Query([]),
    ) -> StreamingResponse:
        filters = parse_filters(name, filter)
        buf = io.StringIO()
        state(request).crm.export(ctx, name, buf, fmt=format, filters=filters or None)
        media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
        return StreamingResponse(
            _chunks(buf.getvalue()),
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="{kind.plural}.{format}"',
            },
        )

    router.add_api_route(
        f"{base}/export",
        export_records,
        methods=["GET"],
        response_class=StreamingResponse,
        tags=[tag],
        summary=f"Export the {kind.plural} the caller may see (the role's row cap applies)",
        operation_id=f"export_{name}",
        responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
    )

    def view_record(
        request: Request,
        ctx: RequestContext = Depends(caller),
        record_id: int = Path(..., ge=1, le=MAX_ID),
        include: list[str] = Query([], description=f"Related: {', '.join(includes) or 'none'}"),
    ) -> Any:
        return state(request).crm.view(ctx, name, record_id, include=include)

    router.add_api_route(
        f"{base}/{{record_id}}",
        view_record,
        methods=["GET"],
        response_model=kind.view,
        response_model_exclude_unset=True,  # a related record withheld is absent, not null
        tags=[tag],
        summary=f"One {name}, with the related records the caller may see",
        operation_id=f"view_{name}",
    )

    def update_record(
        request: Request,
        body: Any,
        ctx: RequestContext = Depends(caller),
        record_id: int = Path(..., ge=1, le=MAX_ID),
    ) -> Any:
        values = body.model_dump(exclude_unset=True)
        return state(request).crm.update(ctx, name, record_id, values)

    update_record.__annotations__["body"] = kind.update
    router.add_api_route(
        f"{base}/{{record_id}}",
        update_record,
        methods=["PATCH"],
        response_model=kind.out,
        tags=[tag],
        summary=f"Change fields of a {name} in the caller's scope",
        operation_id=f"update_{name}",
    )

    def delete_record(
        request: Request,
        ctx: RequestContext = Depends(caller),
        record_id: int = Path(..., ge=1, le=MAX_ID),
    ) -> Any:
        state(request).crm.delete(ctx, name, record_id)
        return {"deleted": True, "id": record_id}

    router.add_api_route(
        f"{base}/{{record_id}}",
        delete_record,
        methods=["DELETE"],
        response_model=m.Deleted,
        tags=[tag],
        summary=f"Delete a {name} in the caller's scope",
        operation_id=f"delete_{name}",
    )

    def print_record(
        request: Request,
        ctx: RequestContext = Depends(caller),
        record_id: int = Path(..., ge=1, le=MAX_ID),
    ) -> PlainTextResponse:
        return PlainTextResponse(state(request).crm.print_record(ctx, name, record_id))

    router.add_api_route(
        f"{base}/{{record_id}}/print",
        print_record,
        methods=["GET"],
        response_class=PlainTextResponse,
        tags=[tag],
        summary=f"A printable document of one {name} (counts as a print in the ledger)",
        operation_id=f"print_{name}",
    )


def router() -> APIRouter:
    """The record routes of every resource."""
    r = APIRouter()
    for kind in KINDS:
        register(r, kind)
    return r
