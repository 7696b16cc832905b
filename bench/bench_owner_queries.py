"""Owners' questions on a large ledger: each must answer in under 200 ms at 10 million events.

Builds a ledger of N events (default 10,000,000) shaped like a year of a 60-person
company (views of one record, list pages, searches, a few large exports, denials, four
channels), indexes it, then times the owners' questions through ``Ledger.entries`` and
``Ledger.activity`` (median of 5 after a warm-up). The baseline, measured in the same
run on the same ledger, is the cheapest useful read: the newest 50 entries unfiltered.

    python bench/bench_owner_queries.py                      # SQLite, 10M events
    python bench/bench_owner_queries.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/bench_owner_queries.py --events 1000000     # a quicker look

Hashes in the built ledger are placeholders: the chain is not what is measured here
(``bench_ledger_verify.py`` measures verification).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from audit import Ledger, audit_ledger, create_tables

USERS = [f"user{i:02d}" for i in range(60)]
HEAVY = USERS[:6]
START = datetime(2025, 12, 1, tzinfo=UTC)
SPAN_S = 365 * 86400
CONTACTS = 200_000
LIMIT_MS = 200.0


def _rows(n: int, seed: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    step = SPAN_S / n
    for seq in range(1, n + 1):
        ts = (START + timedelta(seconds=seq * step)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        actor = rng.choice(HEAVY) if rng.random() < 0.3 else rng.choice(USERS)
        r = rng.random()
        outcome = "allowed"
        if r < 0.55:
            action, ids = "view", [rng.randrange(CONTACTS)]
            if rng.random() < 0.1:
                ids.append(f"company:{rng.randrange(20_000)}")
        elif r < 0.75:
            action = "list"
            first = rng.randrange(CONTACTS - 10)
            ids = list(range(first, first + 10))
        elif r < 0.85:
            action, ids = "search", rng.sample(range(CONTACTS), 5)
        elif r < 0.8505:
            action = "export"
            first = rng.randrange(CONTACTS - 200)
            ids = list(range(first, first + 200))
        elif r < 0.87:
            action, ids, outcome = "view", [rng.randrange(CONTACTS)], "denied"
        elif r < 0.95:
            action, ids = "update", [rng.randrange(CONTACTS)]
        else:
            action, ids = "audit.read", []
        channel = ("api", "web", "cli", "system")[min(3, int(rng.random() ** 2 * 4))]
        yield (
            seq, ts, actor, action, "contact", json.dumps(ids, separators=(",", ":")),
            len(ids), outcome, channel, "10.0.0.1", uuid.UUID(int=seq).hex, "{}",
            "0" * 64, "0" * 64,
        )  # fmt: skip


_KEYS = [
    "seq",
    "ts",
    "actor",
    "action",
    "resource",
    "record_ids",
    "count",
    "outcome",
    "channel",
    "ip",
    "request_id",
    "details",
    "prev_hash",
    "hash",
]


def build(engine: Engine, n: int, seed: int) -> None:
    create_tables(engine)
    rows = _rows(n, seed)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cols = ", ".join(_KEYS)
            with cur.copy(f"COPY audit_ledger ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # What autovacuum does to an insert-only table: statistics and the
            # visibility map (index-only scans).
            conn.execute(text("VACUUM ANALYZE audit_ledger"))
        return
    # Bulk load as a restore would: rows first, the ledger's indexes built afterwards.
    indexes = [ix for ix in audit_ledger.indexes]
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn)
    raw = engine.raw_connection()
    try:
        raw.execute("PRAGMA synchronous=OFF")
        cols = ", ".join(_KEYS)
        marks = ", ".join("?" for _ in _KEYS)
        sql = f"INSERT INTO audit_ledger ({cols}) VALUES ({marks})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 100_000:
                raw.executemany(sql, batch)
                batch.clear()
        if batch:
            raw.executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        for ix in indexes:
            ix.create(conn)
        conn.execute(text("ANALYZE"))


def timed(fn: Callable[[], object], rounds: int = 5) -> tuple[float, object]:
    fn()  # warm-up (and the record index's catch-up, if anything is new)
    samples = []
    result: object = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def run(url: str, n: int, seed: int) -> bool:
    engine = create_engine(url)
    started = time.perf_counter()
    build(engine, n, seed)
    built = time.perf_counter() - started
    ledger = Ledger(engine, b"k" * 32)
    started = time.perf_counter()
    ledger.index_records()
    indexed = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE audit_record_index"))
    print(f"{engine.dialect.name}: {n:,} events built in {built:.0f} s, indexed in {indexed:.0f} s")

    month_ago = START + timedelta(days=330)
    questions: list[tuple[str, Callable[[], object]]] = [
        ("who viewed contact 4242 (newest 50)",
         lambda: list(ledger.entries(record_resource="contact", record_id=4242, limit=50,
                                     newest_first=True))),
        ("who viewed contact 4242 (every entry, a year)",
         lambda: list(ledger.entries(record_resource="contact", record_id=4242))),
        ("who viewed company 77 (included in contact views)",
         lambda: list(ledger.entries(record_resource="company", record_id=77, newest_first=True,
                                     limit=50))),
        ("a heavy user's newest 50", lambda: list(ledger.entries(actor=HEAVY[0], limit=50,
                                                                 newest_first=True))),
        ("a user's exports (newest 50)",
         lambda: list(ledger.entries(actor=USERS[30], action="export", limit=50,
                                     newest_first=True))),
        ("denials (newest 50)", lambda: list(ledger.entries(outcome="denied", limit=50,
                                                            newest_first=True))),
        ("system channel (newest 50)", lambda: list(ledger.entries(channel="system", limit=50,
                                                                   newest_first=True))),
        ("one hour a month ago (50)",
         lambda: list(ledger.entries(since=month_ago, until=month_ago + timedelta(hours=1),
                                     limit=50))),
        ("a heavy user's activity per day, 30 days",
         lambda: ledger.activity(HEAVY[0], since=START + timedelta(days=335))),
        ("a user's activity per day, a whole year", lambda: ledger.activity(USERS[40])),
    ]  # fmt: skip
    base_ms, _ = timed(lambda: list(ledger.entries(limit=50, newest_first=True)))
    print(f"baseline: newest 50 entries unfiltered: {base_ms:.2f} ms")
    ok = True
    for name, fn in questions:
        ms, result = timed(fn)
        size = len(result) if isinstance(result, list) else "?"
        verdict = "ok" if ms < LIMIT_MS else "OVER 200 ms"
        ok &= ms < LIMIT_MS
        print(f"  {name:<52} {ms:8.2f} ms  {ms / base_ms:7.1f}x baseline  "
              f"({size} rows)  {verdict}")  # fmt: skip
    engine.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", help="PostgreSQL admin URL; a scratch database is made there")
    args = parser.parse_args()
    if args.pg:
        name = f"crmguard_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = str(create_engine(args.pg).url.set(database=name).render_as_string(False))
            ok = run(url, args.events, args.seed)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            ok = run(f"sqlite:///{Path(tmp) / 'ledger.db'}", args.events, args.seed)
    print("all under 200 ms" if ok else "some questions took over 200 ms")


if __name__ == "__main__":
    main()
