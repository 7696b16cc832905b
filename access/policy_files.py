"""Reading and validating ``model.conf`` and ``policy.csv``.

Policies are data reviewed like code, so a mistake must stop the load with a message
naming file and line, never become a rule that silently matches nothing (or worse,
everything). Validation happens here, before casbin sees a single line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import casbin

from access.errors import PolicyError
from access.vocabulary import ACTIONS, EFFECTS, FIELDS, GRANT_SCOPES, RESOURCES, SCOPE_ORDER

MODEL_FILE = "model.conf"
POLICY_FILE = "policy.csv"

#: In a p rule, "*" as resource or action means every one (used for the owner).
ANY = "*"
#: In a g rule, "user:alice" names a username (given the role), anything else a role.
USER_PREFIX = "user:"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]+$")
_FIELD_COUNTS = {"p": (5,), "p2": (3,), "p3": (2, 3), "g": (2,)}
_SHAPES = {
    "p": "p, role, resource, action, scope, effect",
    "p2": "p2, role, resource, field",
    "p3": "p3, role, export_cap, read_budget (each rows|unlimited; read_budget optional)",
    "g": "g, role, parent_role  or  g, user:username, role",
}
#: The definitions the compiled lookup table relies on; model.conf must declare them.
_MODEL_TOKENS = {
    ("r", "r"): ["r_sub", "r_obj", "r_act"],
    ("p", "p"): ["p_sub", "p_obj", "p_act", "p_scope", "p_eft"],
    ("p", "p2"): ["p2_sub", "p2_obj", "p2_field"],
    ("p", "p3"): ["p3_sub", "p3_cap", "p3_budget"],
}
#: Homes initialised before read budgets declare ``p3 = sub, cap``; still accepted.
_LEGACY_TOKENS = {("p", "p3"): ["p3_sub", "p3_cap"]}


@dataclass(frozen=True)
class Rule:
    """One validated policy line, with where it came from (for explanations)."""

    ptype: str
    fields: tuple[str, ...]
    line: int

    @property
    def text(self) -> str:
        return ", ".join((self.ptype, *self.fields))


@dataclass(frozen=True)
class PolicySource:
    """Both files, read and validated; the input of the compiler."""

    model_path: Path
    policy_path: Path
    model_text: str
    rules: tuple[Rule, ...]

    def new_model(self) -> Any:
        """A fresh casbin Model of model.conf (casbin stores policy inside the model)."""
        return casbin.Enforcer.new_model(text=self.model_text)


def read_policy_dir(policy_dir: Path) -> PolicySource:
    """Read and validate ``model.conf`` and ``policy.csv`` from ``policy_dir``."""
    model_path = policy_dir / MODEL_FILE
    policy_path = policy_dir / POLICY_FILE
    model_text = read_model(model_path)
    rules = read_rules(policy_path)
    return PolicySource(model_path, policy_path, model_text, rules)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(path, f"cannot read: {exc}") from None


def read_model(path: Path) -> str:
    """Parse model.conf with casbin, check it declares what access relies on; its text."""
    text = _read_text(path)
    try:
        model = casbin.Enforcer.new_model(text=text)
    except Exception as exc:  # casbin raises bare RuntimeError/TypeError on bad syntax
        raise PolicyError(path, f"malformed model: {exc}") from None
    sections = set(model.keys())  # casbin's Model is not a Mapping
    for (sec, key), tokens in _MODEL_TOKENS.items():
        section = model[sec] if sec in sections else {}
        assertion = section.get(key)
        legacy = _LEGACY_TOKENS.get((sec, key))
        declared = None if assertion is None else list(assertion.tokens)
        if declared != tokens and (legacy is None or declared != legacy):
            want = ", ".join(t.split("_", 1)[1] for t in tokens)
            raise PolicyError(path, f"[{_SECTION[sec]}] must declare '{key} = {want}'")
    for sec in ("e", "m", "g"):
        if sec not in sections or not model[sec]:
            raise PolicyError(path, f"missing [{_SECTION[sec]}] section")
    return text


_SECTION = {
    "r": "request_definition",
    "p": "policy_definition",
    "g": "role_definition",
    "e": "policy_effect",
    "m": "matchers",
}


def read_rules(path: Path) -> tuple[Rule, ...]:
    """Parse policy.csv: one rule a line, ``#`` starts a comment line, blanks ignored."""
    text = _read_text(path)
    rules: list[Rule] = []
    caps: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            tokens = [t.strip() for t in next(csv.reader([line], skipinitialspace=True))]
        except csv.Error as exc:
            raise PolicyError(path, f"cannot parse line: {exc}", number) from None
        rule = Rule(tokens[0], tuple(tokens[1:]), number)
        _check_rule(path, rule)
        if rule.ptype == "p3":
            role = rule.fields[0]
            if role in caps:
                raise PolicyError(
                    path,
                    f"second export cap for role {role!r} (first on line {caps[role]})",
                    number,
                )
            caps[role] = number
        rules.append(rule)
    return tuple(rules)


