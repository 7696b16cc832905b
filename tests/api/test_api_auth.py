"""Authentication over HTTP: tokens that must not work, sessions with CSRF, TOTP, and
the persisted limits on failed sign-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from crmguard.auth import auth_tokens
from crmguard.auth.totp import current_code
from crmguard.service import operator_context
from crmguard.settings_api import ApiSettings
from tests.api.server import Server, serving
from tests.crmguard.world import World

OP = operator_context("tests")
PASSWORD = "correct horse battery staple"


def _events(server: Server, action: str, **kw: object) -> list:
    return list(server.app.ledger.entries(action=action, **kw))


def test_no_wrong_expired_revoked_token_is_401(server: Server) -> None:
    rep = server.world.data.rep_same_team
    with server.client() as anon:
        r = anon.get("/api/contacts")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert anon.get("/api/contacts", headers={"Authorization": "Basic eDp5"}).status_code == 401
        bad = {"Authorization": "Bearer crmg_" + "A" * 43}
        assert anon.get("/api/contacts", headers=bad).status_code == 401
    expired = server.auth.create_token(OP, rep, "soon", expires_in_days=1)
    with server.crm.engine.begin() as conn:
        conn.execute(
            update(auth_tokens)
            .where(auth_tokens.c.id == expired.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    revoked = server.auth.create_token(OP, rep, "gone")
    with server.client() as anon:
        hdr = {"Authorization": f"Bearer {revoked.token}"}
        assert anon.get("/api/contacts", headers=hdr).status_code == 200
        server.auth.revoke_token(OP, revoked.id)
        assert anon.get("/api/contacts", headers=hdr).status_code == 401
        hdr = {"Authorization": f"Bearer {expired.token}"}
        assert anon.get("/api/contacts", headers=hdr).status_code == 401
    rejects = _events(server, "auth.reject")
    # no credential at all is not an attempt; a wrong, revoked or expired one is
    assert len(rejects) == 3 and all(e.outcome == "denied" for e in rejects)
    assert [e.action for e in server.app.ledger.entries(action="auth.token.revoke")]


def test_deactivated_or_suspended_users_tokens_stop_at_once(server: Server) -> None:
    d = server.world.data
    with server.client(d.rep_same_team) as rep, server.client(d.rep_other_team) as other:
        assert rep.get("/api/contacts").status_code == 200
        assert other.get("/api/contacts").status_code == 200
        with server.client(d.admin) as admin:
            r = admin.post(f"/api/admin/users/{d.rep_same_team}/deactivate")
            assert r.status_code == 200, r.text
        assert rep.get("/api/contacts").status_code == 401
        with server.client(d.security) as security:
            body = {"username": d.rep_other_team, "kind": "suspended", "reason": "probe"}
            r = security.post("/api/admin/restrictions", json=body)
            assert r.status_code == 201, r.text
            assert other.get("/api/contacts").status_code == 401
            lifted = security.post(f"/api/admin/restrictions/{r.json()['id']}/lift")
            assert lifted.status_code == 200
        assert other.get("/api/contacts").status_code == 200
        # deactivation revoked the token for good, not only while inactive
        assert server.auth.list_tokens(OP, d.rep_same_team)[0].revoked_at is not None


def test_session_sign_in_csrf_and_sign_out(server: Server) -> None:
    rep = server.world.data.rep_same_team
    server.auth.set_password(OP, rep, PASSWORD)
    with server.client() as browser:
        r = browser.post("/api/auth/signin", json={"username": rep, "password": PASSWORD})
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        csrf = r.json()["csrf_token"]
        assert browser.get("/api/auth/me").json()["username"] == rep
        one = browser.get("/api/contacts", params={"limit": 1}).json()["items"][0]
        # a change with the cookie but without the CSRF header is refused
        assert browser.patch(f"/api/contacts/{one['id']}", json={"city": "Lyon"}).status_code == 401
        r = browser.patch(
            f"/api/contacts/{one['id']}", json={"city": "Lyon"}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 200 and r.json()["city"] == "Lyon"
        assert browser.post("/api/auth/signout", headers={"X-CSRF-Token": csrf}).status_code == 200
        browser.cookies.clear()
        assert browser.get("/api/auth/me").status_code == 401
    signins = _events(server, "auth.signin", outcome="allowed")
    assert [e.actor for e in signins] == [rep]


def test_failed_sign_ins_are_throttled_per_user_and_recorded(server: Server) -> None:
    rep = server.world.data.rep_same_team
    server.auth.set_password(OP, rep, PASSWORD)
    with server.client() as c:
        for _ in range(5):
            r = c.post("/api/auth/signin", json={"username": rep, "password": "wrong password!"})
            assert r.status_code == 401
        # even the right password is refused now: the limit holds before the check
        r = c.post("/api/auth/signin", json={"username": rep, "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # an unknown user fails the same way as a wrong password
        r = c.post("/api/auth/signin", json={"username": "no.such.user", "password": "x" * 12})
        assert r.status_code == 401
    denied = _events(server, "auth.signin", outcome="denied")
    assert len(denied) == 7
    assert {e.details["reason"] for e in denied} >= {"wrong password", "throttled"}
    # what was typed as a password never reaches the ledger
    assert not any(
        PASSWORD in str(e.to_json()) or "wrong password!" in str(e.to_json())
        for e in server.app.ledger.entries()
    )


def test_sign_in_limit_per_address_is_shared_by_instances(world: World, tmp_path: Path) -> None:
    settings = ApiSettings(max_failures_per_address=3, max_failures_per_user=100)
    with (
        serving(world, tmp_path / "a", settings) as a,
        serving(world, tmp_path / "b", settings) as b,
    ):
        with a.client() as ca, b.client() as cb:
            for i, c in enumerate((ca, cb, ca)):
                body = {"username": f"guess{i}", "password": "x" * 12}
                assert c.post("/api/auth/signin", json=body).status_code == 401
            r = cb.post("/api/auth/signin", json={"username": "guess9", "password": "x" * 12})
            assert r.status_code == 429


def test_totp_required_for_owner_when_configured(world: World, tmp_path: Path) -> None:
    owner = world.data.owner
    with serving(world, tmp_path / "h", ApiSettings(require_totp_for=frozenset({"owner"}))) as s:
        s.auth.set_password(OP, owner, PASSWORD)
        with s.client() as c:
            body = {"username": owner, "password": PASSWORD}
            assert c.post("/api/auth/signin", json=body).status_code == 401  # not enrolled
            secret, uri = s.auth.enrol_totp(OP, owner)
            assert uri.startswith("otpauth://totp/")
            assert c.post("/api/auth/signin", json=body).status_code == 401  # no code
            assert c.post("/api/auth/signin", json={**body, "totp": "000000"}).status_code in (401,)
            r = c.post("/api/auth/signin", json={**body, "totp": current_code(secret)})
            assert r.status_code == 200, r.text
