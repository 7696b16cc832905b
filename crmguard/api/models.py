"""Typed request and response bodies of the record routes.

Request models forbid unknown fields (a typo is a 422 naming the field, never a silent
no-op) and bound every string to its column's length. Response fields accept the mask
literal ``[masked]`` beside their real type, because a policy may mask any field.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

Masked = str  # the mask literal shown instead of a value the caller may not see


def refuse_nul(value: str, field: str) -> str:
    """NUL cannot be stored in PostgreSQL text; refuse it as bad input, by field."""
    if "\x00" in value:
        raise ValueError(f"{field} must not contain NUL characters")
    return value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str):
                    refuse_nul(value, str(key))
        return data


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- contacts ----------------------------------------------------------------------------


class ContactCreate(_In):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=50)
    company_id: int | None = Field(None, ge=1, le=2**31 - 1)
    city: str = Field("", max_length=100)
    country: str = Field("", max_length=2)
    notes: str = Field("", max_length=10000)


class ContactUpdate(_In):
    first_name: str | None = Field(None, min_length=1, max_length=100)
    last_name: str | None = Field(None, min_length=1, max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=50)
    company_id: int | None = Field(None, ge=1, le=2**31 - 1)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2)
    notes: str | None = Field(None, max_length=10000)


class ContactOut(_Out):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    company_id: int | Masked | None
    city: str
    country: str
    owner_id: int | Masked | None
    notes: str
    created_at: datetime | Masked
    updated_at: datetime | Masked


# -- companies ---------------------------------------------------------------------------


class CompanyCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    industry: str = Field("", max_length=100)
    city: str = Field("", max_length=100)
    country: str = Field("", max_length=2)
    website: str = Field("", max_length=200)


class CompanyUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    industry: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2)
    website: str | None = Field(None, max_length=200)


class CompanyOut(_Out):
    id: int
    name: str
    industry: str
    city: str
    country: str
    website: str
    owner_id: int | Masked | None
    created_at: datetime | Masked
    updated_at: datetime | Masked


# -- deals -------------------------------------------------------------------------------

Stage = Literal["lead", "qualified", "proposal", "negotiation", "won", "lost"]


class DealCreate(_In):
    title: str = Field(min_length=1, max_length=200)
    amount: Decimal = Field(Decimal("0"), ge=0, lt=Decimal("1e12"), decimal_places=2)
    currency: str = Field("EUR", min_length=3, max_length=3)
    stage: Stage = "lead"
    company_id: int | None = Field(None, ge=1, le=2**31 - 1)
    contact_id: int | None = Field(None, ge=1, le=2**31 - 1)


class DealUpdate(_In):
    title: str | None = Field(None, min_length=1, max_length=200)
    amount: Decimal | None = Field(None, ge=0, lt=Decimal("1e12"), decimal_places=2)
    currency: str | None = Field(None, min_length=3, max_length=3)
    stage: Stage | None = None
    company_id: int | None = Field(None, ge=1, le=2**31 - 1)
    contact_id: int | None = Field(None, ge=1, le=2**31 - 1)


class DealOut(_Out):
    id: int
    title: str
    amount: Decimal | Masked
    currency: str
    stage: str
    owner_id: int | Masked | None
    company_id: int | Masked | None
    contact_id: int | Masked | None
    created_at: datetime | Masked
    updated_at: datetime | Masked


# -- activities --------------------------------------------------------------------------

Kind = Literal["call", "meeting", "email", "note"]


class ActivityCreate(_In):
    kind: Kind
    occurred_at: datetime
    contact_id: int | None = Field(None, ge=1, le=2**31 - 1)
    deal_id: int | None = Field(None, ge=1, le=2**31 - 1)
    summary: str = Field("", max_length=10000)


class ActivityUpdate(_In):
    kind: Kind | None = None
    occurred_at: datetime | None = None
    contact_id: int | None = Field(None, ge=1, le=2**31 - 1)
    deal_id: int | None = Field(None, ge=1, le=2**31 - 1)
    summary: str | None = Field(None, max_length=10000)


class ActivityOut(_Out):
    id: int
    kind: str
    owner_id: int | Masked | None
    occurred_at: datetime | Masked
    contact_id: int | Masked | None
    deal_id: int | Masked | None
    summary: str
    created_at: datetime | Masked
    updated_at: datetime | Masked


# -- tasks -------------------------------------------------------------------------------

Status = Literal["open", "done", "cancelled"]
Related = Literal["", "contact", "deal", "company"]


class TaskCreate(_In):
    title: str = Field(min_length=1, max_length=200)
    due_at: datetime | None = None
    status: Status = "open"
    related_type: Related = ""
    related_id: int | None = Field(None, ge=1, le=2**31 - 1)


class TaskUpdate(_In):
    title: str | None = Field(None, min_length=1, max_length=200)
    due_at: datetime | None = None
    status: Status | None = None
    related_type: Related | None = None
    related_id: int | None = Field(None, ge=1, le=2**31 - 1)


class TaskOut(_Out):
    id: int
    title: str
    assignee_id: int | Masked | None
    due_at: datetime | Masked | None
    status: str
    related_type: str
    related_id: int | Masked | None
    created_at: datetime | Masked
    updated_at: datetime | Masked


# -- views with related records ----------------------------------------------------------


class ContactView(ContactOut):
    company: CompanyOut | None = None
    deals: list[DealOut] | None = None
    activities: list[ActivityOut] | None = None


class CompanyView(CompanyOut):
    contacts: list[ContactOut] | None = None
    deals: list[DealOut] | None = None


class DealView(DealOut):
    company: CompanyOut | None = None
    contact: ContactOut | None = None
    activities: list[ActivityOut] | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``next`` is the cursor of the following page, or null."""

    items: list[T]
    next: str | None = None


class Deleted(BaseModel):
    deleted: bool = True
    id: int


def non_null(model: BaseModel) -> dict[str, Any]:
    """The fields a partial update actually set (explicit nulls included)."""
    return model.model_dump(exclude_unset=True)
