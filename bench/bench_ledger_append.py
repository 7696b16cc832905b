"""Benchmark: ledger appends from 1, 4, 16 and 64 concurrent writers (group commit),
against one-row INSERT + COMMIT per event from as many writers, in the same run.

Every append returns only after the commit that holds it, on the product's engine
settings (SQLite in WAL with synchronous=FULL; PostgreSQL as configured), so both
columns are durable events per second.

    python bench/bench_ledger_append.py                 # SQLite in a temporary directory
    python bench/bench_ledger_append.py --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit import AuditEvent, Ledger, create_tables
from crmguard.db import make_engine

KEY = b"bench-key-bench-key-bench-key-32"


def run_threads(writers: int, total: int, one: Callable[[int], None]) -> float:
    """Events per second with ``writers`` threads sharing ``total`` events."""
    per = total // writers
    barrier = threading.Barrier(writers + 1)

    def work(w: int) -> None:
        barrier.wait()
        for i in range(per):
            one(w * per + i)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return per * writers / (time.perf_counter() - start)


def engine_for(url: str, writers: int) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        engine.dispose()
        from sqlalchemy import create_engine

        engine = create_engine(url, pool_size=writers + 2, max_overflow=writers)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--events", type=int, default=3000, help="events per measurement")
    parser.add_argument("--writers", default="1,4,16,64")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        setup = make_engine(url)
        create_tables(setup)
        with setup.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS naive_log"))
            conn.execute(text("CREATE TABLE naive_log (id INTEGER PRIMARY KEY, line TEXT)"))
        print(f"{setup.dialect.name}: {args.events} events per measurement, durable commits")
        setup.dispose()
        print(f"{'writers':>8} {'INSERT+COMMIT/s':>16} {'append/s':>10} {'ratio':>7}")
        offset = 0
        for writers in [int(w) for w in args.writers.split(",")]:
            engine = engine_for(url, writers)
            base = offset

            def naive(i: int, engine: Engine = engine, base: int = base) -> None:
                with engine.begin() as conn:
                    conn.execute(
                        text("INSERT INTO naive_log (id, line) VALUES (:i, :l)"),
                        {"i": base + i, "l": "alice view contact 42"},
                    )

            ledger = Ledger(engine, KEY)

            def append(i: int, ledger: Ledger = ledger) -> None:
                ledger.append(AuditEvent("alice", "view", "contact", (i,), 1, channel="web"))

            baseline = run_threads(writers, args.events, naive)
            grouped = run_threads(writers, args.events, append)
            offset += args.events
            print(f"{writers:>8} {baseline:>16,.0f} {grouped:>10,.0f} {grouped / baseline:>6.1f}x")
            engine.dispose()
        check = make_engine(url)
        assert Ledger(check, KEY).verify().ok
        check.dispose()


if __name__ == "__main__":
    main()
