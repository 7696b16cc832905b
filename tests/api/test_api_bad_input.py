"""Bad input over HTTP: a 4xx naming the field, never a 5xx or a traceback; hostile
strings stored as given; the headers every response carries."""

from __future__ import annotations

import json

import pytest

from tests.api.server import Server

HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE contacts; --",
    "Robert'); DELETE FROM audit_ledger;--",
    "%_\\",
    "\u202e\u0000"[:1] + "ünïcødé ✓",
]


def _no_trace(r) -> None:
    assert r.status_code < 500, r.text
    assert "Traceback" not in r.text and 'File "' not in r.text


def test_malformed_and_unknown_fields_name_the_field(server: Server) -> None:
    rep = server.world.data.rep_same_team
    with server.client(rep) as c:
        r = c.post(
            "/api/contacts", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422
        r = c.post("/api/contacts", json={"first_name": "A", "last_name": "B", "ssn": "1"})
        assert r.status_code == 422 and "ssn" in r.json()["error"]["message"]
        r = c.post("/api/contacts", json={"first_name": "A", "last_name": "B", "owner_id": 1})
        assert r.status_code == 422 and "owner_id" in r.json()["error"]["message"]
        r = c.post("/api/contacts", json={"first_name": "A" * 101, "last_name": "B"})
        assert r.status_code == 422 and "first_name" in r.json()["error"]["message"]
        r = c.post("/api/contacts", json={"first_name": "A\x00", "last_name": "B"})
        assert r.status_code == 422 and "first_name" in r.json()["error"]["message"]
        r = c.get("/api/contacts", params={"filter": "no_such=1"})
        assert r.status_code in (400, 422) and "filter" in r.json()["error"]["message"]
        r = c.get("/api/contacts", params={"filter": "owner_id=abc"})
        assert r.status_code in (400, 422) and "owner_id" in r.json()["error"]["message"]
        for path in ("/api/contacts/0", "/api/contacts/abc", f"/api/contacts/{2**70}"):
            r = c.get(path)
            assert r.status_code == 422, (path, r.text)
        r = c.get("/api/contacts/999999999")
        assert r.status_code == 404
        r = c.get("/api/audit/events", params={"record": "42"})
        assert r.status_code == 422 and "record" in r.json()["error"]["message"]
        r = c.get("/api/contacts/export", params={"format": "xlsx"})
        assert r.status_code == 422 and "format" in r.json()["error"]["message"]


def test_oversized_body_is_413(server: Server) -> None:
    rep = server.world.data.rep_same_team
    with server.client(rep) as c:
        big = {"first_name": "A", "last_name": "B", "notes": "x" * (1024 * 1024 + 10)}
        r = c.post("/api/contacts", json=big)
        assert r.status_code == 413
        assert r.headers["x-request-id"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_stored_as_given(server: Server, text: str) -> None:
    rep = server.world.data.rep_same_team
    with server.client(rep) as c:
        r = c.post(
            "/api/contacts", json={"first_name": text[:100], "last_name": "Test", "notes": text}
        )
        _no_trace(r)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        back = c.get(f"/api/contacts/{cid}").json()
        assert back["notes"] == text and back["first_name"] == text[:100]
        r = c.get("/api/contacts/search", params={"q": text})
        _no_trace(r)
        assert cid in {x["id"] for x in r.json()["items"]}
        for params in ({"actor": text}, {"action": text}, {"record": f"contact:{text}"}):
            _no_trace(c.get("/api/audit/events", params=params))


def test_every_response_carries_the_common_headers(server: Server) -> None:
    rep = server.world.data.rep_same_team
    with server.client(rep) as c:
        for r in (c.get("/api/contacts"), c.get("/api/nothing"), c.get("/healthz")):
            assert len(r.headers["x-request-id"]) == 32
            assert r.headers["x-content-type-options"] == "nosniff"
        r = c.get("/api/contacts", params={"limit": 1})
        assert r.headers["cache-control"] == "no-store"
        rid = r.headers["x-request-id"]
        entries = list(server.app.ledger.entries(actor=rep, action="list"))
        assert entries[-1].request_id == rid and entries[-1].channel == "api"
        assert entries[-1].ip == "127.0.0.1"


def test_forwarded_address_only_from_trusted_proxies(server: Server) -> None:
    import ipaddress

    from crmguard.api.asgi import client_address

    trusted = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    assert client_address("10.0.0.2", "1.2.3.4, 10.0.0.5", trusted) == "1.2.3.4"
    assert client_address("10.0.0.2", "garbage", trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", "1.2.3.4", []) == "10.0.0.2"
    rep = server.world.data.rep_same_team
    with server.client(rep) as c:
        c.get("/api/contacts", headers={"X-Forwarded-For": "198.51.100.7"})
    last = list(server.app.ledger.entries(actor=rep, action="list"))[-1]
    assert last.ip == "127.0.0.1"  # no trusted proxy configured: the header is ignored
    assert json.dumps(last.to_json())
