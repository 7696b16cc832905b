"""The HTTP API with the guard on against the same API with the guard off, in one run.

Both servers are the same FastAPI application on uvicorn over the same seeded SQLite
database, with the same bearer-token authentication; the baseline swaps the guarded
service for a bench-only one that runs the same queries with no decision, no scope, no
masks and no ledger event. Concurrent clients send a realistic mix as a sales rep:

    40% view one of their contacts    20% list a page of 50    20% search
    15% edit a contact's city           5% export their contacts (CSV, small)

Rounds alternate (baseline, guarded, ...) and the medians are reported: throughput
(requests per second), p50 and p99 latency, and the guarded/unguarded throughput
ratio (target >= 0.7).

    python bench/bench_api.py [--clients 8] [--requests 150] [--rounds 3] [--contacts 5000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn
from sqlalchemy import select, update

import crm_models
import policies
from access import AccessControl
from audit import Ledger, create_key_file, load_key_file
from crm_models import Page, RecordNotFound
from crmguard.api import create_app
from crmguard.app import App
from crmguard.db import make_engine
from crmguard.schema import upgrade
from crmguard.seed.dataset import seed_dataset
from crmguard.service import GuardedCRM, RequestContext, operator_context
from crmguard.service.auth import Authenticator
from crmguard.service.exports import serialize
from crmguard.settings import Settings


class UnguardedCRM(GuardedCRM):
    """Bench-only: the same reads and writes with the guard switched off.

    "My contacts" stays a plain filter on the owner (a CRM without a guard shows a rep
    their own list too), so both sides move the same rows; what is switched off is the
    decision, the restrictions lookup, the masks and the ledger event.
    """

    def _mine(self, ctx: RequestContext, resource: str) -> list[Any]:
        spec = crm_models.resource(resource)
        return [spec.column(spec.owner_field or "id") == ctx.principal.user_id]

    def list(self, ctx: RequestContext, resource: str, **kw: Any) -> Page:  # type: ignore[override]
        after = kw.get("after_id")
        where = self._mine(ctx, resource)
        if after is not None:
            where.append(crm_models.resource(resource).column("id") > after)
        with self.engine.connect() as conn:
            return crm_models.list_records(
                conn,
                resource,
                where=where,
                filters=kw.get("filters"),
                page_size=kw.get("page_size", 50),
            )

    def search(self, ctx: RequestContext, resource: str, text: str, *, limit: int = 50) -> Any:
        with self.engine.connect() as conn:
            return crm_models.search_records(
                conn, resource, text, where=self._mine(ctx, resource), limit=limit
            )

    def view(self, ctx: RequestContext, resource: str, record_id: int, include: Any = ()) -> Any:
        with self.engine.connect() as conn:
            return crm_models.get_record(conn, resource, record_id, where=self._mine(ctx, resource))

    def update(
        self, ctx: RequestContext, resource: str, record_id: int, values: Mapping[str, Any]
    ) -> Any:
        table = crm_models.resource(resource).table
        with self.engine.begin() as conn:
            if (
                conn.execute(update(table).where(table.c.id == record_id).values(**values)).rowcount
                != 1
            ):
                raise RecordNotFound(resource, record_id)
            return crm_models.get_record(conn, resource, record_id)

    def export(  # type: ignore[override]
        self,
        ctx: RequestContext,
        resource: str,
        out: IO[str],
        *,
        fmt: str = "csv",
        filters: Mapping[str, Any] | None = None,
    ) -> None:
        spec = crm_models.resource(resource)
        with self.engine.connect() as conn:
            rows = list(
                crm_models.iter_records(
                    conn, resource, where=self._mine(ctx, resource), filters=filters
                )
            )
        out.write(serialize(rows, spec.fields, fmt))


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def _serve(asgi: Any) -> Any:
    sock = _socket()
    server = uvicorn.Server(
        uvicorn.Config(
            asgi,
            lifespan="off",
            log_level="error",
            access_log=False,
            proxy_headers=False,
            timeout_keep_alive=120,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _mix(base: str, token: str, ids: list[int], n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    lat: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        for i in range(n):
            roll = rng.random()
            t0 = time.perf_counter()
            if roll < 0.40:
                r = c.get(f"/api/contacts/{rng.choice(ids)}")
            elif roll < 0.60:
                r = c.get("/api/contacts", params={"limit": 50})
            elif roll < 0.80:
                r = c.get("/api/contacts/search", params={"q": rng.choice("aeiou"), "limit": 20})
            elif roll < 0.95:
                r = c.patch(f"/api/contacts/{rng.choice(ids)}", json={"city": f"City {i}"})
            else:
                r = c.get("/api/contacts/export", params={"format": "csv"})
            lat.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise SystemExit(f"bench request failed: {r.status_code} {r.text[:200]}")
    return lat


def _client(job: tuple[str, str, list[int], int, int]) -> list[float]:
    return _mix(*job)


def _round(
    pool: Any, base: str, token: str, ids: list[int], clients: int, n: int
) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    parts = pool.map(_client, [(base, token, ids, n, k) for k in range(clients)])
    wall = time.perf_counter() - t0
    lat = [x for p in parts for x in p]
    return len(lat) / wall, lat


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _serve_forever(contacts: int) -> None:
    """The server process: seed, serve guarded and unguarded, print how to reach them."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'bench.db'}"
        engine = make_engine(url, bulk=True)
        upgrade(engine)
        data = seed_dataset(engine, seed=7, users=50, contacts=contacts)
        engine.dispose()
        engine = make_engine(url)
        create_key_file(work / "ledger.key")
        access = AccessControl.from_dir(policies.DEFAULT_DIR)
        ledger = Ledger(engine, load_key_file(work / "ledger.key"))
        guarded = GuardedCRM(engine, access, ledger)
        settings = replace(Settings.load(work / "home", env={}), database_url=url)
        app = App(settings, engine, access, ledger, guarded)
        rep = data.rep_same_team
        auth = Authenticator(guarded, settings.api)
        token = auth.create_token(operator_context("bench"), rep, "bench").token
        rep_id = guarded.principal(rep).user_id
        contacts_t = crm_models.Contact.__table__
        with engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(contacts_t.c.id).where(contacts_t.c.owner_id == rep_id)
                ).scalars()
            )
        on = create_app(app)
        off = create_app(app, crm=UnguardedCRM(engine, access, ledger), authenticator=auth)
        with _serve(on) as base_on, _serve(off) as base_off:
            print(json.dumps({"on": base_on, "off": base_off, "token": token, "ids": ids}))
            sys.stdout.flush()
            sys.stdin.read()  # until the parent closes our stdin
        engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=150, help="per client per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--contacts", type=int, default=5000)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        _serve_forever(args.contacts)
        return 0
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--contacts", str(args.contacts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        info = json.loads(server.stdout.readline())
        token, ids = info["token"], info["ids"]
        results: dict[str, list[tuple[float, list[float]]]] = {"off": [], "on": []}
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            _round(pool, info["on"], token, ids, args.clients, 20)  # warm up both
            _round(pool, info["off"], token, ids, args.clients, 20)
            for _ in range(args.rounds):
                for side in ("off", "on"):
                    results[side].append(
                        _round(pool, info[side], token, ids, args.clients, args.requests)
                    )
        server.stdin.close()
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.terminate()
    summary = {}
    for side, runs in results.items():
        rps = statistics.median(r for r, _ in runs)
        p50 = statistics.median(_pct(lat, 0.50) for _, lat in runs)
        p99 = statistics.median(_pct(lat, 0.99) for _, lat in runs)
        summary[side] = (rps, p50, p99)
        label = "guarded  " if side == "on" else "unguarded"
        print(f"{label}  {rps:8.1f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    ratio = summary["on"][0] / summary["off"][0]
    print(
        f"throughput ratio guarded/unguarded: {ratio:.2f} (target >= 0.7); "
        f"{args.clients} clients x {args.requests} requests x {args.rounds} rounds, "
        f"{len(ids)} contacts owned by the rep of {args.contacts}"
    )
    return 0 if ratio >= 0.7 else 1


if __name__ == "__main__":
    sys.exit(main())
