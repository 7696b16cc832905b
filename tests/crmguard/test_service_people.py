"""People operations without HTTP: reassign-all is one transaction and one event, and
deactivation ends credentials in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import crm_models
from crmguard.service import AccessDenied, InvalidInput, operator_context
from crmguard.service.auth import Authenticator
from tests.crmguard.world import World


def _count_owned(world: World, user_id: int) -> int:
    total = 0
    with world.crm.engine.connect() as conn:
        for name in crm_models.CLIENT_RESOURCES:
            spec = crm_models.resource(name)
            col = spec.column(spec.owner_field)  # type: ignore[arg-type]
            total += conn.execute(
                select(func.count()).select_from(spec.table).where(col == user_id)
            ).scalar_one()
    return total


def test_reassign_all_moves_everything_in_one_event(world: World) -> None:
    d = world.data
    leaver = world.crm.principal(d.departing)
    owned = _count_owned(world, leaver.user_id)
    assert owned > 0
    with pytest.raises(AccessDenied):
        world.crm.reassign_all(world.ctx(d.rep_same_team), d.departing, d.rep_same_team)
    assert _count_owned(world, leaver.user_id) == owned
    done = world.crm.reassign_all(world.ctx(d.admin), d.departing, d.rep_same_team)
    assert done.count == owned and _count_owned(world, leaver.user_id) == 0
    (event,) = world.crm.ledger.entries(action="user.reassign_all")
    assert len(event.record_ids) == owned and event.seq == done.ledger_seq
    with pytest.raises(InvalidInput):
        world.crm.reassign_all(world.ctx(d.admin), d.rep_same_team, d.rep_same_team)


def test_deactivation_ends_tokens_in_the_same_transaction(world: World) -> None:
    d = world.data
    auth = Authenticator(world.crm)
    token = auth.create_token(operator_context("t"), d.rep_other_team, "x").token
    world.crm.deactivate_user(world.ctx(d.admin), d.rep_other_team)
    (info,) = auth.list_tokens(operator_context("t"), d.rep_other_team)
    assert info.revoked_at is not None
    with pytest.raises(Exception, match="not signed in"):
        auth.authenticate(bearer=token)
