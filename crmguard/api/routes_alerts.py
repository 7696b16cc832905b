"""Alert routes for security staff: the inbox (list, show), its lifecycle (acknowledge,
resolve, false positive) and delivery status. Thin calls onto
:class:`crmguard.alerting.AlertingService`, the same operations ``crmguard alerts`` runs,
so reading needs ``audit.read`` with scope ``all`` and changing an alert needs
``restrict`` on ``user``; every call is recorded."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from crmguard.api.deps import caller, state
from crmguard.service import RequestContext

router = APIRouter(prefix="/alerts", tags=["alerts"])

StatusIn = Literal["open", "acknowledged", "resolved", "false_positive"]
ALERT_ID = Path(..., ge=1, le=2**62)


class AlertOut(BaseModel):
    id: int
    user: str
    rule: str
    severity: str
    score: float
    summary: str
    evidence: dict[str, Any]
    first_ts: str
    last_ts: str
    status: str
    status_by: str | None
    status_at: str | None
    created_at: str
    updated_at: str


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)


def _service(request: Request) -> Any:
    from crmguard.alerting import AlertingService

    return AlertingService(state(request).app)


def _json(alert: Any) -> dict[str, Any]:
    from alerts.store import alert_to_json

    return alert_to_json(alert)


@router.get("", response_model=list[AlertOut], operation_id="alerts_list")
def list_alerts(
    request: Request,
    ctx: RequestContext = Depends(caller),
    status: StatusIn | None = None,
    user: str | None = Query(None, min_length=1, max_length=64),
    limit: int = Query(200, ge=1, le=1000),
) -> Any:
    """The inbox, newest first."""
    return [_json(a) for a in _service(request).list(ctx, status=status, user=user, limit=limit)]


@router.get("/status", operation_id="alerts_status")
def alerts_status(request: Request, ctx: RequestContext = Depends(caller)) -> Any:
    """How far detection has read the ledger, alerts by status, delivery per channel."""
    return _service(request).status(ctx).to_json()


@router.get("/{alert_id}", response_model=AlertOut, operation_id="alerts_show")
def show_alert(
    request: Request, alert_id: int = ALERT_ID, ctx: RequestContext = Depends(caller)
) -> Any:
    return _json(_service(request).show(ctx, alert_id))


def _change(
    request: Request, ctx: RequestContext, alert_id: int, status: str, body: ChangeIn | None
) -> Any:
    note = body.note if body is not None else None
    return _json(_service(request).change(ctx, alert_id, status, note))


@router.post("/{alert_id}/ack", response_model=AlertOut, operation_id="alerts_ack")
def ack(
    request: Request,
    body: ChangeIn | None = None,
    alert_id: int = ALERT_ID,
    ctx: RequestContext = Depends(caller),
) -> Any:
    return _change(request, ctx, alert_id, "acknowledged", body)


@router.post("/{alert_id}/resolve", response_model=AlertOut, operation_id="alerts_resolve")
def resolve(
    request: Request,
    body: ChangeIn | None = None,
    alert_id: int = ALERT_ID,
    ctx: RequestContext = Depends(caller),
) -> Any:
    return _change(request, ctx, alert_id, "resolved", body)


@router.post(
    "/{alert_id}/false-positive", response_model=AlertOut, operation_id="alerts_false_positive"
)
def false_positive(
    request: Request,
    body: ChangeIn | None = None,
    alert_id: int = ALERT_ID,
    ctx: RequestContext = Depends(caller),
) -> Any:
    return _change(request, ctx, alert_id, "false_positive", body)
