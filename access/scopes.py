"""Turning a decision into SQL: the row scope and the masked columns.

The scope is a WHERE clause and masks are column replacements, so that list, search,
export and single-record reads all filter and mask inside the database, with bound
parameters, at no per-row cost in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, String, false, literal, select, true

from access.decision import Decision
from access.errors import UnsupportedScope
from access.principal import Principal
from access.vocabulary import MASK
from crm_models import RESOURCES as CRM_RESOURCES
from crm_models import Team, User


def _team_members(team_id: int) -> Any:
    return select(User.id).where(User.team_id == team_id).scalar_subquery()


def scope_clause(
    decision: Decision,
    principal: Principal,
    owner_column: ColumnElement[Any] | None = None,
) -> ColumnElement[bool]:
    """The WHERE clause limiting rows to the decision's scope.

    ``owner_column`` overrides the resource's owner column; it lets rooms with their own
    tables (the audit ledger's actor id) reuse the same scope rules.
    """
    if not decision.allowed or decision.scope == "none":
        return false()
    if decision.scope == "all":
        return true()
    team = principal.team_id if decision.scope == "team" else None
    if owner_column is not None:
        return _owned(owner_column, principal.user_id, team)
    spec = CRM_RESOURCES.get(decision.resource)
    if spec is None:
        raise UnsupportedScope(
            f"resource {decision.resource!r} has no table here; pass owner_column "
            f"to scope it by {decision.scope}"
        )
    if spec.owner_field is not None:
        return _owned(spec.column(spec.owner_field), principal.user_id, team)
    if spec.model is User:
        if team is None:
            return User.id == principal.user_id
        return User.team_id == team
    if spec.model is Team:
        # A team's own row; "team" scope on teams means the same thing.
        if principal.team_id is None:
            return false()
        return Team.id == principal.team_id
    raise UnsupportedScope(f"resource {decision.resource!r} has no owner to scope by")


def _owned(column: Any, user_id: int, team_id: int | None) -> ColumnElement[bool]:
    if team_id is None:
        clause: ColumnElement[bool] = column == user_id
        return clause
    members: ColumnElement[bool] = column.in_(_team_members(team_id))
    return members


def mask_columns(decision: Decision) -> dict[str, ColumnElement[Any]]:
    """Field -> the SQL literal shown instead of its value (for ``select_records(replace=)``)."""
    return {f: literal(MASK, String()) for f in decision.masked_fields}


def mask_row(decision: Decision, row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` with masked fields replaced, for results built in Python."""
    masked = set(decision.masked_fields)
    return {k: (MASK if k in masked else v) for k, v in row.items()}
