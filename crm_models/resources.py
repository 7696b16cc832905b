"""The catalogue of record types: name, model, owner column, fields.

Resource names (``contact``, ``deal`` ...) are what policies, the CLI and the ledger
speak; this table maps them to models once so that no other module needs a chain of
``if resource == ...``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.orm import InstrumentedAttribute

from crm_models.base import Base
from crm_models.errors import CRMError
from crm_models.people import Team, User
from crm_models.records import Activity, Company, Contact, Deal, Task


@dataclass(frozen=True)
class ResourceSpec:
    """How one record type is stored and read."""

    name: str
    model: type[Base]
    owner_field: str | None
    fields: tuple[str, ...]
    search_fields: tuple[str, ...]

    @property
    def table(self) -> Table:
        """The model's table, for Core statements."""
        table = self.model.__table__
        assert isinstance(table, Table)
        return table

    def column(self, field: str) -> InstrumentedAttribute[object]:
        """The mapped column for ``field``."""
        col: InstrumentedAttribute[object] = getattr(self.model, field)
        return col


def _spec(
    name: str,
    model: type[Base],
    owner_field: str | None,
    fields: tuple[str, ...],
    search_fields: tuple[str, ...],
) -> ResourceSpec:
    return ResourceSpec(name, model, owner_field, fields, search_fields)


RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "contact",
            Contact,
            "owner_id",
            (
                "id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "company_id",
                "city",
                "country",
                "owner_id",
                "notes",
                "created_at",
                "updated_at",
            ),
            ("first_name", "last_name", "email", "phone", "city"),
        ),
        _spec(
            "company",
            Company,
            "owner_id",
            (
                "id",
                "name",
                "industry",
                "city",
                "country",
                "website",
                "owner_id",
                "created_at",
                "updated_at",
            ),
            ("name", "industry", "city", "website"),
        ),
        _spec(
            "deal",
            Deal,
            "owner_id",
            (
                "id",
                "title",
                "amount",
                "currency",
                "stage",
                "owner_id",
                "company_id",
                "contact_id",
                "created_at",
                "updated_at",
            ),
            ("title", "stage"),
        ),
        _spec(
            "activity",
            Activity,
            "owner_id",
            (
                "id",
                "kind",
                "owner_id",
                "occurred_at",
                "contact_id",
                "deal_id",
                "summary",
                "created_at",
                "updated_at",
            ),
            ("kind", "summary"),
        ),
        _spec(
            "task",
            Task,
            "assignee_id",
            (
                "id",
                "title",
                "assignee_id",
                "due_at",
                "status",
                "related_type",
                "related_id",
                "created_at",
                "updated_at",
            ),
            ("title", "status"),
        ),
        _spec(
            "user",
            User,
            None,
            ("id", "username", "display_name", "email", "active", "team_id", "roles"),
            ("username", "display_name", "email"),
        ),
        _spec("team", Team, None, ("id", "name", "head_id"), ("name",)),
    )
}

#: Record types that hold client data (what leaks are made of).
CLIENT_RESOURCES: tuple[str, ...] = ("contact", "company", "deal", "activity", "task")


class UnknownResource(CRMError):
    """The resource name is not one the CRM knows."""

    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(RESOURCES))
        super().__init__(f"unknown resource {name!r} (known: {known})")
        self.name = name


def resource(name: str) -> ResourceSpec:
    """The spec of resource ``name``; raises :class:`UnknownResource` if there is none."""
    try:
        return RESOURCES[name]
    except KeyError:
        raise UnknownResource(name) from None
