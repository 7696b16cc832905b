"""Fail closed: when the ledger cannot write, the caller gets an error and no data.

The database itself refuses the ledger's INSERT (a trigger), which is what a full
disk, a read-only replica or a revoked grant look like from the application.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select, text

import crm_models
from audit import LedgerWriteError
from tests.crmguard.world import World


def _refuse_ledger_writes(world: World) -> None:
    with world.crm.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_ledger BEFORE INSERT ON audit_ledger "
                    "BEGIN SELECT RAISE(ABORT, 'ledger storage refuses writes'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_ledger() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'ledger storage refuses writes'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_ledger BEFORE INSERT ON audit_ledger "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_ledger()"
                )
            )


def test_reads_and_exports_return_nothing_when_the_ledger_refuses(world: World) -> None:
    ctx = world.ctx(world.data.rep_same_team)
    own = world.crm.list(ctx, "contact", page_size=5).items
    assert own
    before = world.crm.ledger.head()
    _refuse_ledger_writes(world)

    with pytest.raises(LedgerWriteError):
        world.crm.view(ctx, "contact", own[0]["id"])
    with pytest.raises(LedgerWriteError):
        world.crm.list(ctx, "contact")
    with pytest.raises(LedgerWriteError):
        world.crm.search(ctx, "contact", "a")
    out = io.StringIO()
    with pytest.raises(LedgerWriteError):
        world.crm.export(ctx, "contact", out)
    assert out.getvalue() == ""
    assert world.crm.ledger.head() == before


def test_a_change_is_rolled_back_when_its_event_cannot_be_written(world: World) -> None:
    ctx = world.ctx(world.data.rep_same_team)
    contact = world.crm.list(ctx, "contact", page_size=1).items[0]
    _refuse_ledger_writes(world)
    with pytest.raises(LedgerWriteError):
        world.crm.update(ctx, "contact", contact["id"], {"city": "Atlantis"})
    table = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        city = conn.execute(select(table.c.city).where(table.c.id == contact["id"])).scalar_one()
    assert city == contact["city"]


def test_a_denial_that_cannot_be_recorded_is_still_a_denial(world: World) -> None:
    ctx = world.ctx(world.data.support)
    _refuse_ledger_writes(world)
    out = io.StringIO()
    with pytest.raises(LedgerWriteError):
        world.crm.export(ctx, "contact", out)
    assert out.getvalue() == ""
