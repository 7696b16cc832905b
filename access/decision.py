"""The answer to "may this principal do this action on this resource?".

A decision is made once per request and then applied to every row by SQL (scope and
masks), so it carries everything a caller needs and nothing row-specific. It is frozen
and hashable: the service caches prepared statements keyed by it.

Masks with several roles: a field masked by one granting role and not by another is
shown only on the rows the non-masking role grants (``lifted``), never on the rows only
the masking role grants. :mod:`access.scopes` turns that into one SQL ``CASE`` per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from access.vocabulary import SCOPE_ORDER, Scope


@dataclass(frozen=True)
class Decision:
    """Allowed?, by which rule, over which rows, with which fields masked and which cap.

    ``rule`` is the policy line that decided (``"p, sales_rep, contact, view, own, allow"``)
    or a synthetic reason (``"deny: no matching rule"``, ``"restriction: exports_frozen"``)
    so that every "no" can be traced to its cause.

    ``masked_fields`` are the fields masked on at least some of the rows in scope;
    ``lifted`` names, for those of them a non-masking role grants, the (narrower) scope
    on which the real value is shown. A masked field absent from ``lifted`` is masked on
    every row. ``budget`` is the rolling 24-hour read budget (rows) for ``list`` and
    ``search``; ``None`` is unlimited, and it is ``None`` for every other action.
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
    lifted: tuple[tuple[str, Scope], ...] = ()
    budget: int | None = None

    def visible_in(self) -> dict[str, Scope]:
        """Masked field -> the scope on which its value is shown ("none": nowhere)."""
        lifted = dict(self.lifted)
        return {f: lifted.get(f, "none") for f in self.masked_fields}

    def to_json(self) -> dict[str, Any]:
        """The stable machine-readable form the CLI, HTTP API and ledger store."""
        return {
            "allowed": self.allowed,
            "rule": self.rule,
            "scope": self.scope,
            "masked_fields": list(self.masked_fields),
            "unmasked_on": {f: s for f, s in self.lifted},
            "limit": self.limit,
            "read_budget": self.budget,
            "reason": self.reason,
        }


def mask_plan(
    scope: Scope, visible_in: Mapping[str, Scope]
) -> tuple[tuple[str, ...], tuple[tuple[str, Scope], ...]]:
    """``(masked_fields, lifted)`` for rows in ``scope``, given where each field is shown.

    A field shown on a scope at least as broad as ``scope`` is not masked at all (every
    row in scope shows it); one shown nowhere is masked on every row; the rest are masked
    except on their narrower scope. Scopes nest (own within team within all), so the
    broadest non-masking grant is the whole set of rows where the value may be shown.
    """
    rank = SCOPE_ORDER.index
    masked: list[str] = []
    lifted: list[tuple[str, Scope]] = []
    for field in sorted(visible_in):
        shown = visible_in[field]
        if rank(shown) >= rank(scope):
            continue
        masked.append(field)
        if shown != "none":
            lifted.append((field, shown))
    return tuple(masked), tuple(lifted)
