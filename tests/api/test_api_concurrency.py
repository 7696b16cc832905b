"""Twenty concurrent clients: exactly one ledger event per request, each with its own
request id, and a chain that verifies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.api.server import Server

CLIENTS = 20
REQUESTS = 8


def test_twenty_clients_one_event_per_request(server: Server) -> None:
    d = server.world.data
    users = [d.rep_same_team, d.rep_other_team, d.departing, d.head_of_sales, d.owner]
    for u in users:
        server.token(u)
    before = server.app.ledger.head()
    start = before[0] if before else 0

    def work(i: int) -> list[str]:
        user = users[i % len(users)]
        ids: list[str] = []
        with server.client(user) as c:
            listed = c.get("/api/contacts", params={"limit": 5})
            assert listed.status_code == 200
            ids.append(listed.headers["x-request-id"])
            mine = [x["id"] for x in listed.json()["items"]]
            for n in range(REQUESTS - 1):
                if n % 3 == 0 and mine:
                    r = c.get(f"/api/contacts/{mine[n % len(mine)]}")
                elif n % 3 == 1:
                    r = c.get("/api/contacts/search", params={"q": "a", "limit": 5})
                elif mine:
                    r = c.patch(f"/api/contacts/{mine[0]}", json={"city": f"City {i}-{n}"})
                else:
                    r = c.get("/api/contacts", params={"limit": 5})
                assert r.status_code == 200, r.text
                ids.append(r.headers["x-request-id"])
        return ids

    with ThreadPoolExecutor(CLIENTS) as pool:
        request_ids = [rid for ids in pool.map(work, range(CLIENTS)) for rid in ids]
    assert len(request_ids) == CLIENTS * REQUESTS == len(set(request_ids))
    new = [e for e in server.app.ledger.entries() if e.seq > start]
    assert sorted(e.request_id for e in new) == sorted(request_ids)
    assert [e.seq for e in new] == list(range(start + 1, start + 1 + len(new)))
    result = server.app.ledger.verify()
    assert result.ok, result.problem
