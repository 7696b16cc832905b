"""Reading the ledger is no way around the field masks: client data in an entry is shown
only as the reader could see it on the record (crmguard/service/ledger_content.py)."""

from __future__ import annotations

import io
import json

from crmguard.service import operator_context
from crmguard.service.ledger_content import HIDDEN
from tests.crmguard.world import World

SECRET_EMAIL = "walkaround.secret@example.org"
SECRET_PHONE = "+48 600 111 222"
SECRET_TEXT = "600 111"


def _rep_writes_and_searches(world: World) -> int:
    """A rep changes a contact's e-mail and phone, creates one, and searches by phone."""
    rep = world.ctx(world.data.rep_same_team)
    contact = int(world.crm.list(rep, "contact", page_size=1).items[0]["id"])
    world.crm.update(rep, "contact", contact, {"email": SECRET_EMAIL, "phone": SECRET_PHONE})
    world.crm.create(
        rep, "contact", {"first_name": "Ada", "last_name": "Nowak", "email": SECRET_EMAIL}
    )
    world.crm.search(rep, "contact", SECRET_TEXT)
    return contact


def _dump(entries: object) -> str:
    return json.dumps([dict(e.details) for e in entries], default=str)  # type: ignore[attr-defined]


def test_auditor_reads_who_changed_what_but_no_client_values(world: World) -> None:
    contact = _rep_writes_and_searches(world)
    page = world.crm.audit_entries(world.ctx(world.data.auditor), actor=world.data.rep_same_team)
    text = _dump(page)
    assert SECRET_EMAIL not in text and SECRET_PHONE not in text and SECRET_TEXT not in text
    update = next(e for e in page if e.action == "update")
    # Who, what, when, which record and which fields stay readable.
    assert update.record_ids == (contact,)
    assert update.details["fields"] == ["email", "phone"]
    assert update.details["changes"]["email"] == {"old": HIDDEN, "new": HIDDEN}
    create = next(e for e in page if e.action == "create")
    assert create.details["values"]["email"] == HIDDEN
    search = next(e for e in page if e.action == "search")
    assert search.details["text"] == HIDDEN
    # The same walk-around by record, by action and through security's reader.
    for ctx in (world.ctx(world.data.auditor), world.ctx(world.data.security)):
        by_record = world.crm.audit_entries(ctx, record=f"contact:{contact}")
        by_action = world.crm.audit_entries(ctx, action="update")
        assert SECRET_EMAIL not in _dump(by_record) + _dump(by_action)


def test_a_reader_sees_the_search_text_they_typed(world: World) -> None:
    """Support's role masks phones, so search text may be a phone: shown to its author only."""
    support = world.ctx(world.data.support)
    world.crm.search(support, "contact", SECRET_TEXT)
    page = world.crm.audit_entries(support, limit=None)
    assert {e.actor for e in page} == {world.data.support}
    # The support agent typed the search text: their own entry shows it back to them.
    search = next(e for e in page if e.action == "search")
    assert search.details["text"] == SECRET_TEXT


def test_owner_and_operator_read_the_values_written(world: World) -> None:
    contact = _rep_writes_and_searches(world)
    for ctx in (world.ctx(world.data.owner), operator_context("root")):
        page = world.crm.audit_entries(ctx, record=f"contact:{contact}", action="update")
        update = next(iter(page))
        assert update.details["changes"]["email"]["new"] == SECRET_EMAIL
    search = world.crm.audit_entries(world.ctx(world.data.owner), action="search")
    assert SECRET_TEXT in [e.details.get("text") for e in search]


def test_a_reader_with_a_field_mask_sees_that_field_masked_in_entries(world: World) -> None:
    """A reader with a mask on a field (support) reading a colleague's update of that field."""
    from access import Decision
    from crmguard.service.ledger_content import reveal

    _rep_writes_and_searches(world)
    update = next(iter(world.crm.ledger.entries(action="update", actor=world.data.rep_same_team)))
    support_view = world.crm.decide(world.ctx(world.data.support), "view", "contact")
    assert isinstance(support_view, Decision) and "phone" in support_view.masked_fields
    shown = reveal(update, world.data.support, lambda _resource: support_view)
    assert shown.details["changes"]["phone"] == {"old": HIDDEN, "new": HIDDEN}
    assert shown is not update and update.details["changes"]["phone"]["new"] == SECRET_PHONE
    create = next(iter(world.crm.ledger.entries(action="create", actor=world.data.rep_same_team)))
    shown_create = reveal(create, world.data.support, lambda _resource: support_view)
    assert shown_create.details["values"]["email"] == HIDDEN
    assert shown_create.details["values"]["first_name"] == "Ada"  # not masked for support
    search = next(iter(world.crm.ledger.entries(action="search", actor=world.data.rep_same_team)))
    assert reveal(search, world.data.support, lambda _r: support_view).details["text"] == HIDDEN
    assert reveal(search, world.data.rep_same_team, lambda _r: support_view) is search


def test_the_ledger_export_is_the_evidence_and_keeps_the_values(world: World) -> None:
    """The export must verify against the anchors, so it is whole; it is its own
    permission (export on audit), which the shipped policy gives auditors and security."""
    _rep_writes_and_searches(world)
    out = io.StringIO()
    world.crm.audit_export(world.ctx(world.data.auditor), out)
    assert SECRET_EMAIL in out.getvalue()
