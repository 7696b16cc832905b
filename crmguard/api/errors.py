"""One map from the project's errors to HTTP answers, used by every route.

Each room's error base is mapped once here (the shell's own errors carry their
``http_status``). An answer is ``{"error": {"type", "message", "request_id"}}`` with
the error's one-line message; an unexpected exception is answered 500 by class name
only (its details go to the application log, never into the response).
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

import crm_models
from access import AccessError
from alerts.errors import AlertsError
from audit import AuditError
from backup import BackupError
from crmguard.errors import CrmguardError, SignInThrottled

log = structlog.get_logger("crmguard.api")

#: Database errors the service lets through, by status (project errors carry their own
#: ``http_status``: one hierarchy serves both doors).
_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (IntegrityError, 409),
    (DataError, 422),
    (OperationalError, 503),
)

#: Messages for database errors: the driver's text may quote values, so it is not sent.
_DB_MESSAGES: dict[type[BaseException], str] = {
    IntegrityError: "the change refers to a record that does not exist, or clashes with one",
    DataError: "a value does not fit its field",
    OperationalError: "the database is unavailable; try again",
}


def status_of(exc: BaseException) -> int:
    """The HTTP status for a project error: its own ``http_status``, or the table's."""
    status = getattr(exc, "http_status", None)
    if isinstance(status, int):
        return status
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(request: Request, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    rid = getattr(request.state, "request_id", None)
    return {"error": {"type": kind, "message": message, "request_id": rid, **extra}}


def _project_error(request: Request, exc: Exception) -> JSONResponse:
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, SignInThrottled):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="crmguard"'
    message = str(exc) or exc.__class__.__name__
    for cls, text in _DB_MESSAGES.items():
        if isinstance(exc, cls):
            message = text
    if status >= 500:
        log.error("api_error", error=exc.__class__.__name__, status=status)
    return JSONResponse(
        error_body(request, exc.__class__.__name__, message), status_code=status, headers=headers
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        problems.append({"field": where or "body", "problem": str(err.get("msg", "invalid"))})
    first = problems[0] if problems else {"field": "body", "problem": "invalid"}
    message = f"{first['field']}: {first['problem']}"
    return JSONResponse(
        error_body(request, "InvalidInput", message, fields=problems), status_code=422
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        error_body(request, "HTTPError", str(exc.detail)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("api_unexpected", error=exc.__class__.__name__)
    return JSONResponse(
        error_body(request, "InternalError", f"internal error ({exc.__class__.__name__})"),
        status_code=500,
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    for cls in (
        CrmguardError,
        crm_models.CRMError,
        AccessError,
        AuditError,
        BackupError,
        AlertsError,
        IntegrityError,
        DataError,
        OperationalError,
    ):
        app.add_exception_handler(cls, _project_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
