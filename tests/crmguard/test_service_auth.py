"""The authenticator without HTTP: what is stored, what is refused, what is recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crmguard.auth import auth_credentials, auth_tokens, hash_secret
from crmguard.errors import NotAuthenticated, SignInThrottled
from crmguard.service import AccessDenied, InvalidInput, operator_context
from crmguard.service.auth import Authenticator
from crmguard.settings_api import ApiSettings
from tests.crmguard.world import World

OP = operator_context("tests")


def test_only_hashes_are_stored(world: World) -> None:
    auth = Authenticator(world.crm)
    rep = world.data.rep_same_team
    auth.set_password(OP, rep, "a long enough passphrase")
    created = auth.create_token(OP, rep, "script")
    with world.crm.engine.connect() as conn:
        stored = conn.execute(select(auth_credentials.c.password_hash)).scalar_one()
        token_hash = conn.execute(select(auth_tokens.c.token_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "passphrase" not in stored
    assert token_hash == hash_secret(created.token) and created.token not in token_hash
    assert auth.authenticate(bearer=created.token).principal.username == rep
    with pytest.raises(NotAuthenticated):
        auth.authenticate(bearer=created.token[:-1] + "x")


def test_who_may_manage_whose_credentials(world: World) -> None:
    auth = Authenticator(world.crm)
    d = world.data
    rep_ctx = world.ctx(d.rep_same_team)
    auth.create_token(rep_ctx, d.rep_same_team, "mine")  # one's own: fine
    with pytest.raises(AccessDenied):
        auth.create_token(rep_ctx, d.owner, "theirs")
    with pytest.raises(AccessDenied):
        auth.set_password(rep_ctx, d.owner, "a long enough passphrase")
    auth.create_token(world.ctx(d.admin), d.rep_other_team, "issued by admin")
    with pytest.raises(InvalidInput):
        auth.set_password(OP, d.rep_same_team, "short")
    denied = list(world.crm.ledger.entries(actor=d.rep_same_team, outcome="denied"))
    assert len(denied) == 2


def test_throttle_counts_in_the_database(world: World) -> None:
    settings = ApiSettings(max_failures_per_user=2)
    rep = world.data.rep_same_team
    first, second = Authenticator(world.crm, settings), Authenticator(world.crm, settings)
    first.set_password(OP, rep, "a long enough passphrase")
    for auth in (first, second):
        with pytest.raises(NotAuthenticated):
            auth.sign_in(rep, "not the passphrase", ip="192.0.2.1")
    with pytest.raises(SignInThrottled):
        second.sign_in(rep, "a long enough passphrase", ip="192.0.2.2")


def test_sessions_end_when_idle_or_past_their_age(world: World) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from crmguard.auth import auth_sessions

    auth = Authenticator(world.crm, ApiSettings(session_idle_minutes=30))
    rep = world.data.rep_same_team
    auth.set_password(OP, rep, "a long enough passphrase")
    fresh = auth.sign_in(rep, "a long enough passphrase", ip="192.0.2.1")
    assert auth.authenticate(session_id=fresh.session_id).principal.username == rep
    now = world.crm.clock()
    for values in (
        {"last_seen_at": now - timedelta(minutes=31)},  # idle too long
        {"last_seen_at": now, "expires_at": now - timedelta(seconds=1)},  # too old
    ):
        session = auth.sign_in(rep, "a long enough passphrase", ip="192.0.2.1")
        with world.crm.engine.begin() as conn:
            conn.execute(
                update(auth_sessions)
                .where(auth_sessions.c.id_hash == hash_secret(session.session_id))
                .values(**values)
            )
        with pytest.raises(NotAuthenticated):
            auth.authenticate(session_id=session.session_id)
    auth.sign_out(world.ctx(rep), fresh.session_id)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(session_id=fresh.session_id)
