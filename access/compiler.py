"""Compile validated policy rules into a lookup table.

Casbin is the reference evaluator: every (role, resource, action) is enforced once at
load time and must agree with the table, so the table can never grant what casbin's
matcher would refuse. Requests are then answered from dictionaries (microseconds),
with combined decisions for a set of roles cached on first use.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import casbin
from casbin.persist.adapter import Adapter

from access.decision import Decision, mask_plan
from access.errors import PolicyError
from access.policy_files import ANY, USER_PREFIX, PolicySource, Rule, parse_cap
from access.vocabulary import (
    ACTIONS,
    BULK_ACTIONS,
    DEFAULT_READ_BUDGET,
    READ_ACTIONS,
    RESOURCES,
    Scope,
    broader,
)

NO_RULE = "deny: no matching rule"

RoleKey = frozenset[str]


class _RulesAdapter(Adapter):  # type: ignore[misc]
    """Feeds casbin exactly the rules that passed validation."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self._rules = rules

    def load_policy(self, model: Any) -> None:
        for rule in self._rules:
            model.add_policy(rule.ptype[0], rule.ptype, list(rule.fields))


@dataclass
class CompiledPolicy:
    """The lookup tables of one policy version; replaced whole on reload, never edited."""

    source: PolicySource
    roles: frozenset[str]
    user_roles: dict[str, frozenset[str]]
    implied: dict[str, frozenset[str]]
    allows: dict[tuple[str, str, str], list[Rule]]
    denies: dict[tuple[str, str, str], Rule]
    masks: dict[tuple[str, str], frozenset[str]]
    caps: dict[str, int | None]
    budgets: dict[str, int | None]
    rule_lines: dict[str, int]
    _cache: dict[tuple[RoleKey, str, str], Decision] = field(default_factory=dict)

    def expand(self, roles: RoleKey) -> RoleKey:
        """The roles plus every role they inherit through ``g`` lines."""
        out: set[str] = set()
        for role in roles:
            out |= self.implied.get(role, frozenset({role}))
        return frozenset(out)

    def decide(self, roles: RoleKey, action: str, resource: str) -> Decision:
        """The decision for a set of (already known) roles, cached per policy version."""
        key = (roles, action, resource)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._combine(self.expand(roles), action, resource)
            self._cache[key] = hit
        return hit

    def _combine(self, roles: RoleKey, action: str, resource: str) -> Decision:
        ordered = sorted(roles)
        denies = [self.denies[k] for r in ordered if (k := (r, action, resource)) in self.denies]
        if denies:
            rule = min(denies, key=lambda d: d.line)
            return Decision(
                False,
                action,
                resource,
                rule.text,
                "none",
                (),
                None,
                reason=f"explicitly denied by policy line {rule.line}",
            )
        grants = [(r, g) for r in ordered for g in self.allows.get((r, action, resource), [])]
        if not grants:
            held = ", ".join(ordered) or "no roles"
            return Decision(
                False,
                action,
                resource,
                NO_RULE,
                "none",
                (),
                None,
                reason=f"no rule lets {held} {action} {resource}",
            )
        scope: Scope = "none"
        granted: dict[str, Scope] = {}
        for r, g in grants:
            scope = broader(scope, _scope(g))
            granted[r] = broader(granted.get(r, "none"), _scope(g))
        best = min((g for _, g in grants if _scope(g) == scope), key=lambda g: g.line)
        masked_fields, lifted = mask_plan(scope, self._visible_in(granted, resource))
        limit: int | None = None
        if action in BULK_ACTIONS:
            caps = [self.caps[r] for r in granted]
            limit = None if any(c is None for c in caps) else max(c for c in caps if c is not None)
        budget: int | None = None
        if action in READ_ACTIONS:
            budgets = [self.budgets.get(r, DEFAULT_READ_BUDGET) for r in granted]
            budget = None if None in budgets else max(b for b in budgets if b is not None)
        note = f"; masked: {', '.join(masked_fields)}" if masked_fields else ""
        if lifted:
            note += " (shown on " + ", ".join(f"{f}: {s} rows" for f, s in lifted) + ")"
        return Decision(
            True,
            action,
            resource,
            best.text,
            scope,
            masked_fields,
            limit,
            reason=f"allowed by policy line {best.line} with scope {scope}{note}",
            lifted=lifted,
            budget=budget,
        )

    def _visible_in(self, granted: dict[str, Scope], resource: str) -> dict[str, Scope]:
        """Each field some granting role masks -> the broadest scope of the roles that don't.

        That scope is where the value may be shown: a mask is lifted only on the rows a
        non-masking role grants, never on the rows only a masking role grants.
        """
        masks = {r: self.masks.get((r, resource), frozenset()) for r in granted}
        fields = set().union(*masks.values()) if masks else set()
        visible: dict[str, Scope] = {}
        for f in fields:
            shown: Scope = "none"
            for r, s in granted.items():
                if f not in masks[r]:
                    shown = broader(shown, s)
            visible[f] = shown
        return visible


def _scope(rule: Rule) -> Scope:
    value = rule.fields[3]
    assert value in ("own", "team", "all", "none")
    return value  # type: ignore[return-value]


def _keys(role: str, action: str, resource: str) -> list[tuple[str, str, str]]:
    actions = sorted(ACTIONS) if action == ANY else [action]
    resources = sorted(RESOURCES) if resource == ANY else [resource]
    return [(role, a, r) for a in actions for r in resources]


