"""What active restrictions do to a decision.

Applied after the cached policy decision, so a restriction placed a second ago takes
effect on the very next request without touching the policy cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from access.decision import Decision, mask_plan
from access.principal import Principal
from access.restrictions import Restriction
from access.vocabulary import (
    BULK_ACTIONS,
    DEPARTING,
    EXPORTS_FROZEN,
    READ_ACTIONS,
    RESTRICTED_READ_BUDGET,
    SUSPENDED,
)


def in_force(
    principal: Principal, restrictions: Sequence[Restriction], now: datetime | None = None
) -> tuple[Restriction, ...]:
    """The restrictions that apply: this user's, neither lifted nor expired.

    Callers normally pass :func:`access.active_restrictions`; filtering again here means
    a stale list (an expiry passed since it was read) can never over-restrict or, worse,
    someone else's row can never shape this user's decision.
    """
    at = now or datetime.now(UTC)
    return tuple(r for r in restrictions if r.username == principal.username and r.active_at(at))


def apply_restrictions(decision: Decision, active: Sequence[Restriction]) -> Decision:
    """Suspended denies all; exports_frozen and departing deny export/print and shrink the
    list/search read budget to :data:`RESTRICTED_READ_BUDGET` (paging must not hand out
    what an export would); departing also narrows team/all scope to own (the
    departing-employee flow)."""
    kinds = {r.kind for r in active}
    if not kinds:
        return decision
    if SUSPENDED in kinds:
        return _deny(decision, SUSPENDED, "the user is suspended", active)
    if decision.action in BULK_ACTIONS:
        for kind, why in ((EXPORTS_FROZEN, "exports are frozen"), (DEPARTING, "user is departing")):
            if kind in kinds:
                return _deny(decision, kind, f"{why}: no {decision.action}", active)
    if not decision.allowed:
        return decision
    if DEPARTING in kinds and decision.scope in ("team", "all"):
        masked, lifted = mask_plan("own", decision.visible_in())
        decision = replace(
            decision,
            scope="own",
            masked_fields=masked,
            lifted=lifted,
            restrictions=(DEPARTING,),
            reason=f"{decision.reason}; scope narrowed to own: user is departing",
        )
    small = sorted(kinds & {EXPORTS_FROZEN, DEPARTING})
    if decision.action in READ_ACTIONS and small:
        budget = decision.budget
        if budget is None or budget > RESTRICTED_READ_BUDGET:
            decision = replace(
                decision,
                budget=RESTRICTED_READ_BUDGET,
                restrictions=tuple(sorted({*decision.restrictions, *small})),
                reason=f"{decision.reason}; read budget {RESTRICTED_READ_BUDGET} rows "
                f"per 24 h: {' and '.join(k.replace('_', ' ') for k in small)}",
            )
    return decision


def _deny(decision: Decision, kind: str, why: str, active: Sequence[Restriction]) -> Decision:
    ids = ", ".join(str(r.id) for r in active if r.kind == kind)
    return Decision(
        allowed=False,
        action=decision.action,
        resource=decision.resource,
        rule=f"restriction: {kind}",
        scope="none",
        masked_fields=(),
        limit=None,
        restrictions=(kind,),
        reason=f"{why} (restriction {ids})",
    )
