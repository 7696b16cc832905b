"""Explanations: "why can this user see this record?" in lines a person can follow.

Built from the same compiled policy and decision the request path uses, so the
explanation can never disagree with what the user actually gets. Whether a record lies
inside the scope is not judged here: the caller asks the database with the same SQL scope
clause every read uses (one rule, never a second copy in Python) and passes the answer in.
Lines name user ids, record ids and policy lines, never the record's contents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from access.compiler import CompiledPolicy
from access.decision import Decision
from access.principal import Principal
from access.restrictions import Restriction
from access.vocabulary import BULK_ACTIONS, READ_ACTIONS
from crm_models import RESOURCES as CRM_RESOURCES


@dataclass(frozen=True)
class Explanation:
    """The decision, whether the given record falls inside its scope, and the reasons."""

    allowed: bool
    decision: Decision
    record_in_scope: bool | None
    lines: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "decision": self.decision.to_json(),
            "record_in_scope": self.record_in_scope,
            "lines": list(self.lines),
        }

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _roles_lines(policy: CompiledPolicy, principal: Principal) -> list[str]:
    lines = [f"roles from the database: {', '.join(principal.roles) or 'none'}"]
    from_policy = policy.user_roles.get(principal.username, frozenset())
    if from_policy:
        lines.append(
            f"roles given to this username in policy.csv: {', '.join(sorted(from_policy))}"
        )
    direct = frozenset(principal.roles) | from_policy
    inherited = policy.expand(direct) - direct
    if inherited:
        lines.append(f"inherited through g lines: {', '.join(sorted(inherited))}")
    return lines


def _scope_line(decision: Decision, principal: Principal) -> str:
    spec = CRM_RESOURCES.get(decision.resource)
    owner = spec.owner_field if spec is not None and spec.owner_field else "owner"
    if decision.scope == "all":
        return f"scope all: every {decision.resource} record"
    if decision.scope == "team" and principal.team_id is not None:
        return f"scope team: records whose {owner} is a member of team {principal.team_id}"
    if decision.scope in ("team", "own"):
        extra = " (no team, so team scope means own)" if decision.scope == "team" else ""
        return f"scope own: records whose {owner} is user {principal.user_id}{extra}"
    return "scope none: no records"


def _restriction_lines(principal: Principal, restrictions: Sequence[Restriction]) -> list[str]:
    now = datetime.now(UTC)
    lines = []
    for r in restrictions:
        if r.username != principal.username:
            continue
        until = f" until {r.expires_at.isoformat()}" if r.expires_at else " (no expiry)"
        if r.active_at(now):
            state = f"in force{until}"
        elif r.lifted_at is not None:
            state = f"lifted by {r.lifted_by} at {r.lifted_at.isoformat()}: no effect"
        else:
            state = "expired: no effect"
        lines.append(f"restriction {r.id} {r.kind} placed by {r.created_by}: {state}")
    return lines


def build_explanation(
    policy: CompiledPolicy,
    principal: Principal,
    decision: Decision,
    *,
    record: Mapping[str, Any] | None,
    owner_team_id: int | None,
    restrictions: Sequence[Restriction],
    in_scope: bool | None = None,
) -> Explanation:
    """Assemble the explanation lines for ``decision``.

    ``in_scope`` is the database's answer for ``record`` (None: not asked).
    """
    team = principal.team_id if principal.team_id is not None else "none"
    status = "" if principal.active else ", inactive"
    lines = [f"user {principal.username} (id {principal.user_id}, team {team}{status})"]
    lines += _roles_lines(policy, principal)
    line_no = policy.rule_lines.get(decision.rule)
    where = f" ({policy.source.policy_path.name} line {line_no})" if line_no else ""
    lines.append(f"rule: {decision.rule}{where}")
    if decision.reason:
        lines.append(f"because: {decision.reason}")
    lines += _restriction_lines(principal, restrictions)
    subject = decision.resource
    if decision.allowed:
        lines.append(_scope_line(decision, principal))
        if decision.masked_fields:
            lines.append(f"masked fields: {', '.join(decision.masked_fields)}")
        for field, shown in decision.lifted:
            lines.append(f"{field} shown only on the {shown}-scope rows of a role not masking it")
        if decision.action in READ_ACTIONS:
            budget = "unlimited" if decision.budget is None else f"{decision.budget} rows"
            lines.append(f"read budget: {budget} per 24 h")
        if decision.action in BULK_ACTIONS:
            cap = "unlimited" if decision.limit is None else f"{decision.limit} rows"
            lines.append(f"row cap: {cap}")
    if record is not None:
        subject = f"{decision.resource} {record.get('id', '?')}"
        if not decision.allowed:
            in_scope = False
        lines.append(_record_line(decision, subject, record, owner_team_id, in_scope))
    allowed = decision.allowed and in_scope is not False
    verdict = "yes" if allowed else "no"
    lines.append(
        f"{verdict}: {principal.username} may{'' if allowed else ' not'} "
        f"{decision.action} {subject}"
    )
    return Explanation(allowed, decision, in_scope, tuple(lines))


def _record_line(
    decision: Decision,
    subject: str,
    record: Mapping[str, Any],
    owner_team_id: int | None,
    in_scope: bool | None,
) -> str:
    spec = CRM_RESOURCES.get(decision.resource)
    about = ""
    if spec is not None and spec.owner_field is not None:
        owner = record.get(spec.owner_field)
        team = owner_team_id if owner_team_id is not None else "none"
        about = f" is owned by user {owner} (team {team})"
    if in_scope is None:
        return f"{subject}{about}: scope not checked against the database"
    return f"{subject}{about}: {'inside' if in_scope else 'outside'} the {decision.scope} scope"
