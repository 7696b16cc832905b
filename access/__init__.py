"""Who may do what: Casbin policies compiled into decisions, SQL row scopes, field
masks, export caps, restrictions, hot reload and explanations.

Public API only; everything else in this package is private.
"""

from access.control import AccessControl
from access.decision import Decision
from access.errors import (
    AccessError,
    PolicyError,
    RestrictionError,
    RestrictionNotFound,
    UnknownAction,
    UnknownResource,
    UnknownRestrictionKind,
    UnknownRole,
    UnsupportedScope,
)
from access.explain import Explanation
from access.principal import Principal
from access.restrictions import (
    Restriction,
    active_restrictions,
    add_restriction,
    lift_restriction,
    list_restrictions,
)
from access.schema import metadata
from access.vocabulary import (
    ACTIONS,
    AUDIT_RESOURCE,
    BULK_ACTIONS,
    DEFAULT_READ_BUDGET,
    DEPARTING,
    EXPORTS_FROZEN,
    MASK,
    READ_ACTIONS,
    READ_BUDGET_HOURS,
    RESOURCES,
    RESTRICTED_READ_BUDGET,
    RESTRICTION_KINDS,
    SUSPENDED,
    Scope,
)
from access.watch import PolicyReload, PolicyWatcher, policy_hash, watch_policies

__all__ = [
    "ACTIONS",
    "AUDIT_RESOURCE",
    "BULK_ACTIONS",
    "DEFAULT_READ_BUDGET",
    "DEPARTING",
    "EXPORTS_FROZEN",
    "MASK",
    "READ_ACTIONS",
    "READ_BUDGET_HOURS",
    "RESOURCES",
    "RESTRICTED_READ_BUDGET",
    "RESTRICTION_KINDS",
    "SUSPENDED",
    "AccessControl",
    "AccessError",
    "Decision",
    "Explanation",
    "PolicyError",
    "PolicyReload",
    "PolicyWatcher",
    "Principal",
    "Restriction",
    "RestrictionError",
    "RestrictionNotFound",
    "Scope",
    "UnknownAction",
    "UnknownResource",
    "UnknownRestrictionKind",
    "UnknownRole",
    "UnsupportedScope",
    "active_restrictions",
    "add_restriction",
    "lift_restriction",
    "list_restrictions",
    "metadata",
    "policy_hash",
    "watch_policies",
]
