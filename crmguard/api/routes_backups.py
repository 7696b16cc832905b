"""Backup routes: status, list, run, verify (owner and admins; see
:mod:`crmguard.service.backup_ops`). Runs and verifications are synchronous: the request
returns when the backup is stored or checked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from crmguard.api.deps import caller, state
from crmguard.service import RequestContext
from crmguard.service.backup_ops import BackupOps

router = APIRouter(prefix="/backups", tags=["backups"])


class BackupOut(BaseModel):
    id: str
    created_at: str
    bytes: int
    stored_bytes: int
    key_id: str
    verified_at: str | None
    spooled: bool


class RunOut(BaseModel):
    id: str
    bytes: int
    stored_bytes: int
    seconds: float
    spooled: bool


class VerifyOut(BaseModel):
    id: str
    ok: bool
    problem: str | None
    tables: dict[str, int]
    ledger_ok: bool | None
    seconds: float


class StatusOut(BaseModel):
    jobs: list[dict[str, Any]]
    spooled: list[str]


def _ops(request: Request) -> BackupOps:
    st = state(request)
    return BackupOps(st.crm, st.app.settings)


@router.get("/status", response_model=StatusOut, operation_id="backup_status")
def status(request: Request, ctx: RequestContext = Depends(caller)) -> Any:
    return _ops(request).status(ctx)


@router.get("", response_model=list[BackupOut], operation_id="backup_list")
def list_backups(request: Request, ctx: RequestContext = Depends(caller)) -> Any:
    return _ops(request).list(ctx)


@router.post("/run", response_model=RunOut, status_code=201, operation_id="backup_run")
def run(request: Request, ctx: RequestContext = Depends(caller)) -> Any:
    return _ops(request).run(ctx)


@router.post("/{backup_id}/verify", response_model=VerifyOut, operation_id="backup_verify")
def verify(
    request: Request,
    backup_id: str = Path(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$"),
    ctx: RequestContext = Depends(caller),
) -> Any:
    return _ops(request).verify(ctx, backup_id)
