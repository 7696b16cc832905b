"""Benchmark: verify() over 100,000 ledger events, against just reading the same rows.

Also measures append() against a naive one-row INSERT + COMMIT into a plain table, the
budget a guarded view has to fit in. Both figures are ratios against a baseline taken in
the same run, on the same database, so they compare across machines.

    python bench/bench_ledger_verify.py                 # SQLite in a temporary directory
    python bench/bench_ledger_verify.py --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit import AuditEvent, Ledger, create_tables
from audit.verify import BATCH
from audit.walk import select_sql

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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        create_tables(engine)
        ledger = Ledger(engine, KEY)
        start = time.perf_counter()
        build(ledger, engine, args.events)
        took = time.perf_counter() - start
        print(f"built {args.events} events in {took:.1f}s ({engine.dialect.name})")
        read_rows(engine)  # warm the cache so both runs read from memory
        baseline = best_of(3, lambda: read_rows(engine))
        verify = best_of(3, ledger.verify)
        result = ledger.verify()
        assert result.ok and result.checked == args.events, result
        print(f"read rows : {args.events / baseline:>10,.0f} rows/s")
        print(f"verify    : {args.events / verify:>10,.0f} events/s")
        print(f"verify / read ratio: {verify / baseline:.2f}x")
        naive, guarded = bench_append(engine, ledger, args.appends)
        print(f"naive INSERT+COMMIT : {naive * 1e6:8.0f} us")
        print(f"ledger append()     : {guarded * 1e6:8.0f} us")
        print(f"append / naive ratio: {guarded / naive:.2f}x")
        engine.dispose()


if __name__ == "__main__":
    main()
