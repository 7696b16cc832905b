"""Turning a decision into SQL: the row scope, the masked columns, the searchable ones.

This is the one place where a decision becomes SQL, and every guarded path (view, list,
search, export, print, related includes, the results of writes) takes its WHERE clause
and its column replacements from here, so no path can show more than another.

The scope is a WHERE clause and masks are column replacements, so that filtering and
masking happen inside the database, with bound parameters, at no per-row cost in Python.
A field masked on every row is a literal; a field whose mask a second role lifts on its
own rows (``Decision.lifted``) costs one ``CASE WHEN <that role's scope> THEN col ELSE
'[masked]' END``. Search uses the same rule with ``NULL`` instead of the literal, so a
masked value never decides whether a row matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, false, literal, null, select, true

from access.decision import Decision
from access.errors import UnsupportedScope
from access.principal import Principal
from access.vocabulary import MASK, Scope
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
    if not decision.allowed:
        return false()
    return rows_in(decision.scope, decision.resource, principal, owner_column)


def rows_in(
    scope: Scope,
    resource: str,
    principal: Principal,
    owner_column: ColumnElement[Any] | None = None,
) -> ColumnElement[bool]:
    """The rows of ``resource`` that ``scope`` covers for ``principal``, as SQL."""
    if scope == "none":
        return false()
    if scope == "all":
        return true()
    team = principal.team_id if scope == "team" else None
    if owner_column is not None:
        return _owned(owner_column, principal.user_id, team)
    spec = CRM_RESOURCES.get(resource)
    if spec is None:
        raise UnsupportedScope(
            f"resource {resource!r} has no table here; pass owner_column to scope it by {scope}"
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
    raise UnsupportedScope(f"resource {resource!r} has no owner to scope by")


def _owned(column: Any, user_id: int, team_id: int | None) -> ColumnElement[bool]:
    if team_id is None:
        clause: ColumnElement[bool] = column == user_id
        return clause
    members: ColumnElement[bool] = column.in_(_team_members(team_id))
    return members


def _as_text(decision: Decision, field: str) -> ColumnElement[Any]:
    col: Any = CRM_RESOURCES[decision.resource].column(field)
    # CASE needs one type in both branches; masks are meant for text, others are cast.
    return col if isinstance(col.type, String) else cast(col, String())


def mask_columns(decision: Decision, principal: Principal) -> dict[str, ColumnElement[Any]]:
    """Field -> the SQL shown instead of its value (for ``select_records(replace=)``).

    A field masked on every row becomes the literal ``[masked]``; a field shown on the
    rows of a narrower scope becomes ``CASE WHEN <that scope> THEN col ELSE '[masked]'``.
    """
    out: dict[str, ColumnElement[Any]] = {}
    lifted = dict(decision.lifted)
    for field in decision.masked_fields:
        mask = literal(MASK, String())
        scope = lifted.get(field)
        if scope is None:
            out[field] = mask
        else:
            shown = rows_in(scope, decision.resource, principal)
            out[field] = case((shown, _as_text(decision, field)), else_=mask)
    return out


def search_columns(
    decision: Decision, principal: Principal
) -> dict[str, ColumnElement[Any] | None]:
    """Field -> what a text search may look at instead of it (``None``: not at all).

    A field masked on every row is left out of the search; a partly masked one is
    searched through ``CASE WHEN <shown> THEN col ELSE NULL END``, so rows where it is
    masked can never match on it. For ``select_records(search_in=)``.
    """
    spec = CRM_RESOURCES.get(decision.resource)
    if spec is None:
        return {}
    lifted = dict(decision.lifted)
    out: dict[str, ColumnElement[Any] | None] = {}
    for field in decision.masked_fields:
        if field not in spec.search_fields:
            continue
        scope = lifted.get(field)
        if scope is None:
            out[field] = None
        else:
            shown = rows_in(scope, decision.resource, principal)
            out[field] = case((shown, spec.column(field)), else_=null())
    return out


def masked_among(decision: Decision, fields: Iterable[str]) -> tuple[str, ...]:
    """Those of ``fields`` masked on some row: a filter or sort on them is refused.

    Refused even where the mask is lifted on some rows: a filter would otherwise tell
    apart masked rows that hold the value from those that do not.
    """
    masked = set(decision.masked_fields)
    return tuple(sorted({f for f in fields if f in masked}))


def mask_row(decision: Decision, row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` with every masked field replaced, for results built in Python.

    Conservative: it masks a field even on rows where a second role lifts the mask
    (Python cannot tell without the scope); guarded paths read through
    :func:`mask_columns` instead.
    """
    masked = set(decision.masked_fields)
    return {k: (MASK if k in masked else v) for k, v in row.items()}