def _check_rule(path: Path, rule: Rule) -> None:
    ptype, fields, line = rule.ptype, rule.fields, rule.line

    def fail(message: str) -> PolicyError:
        return PolicyError(path, message, line)

    if ptype not in _FIELD_COUNTS:
        known = ", ".join(sorted(_FIELD_COUNTS))
        raise fail(f"unknown rule type {ptype!r} (known: {known})")
    if len(fields) not in _FIELD_COUNTS[ptype]:
        counts = " or ".join(str(n) for n in _FIELD_COUNTS[ptype])
        raise fail(
            f"{ptype} rule needs {counts} fields, got {len(fields)} (expected '{_SHAPES[ptype]}')"
        )
    subjects = list(fields[:2] if ptype == "g" else fields[:1])
    if ptype == "g" and subjects[0].startswith(USER_PREFIX):
        subjects[0] = subjects[0].removeprefix(USER_PREFIX)
    for name in subjects:
        if not _NAME.match(name):
            raise fail(f"invalid role or user name {name!r} (letters, digits, _ . @ - only)")
    if ptype == "p3":
        _check_cap(fields[1], fail, "export cap")
        if len(fields) > 2:
            _check_cap(fields[2], fail, "read budget")
        return
    if ptype == "g":
        if fields[0] == fields[1]:
            raise fail(f"role {fields[0]!r} cannot inherit itself")
        return
    res = fields[1]
    if ptype == "p" and res == ANY and fields[2] == ANY and fields[4] == "deny":
        raise fail("a deny rule for every action on every resource: remove the role instead")
    if res not in RESOURCES and not (ptype == "p" and res == ANY):
        raise fail(f"unknown resource {res!r} (known: {', '.join(sorted(RESOURCES))})")
    if ptype == "p2":
        if fields[2] not in FIELDS[res]:
            known = ", ".join(sorted(FIELDS[res])) or "none"
            raise fail(f"resource {res!r} has no field {fields[2]!r} to mask (known: {known})")
        return
    action, scope, effect = fields[2], fields[3], fields[4]
    if action not in ACTIONS and action != ANY:
        raise fail(f"unknown action {action!r} (known: {', '.join(sorted(ACTIONS))})")
    if effect not in EFFECTS:
        raise fail(f"unknown effect {effect!r} (known: allow, deny)")
    if scope not in SCOPE_ORDER:
        raise fail(f"unknown scope {scope!r} (known: {', '.join(SCOPE_ORDER)})")
    if effect == "allow" and scope not in GRANT_SCOPES:
        raise fail(f"an allow rule needs scope own, team or all, not {scope!r}")


def _check_cap(value: str, fail: Callable[[str], PolicyError], what: str) -> None:
    if value == "unlimited":
        return
    try:
        cap = int(value)
    except ValueError:
        raise fail(f"{what} must be a whole number of rows or 'unlimited', not {value!r}") from None
    if cap < 0:
        raise fail(f"{what} must not be negative, got {cap}")


def parse_cap(value: str) -> int | None:
    """A validated cap or budget field as rows (``None`` = unlimited)."""
    return None if value == "unlimited" else int(value)
