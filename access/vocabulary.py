"""The words policies may use: actions, resources, scopes, effects, restriction kinds.

Kept in code, not in the policy files, so that a typo in a policy ("exprot") is an
error at load time instead of a rule that silently never matches.
"""

from __future__ import annotations

from typing import Literal

from crm_models import RESOURCES as CRM_RESOURCES

Scope = Literal["own", "team", "all", "none"]

#: What a person can do. ``print`` is document/report generation (data leaves on paper
#: or PDF, so it is treated like export); ``manage`` covers admin operations on users,
#: roles and policies; ``restrict`` applies or lifts restrictions (suspend, freeze).
ACTIONS: frozenset[str] = frozenset(
    {
        "view",
        "list",
        "search",
        "create",
        "update",
        "delete",
        "export",
        "print",
        "reassign",
        "audit.read",
        "manage",
        "restrict",
    }
)

#: Actions through which rows leave the CRM in bulk; the export row cap applies to them.
BULK_ACTIONS: frozenset[str] = frozenset({"export", "print"})

#: Actions whose returned rows count against the rolling 24-hour read budget: paging
#: through a list hands out the same rows an export would.
READ_ACTIONS: frozenset[str] = frozenset({"list", "search"})

#: Read budget (rows per rolling 24 hours) of a role whose p3 line names none, or that
#: has no p3 line: generous for a day's work, far from a whole client base.
DEFAULT_READ_BUDGET = 1000

#: Read budget of a user whose exports are frozen or who is departing, whatever the
#: roles say: enough to keep working on a handful of clients, not to page out the base.
RESTRICTED_READ_BUDGET = 200

#: The read-budget window.
READ_BUDGET_HOURS = 24

#: The audit ledger is a resource too, so reading it is a decision like any other.
AUDIT_RESOURCE = "audit"

RESOURCES: frozenset[str] = frozenset({*CRM_RESOURCES, AUDIT_RESOURCE})

#: Fields of each resource, for validating masks. The ledger has no maskable fields here.
FIELDS: dict[str, frozenset[str]] = {
    **{name: frozenset(spec.fields) for name, spec in CRM_RESOURCES.items()},
    AUDIT_RESOURCE: frozenset(),
}

#: Scopes a granting rule may name, narrowest first; "none" is for deny rules.
SCOPE_ORDER: tuple[Scope, ...] = ("none", "own", "team", "all")
GRANT_SCOPES: frozenset[str] = frozenset({"own", "team", "all"})
EFFECTS: frozenset[str] = frozenset({"allow", "deny"})

#: The literal shown instead of a masked value, in SQL and in Python.
MASK = "[masked]"

SUSPENDED = "suspended"
EXPORTS_FROZEN = "exports_frozen"
DEPARTING = "departing"
RESTRICTION_KINDS: frozenset[str] = frozenset({SUSPENDED, EXPORTS_FROZEN, DEPARTING})


def broader(a: Scope, b: Scope) -> Scope:
    """The broader of two scopes (all > team > own > none)."""
    return a if SCOPE_ORDER.index(a) >= SCOPE_ORDER.index(b) else b
