"""Guarded reads against unguarded ones, measured in the same process.

Two ratios (lower is better) and one absolute figure:

* export: guarded export of 100,000 contacts (team scope filter in SQL, phone and email
  masked per row: shown on the exporter's own rows, where a second role grants them,
  through one CASE each; one ledger event holding all 100,000 record ids) / the same
  query unscoped and unmasked with the same CSV serialization.   target <= 1.3
* view: guarded single-record view (restrictions lookup, decision, scoped query,
  keyed ledger append + commit) / an unguarded view plus a naive one-row log INSERT
  and COMMIT on the same database.                      target <= 1.5
* read budget: the ledger sum behind every list and search (the caller's list/search
  events of the last 24 hours, with 1,000 of them in the window) / a guarded list of
  50 rows, budget check included.                     reported, no target
* init: ``crmguard init --demo`` with defaults, wall seconds.   target < 60

Runs are interleaved (baseline, guarded, baseline, ...; single views one request at a
time) and the median of each is taken, so a noisy neighbour hurts both sides alike.

    python bench/bench_guarded.py [--contacts 100000] [--rounds 7] [--views 2000] [--skip-init]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
)

import crm_models
import policies
from access import AccessControl
from audit import Ledger, create_key_file, format_ts, load_key_file
from crmguard.db import make_engine
from crmguard.schema import upgrade
from crmguard.seed.clients import company_rows, contact_rows
from crmguard.service import GuardedCRM, RequestContext

BENCH_POLICY = """
# The bench's exporter: team scope, phone and email masked, no cap; a second role grants
# its own rows unmasked, so both masks are lifted per row (one CASE per field).
p, bench_exporter, contact, export, team, allow
p, bench_exporter, contact, view, team, allow
p, bench_exporter, contact, list, team, allow
p2, bench_exporter, contact, phone
p2, bench_exporter, contact, email
p3, bench_exporter, unlimited, 100000000
p, bench_self, contact, export, own, allow
p, bench_self, contact, view, own, allow
p3, bench_self, unlimited, 100000000
"""


def _setup(workdir: Path, n_contacts: int) -> tuple[GuardedCRM, RequestContext]:
    policy_dir = workdir / "policies"
    policy_dir.mkdir()
    shutil.copy(policies.DEFAULT_DIR / "model.conf", policy_dir / "model.conf")
    (policy_dir / "policy.csv").write_text(BENCH_POLICY)
    engine = make_engine(f"sqlite:///{workdir / 'bench.db'}", bulk=True)
    upgrade(engine)
    now = datetime.now(UTC)
    rng = random.Random(1)
    users, teams = crm_models.User.__table__, crm_models.Team.__table__
    with engine.begin() as conn:
        conn.execute(insert(teams), [{"id": 1, "name": "Bench"}, {"id": 2, "name": "Other"}])
        conn.execute(
            insert(users),
            [
                {
                    "id": i,
                    "username": f"u{i}",
                    "display_name": f"User {i}",
                    "email": "",
                    "active": True,
                    "team_id": 1 if i <= 10 else 2,
                    "roles": ["bench_exporter", "bench_self"],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, 13)
            ],
        )
        conn.execute(insert(crm_models.Company.__table__), company_rows(rng, 500, now))
        conn.execute(
            insert(crm_models.Contact.__table__),
            contact_rows(rng, n_contacts, list(range(1, 11)), list(range(1, 501)), now),
        )
    engine.dispose()
    engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")  # durable, as in production
    key = workdir / "ledger.key"
    create_key_file(key)
    crm = GuardedCRM(engine, AccessControl.from_dir(policy_dir), Ledger(engine, load_key_file(key)))
    return crm, RequestContext(principal=crm.principal("u1"), channel="api")


def _median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_export(crm: GuardedCRM, ctx: RequestContext, rounds: int) -> tuple[float, float]:
    spec = crm_models.resource("contact")
    stmt = select(*(spec.column(f) for f in spec.fields)).order_by(spec.column("id"))

    def baseline() -> None:
        with crm.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(spec.fields)
        writer.writerows(rows)
        io.StringIO().write(buf.getvalue())

    def guarded() -> None:
        crm.export(ctx, "contact", io.StringIO(), fmt="csv")

    baseline(), guarded()  # warm caches
    base, guard = [], []
    for _ in range(rounds):
        base.append(_median_time(baseline, 1))
        guard.append(_median_time(guarded, 1))
    return statistics.median(base), statistics.median(guard)


def bench_view(crm: GuardedCRM, ctx: RequestContext, n: int, rounds: int) -> tuple[float, float]:
    naive = Table(
        "naive_log",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("actor", String(64)),
        Column("action", String(32)),
        Column("record_id", Integer),
        Column("ts", DateTime),
    )
    naive.create(crm.engine)
    contacts = crm_models.Contact.__table__
    with crm.engine.connect() as conn:
        ids = list(conn.execute(select(contacts.c.id).where(contacts.c.owner_id <= 10)).scalars())
    rng = random.Random(2)
    sample = [rng.choice(ids) for _ in range(n)]

    # The baseline's query is prebuilt too, so only the guard's own work is measured.
    one = crm_models.select_records(
        "contact", where=[crm_models.resource("contact").column("id") == bindparam("cid")]
    )

    def baseline(cid: int) -> None:
        with crm.engine.connect() as conn:
            conn.execute(one, {"cid": cid}).mappings().first()
        with crm.engine.begin() as conn:
            conn.execute(
                insert(naive).values(actor="u1", action="view", record_id=cid, ts=datetime.now(UTC))
            )

    def guarded(cid: int) -> None:
        crm.view(ctx, "contact", cid)

    # One baseline view then one guarded view, in turn: each pays one fsync, and the
    # shared disk's flush moves between 0.3 ms and 4 ms within seconds, so timing them in
    # blocks of thousands let the block that met the slow disk decide the ratio.
    base, guard = [], []
    for _ in range(rounds):
        spent = [0.0, 0.0]
        for cid in sample:
            for side, view in enumerate((baseline, guarded)):
                t0 = time.perf_counter()
                view(cid)
                spent[side] += time.perf_counter() - t0
        base.append(spent[0] / n)
        guard.append(spent[1] / n)
    return statistics.median(base), statistics.median(guard)


def bench_budget(crm: GuardedCRM, ctx: RequestContext, rounds: int) -> tuple[float, float]:
    """Median time of the budget's ledger sum and of a guarded 50-row list (which runs it)."""
    for _ in range(1000):
        crm.list(ctx, "contact", page_size=50)
    since = format_ts(datetime.now(UTC) - timedelta(hours=24))
    actor = ctx.principal.username

    def budget_sum() -> None:
        with crm.engine.connect() as conn:
            crm._rows_read(conn, actor, since)

    def guarded_list() -> None:
        crm.list(ctx, "contact", page_size=50)

    sums, lists = [], []
    for _ in range(rounds):
        sums.append(_median_time(lambda: [budget_sum() for _ in range(200)], 1) / 200)
        lists.append(_median_time(lambda: [guarded_list() for _ in range(50)], 1) / 50)
    return statistics.median(sums), statistics.median(lists)