def _enforcer(source: PolicySource, rules: tuple[Rule, ...]) -> Any:
    try:
        return casbin.Enforcer(source.new_model(), _RulesAdapter(rules))
    except Exception as exc:  # casbin raises bare exceptions on a bad model
        raise PolicyError(source.model_path, f"casbin cannot load the model: {exc}") from None


def compile_policy(source: PolicySource) -> CompiledPolicy:
    """Build the lookup tables; casbin resolves role inheritance and vets the model."""
    compiled = _tables(source, source.rules, _enforcer(source, source.rules))
    _probe_model(source)
    return compiled


def _tables(source: PolicySource, rules: tuple[Rule, ...], enforcer: Any) -> CompiledPolicy:
    roles: set[str] = set()
    user_roles: dict[str, set[str]] = defaultdict(set)
    for rule in rules:
        first = rule.fields[0]
        if rule.ptype == "g" and first.startswith(USER_PREFIX):
            user_roles[first.removeprefix(USER_PREFIX)].add(rule.fields[1])
        else:
            roles.add(first)
        if rule.ptype == "g":
            roles.add(rule.fields[1])
    implied = {r: frozenset({r, *enforcer.get_implicit_roles_for_user(r)}) for r in roles}
    allows: dict[tuple[str, str, str], list[Rule]] = defaultdict(list)
    denies: dict[tuple[str, str, str], Rule] = {}
    masks: dict[tuple[str, str], set[str]] = defaultdict(set)
    caps: dict[str, int | None] = {}
    budgets: dict[str, int | None] = {}
    for rule in rules:
        f = rule.fields
        if rule.ptype == "p":
            for key in _keys(f[0], f[2], f[1]):
                if f[4] == "allow":
                    allows[key].append(rule)
                else:
                    denies.setdefault(key, rule)
        elif rule.ptype == "p2":
            masks[(f[0], f[1])].add(f[2])
        elif rule.ptype == "p3":
            caps[f[0]] = parse_cap(f[1])
            if len(f) > 2:
                budgets[f[0]] = parse_cap(f[2])
    for (role, action, _), granted in allows.items():
        if action in BULK_ACTIONS and role not in caps:
            raise PolicyError(
                source.policy_path,
                f"role {role!r} may {action} but has no export cap "
                f"(add 'p3, {role}, <export cap>, <read budget>', each rows or unlimited)",
                granted[0].line,
            )
    return CompiledPolicy(
        source=source,
        roles=frozenset(roles),
        user_roles={u: frozenset(r) for u, r in user_roles.items()},
        implied=implied,
        allows=dict(allows),
        denies=denies,
        masks={k: frozenset(v) for k, v in masks.items()},
        caps=caps,
        budgets=budgets,
        rule_lines={r.text: r.line for r in rules},
    )


#: A small policy exercising every feature the table relies on: allow, explicit deny,
#: inheritance and wildcards. model.conf must make casbin agree with the table on it.
_PROBE = tuple(
    Rule(t[0], tuple(t[1:]), 0)
    for t in (
        ("p", "r1", "contact", "view", "own", "allow"),
        ("p", "r1", "contact", "export", "own", "allow"),
        ("p", "r3", "contact", "export", "none", "deny"),
        ("p", "r3", "deal", "view", "team", "allow"),
        ("p", "r2", "*", "*", "all", "allow"),
        ("p", "r2", "deal", "delete", "none", "deny"),
        ("p3", "r1", "10", "100"),
        ("p3", "r2", "unlimited"),
        ("g", "r3", "r1"),
        ("g", "r4", "r2"),
    )
)


def _probe_model(source: PolicySource) -> None:
    """Check model.conf's matcher and effect mean what the table assumes.

    Cheap (a few dozen enforcements over ten rules), unlike enforcing the whole real
    policy, which :func:`verify_with_casbin` does on demand.
    """
    enforcer = _enforcer(source, _PROBE)
    table = _tables(source, _PROBE, enforcer)
    _compare(table, enforcer, ("contact", "deal", "user"), ("view", "export", "delete"))


def verify_with_casbin(compiled: CompiledPolicy) -> int:
    """Enforce every (role, resource, action) of the real policy with casbin and compare.

    Returns how many triples were checked; raises :class:`PolicyError` on a disagreement.
    Slow by design (casbin evaluates every rule per request); for tests and policy checks.
    """
    enforcer = _enforcer(compiled.source, compiled.source.rules)
    return _compare(compiled, enforcer, sorted(RESOURCES), sorted(ACTIONS))


def _compare(compiled: CompiledPolicy, enforcer: Any, resources: Any, actions: Any) -> int:
    checked = 0
    for role in sorted(compiled.roles):
        for resource in resources:
            for action in actions:
                try:
                    expected = bool(enforcer.enforce(role, resource, action))
                except Exception as exc:
                    raise PolicyError(
                        compiled.source.model_path, f"matcher cannot be evaluated: {exc}"
                    ) from None
                got = compiled.decide(frozenset({role}), action, resource).allowed
                checked += 1
                if got != expected:
                    raise PolicyError(
                        compiled.source.model_path,
                        f"the matcher or effect disagrees with access's reading of the policy "
                        f"for ({role}, {resource}, {action}): casbin says "
                        f"{'allow' if expected else 'deny'}; restore the shipped model.conf",
                    )
    return checked
