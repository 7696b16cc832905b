"""Related records in a view: no crash, and "who viewed company 12" finds them."""

from __future__ import annotations

from sqlalchemy import select

import crm_models
from audit import AuditEvent
from crmguard.service import operator_context
from tests.crmguard.world import World


def _contact_with_visible_company(world: World, username: str) -> tuple[int, int]:
    """A contact of ``username`` whose company ``username`` may also see."""
    ctx = world.ctx(username)
    companies = {r["id"] for r in world.crm.list(ctx, "company", page_size=500).items}
    contacts = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        rows = conn.execute(
            select(contacts.c.id, contacts.c.company_id).where(
                contacts.c.owner_id == world.crm.principal(username).user_id
            )
        ).all()
    return next((int(c), int(co)) for c, co in rows if co in companies)


def test_view_including_company_records_it_qualified(world: World) -> None:
    head = world.data.head_of_sales
    contact_id, company_id = _contact_with_visible_company(world, world.data.departing)
    viewed = world.crm.view(world.ctx(head), "contact", contact_id, include=("company", "deals"))
    assert viewed["company"]["id"] == company_id
    entry = next(world.crm.ledger.entries(actor=head, action="view", newest_first=True))
    assert entry.record_ids[0] == contact_id
    assert f"company:{company_id}" in entry.record_ids
    assert {f"deal:{d['id']}" for d in viewed["deals"]} <= set(entry.record_ids)
    assert entry.count == len(entry.record_ids)
    assert entry.details["included"]["company"] == [company_id]
    op = operator_context("tester")
    who_saw_company = world.crm.audit_entries(op, record=f"company:{company_id}", action="view")
    assert [e.seq for e in who_saw_company] == [entry.seq]
    who_saw_contact = world.crm.audit_entries(op, record=f"contact:{contact_id}", action="view")
    assert [e.seq for e in who_saw_contact] == [entry.seq]


def test_record_search_finds_old_plain_events_and_qualified_ones(world: World) -> None:
    # An event written before qualified ids existed: a company view storing the plain id.
    world.crm.ledger.append(AuditEvent("old.timer", "view", "company", (12,), 1))
    world.crm.ledger.append(AuditEvent("someone", "view", "contact", (5, "company:12"), 2))
    world.crm.ledger.append(AuditEvent("other", "view", "contact", (12,), 1))
    op = operator_context("tester")
    found = world.crm.audit_entries(op, record="company:12", newest_first=False)
    assert [e.actor for e in found] == ["old.timer", "someone"]
    contact_12 = world.crm.audit_entries(op, record="contact:12", newest_first=False)
    assert [e.actor for e in contact_12] == ["other"]


def test_a_company_outside_scope_is_withheld_and_not_recorded(world: World) -> None:
    rep = world.data.rep_same_team
    rep_id = world.crm.principal(rep).user_id
    companies = crm_models.Company.__table__
    contacts = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        row = conn.execute(
            select(contacts.c.id, contacts.c.company_id)
            .join(companies, companies.c.id == contacts.c.company_id)
            .where(contacts.c.owner_id == rep_id, companies.c.owner_id != rep_id)
        ).first()
    assert row is not None, "the seeded rep should own a contact of someone else's company"
    viewed = world.crm.view(world.ctx(rep), "contact", row.id, include=("company",))
    assert "company" not in viewed
    entry = next(world.crm.ledger.entries(actor=rep, action="view", newest_first=True))
    assert list(entry.record_ids) == [row.id]
    assert entry.details["withheld"] == ["company"]


def test_search_text_and_filters_are_in_the_ledger(world: World) -> None:
    ctx = world.ctx(world.data.support)
    world.crm.search(ctx, "contact", "28 41 71")
    entry = next(world.crm.ledger.entries(action="search", newest_first=True))
    assert entry.details["text"] == "28 41 71"
    rep = world.ctx(world.data.rep_same_team)
    world.crm.list(rep, "contact", filters={"city": "Leeds"})
    listed = next(world.crm.ledger.entries(action="list", newest_first=True))
    assert listed.details["filters"] == {"city": "Leeds"}
