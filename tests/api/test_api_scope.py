"""For every role, what the API returns is exactly what the guarded service returns:
list (all pages), search, view with includes and export; a rep never reaches another
team's record by id, list, search, cursor tampering or export."""

from __future__ import annotations

import csv
import io
import json

from crmguard.api.routes_records import encode_cursor
from tests.api.server import Server

RESOURCES = [
    ("contact", "contacts"),
    ("company", "companies"),
    ("deal", "deals"),
    ("activity", "activities"),
    ("task", "tasks"),
]


def _roles(server: Server) -> list[str]:
    d = server.world.data
    return [d.owner, d.head_of_sales, d.departing, d.rep_same_team, d.rep_other_team, d.support]


def _api_all(client, plural: str, limit: int = 97) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"/api/{plural}", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items


def _service_all(server: Server, username: str, resource: str) -> list[dict]:
    ctx = server.world.ctx(username)
    rows: list[dict] = []
    page = 1
    while True:
        result = server.crm.list(ctx, resource, page=page, page_size=500)
        rows += result.items
        if page * 500 >= result.total:
            return rows
        page += 1


def _norm(rows: list[dict]) -> dict[int, dict]:
    return {
        r["id"]: {
            k: (None if v is None else str(v))
            for k, v in r.items()
            if k not in ("created_at", "updated_at", "occurred_at", "due_at", "amount")
            and not isinstance(v, (dict, list))
        }
        for r in rows
    }


def test_lists_match_the_service_for_every_role(server: Server) -> None:
    for username in _roles(server):
        with server.client(username) as client:
            for resource, plural in RESOURCES:
                ctx = server.world.ctx(username)
                allowed = server.crm.access.decide(ctx.principal, "list", resource).allowed
                if not allowed:
                    assert client.get(f"/api/{plural}").status_code == 403
                    continue
                got = _norm(_api_all(client, plural))
                want = _norm(_service_all(server, username, resource))
                assert got == want, (username, resource)


def test_search_view_and_includes_match_the_service(server: Server) -> None:
    for username in _roles(server):
        ctx = server.world.ctx(username)
        if not server.crm.access.decide(ctx.principal, "search", "contact").allowed:
            continue
        with server.client(username) as client:
            for text in ("a", "er", "@"):
                r = client.get("/api/contacts/search", params={"q": text, "limit": 200})
                assert r.status_code == 200
                want = server.crm.search(ctx, "contact", text, limit=200)
                assert _norm(r.json()["items"]) == _norm(want)
            for row in server.crm.search(ctx, "contact", "a", limit=5):
                params = {"include": ["company", "deals", "activities"]}
                r = client.get(f"/api/contacts/{row['id']}", params=params)
                assert r.status_code == 200, r.text
                want = server.crm.view(ctx, "contact", row["id"], include=params["include"])
                body = r.json()
                assert _norm([body]) == _norm([want])
                for name in ("deals", "activities"):
                    assert sorted(x["id"] for x in body.get(name) or []) == sorted(
                        x["id"] for x in want.get(name) or []
                    )
                assert (body.get("company") or {}).get("id") == (want.get("company") or {}).get(
                    "id"
                )


def test_exports_match_the_service(server: Server) -> None:
    for username in (server.world.data.rep_same_team, server.world.data.departing):
        ctx = server.world.ctx(username)
        want = {r["id"] for r in _service_all(server, username, "contact")}
        with server.client(username) as client:
            r = client.get("/api/contacts/export", params={"format": "csv"})
            assert r.status_code == 200, r.text
            rows = list(csv.DictReader(io.StringIO(r.text)))
            assert {int(x["id"]) for x in rows} == want
            r = client.get("/api/contacts/export", params={"format": "jsonl"})
            assert {json.loads(line)["id"] for line in r.text.splitlines()} == want
            assert r.headers["cache-control"] == "no-store"
        assert ctx


def test_a_rep_never_reaches_another_teams_record(server: Server) -> None:
    d = server.world.data
    rep = d.rep_same_team
    mine = {r["id"] for r in _service_all(server, rep, "contact")}
    other = [r for r in _service_all(server, d.owner, "contact") if r["id"] not in mine]
    assert other
    victim = other[0]
    with server.client(rep) as client:
        # by id: 404, same as a record that does not exist
        for path in (f"/api/contacts/{victim['id']}", f"/api/contacts/{victim['id']}/print"):
            r = client.get(path)
            assert r.status_code == 404, r.text
        assert client.patch(f"/api/contacts/{victim['id']}", json={"city": "X"}).status_code == 404
        assert client.delete(f"/api/contacts/{victim['id']}").status_code in (403, 404)
        # by list with a filter on the victim's owner and by every forged cursor
        owner_filter = {"filter": f"owner_id={victim['owner_id']}"}
        assert client.get("/api/contacts", params=owner_filter).json()["items"] == []
        for after in (0, victim["id"] - 1, 10**9):
            r = client.get("/api/contacts", params={"cursor": encode_cursor(after)})
            assert r.status_code == 200
            assert {x["id"] for x in r.json()["items"]} <= mine
        assert client.get("/api/contacts", params={"cursor": "not-a-cursor"}).status_code == 422
        # by search on the victim's name, and by export
        r = client.get("/api/contacts/search", params={"q": victim["last_name"]})
        assert {x["id"] for x in r.json()["items"]} <= mine
        r = client.get("/api/contacts/export", params={"format": "jsonl"})
        assert victim["id"] not in {json.loads(x)["id"] for x in r.text.splitlines()}
    # the probe by id is in the ledger as a denial, with channel api
    denials = [
        e
        for e in server.app.ledger.entries(actor=rep, outcome="denied")
        if victim["id"] in e.record_ids
    ]
    assert denials and all(e.channel == "api" for e in denials)
    assert all(e.request_id for e in denials)


def test_masked_fields_stay_masked_in_every_response(server: Server) -> None:
    support = server.world.data.support
    ctx = server.world.ctx(support)
    decision = server.crm.access.decide(ctx.principal, "view", "contact")
    masked = set(decision.masked_fields)
    assert masked, "the shipped policy masks phone and email for support"
    with server.client(support) as client:
        listed = _api_all(client, "contacts")
        assert listed
        some = listed[0]["id"]
        bodies = [*listed, client.get(f"/api/contacts/{some}").json()]
        r = client.get("/api/contacts/search", params={"q": "a"})
        if r.status_code == 200:
            bodies += r.json()["items"]
        for body in bodies:
            for f in masked:
                assert body[f] == "[masked]", (f, body)
        r = client.get("/api/contacts/export", params={"format": "jsonl"})
        if r.status_code == 200:
            for line in r.text.splitlines():
                assert all(json.loads(line)[f] == "[masked]" for f in masked)
