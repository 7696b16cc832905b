"""Admin operations over HTTP, and the departing-employee flow end to end: flag
departing, review what they took, reassign everything in one step, deactivate."""

from __future__ import annotations

from sqlalchemy import func, select

import crm_models
from tests.api.server import Server


def _owned(server: Server, user_id: int) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    with server.crm.engine.connect() as conn:
        for name in crm_models.CLIENT_RESOURCES:
            spec = crm_models.resource(name)
            col = spec.column(spec.owner_field)  # type: ignore[arg-type]
            ids = set(conn.execute(select(spec.column("id")).where(col == user_id)).scalars())
            if ids:
                out[name] = ids
    return out


def test_departing_employee_flow(server: Server) -> None:
    d = server.world.data
    leaver, colleague = d.departing, d.rep_same_team
    leaver_id = server.crm.principal(leaver).user_id
    colleague_id = server.crm.principal(colleague).user_id
    before = _owned(server, leaver_id)
    assert before
    with server.client(leaver) as gone:
        assert gone.get("/api/contacts/export", params={"format": "csv"}).status_code in (200, 403)
    with server.client(d.admin) as admin, server.client(d.security) as security:
        r = security.post(
            "/api/admin/restrictions",
            json={"username": leaver, "kind": "departing", "reason": "resigned"},
        )
        assert r.status_code == 201, r.text
        listed = security.get("/api/admin/restrictions", params={"user": leaver}).json()
        assert listed[0]["kind"] == "departing"
        review = security.get("/api/audit/activity", params={"actor": leaver})
        assert review.status_code == 200, review.text
        assert any(day["action"] == "export" for day in review.json()["days"])
        # an admin may not read client data, but reassigns without seeing it
        assert admin.get("/api/contacts").status_code == 403
        r = admin.post(f"/api/admin/users/{leaver}/reassign", json={"to": colleague})
        assert r.status_code == 200, r.text
        moved = r.json()
        assert {k: set(v) for k, v in moved["record_ids"].items()} == before
        r = admin.post(f"/api/admin/users/{leaver}/deactivate")
        assert r.status_code == 200 and r.json()["active"] is False
    with server.client(leaver) as gone:
        assert gone.get("/api/contacts").status_code == 401
    assert _owned(server, leaver_id) == {}
    after = _owned(server, colleague_id)
    assert all(ids <= after[name] for name, ids in before.items())
    events = list(server.app.ledger.entries(action="user.reassign_all"))
    assert len(events) == 1
    assert len(events[0].record_ids) == sum(len(v) for v in before.values())
    some_contact = next(iter(before.get("contact", {0})))
    found = list(server.app.ledger.entries(record_id=f"contact:{some_contact}"))
    assert events[0].seq in {e.seq for e in found}


def test_admin_manages_users_and_a_rep_may_not(server: Server) -> None:
    d = server.world.data
    with server.client(d.admin) as admin:
        r = admin.post(
            "/api/admin/users",
            json={
                "username": "new.rep",
                "display_name": "New Rep",
                "roles": ["sales_rep"],
                "team": d.departing_team,
            },
        )
        assert r.status_code == 201, r.text
        assert (
            admin.post(
                "/api/admin/users",
                json={"username": "new.rep", "display_name": "Again", "roles": ["sales_rep"]},
            ).status_code
            == 409
        )
        r = admin.post(
            "/api/admin/users", json={"username": "x.y", "display_name": "X", "roles": ["emperor"]}
        )
        assert r.status_code == 422 and "emperor" in r.json()["error"]["message"]
        r = admin.patch("/api/admin/users/new.rep", json={"roles": ["support"], "team": ""})
        assert (
            r.status_code == 200 and r.json()["roles"] == ["support"] and r.json()["team"] is None
        )
        assert (
            admin.patch("/api/admin/users/nobody", json={"roles": ["support"]}).status_code == 404
        )
        users = admin.get("/api/admin/users").json()
        assert "new.rep" in {u["username"] for u in users}
        r = admin.get(
            "/api/admin/explain",
            params={"user": d.rep_same_team, "action": "view", "target": "contact:1"},
        )
        assert r.status_code == 200 and r.json()["lines"]
        assert admin.get("/api/admin/policy").json()["version"] >= 1
    change = next(iter(server.app.ledger.entries(action="user.update")))
    assert change.details["changes"]["roles"] == {"old": ["sales_rep"], "new": ["support"]}
    with server.client(d.rep_same_team) as rep:
        for method, path, body in (
            (
                "POST",
                "/api/admin/users",
                {"username": "me2", "display_name": "M", "roles": ["owner"]},
            ),
            ("PATCH", f"/api/admin/users/{d.rep_same_team}", {"roles": ["owner"]}),
            ("POST", f"/api/admin/users/{d.departing}/reassign", {"to": d.rep_same_team}),
            ("POST", "/api/admin/restrictions", {"username": d.owner, "kind": "suspended"}),
        ):
            r = rep.request(method, path, json=body)
            assert r.status_code == 403, (path, r.text)
        # the ledger: a rep reads only their own events
        r = rep.get("/api/audit/me")
        assert r.status_code == 200
        assert {e["actor"] for e in r.json()["items"]} == {d.rep_same_team}
    with server.crm.engine.connect() as conn:
        users = crm_models.User.__table__
        roles = conn.execute(
            select(users.c.roles).where(users.c.username == d.rep_same_team)
        ).scalar_one()
        assert "owner" not in roles
        assert (
            conn.execute(
                select(func.count()).select_from(users).where(users.c.username == "me2")
            ).scalar_one()
            == 0
        )


def test_tokens_over_the_api(server: Server) -> None:
    d = server.world.data
    with server.client(d.rep_same_team) as rep:
        r = rep.post("/api/auth/tokens", json={"name": "my script", "expires_in_days": 7})
        assert r.status_code == 201
        created = r.json()
        assert created["token"].startswith("crmg_") and created["expires_at"]
        listed = rep.get("/api/auth/tokens").json()
        assert "token" not in listed[0] and created["id"] in {t["id"] for t in listed}
        # a rep may not mint a token for someone else
        r = rep.post("/api/auth/tokens", json={"name": "x", "username": d.owner})
        assert r.status_code == 403
        assert rep.delete(f"/api/auth/tokens/{created['id']}").status_code == 200
    with server.client() as anon:
        hdr = {"Authorization": f"Bearer {created['token']}"}
        assert anon.get("/api/auth/me", headers=hdr).status_code == 401
