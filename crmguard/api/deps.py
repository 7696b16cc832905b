"""Who is calling: the one dependency every data route takes.

A request proves its user with ``Authorization: Bearer TOKEN`` (scripts, integrations)
or with the session cookie set by sign-in (the web console). A cookie-authenticated
request that changes something must also carry ``X-CSRF-Token`` (returned by sign-in):
a page on another site can make the browser send the cookie, never that header's
value. The check runs on every request against the database, so deactivation and
suspension take effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPBearer

from crmguard.app import App
from crmguard.auth.secrets import same_secret
from crmguard.auth.values import csrf_token_for
from crmguard.errors import NotAuthenticated
from crmguard.service import GuardedCRM, RequestContext
from crmguard.service.auth import Authenticator

SESSION_COOKIE = "crmguard_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ApiState:
    """What the routes share: the composed application and its authenticator."""

    app: App
    crm: GuardedCRM
    auth: Authenticator


def state(request: Request) -> ApiState:
    found: ApiState = request.app.state.crmguard
    return found


def request_id(request: Request) -> str:
    rid: str = request.state.request_id
    return rid


def client_ip(request: Request) -> str | None:
    ip: str | None = request.state.client_ip
    return ip


#: Declared for the OpenAPI document (clients and the console learn both ways in); the
#: checking itself is below, so that every failure is the same 401 and is recorded.
_BEARER = HTTPBearer(auto_error=False, description="An API token: crmguard tokens create")
_COOKIE = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="From /api/auth/signin")


def caller(
    request: Request,
    _bearer: object = Depends(_BEARER),
    _cookie: object = Depends(_COOKIE),
) -> RequestContext:
    """The authenticated caller's request context (channel ``api``), or 401."""
    st = state(request)
    header = request.headers.get("authorization", "")
    bearer = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("not signed in: use 'Authorization: Bearer TOKEN'")
        bearer = value.strip()
    session_id = None if bearer else request.cookies.get(SESSION_COOKIE)
    found = st.auth.authenticate(
        bearer=bearer,
        session_id=session_id,
        ip=client_ip(request),
        request_id=request_id(request),
    )
    if found.session_id is not None and request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not same_secret(sent, csrf_token_for(found.session_id)):
            raise NotAuthenticated(
                "a change made with a session cookie needs the X-CSRF-Token header"
            )
    return RequestContext(
        principal=found.principal,
        channel="api",
        ip=client_ip(request),
        request_id=request_id(request),
    )