def bench_init() -> float:
    home = Path(tempfile.mkdtemp(prefix="crmguard-bench-init-"))
    try:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "crmguard.cli.app", "--home", str(home / "h"), "init", "--demo"],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--views", type=int, default=2000)
    parser.add_argument("--skip-init", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="crmguard-bench-"))
    try:
        crm, ctx = _setup(workdir, args.contacts)
        base, guard = bench_export(crm, ctx, args.rounds)
        print(
            f"export {args.contacts:,} contacts: unguarded {base * 1000:.0f} ms, "
            f"guarded {guard * 1000:.0f} ms, ratio {guard / base:.2f} (target <= 1.30)"
        )
        base, guard = bench_view(crm, ctx, args.views, args.rounds)
        print(
            f"single view: unguarded+naive log {base * 1e6:.0f} us, guarded {guard * 1e6:.0f} us, "
            f"ratio {guard / base:.2f} (target <= 1.50)"
        )
        budget, listed = bench_budget(crm, ctx, args.rounds)
        print(
            f"read budget sum (1,000 list events in the window): {budget * 1e6:.0f} us; "
            f"guarded list of 50 rows {listed * 1e6:.0f} us; share {budget / listed:.2f}"
        )
        crm.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not args.skip_init:
        seconds = bench_init()
        print(
            f"init --demo (defaults): {seconds:.1f} s, ratio to the 60 s budget "
            f"{seconds / 60:.2f} (target < 1.00)"
        )


if __name__ == "__main__":
    main()
