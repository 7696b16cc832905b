"""The HTTP application: FastAPI routes over the guarded service, wrapped in the front
middleware (request id, client address, body limit, common headers, metrics).

:func:`create_app` builds it from an opened :class:`~crmguard.app.App`; ``crmguard
serve`` runs it on uvicorn together with the daemon's work.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from crmguard.api import (
    errors,
    routes_admin,
    routes_alerts,
    routes_audit,
    routes_auth,
    routes_backups,
    routes_records,
)
from crmguard.api.asgi import FrontMiddleware
from crmguard.api.deps import ApiState
from crmguard.api.metrics import Metrics
from crmguard.app import App
from crmguard.service import GuardedCRM
from crmguard.service.auth import Authenticator

API_VERSION = "1"


def create_app(
    app: App,
    *,
    metrics: Metrics | None = None,
    crm: GuardedCRM | None = None,
    authenticator: Authenticator | None = None,
) -> Any:
    """The ASGI application for ``app``. ``crm`` replaces the service (the benchmark's
    unguarded baseline uses this; nothing else does)."""
    metrics = metrics or Metrics()
    service = crm or app.crm
    api = FastAPI(
        title="crmguard",
        version=API_VERSION,
        description=(
            "The guarded CRM over HTTP: every request is authenticated, decided, scoped "
            "and recorded in the ledger. Authenticate with `Authorization: Bearer TOKEN` "
            "or the session cookie from `POST /api/auth/signin`."
        ),
        docs_url=None,
        redoc_url=None,
    )
    api.state.crmguard = ApiState(
        app=app,
        crm=service,
        auth=authenticator or Authenticator(service, app.settings.api),
    )
    errors.install(api)
    api.include_router(routes_records.router(), prefix="/api")
    api.include_router(routes_audit.router, prefix="/api")
    api.include_router(routes_admin.router, prefix="/api")
    api.include_router(routes_auth.router, prefix="/api")
    api.include_router(routes_backups.router, prefix="/api")
    api.include_router(routes_alerts.router, prefix="/api")

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(
            metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return FrontMiddleware(
        api,
        max_body_bytes=app.settings.api.max_body_bytes,
        trusted_proxies=app.settings.api.trusted_proxies,
        metrics=metrics,
    )
