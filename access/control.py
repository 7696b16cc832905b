"""AccessControl: the one object the shell asks "may this principal do this?".

It holds the compiled policy of the last good load. Reload builds a complete new
compiled policy and swaps it in with a single assignment, so a request sees either the
old policy or the new one, never a half-read file, and a malformed edit leaves the old
policy in force (fail closed: never fall back to "allow").
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import ColumnElement

from access import scopes
from access.compiler import CompiledPolicy, compile_policy
from access.decision import Decision
from access.effects import apply_restrictions, in_force
from access.errors import PolicyError, UnknownAction, UnknownResource, UnknownRole
from access.explain import Explanation, build_explanation
from access.policy_files import read_policy_dir
from access.principal import Principal
from access.restrictions import Restriction
from access.vocabulary import ACTIONS, RESOURCES

log = structlog.get_logger()

INACTIVE = "deny: user inactive"

#: Stands in for the principal where masks are applied on every row (no lift to compute).
_NOBODY = Principal(user_id=0, username="", team_id=None, roles=())


def _load(policy_dir: Path) -> CompiledPolicy:
    return compile_policy(read_policy_dir(policy_dir))


class AccessControl:
    """Decisions, SQL scopes, masks and explanations from one policy directory."""

    actions: frozenset[str] = ACTIONS
    resources: frozenset[str] = RESOURCES

    def __init__(self, policy_dir: Path, compiled: CompiledPolicy) -> None:
        self.policy_dir = policy_dir
        self._state = compiled
        self._reload_lock = threading.Lock()
        self.version = 1

    @classmethod
    def from_dir(cls, policy_dir: Path) -> AccessControl:
        """Load and validate ``model.conf`` and ``policy.csv``; raises :class:`PolicyError`."""
        policy_dir = Path(policy_dir)
        return cls(policy_dir, _load(policy_dir))

    @property
    def roles(self) -> frozenset[str]:
        """Every role the current policy mentions."""
        return self._state.roles

    @property
    def policy(self) -> CompiledPolicy:
        """The compiled policy in force (read-only use: explanations, admin views)."""
        return self._state

    def reload(self) -> None:
        """Re-read the files; on error raise :class:`PolicyError` and keep the old policy."""
        with self._reload_lock:
            try:
                compiled = _load(self.policy_dir)
            except PolicyError as exc:
                log.warning("access.policy_reload_failed", error=str(exc), version=self.version)
                raise
            self._state = compiled
            self.version += 1
            log.info("access.policy_reloaded", version=self.version, roles=len(compiled.roles))

    def roles_of(self, principal: Principal) -> frozenset[str]:
        """The principal's roles: database roles plus any ``g`` lines naming the username."""
        state = self._state
        for role in principal.roles:
            if role not in state.roles:
                raise UnknownRole(role, state.roles)
        extra = state.user_roles.get(principal.username)
        return frozenset(principal.roles) | extra if extra else frozenset(principal.roles)

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        restrictions: Sequence[Restriction] = (),
    ) -> Decision:
        """Decide once per request; the result applies to every row via SQL."""
        if action not in ACTIONS:
            raise UnknownAction(action, ACTIONS)
        if resource not in RESOURCES:
            raise UnknownResource(resource, RESOURCES)
        state = self._state
        roles = self.roles_of(principal)
        if not principal.active:
            return Decision(
                False,
                action,
                resource,
                INACTIVE,
                "none",
                (),
                None,
                reason="the user account is inactive",
            )
        decision = state.decide(roles, action, resource)
        if restrictions:
            decision = apply_restrictions(decision, in_force(principal, restrictions))
        return decision

    def scope_clause(
        self,
        decision: Decision,
        principal: Principal,
        owner_column: ColumnElement[Any] | None = None,
    ) -> ColumnElement[bool]:
        """SQL filter for the decision's scope (see :func:`access.scopes.scope_clause`)."""
        return scopes.scope_clause(decision, principal, owner_column)

    def mask_columns(
        self, decision: Decision, principal: Principal | None = None
    ) -> dict[str, ColumnElement[Any]]:
        """Masked field -> SQL, for ``crm_models.select_records(replace=...)``.

        With ``principal``, a mask a second role lifts is lifted on that role's rows
        (one ``CASE`` per field); without it every masked field is masked on every row.
        """
        if principal is None:
            return scopes.mask_columns(replace(decision, lifted=()), _NOBODY)
        return scopes.mask_columns(decision, principal)

    def search_columns(
        self, decision: Decision, principal: Principal
    ) -> dict[str, ColumnElement[Any] | None]:
        """What a text search may look at for each masked searchable field (see scopes)."""
        return scopes.search_columns(decision, principal)

    def masked_among(self, decision: Decision, fields: Iterable[str]) -> tuple[str, ...]:
        """Those of ``fields`` masked on some row (filters and sorts on them are refused)."""
        return scopes.masked_among(decision, fields)

    def mask_row(self, decision: Decision, row: Mapping[str, Any]) -> dict[str, Any]:
        """Python-side masking (every masked field, conservatively) for rows built in Python."""
        return scopes.mask_row(decision, row)

    def explain(
        self,
        principal: Principal,
        action: str,
        resource: str,
        record: Mapping[str, Any] | None = None,
        owner_team_id: int | None = None,
        restrictions: Sequence[Restriction] = (),
        *,
        in_scope: bool | None = None,
    ) -> Explanation:
        """Answer "why may (or may not) this user do this to this record?" line by line.

        ``in_scope``: whether ``record`` lies inside the decision's scope, as the database
        answered with :meth:`scope_clause` (the service asks; this room never guesses).
        """
        decision = self.decide(principal, action, resource, restrictions)
        return build_explanation(
            self._state,
            principal,
            decision,
            record=record,
            owner_team_id=owner_team_id,
            restrictions=restrictions,
            in_scope=in_scope,
        )
