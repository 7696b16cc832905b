"""The answer to "may this principal do this action on this resource?".

A decision is made once per request and then applied to every row by SQL (scope and
masks), so it carries everything a caller needs and nothing row-specific.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from access.vocabulary import Scope


@dataclass(frozen=True)
class Decision:
    """Allowed?, by which rule, over which rows, with which fields masked and which cap.

    ``rule`` is the policy line that decided (``"p, sales_rep, contact, view, own, allow"``)
    or a synthetic reason (``"deny: no matching rule"``, ``"restriction: exports_frozen"``)
    so that every "no" can be traced to its cause.
    """

    allowed: bool
    action: str
    resource: str
    rule: str
    scope: Scope
    masked_fields: tuple[str, ...]
    limit: int | None
    restrictions: tuple[str, ...] = ()
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """The stable machine-readable form the CLI, HTTP API and ledger store."""
        return {
            "allowed": self.allowed,
            "rule": self.rule,
            "scope": self.scope,
            "masked_fields": list(self.masked_fields),
            "limit": self.limit,
            "reason": self.reason,
        }
