"""Rows for the work done on the client base: deals, activities and tasks.

Each generator takes the rows already made (contacts, companies, deals) so that every
reference points at a real record and ownership stays consistent: a contact's deals,
calls and to-dos mostly belong to the contact's owner, with a minority handled by a
colleague, as on a real sales floor. That consistency is what makes "what did the
departing manager touch?" a question with a meaningful answer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from crm_models import ACTIVITY_KINDS, DEAL_STAGES
from crmguard.seed.places import CURRENCIES, CURRENCY_SCALE, DEFAULT_CURRENCY
from crmguard.seed.texts import (
    ACTIVITY_SUMMARIES,
    AMOUNTS,
    COMPETITORS,
    DEAL_TITLES,
    MONTHS,
    PRODUCTS,
    SUPPORT_TASK_TITLES,
    TASK_TITLES,
)

Row = dict[str, Any]

_DAY = 86400
#: How often a deal sits in each stage (aligned with crm_models.DEAL_STAGES).
_STAGE_WEIGHTS = {"lead": 25, "qualified": 20, "proposal": 18, "negotiation": 12, "won": 15,
                  "lost": 10}  # fmt: skip
_KIND_WEIGHTS = {"call": 35, "meeting": 15, "email": 35, "note": 15}
_RELATED_KINDS = ("contact", "deal", "company")
_RELATED_WEIGHTS = (50, 35, 15)
#: Share of records handled by someone other than the contact's owner.
_OTHER_OWNER_SHARE = 0.1
_SUPPORT_TASK_SHARE = 0.05


def _owner(rng: random.Random, usual: int | None, seller_ids: Sequence[int]) -> int | None:
    return rng.choice(seller_ids) if rng.random() < _OTHER_OWNER_SHARE else usual


def _fill(rng: random.Random, template: str, first: str, company: str) -> str:
    return template.format(
        first=first,
        company=company,
        product=rng.choice(PRODUCTS),
        competitor=rng.choice(COMPETITORS),
        month=rng.choice(MONTHS),
        amount=rng.choice(AMOUNTS),
    )


def deal_rows(
    rng: random.Random,
    contacts: Sequence[Row],
    company_names: dict[int, str],
    seller_ids: Sequence[int],
    now: datetime,
    *,
    per_contact: float = 0.4,
) -> list[Row]:
    """About ``per_contact`` deals per contact, in the contact's currency, mostly
    owned by the contact's owner."""
    stages = list(DEAL_STAGES)
    weights = [_STAGE_WEIGHTS.get(s, 10) for s in stages]
    n = round(per_contact * len(contacts))
    picked = rng.choices(contacts, k=n)
    picked_stages = rng.choices(stages, weights=weights, k=n)
    rows: list[Row] = []
    for i, (contact, stage) in enumerate(zip(picked, picked_stages, strict=True), start=1):
        currency = CURRENCIES.get(contact["country"], DEFAULT_CURRENCY)
        euros = rng.lognormvariate(9.6, 0.9) * CURRENCY_SCALE.get(currency, 1.0)
        company = company_names.get(contact["company_id"] or 0, "")
        age = rng.randrange(365 * _DAY)
        rows.append(
            {
                "id": i,
                "title": rng.choice(DEAL_TITLES).format(
                    product=rng.choice(PRODUCTS), company=company or contact["last_name"]
                ),
                "amount": Decimal(max(100, round(euros, -2))).quantize(Decimal("0.01")),
                "currency": currency,
                "stage": stage,
                "owner_id": _owner(rng, contact["owner_id"], seller_ids),
                "company_id": contact["company_id"],
                "contact_id": contact["id"],
                "created_at": now - timedelta(seconds=age),
                "updated_at": now - timedelta(seconds=rng.randrange(age + 1)),
            }
        )
    return rows


def activity_rows(
    rng: random.Random,
    contacts: Sequence[Row],
    deals: Sequence[Row],
    company_names: dict[int, str],
    seller_ids: Sequence[int],
    now: datetime,
    *,
    per_contact: float = 2.0,
    days: int = 90,
) -> list[Row]:
    """About ``per_contact`` calls, meetings, e-mails and notes per contact over the
    last ``days`` days; more than half of those on a contact with deals name a deal."""
    deals_of: dict[int, list[int]] = {}
    for deal in deals:
        deals_of.setdefault(deal["contact_id"], []).append(deal["id"])
    kinds = list(ACTIVITY_KINDS)
    n = round(per_contact * len(contacts))
    picked = rng.choices(contacts, k=n)
    picked_kinds = rng.choices(kinds, weights=[_KIND_WEIGHTS.get(k, 10) for k in kinds], k=n)
    rows: list[Row] = []
    for i, (contact, kind) in enumerate(zip(picked, picked_kinds, strict=True), start=1):
        occurred = now - timedelta(seconds=rng.randrange(days * _DAY))
        contact_deals = deals_of.get(contact["id"])
        company = company_names.get(contact["company_id"] or 0, "the client")
        rows.append(
            {
                "id": i,
                "kind": kind,
                "owner_id": _owner(rng, contact["owner_id"], seller_ids),
                "occurred_at": occurred,
                "contact_id": contact["id"],
                "deal_id": rng.choice(contact_deals)
                if contact_deals and rng.random() < 0.6
                else None,
                "summary": _fill(
                    rng, rng.choice(ACTIVITY_SUMMARIES[kind]), contact["first_name"], company
                ),
                "created_at": occurred,
                "updated_at": occurred,
            }
        )
    return rows


def task_rows(
    rng: random.Random,
    contacts: Sequence[Row],
    deals: Sequence[Row],
    companies: Sequence[Row],
    seller_ids: Sequence[int],
    support_ids: Sequence[int],
    now: datetime,
    *,
    per_contact: float = 0.3,
) -> list[Row]:
    """About ``per_contact`` to-dos per contact, about a contact, deal or company and
    assigned to its owner; a few support tickets go to the support team. Past-due
    tasks are mostly done; future ones mostly open."""
    n = round(per_contact * len(contacts))
    kinds = rng.choices(_RELATED_KINDS, weights=_RELATED_WEIGHTS, k=n)
    rows: list[Row] = []
    for i, kind in enumerate(kinds, start=1):
        if kind == "deal" and deals:
            record = rng.choice(deals)
            title = rng.choice(TASK_TITLES["deal"])
        elif kind == "company" and companies:
            record = rng.choice(companies)
            title = rng.choice(TASK_TITLES["company"])
        else:
            kind, record = "contact", rng.choice(contacts)
            title = rng.choice(TASK_TITLES["contact"]).format(first=record["first_name"])
        assignee = _owner(rng, record["owner_id"], seller_ids)
        if kind == "contact" and support_ids and rng.random() < _SUPPORT_TASK_SHARE:
            assignee = rng.choice(support_ids)
            title = rng.choice(SUPPORT_TASK_TITLES).format(first=record["first_name"])
        due = now + timedelta(seconds=rng.randrange(-45 * _DAY, 30 * _DAY))
        draw = rng.random()
        if due < now:
            status = "done" if draw < 0.7 else ("cancelled" if draw < 0.8 else "open")
        else:
            status = "open" if draw < 0.9 else "done"
        created = min(now, due - timedelta(seconds=rng.randrange(2 * _DAY, 30 * _DAY)))
        rows.append(
            {
                "id": i,
                "title": title,
                "assignee_id": assignee,
                "due_at": due,
                "status": status,
                "related_type": kind,
                "related_id": record["id"],
                "created_at": created,
                "updated_at": created if status == "open" else min(now, max(created, due)),
            }
        )
    return rows
