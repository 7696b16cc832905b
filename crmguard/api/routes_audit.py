"""Routes for the ledger: search, "who viewed contact:42", a user's activity per day,
one's own events, and verification.

Each is one guarded ledger read: the caller's ``audit.read`` scope decides what comes
back (``own`` for most roles: every employee may see their own events) and the read
itself is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from crmguard.api.deps import caller, state
from crmguard.api.models import refuse_nul
from crmguard.api.models_admin import Activity, Entries, VerifyOut
from crmguard.service import InvalidInput, LedgerPage, RequestContext

router = APIRouter(prefix="/audit", tags=["audit"])

Outcome = Literal["allowed", "denied", "error"]
Channel = Literal["api", "web", "cli", "system"]


def utc(value: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC (the ledger's clock)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _entries(page: LedgerPage) -> dict[str, Any]:
    return {"items": [e.to_json() for e in page.entries], "truncated": page.truncated}


def parse_record(record: str) -> tuple[str, int | str]:
    """``contact:42`` -> ("contact", 42); anything else names the expected form."""
    name, sep, raw = record.partition(":")
    refuse_nul(record, "record")
    if not sep or not name or not raw:
        raise InvalidInput(f"record: {record!r} must be RESOURCE:ID, e.g. contact:42")
    return name, int(raw) if raw.isdigit() and len(raw) < 19 else raw


@router.get("/events", response_model=Entries, operation_id="audit_search")
def search_events(
    request: Request,
    ctx: RequestContext = Depends(caller),
    actor: str | None = Query(None, max_length=100),
    action: str | None = Query(None, max_length=50),
    resource: str | None = Query(None, max_length=50),
    record: str | None = Query(None, max_length=120, description="RESOURCE:ID, e.g. contact:42"),
    outcome: Outcome | None = None,
    channel: Channel | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """Search the ledger (newest first) within the caller's ledger scope."""
    for name, value in (("actor", actor), ("action", action), ("resource", resource)):
        if value is not None:
            refuse_nul(value, name)
    if record is not None:
        parse_record(record)  # the expected form, named in a 422
    page = state(request).crm.audit_entries(
        ctx,
        since=utc(since),
        until=utc(until),
        actor=actor,
        action=action,
        resource=resource,
        record=record,
        outcome=outcome,
        channel=channel,
        limit=limit,
    )
    return _entries(page)


@router.get(
    "/records/{resource}/{record_id}/viewers", response_model=Entries, operation_id="audit_viewers"
)
def who_viewed(
    request: Request,
    ctx: RequestContext = Depends(caller),
    resource: Literal["contact", "company", "deal", "activity", "task"] = Path(...),
    record_id: int = Path(..., ge=1, le=2**62),
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """Every event that touched this record (views, lists, searches, exports, changes)."""
    page = state(request).crm.audit_entries(ctx, record=f"{resource}:{record_id}", limit=limit)
    return _entries(page)


@router.get("/activity", response_model=Activity, operation_id="audit_activity")
def activity(
    request: Request,
    ctx: RequestContext = Depends(caller),
    actor: str = Query(..., min_length=1, max_length=100),
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """A user's events per day, action and outcome ("what did the leaver take?")."""
    refuse_nul(actor, "actor")
    days = state(request).crm.audit_activity(ctx, actor, since=utc(since), until=utc(until))
    return {"actor": actor, "days": [d.to_json() for d in days]}


@router.get("/me", response_model=Entries, operation_id="audit_own")
def own_events(
    request: Request,
    ctx: RequestContext = Depends(caller),
    since: datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """The caller's own events: what the ledger holds on you."""
    return _entries(state(request).crm.audit_own(ctx, since=utc(since), limit=limit))


@router.get("/verify", response_model=VerifyOut, operation_id="audit_verify")
def verify(
    request: Request,
    ctx: RequestContext = Depends(caller),
    index: bool = Query(False, description="Also compare the record index (the deep check)."),
) -> Any:
    """Walk the whole chain and report the first entry that is wrong, if any."""
    return state(request).crm.audit_verify(ctx, index=index).to_json()
