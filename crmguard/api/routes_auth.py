"""Sign-in, sign-out, who am I, own password and API tokens.

Sign-in answers with a session cookie (``HttpOnly``, ``SameSite=Strict``, path ``/``,
``Secure`` when served over HTTPS directly or through a trusted proxy) and a CSRF token
that cookie-authenticated changes must echo in ``X-CSRF-Token``. Failed sign-ins are
throttled per user and per address (429 with ``Retry-After``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from crmguard.api.deps import SESSION_COOKIE, caller, client_ip, request_id, state
from crmguard.api.models import refuse_nul
from crmguard.api.models_admin import (
    Done,
    MeOut,
    PasswordIn,
    SignedInOut,
    SignInIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
)
from crmguard.service import RequestContext

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/signin", response_model=SignedInOut, operation_id="sign_in")
def sign_in(request: Request, response: Response, body: SignInIn) -> Any:
    st = state(request)
    done = st.auth.sign_in(
        body.username,
        body.password,
        body.totp,
        ip=client_ip(request),
        request_id=request_id(request),
    )
    max_age = st.auth.settings.session_absolute_hours * 3600
    response.set_cookie(
        SESSION_COOKIE,
        done.session_id,
        max_age=max_age,
        httponly=True,
        secure=bool(request.state.https),
        samesite="strict",
        path="/",
    )
    return {
        "username": done.principal.username,
        "roles": list(done.principal.roles),
        "csrf_token": done.csrf_token,
        "expires_at": done.expires_at,
    }


@router.post("/signout", response_model=Done, operation_id="sign_out")
def sign_out(request: Request, response: Response, ctx: RequestContext = Depends(caller)) -> Any:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        state(request).auth.sign_out(ctx, session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/me", response_model=MeOut, operation_id="whoami")
def whoami(ctx: RequestContext = Depends(caller)) -> Any:
    p = ctx.principal
    return {"username": p.username, "roles": list(p.roles), "team_id": p.team_id}


@router.put("/password", response_model=Done, operation_id="set_own_password")
def set_own_password(
    request: Request, body: PasswordIn, ctx: RequestContext = Depends(caller)
) -> Any:
    state(request).auth.set_password(ctx, ctx.principal.username, body.password)
    return {"ok": True}


@router.get("/tokens", response_model=list[TokenOut], operation_id="tokens_list")
def list_tokens(
    request: Request,
    ctx: RequestContext = Depends(caller),
    user: str | None = Query(None, max_length=64, description="Default: the caller's own."),
) -> Any:
    if user is not None:
        refuse_nul(user, "user")
    who = user or ctx.principal.username
    return [t.to_json() for t in state(request).auth.list_tokens(ctx, who)]


@router.post(
    "/tokens", response_model=TokenCreatedOut, status_code=201, operation_id="tokens_create"
)
def create_token(
    request: Request, body: TokenCreateIn, ctx: RequestContext = Depends(caller)
) -> Any:
    who = body.username or ctx.principal.username
    return state(request).auth.create_token(ctx, who, body.name, body.expires_in_days).to_json()


@router.delete("/tokens/{token_id}", response_model=Done, operation_id="tokens_revoke")
def revoke_token(
    request: Request,
    token_id: int = Path(..., ge=1, le=2**62),
    ctx: RequestContext = Depends(caller),
) -> Any:
    state(request).auth.revoke_token(ctx, token_id)
    return {"ok": True}
