"""Admin routes: users (add, change roles and team, deactivate, reassign everything a
leaver owns), restrictions (suspend, freeze exports, departing, lift), explain, policy.

The departing-employee flow end to end: ``POST /restrictions`` with ``departing``;
``GET /audit/activity?actor=USER`` to review what they took; ``POST
/users/USER/reassign`` to hand every record to a colleague in one step; ``POST
/users/USER/deactivate`` (their tokens and sessions end at once).

The restriction, explain and policy routes call the placeholder service methods of
:mod:`crmguard.service.admin_bridge`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request

from crmguard.api.deps import caller, state
from crmguard.api.models import refuse_nul
from crmguard.api.models_admin import (
    ExplainOut,
    PolicyOut,
    ReassignIn,
    ReassignOut,
    RestrictionIn,
    RestrictionOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from crmguard.api.routes_audit import parse_record
from crmguard.service import InvalidInput, RequestContext

router = APIRouter(prefix="/admin", tags=["admin"])
USERNAME = Path(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


@router.get("/users", response_model=list[UserOut], operation_id="users_list")
def list_users(request: Request, ctx: RequestContext = Depends(caller)) -> Any:
    return [u.to_json() for u in state(request).crm.list_users(ctx)]


@router.post("/users", response_model=UserOut, status_code=201, operation_id="users_add")
def add_user(request: Request, body: UserCreate, ctx: RequestContext = Depends(caller)) -> Any:
    crm = state(request).crm
    info = crm.add_user(
        ctx,
        body.username,
        display_name=body.display_name,
        roles=body.roles,
        team=body.team,
        email=body.email,
    )
    return info.to_json()


@router.patch("/users/{username}", response_model=UserOut, operation_id="users_update")
def update_user(
    request: Request,
    body: UserUpdate,
    username: str = USERNAME,
    ctx: RequestContext = Depends(caller),
) -> Any:
    info = state(request).crm.update_user(
        ctx, username, roles=body.roles, team=body.team, display_name=body.display_name
    )
    return info.to_json()


@router.post(
    "/users/{username}/deactivate", response_model=UserOut, operation_id="users_deactivate"
)
def deactivate_user(
    request: Request, username: str = USERNAME, ctx: RequestContext = Depends(caller)
) -> Any:
    return state(request).crm.deactivate_user(ctx, username).to_json()


@router.post(
    "/users/{username}/reassign", response_model=ReassignOut, operation_id="users_reassign"
)
def reassign_all(
    request: Request,
    body: ReassignIn,
    username: str = USERNAME,
    ctx: RequestContext = Depends(caller),
) -> Any:
    done = state(request).crm.reassign_all(ctx, username, body.to)
    return {
        "from_user": done.from_user,
        "to_user": done.to_user,
        "counts": {k: len(v) for k, v in done.records.items()},
        "record_ids": done.records,
        "ledger_seq": done.ledger_seq,
    }


@router.get("/restrictions", response_model=list[RestrictionOut], operation_id="restrictions")
def restrictions(
    request: Request,
    ctx: RequestContext = Depends(caller),
    user: str | None = Query(None, max_length=64),
) -> Any:
    if user is not None:
        refuse_nul(user, "user")
    return [r.to_json() for r in state(request).crm.list_restrictions(ctx, user)]


@router.post(
    "/restrictions", response_model=RestrictionOut, status_code=201, operation_id="restrict"
)
def restrict(request: Request, body: RestrictionIn, ctx: RequestContext = Depends(caller)) -> Any:
    restriction = state(request).crm.restrict_user(
        ctx, body.username, body.kind, reason=body.reason, hours=body.hours
    )
    return restriction.to_json()


@router.post(
    "/restrictions/{restriction_id}/lift", response_model=RestrictionOut, operation_id="lift"
)
def lift(
    request: Request,
    restriction_id: int = Path(..., ge=1, le=2**62),
    ctx: RequestContext = Depends(caller),
) -> Any:
    return state(request).crm.lift_restriction(ctx, restriction_id).to_json()


@router.get("/explain", response_model=ExplainOut, operation_id="explain")
def explain(
    request: Request,
    ctx: RequestContext = Depends(caller),
    user: str = Query(..., min_length=1, max_length=64),
    action: str = Query(..., min_length=1, max_length=50),
    target: str = Query(..., min_length=1, max_length=120, description="RESOURCE or RESOURCE:ID"),
) -> Any:
    for name, value in (("user", user), ("action", action), ("target", target)):
        refuse_nul(value, name)
    if ":" in target:
        resource, raw_id = parse_record(target)
        record_id = raw_id if isinstance(raw_id, int) else None
        if record_id is None:
            raise InvalidInput(f"target: the id in {target!r} must be a number")
    else:
        resource, record_id = target, None
    return state(request).crm.explain_access(ctx, user, action, resource, record_id).to_json()


@router.get("/policy", response_model=PolicyOut, operation_id="policy_status")
def policy_status(request: Request, ctx: RequestContext = Depends(caller)) -> Any:
    return state(request).crm.policy_status(ctx)
