"""Typed bodies of the ledger, admin and sign-in routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmguard.api.models import refuse_nul

Username = str


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str):
                    refuse_nul(value, str(key))
        return data


class LedgerEntryOut(BaseModel):
    seq: int
    ts: str
    actor: str
    action: str
    resource: str
    record_ids: list[int | str]
    count: int
    outcome: str
    channel: str
    ip: str | None
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class Entries(BaseModel):
    items: list[LedgerEntryOut]
    #: True when ``limit`` cut the answer (there may be more events).
    truncated: bool


class ActivityDay(BaseModel):
    day: str
    action: str
    resource: str
    outcome: str
    events: int
    records: int


class Activity(BaseModel):
    actor: str
    days: list[ActivityDay]


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None


class UserOut(BaseModel):
    username: str
    display_name: str
    email: str | None = None
    roles: list[str]
    team: str | None
    active: bool


class UserCreate(_In):
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    roles: list[str] = Field(min_length=1, max_length=20)
    team: str | None = Field(None, max_length=100)


class UserUpdate(_In):
    roles: list[str] | None = Field(None, min_length=1, max_length=20)
    team: str | None = Field(None, max_length=100, description='"" removes the team')
    display_name: str | None = Field(None, min_length=1, max_length=200)


class ReassignIn(_In):
    to: str = Field(min_length=1, max_length=64, description="The colleague who takes over.")


class ReassignOut(BaseModel):
    from_user: str
    to_user: str
    counts: dict[str, int]
    record_ids: dict[str, list[int]]
    ledger_seq: int


class RestrictionIn(_In):
    username: str = Field(min_length=1, max_length=64)
    kind: Literal["suspended", "exports_frozen", "departing"]
    reason: str = Field("", max_length=1000)
    hours: float | None = Field(None, gt=0, le=24 * 366)


class RestrictionOut(BaseModel):
    id: int
    username: str
    kind: str
    reason: str
    created_by: str
    created_at: str | None
    expires_at: str | None
    lifted_at: str | None
    lifted_by: str | None


class ExplainOut(BaseModel):
    allowed: bool
    decision: dict[str, Any]
    record_in_scope: bool | None
    lines: list[str]


class PolicyOut(BaseModel):
    version: int
    policy_dir: str
    roles: list[str]


class SignInIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(None, max_length=10)


class SignedInOut(BaseModel):
    username: str
    roles: list[str]
    csrf_token: str
    expires_at: datetime


class MeOut(BaseModel):
    username: str
    roles: list[str]
    team_id: int | None


class TokenCreateIn(_In):
    name: str = Field(min_length=1, max_length=100)
    username: str | None = Field(None, max_length=64, description="Default: the caller.")
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class TokenCreatedOut(BaseModel):
    id: int
    token: str
    expires_at: str | None


class TokenOut(BaseModel):
    id: int
    username: str
    name: str
    created_at: str | None
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


class PasswordIn(_In):
    password: str = Field(min_length=12, max_length=1024)


class Done(BaseModel):
    ok: bool = True
