"""Benchmark: ledger appends from 1, 4, 16 and 64 concurrent writers (group commit),
against one-row INSERT + COMMIT per event from as many writers, in the same run.

Every append returns only after the commit that holds it, on the product's engine
settings (SQLite in WAL with synchronous=FULL; PostgreSQL as configured), so both
columns are durable events per second. Baseline and appends alternate for ``--rounds``
rounds per writer count (one writer: event by event, see :func:`run_paired`); the
medians are printed, with the mean batch size (events per commit), the load average,
and ``flush``: the median one-row commit time measured in each round (a shared
machine's fsync time moves with its load). Since every writer
waits for its own commit, ``ceiling`` = writers / flush is the most any design can
reach at that moment: a commit carries at most one event per writer.

    python bench/bench_ledger_append.py                 # SQLite in a temporary directory
    python bench/bench_ledger_append.py --url postgresql+psycopg://postgres@127.0.0.1/bench

``--no-fsync`` (diagnostic only, NOT durable: SQLite synchronous=OFF, PostgreSQL
synchronous_commit=off) shows what the machinery itself costs when the disk is not the
bottleneck: with W writers each waiting for its commit, durable throughput can never
exceed W divided by the time of one flush, whatever the design.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit import AuditEvent, Ledger, create_tables
from audit.writer import Placement, Prepared
from crmguard.db import make_engine

KEY = b"bench-key-bench-key-bench-key-32"


class CountingLedger(Ledger):
    """The product's ledger, counting commits to report the mean batch size."""

    commits = 0
    events = 0

    def _insert_committed(self, prepared: list[Prepared]) -> tuple[list[Placement], datetime]:
        done = super()._insert_committed(prepared)
        self.commits += 1
        self.events += len(prepared)
        return done


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


def run_paired(
    total: int, first: Callable[[int], None], second: Callable[[int], None]
) -> tuple[float, float]:
    """Events per second of ``first`` and of ``second`` from one thread, called in turn
    event by event, so both see the same disk: a flush that moves between 0.3 ms and
    4 ms from one second to the next would otherwise decide a one-writer ratio."""
    spent = [0.0, 0.0]
    for i in range(total):
        for side, one in enumerate((first, second)):
            start = time.perf_counter()
            one(i)
            spent[side] += time.perf_counter() - start
    return total / spent[0], total / spent[1]


def commit_ms(engine: Engine, first_id: int, n: int = 20) -> float:
    """Median time of one one-row INSERT + COMMIT from a single thread (ids from
    ``first_id`` downwards): about one flush, which bounds W writers to W per flush."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO naive_log (id, line) VALUES (:i, :l)"),
                {"i": first_id - i, "l": "flush probe"},
            )
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def engine_for(url: str, writers: int, no_fsync: bool = False) -> Engine:
    engine = make_engine(url, bulk=no_fsync)
    if engine.dialect.name == "postgresql":
        # One connection per naive writer, so that the baseline is not bound by the pool.
        engine.dispose()
        options = {"options": "-c synchronous_commit=off"} if no_fsync else {}
        engine = create_engine(
            url, pool_size=writers + 2, max_overflow=writers, connect_args=options
        )
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--events", type=int, default=3200, help="events per measurement")
    parser.add_argument("--writers", default="1,4,16,64")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians)")
    parser.add_argument(
        "--no-fsync", action="store_true", help="diagnostic: commits NOT durable (see above)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        setup = make_engine(url)
        create_tables(setup)
        with setup.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS naive_log"))
            conn.execute(text("CREATE TABLE naive_log (id INTEGER PRIMARY KEY, line TEXT)"))
        print(
            f"{setup.dialect.name}: {args.events} events per measurement, "
            f"{'NOT DURABLE (--no-fsync)' if args.no_fsync else 'durable commits'}, "
            f"{args.rounds} alternating rounds (medians); load average "
            + " ".join(f"{x:.1f}" for x in os.getloadavg())
        )
        setup.dispose()
        print(
            f"{'writers':>8} {'INSERT+COMMIT/s':>16} {'append/s':>10} {'ratio':>7} "
            f"{'batch':>6} {'flush':>8} {'ceiling':>8}"
        )
        offset = 0
        probe = -1
        for writers in [int(w) for w in args.writers.split(",")]:
            engine = engine_for(url, writers, args.no_fsync)
            ledger = CountingLedger(engine, KEY)
            naive_rates: list[float] = []
            append_rates: list[float] = []
            flushes: list[float] = []
            for _ in range(args.rounds):
                flushes.append(commit_ms(engine, probe))
                probe -= 20
                base = offset

                def naive(i: int, base: int = base, engine: Engine = engine) -> None:
                    with engine.begin() as conn:
                        conn.execute(
                            text("INSERT INTO naive_log (id, line) VALUES (:i, :l)"),
                            {"i": base + i, "l": "alice view contact 42"},
                        )

                def append(i: int, ledger: Ledger = ledger) -> None:
                    ledger.append(AuditEvent("alice", "view", "contact", (i,), 1, channel="web"))

                if writers == 1:
                    naive_rate, append_rate = run_paired(args.events, naive, append)
                    naive_rates.append(naive_rate)
                    append_rates.append(append_rate)
                else:
                    naive_rates.append(run_threads(writers, args.events, naive))
                    append_rates.append(run_threads(writers, args.events, append))
                offset += args.events
            baseline = statistics.median(naive_rates)
            grouped = statistics.median(append_rates)
            batch = ledger.events / max(1, ledger.commits)
            flush = statistics.median(flushes)
            print(
                f"{writers:>8} {baseline:>16,.0f} {grouped:>10,.0f} "
                f"{grouped / baseline:>6.2f}x {batch:>6.1f} {flush:>6.2f}ms "
                f"{writers * 1000 / flush:>8,.0f}"
            )
            ledger.close()
            engine.dispose()
        print("load average after: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        check = make_engine(url)
        assert Ledger(check, KEY).verify().ok
        check.dispose()


if __name__ == "__main__":
    main()
