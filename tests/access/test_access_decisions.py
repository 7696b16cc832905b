"""Decisions of the shipped policy per role, multi-role union, caps, masks, denials."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_helpers import principal, write_policy

from access import (
    ACTIONS,
    RESOURCES,
    AccessControl,
    UnknownAction,
    UnknownResource,
    UnknownRole,
)
from access.compiler import verify_with_casbin

CLIENT = ("contact", "company", "deal", "activity", "task")

# (role, action, resource, allowed, scope, limit, masked)
TABLE = [
    ("owner", "view", "contact", True, "all", None, ()),
    ("owner", "export", "contact", True, "all", None, ()),
    ("owner", "audit.read", "audit", True, "all", None, ()),
    ("owner", "manage", "user", True, "all", None, ()),
    ("admin", "manage", "user", True, "all", None, ()),
    ("admin", "restrict", "user", True, "all", None, ()),
    ("admin", "view", "contact", False, "none", None, ()),
    ("admin", "export", "deal", False, "none", None, ()),
    ("admin", "audit.read", "audit", True, "own", None, ()),
    ("security", "audit.read", "audit", True, "all", None, ()),
    ("security", "restrict", "user", True, "all", None, ()),
    ("security", "manage", "user", False, "none", None, ()),
    ("security", "view", "contact", False, "none", None, ()),
    ("auditor", "audit.read", "audit", True, "all", None, ()),
    ("auditor", "export", "audit", True, "all", None, ()),
    ("auditor", "view", "deal", False, "none", None, ()),
    ("auditor", "manage", "user", False, "none", None, ()),
    ("head_of_sales", "view", "contact", True, "all", None, ()),
    ("head_of_sales", "export", "contact", True, "all", 5000, ()),
    ("head_of_sales", "reassign", "deal", True, "all", None, ()),
    ("head_of_sales", "audit.read", "audit", True, "own", None, ()),
    ("head_of_sales", "manage", "user", False, "none", None, ()),
    ("sales_manager", "view", "contact", True, "team", None, ()),
    ("sales_manager", "export", "deal", True, "team", 1000, ()),
    ("sales_manager", "print", "deal", True, "team", 1000, ()),
    ("sales_manager", "reassign", "contact", True, "team", None, ()),
    ("sales_manager", "audit.read", "audit", True, "own", None, ()),
    ("sales_rep", "view", "contact", True, "own", None, ()),
    ("sales_rep", "export", "contact", True, "own", 200, ()),
    ("sales_rep", "delete", "contact", False, "none", None, ()),
    ("sales_rep", "delete", "task", True, "own", None, ()),
    ("sales_rep", "reassign", "deal", False, "none", None, ()),
    ("sales_rep", "audit.read", "audit", True, "own", None, ()),
    ("sales_rep", "view", "user", True, "team", None, ()),
    ("support", "view", "contact", True, "all", None, ("email", "phone")),
    ("support", "search", "contact", True, "all", None, ("email", "phone")),
    ("support", "view", "company", True, "all", None, ()),
    ("support", "export", "contact", False, "none", None, ()),
    ("support", "print", "contact", False, "none", None, ()),
    ("support", "view", "deal", False, "none", None, ()),
    ("support", "update", "contact", False, "none", None, ()),
]


@pytest.mark.parametrize(
    ("role", "action", "resource", "allowed", "scope", "limit", "masked"), TABLE
)
def test_shipped_policy_per_role(
    shipped: AccessControl,
    role: str,
    action: str,
    resource: str,
    allowed: bool,
    scope: str,
    limit: int | None,
    masked: tuple[str, ...],
) -> None:
    d = shipped.decide(principal(role), action, resource)
    assert (d.allowed, d.scope, d.limit, d.masked_fields) == (allowed, scope, limit, masked)
    assert (d.action, d.resource) == (action, resource)
    if allowed:
        # the deciding line is in the file and names the role or a role it inherits
        assert d.rule in shipped.policy.rule_lines
        assert d.rule.split(", ")[1] in shipped.policy.expand(frozenset({role}))
    else:
        assert d.rule.startswith("deny") or d.rule.endswith(", deny")


def test_admin_never_reads_client_data(shipped: AccessControl) -> None:
    for res in CLIENT:
        for action in sorted(ACTIONS):
            assert not shipped.decide(principal("admin"), action, res).allowed, (action, res)


def test_only_auditor_security_owner_read_whole_ledger(shipped: AccessControl) -> None:
    whole = {
        r
        for r in shipped.roles
        if shipped.decide(principal(r), "audit.read", "audit").scope == "all"
    }
    assert whole == {"auditor", "security", "owner"}


def test_deny_by_default_for_unmentioned_combinations(policy_dir: Path) -> None:
    write_policy(policy_dir, "p, clerk, contact, view, own, allow\n")
    control = AccessControl.from_dir(policy_dir)
    d = control.decide(principal("clerk"), "update", "contact")
    assert not d.allowed and d.rule == "deny: no matching rule" and d.scope == "none"
    assert not control.decide(principal(), "view", "contact").allowed  # no roles at all


def test_unknown_action_resource_role_raise_with_known_names(shipped: AccessControl) -> None:
    with pytest.raises(UnknownAction, match=r"'exprot'.*known: audit\.read, create"):
        shipped.decide(principal("sales_rep"), "exprot", "contact")
    with pytest.raises(UnknownResource, match=r"'contacts'.*activity, audit"):
        shipped.decide(principal("sales_rep"), "view", "contacts")
    with pytest.raises(UnknownRole, match=r"'salesrep'.*admin, auditor") as info:
        shipped.decide(principal("salesrep"), "view", "contact")
    assert info.value.exit_code == 2


def test_inactive_principal_is_denied(shipped: AccessControl) -> None:
    d = shipped.decide(principal("owner", active=False), "view", "contact")
    assert not d.allowed and d.rule == "deny: user inactive" and d.scope == "none"


def test_multi_role_broadest_scope_largest_cap(shipped: AccessControl) -> None:
    d = shipped.decide(principal("sales_rep", "sales_manager"), "export", "contact")
    assert (d.allowed, d.scope, d.limit) == (True, "team", 1000)
    d = shipped.decide(principal("sales_rep", "owner"), "export", "contact")
    assert (d.scope, d.limit) == ("all", None)


def test_explicit_deny_beats_allow_of_another_role(shipped: AccessControl) -> None:
    d = shipped.decide(principal("support", "head_of_sales"), "export", "contact")
    assert not d.allowed
    assert d.rule == "p, support, contact, export, none, deny"
    # ...but a deny on export does not spill over to other actions
    assert shipped.decide(principal("support", "head_of_sales"), "export", "deal").allowed


def test_masks_are_lifted_only_on_rows_of_non_masking_roles(policy_dir: Path) -> None:
    write_policy(
        policy_dir,
        "\n".join(
            [
                "p, a, contact, view, all, allow",
                "p, b, contact, view, own, allow",
                "p, c, contact, update, own, allow",
                "p2, a, contact, phone",
                "p2, a, contact, email",
                "p2, b, contact, phone",
                "p2, c, contact, phone",
            ]
        )
        + "\n",
    )
    control = AccessControl.from_dir(policy_dir)
    assert control.decide(principal("a"), "view", "contact").masked_fields == ("email", "phone")
    both = control.decide(principal("a", "b"), "view", "contact")
    # b does not mask email, but b grants only own rows: email is shown there, nowhere else
    assert (both.scope, both.masked_fields) == ("all", ("email", "phone"))
    assert both.lifted == (("email", "own"),)
    assert both.visible_in() == {"email": "own", "phone": "none"}
    # c grants nothing for view, so its masks do not widen or narrow the view decision
    assert control.decide(principal("a", "c"), "view", "contact").masked_fields == (
        "email",
        "phone",
    )


def test_support_plus_sales_rep_unmasks_only_own_rows(shipped: AccessControl) -> None:
    # sales_rep grants view without masks, but only on own rows: support's masks hold
    # on every other row (this decision used to unmask every phone in the base)
    for action in ("view", "list", "search"):
        d = shipped.decide(principal("support", "sales_rep"), action, "contact")
        assert (d.scope, d.masked_fields) == ("all", ("email", "phone"))
        assert d.lifted == (("email", "own"), ("phone", "own"))
    # a broader non-masking grant lifts the mask everywhere
    d = shipped.decide(principal("support", "head_of_sales"), "view", "contact")
    assert (d.masked_fields, d.lifted) == ((), ())


def test_lift_on_team_rows(policy_dir: Path) -> None:
    write_policy(
        policy_dir,
        "p, s, contact, view, all, allow\np, m, contact, view, team, allow\n"
        "p, r, contact, view, own, allow\np2, s, contact, phone\np2, m, contact, phone\n",
    )
    control = AccessControl.from_dir(policy_dir)
    d = control.decide(principal("s", "m", "r"), "view", "contact")
    assert (d.masked_fields, d.lifted) == (("phone",), (("phone", "own"),))
    d = control.decide(principal("m", "r"), "view", "contact")
    assert (d.scope, d.masked_fields, d.lifted) == ("team", ("phone",), (("phone", "own"),))
    d = control.decide(principal("s", "r"), "view", "contact")
    assert (d.masked_fields, d.lifted) == (("phone",), (("phone", "own"),))


def test_inheritance_and_username_roles(policy_dir: Path) -> None:
    write_policy(
        policy_dir,
        "\n".join(
            [
                "p, reader, deal, view, own, allow",
                "p, boss, deal, view, all, allow",
                "p, boss, deal, export, all, allow",
                "p3, boss, 7",
                "g, chief, boss",
                "g, user:zed, reader",
            ]
        )
        + "\n",
    )
    control = AccessControl.from_dir(policy_dir)
    assert "chief" in control.roles and "zed" not in control.roles
    d = control.decide(principal("chief"), "export", "deal")
    assert (d.allowed, d.scope, d.limit) == (True, "all", 7)
    zed = principal(username="zed")
    assert control.decide(zed, "view", "deal").scope == "own"
    assert not control.decide(principal(username="amy"), "view", "deal").allowed


def test_cap_applies_only_to_bulk_actions(shipped: AccessControl) -> None:
    assert shipped.decide(principal("sales_rep"), "list", "contact").limit is None
    assert shipped.decide(principal("sales_rep"), "print", "contact").limit == 200


def test_read_budget_applies_to_list_and_search(shipped: AccessControl) -> None:
    rep = principal("sales_rep")
    assert shipped.decide(rep, "list", "contact").budget == 1000
    assert shipped.decide(rep, "search", "deal").budget == 1000
    assert shipped.decide(rep, "view", "contact").budget is None
    assert shipped.decide(rep, "export", "contact").budget is None
    assert shipped.decide(principal("support"), "search", "contact").budget == 2000
    assert shipped.decide(principal("head_of_sales"), "list", "contact").budget == 5000
    assert shipped.decide(principal("owner"), "list", "contact").budget is None
    # several roles: the largest budget of the granting roles
    assert shipped.decide(principal("support", "sales_rep"), "list", "contact").budget == 2000


def test_read_budget_default_and_legacy_cap_line(policy_dir: Path) -> None:
    from access.vocabulary import DEFAULT_READ_BUDGET

    write_policy(
        policy_dir,
        "p, a, contact, list, all, allow\np, b, deal, list, all, allow\n"
        "p, b, deal, export, all, allow\np3, b, 10\n"
        "p, c, task, search, own, allow\np3, c, 0, unlimited\n",
    )
    control = AccessControl.from_dir(policy_dir)
    assert control.decide(principal("a"), "list", "contact").budget == DEFAULT_READ_BUDGET
    assert control.decide(principal("b"), "list", "deal").budget == DEFAULT_READ_BUDGET
    assert control.decide(principal("b"), "export", "deal").limit == 10
    assert control.decide(principal("c"), "search", "task").budget is None


def test_to_json_shape(shipped: AccessControl) -> None:
    d = shipped.decide(principal("support"), "view", "contact")
    assert d.to_json() == {
        "allowed": True,
        "rule": "p, support, contact, view, all, allow",
        "scope": "all",
        "masked_fields": ["email", "phone"],
        "unmasked_on": {},
        "limit": None,
        "read_budget": None,
        "reason": d.reason,
    }
    assert "line" in d.reason


def test_vocabulary_exposed(shipped: AccessControl) -> None:
    assert {"view", "export", "print", "reassign", "audit.read", "manage"} <= shipped.actions
    assert shipped.resources == RESOURCES
    assert {
        "owner",
        "admin",
        "security",
        "auditor",
        "head_of_sales",
        "sales_manager",
        "sales_rep",
        "support",
    } == shipped.roles


def test_table_agrees_with_casbin_on_shipped_policy(shipped: AccessControl) -> None:
    # every (role, resource, action) enforced by casbin itself
    assert verify_with_casbin(shipped.policy) == len(shipped.roles) * len(RESOURCES) * len(ACTIONS)


def test_decide_is_cached_per_role_set(shipped: AccessControl) -> None:
    p = principal("sales_rep", "support")
    assert shipped.decide(p, "view", "contact") is shipped.decide(p, "view", "contact")
