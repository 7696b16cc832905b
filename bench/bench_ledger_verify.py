"""Benchmark: verify() over 100,000 ledger events, against just reading the same rows.

Verify is timed as shipped (on a ledger this size a helper process walks the newer half)
and in one process (``parallel_from=None``), in alternating rounds with the plain read;
the figures are medians (best of the rounds in brackets). On PostgreSQL the table is
analyzed after the build, as autovacuum would do on a live ledger.

Also measures append() against a naive one-row INSERT + COMMIT into a plain table, the
budget a guarded view has to fit in. Both figures are ratios against a baseline taken in
the same run, on the same database, so they compare across machines.

    python bench/bench_ledger_verify.py                 # SQLite in a temporary directory
    python bench/bench_ledger_verify.py --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit import AuditEvent, Ledger, create_tables, spare_core, verify_chain
from audit import verify as verify_module
from audit.verify import BATCH
from audit.walk_sql import select_sql

KEY = b"bench-key-bench-key-bench-key-32"


def build(ledger: Ledger, engine: Engine, n: int) -> None:
    done = 0
    while done < n:
        with engine.begin() as conn:
            for _ in range(min(5000, n - done)):
                done += 1
                ids = tuple(range(done, done + 1 + done % 20))
                event = AuditEvent(
                    f"user{done % 37}", "view", "contact", ids, len(ids), channel="web",
                    ip="10.0.0.7", request_id=f"req-{done}", details={"fields": ["email"]},
                )  # fmt: skip
                ledger.append_in(conn, event)


def read_rows(engine: Engine) -> int:
    """Baseline: the same batched query verify runs, on the same driver cursor, touching
    every row, no hashing."""
    n, after = 0, 0
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()  # type: ignore[union-attr]
        sql = select_sql(engine.dialect.paramstyle)
        while True:
            cur.execute(sql, (after, BATCH))
            rows = cur.fetchall()
            for row in rows:
                n += 1
                after = row[0]
            if len(rows) < BATCH:
                return n


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def bench_verify(engine: Engine, n: int, rounds: int) -> dict[str, list[float]]:
    """Alternating rounds: plain read, verify as shipped, verify in one process."""
    runs: dict[str, Callable[[], object]] = {
        "read": lambda: read_rows(engine),
        "verify": lambda: verify_chain(engine, KEY),
        "one process": lambda: verify_chain(engine, KEY, parallel_from=None),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            out = fn()
            times[name].append(time.perf_counter() - start)
            if name != "read":
                assert out.ok and out.checked == n, out  # type: ignore[attr-defined]
    return times


def bench_append(engine: Engine, ledger: Ledger, n: int) -> tuple[float, float]:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE naive_log (id INTEGER PRIMARY KEY, line TEXT)"))
    counter = iter(range(10**9))

    def naive() -> None:
        for _ in range(n):
            with engine.begin() as conn:
                conn.execute(
                    text("INSERT INTO naive_log (id, line) VALUES (:i, :l)"),
                    {"i": next(counter), "l": "alice view contact 42"},
                )

    def guarded() -> None:
        for _ in range(n):
            ledger.append(AuditEvent("alice", "view", "contact", (42,), 1, channel="web"))

    naive_runs, guarded_runs = [], []
    for _ in range(5):  # interleaved, so a burst of load elsewhere hits both alike
        naive_runs.append(best_of(1, naive))
        guarded_runs.append(best_of(1, guarded))
    return min(naive_runs) / n, min(guarded_runs) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--helper",
        choices=("auto", "always"),
        default="auto",
        help="always: start the helper process even when CPU pressure says the "
        "machine is busy (to measure it on a machine other sessions keep loaded)",
    )
    args = parser.parse_args()
    if args.helper == "always":
        verify_module._spare_core = lambda: True
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        create_tables(engine)
        ledger = Ledger(engine, KEY)
        start = time.perf_counter()
        build(ledger, engine, args.events)
        # as the daemon keeps them in production (verify sums the totals; the index is
        # compared only by the deep check, verify --index)
        ledger.index_records()
        ledger.sum_days()
        took = time.perf_counter() - start
        print(f"built {args.events} events in {took:.1f}s ({engine.dialect.name})")
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE audit_ledger"))
        read_rows(engine)  # warm the cache so every run reads from memory
        load = os.getloadavg()[0]
        times = bench_verify(engine, args.events, args.rounds)
        print(f"load average (1 min) before / after the rounds: {load:.2f} / "
              f"{os.getloadavg()[0]:.2f}; CPU pressure (some avg10) now: "
              f"{spare_core._cpu_waiting()} (the helper process starts only below "
              f"{spare_core._PSI_BUSY}%)")  # fmt: skip
        read = statistics.median(times["read"])
        for name, label in (("read", "read rows"), ("verify", "verify"),
                            ("one process", "verify, 1 process")):  # fmt: skip
            unit = "rows/s" if name == "read" else "events/s"
            med, best = statistics.median(times[name]), min(times[name])
            print(f"{label:<18}: {args.events / med:>10,.0f} {unit:<8} "
                  f"(best {args.events / best:,.0f})")  # fmt: skip
        for name in ("verify", "one process"):
            ratios = [v / r for v, r in zip(times[name], times["read"], strict=True)]
            print(f"{name} / read ratio: {statistics.median(ratios):.2f}x "
                  f"(median of {args.rounds} rounds; of medians "
                  f"{statistics.median(times[name]) / read:.2f}x)")  # fmt: skip
        naive, guarded = bench_append(engine, ledger, args.appends)
        print(f"naive INSERT+COMMIT : {naive * 1e6:8.0f} us")
        print(f"ledger append()     : {guarded * 1e6:8.0f} us")
        print(f"append / naive ratio: {guarded / naive:.2f}x")
        engine.dispose()


if __name__ == "__main__":
    main()
