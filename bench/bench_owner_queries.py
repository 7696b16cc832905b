"""Owners' questions on a large ledger: each must answer in under 200 ms at 10 million events.

Builds a ledger of N events (default 10,000,000) shaped like a year of a 60-person
company (views of one record, list pages, searches, a few large exports, denials, four
channels), then times the owners' questions through ``Ledger.entries`` and
``Ledger.activity``: the first run (cold-ish: the database's own caches are cold after a
build or a ``--reuse`` start, the OS page cache may not be) and the median of 5 warm runs.
Questions are asked as the operator (every actor) and, for some, within a reader's
ledger scope (``actor IN`` the team's usernames, the clause ``LedgerReadsMixin`` adds).
The baseline, measured in the same run on the same ledger, is the cheapest useful read:
the newest 50 entries unfiltered.

The ledger is a real one: every entry carries its public chain hash and keyed seal
(key ``b"k" * 32``), and the record index holds exactly what ``record_index.catch_up``
would write (``--verify`` walks the chain afterwards). It is loaded as a restore would
load it: rows first (PostgreSQL: ``COPY``; SQLite: ``executemany``), the secondary
indexes and the record index's key built afterwards, then ANALYZE.

    python bench/bench_owner_queries.py                      # SQLite, 10M events, temp file
    python bench/bench_owner_queries.py --file /tmp/owner.db --reuse   # build once, keep
    python bench/bench_owner_queries.py \\
        --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres --db bench_owner --reuse
    python bench/bench_owner_queries.py --events 1000000     # a quicker look
    python bench/bench_owner_queries.py ... --explain        # each question's plans

With ``--pg`` and no ``--db`` a scratch database is made and dropped afterwards; with
``--db NAME`` the database is kept, and ``--reuse`` uses it as it is when it already
holds a complete ledger of ``--events`` entries (missing indexes are created, so a new
index is measured without a reload).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
)

from access import Principal
from access.scopes import rows_in
from audit import Ledger, audit_ledger, create_tables
from audit.chain import Sealer, canonical, link
from audit.events import GENESIS_HASH
from audit.record_index import split_record
from crm_models.people import Team, User

USERS = [f"user{i:02d}" for i in range(60)]
HEAVY = USERS[:6]
TEAM_SIZE = 10
START = datetime(2025, 12, 1, tzinfo=UTC)
SPAN_S = 365 * 86400
CONTACTS = 200_000
LIMIT_MS = 200.0
KEY = b"k" * 32
WARM_ROUNDS = 5

Event = tuple[tuple[Any, ...], list[tuple[str, str, int]]]


def _events(n: int, seed: int) -> Iterator[Event]:
    """(ledger row, record index rows) per entry, chained and sealed as the writer does."""
    rng = random.Random(seed)
    step = SPAN_S / n
    seal = Sealer(KEY)
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        ts = (START + timedelta(seconds=seq * step)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        actor = rng.choice(HEAVY) if rng.random() < 0.3 else rng.choice(USERS)
        r = rng.random()
        outcome = "allowed"
        ids: list[int | str]
        if r < 0.55:
            action, ids = "view", [rng.randrange(CONTACTS)]
            if rng.random() < 0.1:
                ids.append(f"company:{rng.randrange(20_000)}")
        elif r < 0.75:
            action = "list"
            first = rng.randrange(CONTACTS - 10)
            ids = list(range(first, first + 10))
        elif r < 0.85:
            action, ids = "search", list(rng.sample(range(CONTACTS), 5))
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
        # Ids are ints and "company:N": json.dumps gives the canonical text here.
        rids = json.dumps(ids, separators=(",", ":"))
        request_id = uuid.UUID(int=seq).hex
        body = canonical(seq, ts, actor, action, "contact", rids, len(ids), outcome, channel,
                         "10.0.0.1", request_id, "{}")  # fmt: skip
        digest = link(prev, body)
        row = (
            seq, ts, actor, action, "contact", rids, len(ids), outcome, channel, "10.0.0.1",
            request_id, "{}", prev, digest, seal(digest),
        )  # fmt: skip
        index = {split_record("contact", rid) for rid in ids}
        yield row, [(rid, kind, seq) for kind, rid in index]
        prev = digest


_KEYS = [
    "seq", "ts", "actor", "action", "resource", "record_ids", "count", "outcome", "channel",
    "ip", "request_id", "details", "prev_hash", "hash", "mac",
]  # fmt: skip
_CHUNK = 20_000


def _progress(done: int, n: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"  loaded {done:,} / {n:,} entries ({rate:,.0f}/s)", file=sys.stderr, flush=True)


def _copy_line(values: tuple[Any, ...]) -> str:
    # COPY text format; no value here holds a tab, newline or backslash.
    return "\t".join(map(str, values)) + "\n"


def _build_pg(engine: Engine, n: int, seed: int) -> None:
    with engine.begin() as conn:
        for ix in audit_ledger.indexes:
            ix.drop(conn)
        conn.execute(text("ALTER TABLE audit_record_index DROP CONSTRAINT audit_record_index_pkey"))
    rows_conn, index_conn = engine.raw_connection(), engine.raw_connection()
    started = time.perf_counter()
    try:
        rows_cur, index_cur = rows_conn.cursor(), index_conn.cursor()
        rows_sql = f"COPY audit_ledger ({', '.join(_KEYS)}) FROM STDIN"
        index_sql = "COPY audit_record_index (rid, resource, seq) FROM STDIN"
        with (
            rows_cur.copy(rows_sql) as rows_copy,
            index_cur.copy(index_sql) as index_copy,
        ):
            lines: list[str] = []
            index_lines: list[str] = []
            for row, index in _events(n, seed):
                lines.append(_copy_line(row))
                index_lines.extend(_copy_line(r) for r in index)
                if len(lines) == _CHUNK:
                    rows_copy.write("".join(lines))
                    index_copy.write("".join(index_lines))
                    lines.clear()
                    index_lines.clear()
                    if row[0] % 1_000_000 == 0:
                        _progress(row[0], n, started)
            rows_copy.write("".join(lines))
            index_copy.write("".join(index_lines))
        rows_conn.commit()
        index_conn.commit()
    finally:
        rows_conn.close()
        index_conn.close()
    print(f"  rows copied in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        conn.execute(
            text(
                "ALTER TABLE audit_record_index ADD CONSTRAINT audit_record_index_pkey "
                "PRIMARY KEY (rid, resource, seq)"
            )
        )
        for ix in audit_ledger.indexes:
            ix.create(conn)
        conn.execute(
            text("INSERT INTO audit_index_progress (id, indexed_upto) VALUES (1, :n)"), {"n": n}
        )


def _build_sqlite(engine: Engine, n: int, seed: int) -> None:
    with engine.begin() as conn:
        for ix in audit_ledger.indexes:
            ix.drop(conn)
    raw = engine.raw_connection()
    started = time.perf_counter()
    try:
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-1000000")
        sql = f"INSERT INTO audit_ledger ({', '.join(_KEYS)}) VALUES ({', '.join('?' * 15)})"
        index_sql = "INSERT INTO audit_record_index (rid, resource, seq) VALUES (?, ?, ?)"
        batch: list[tuple[Any, ...]] = []
        index_batch: list[tuple[str, str, int]] = []
        for row, index in _events(n, seed):
            batch.append(row)
            index_batch.extend(index)
            if len(batch) == _CHUNK:
                raw.executemany(sql, batch)
                raw.executemany(index_sql, index_batch)
                batch.clear()
                index_batch.clear()
                if row[0] % 1_000_000 == 0:
                    _progress(row[0], n, started)
        raw.executemany(sql, batch)
        raw.executemany(index_sql, index_batch)
        raw.execute("INSERT INTO audit_index_progress (id, indexed_upto) VALUES (1, ?)", (n,))
        raw.commit()
    finally:
        raw.close()
    print(f"  rows inserted in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with engine.begin() as conn:
        for ix in audit_ledger.indexes:
            ix.create(conn)


def _complete(engine: Engine, n: int) -> bool:
    """Does the database already hold a whole bench ledger of ``n`` entries?"""
    if not inspect(engine).has_table("audit_ledger") or not inspect(engine).has_table("users"):
        return False
    with engine.connect() as conn:
        head = conn.execute(text("SELECT max(seq) FROM audit_ledger")).scalar()
        upto = conn.execute(text("SELECT max(indexed_upto) FROM audit_index_progress")).scalar()
    return head == n and upto == n


def _people(engine: Engine) -> None:
    """Teams of ten and the 60 users: what a reader's ledger scope is resolved against."""
    teams, users = cast(Table, Team.__table__), cast(Table, User.__table__)
    with engine.begin() as conn:
        teams.create(conn)
        users.create(conn)
        conn.execute(insert(teams), [{"id": t + 1, "name": f"team{t}"} for t in range(6)])
        conn.execute(
            insert(users),
            [
                {"id": i + 1, "username": name, "display_name": name, "email": "",
                 "active": True, "team_id": i // TEAM_SIZE + 1, "roles": []}
                for i, name in enumerate(USERS)
            ],
        )  # fmt: skip


def _analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        # What autovacuum does to an insert-only table: statistics and the visibility
        # map (index-only scans).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE audit_ledger"))
            conn.execute(text("VACUUM ANALYZE audit_record_index"))
            conn.execute(text("VACUUM ANALYZE users"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def prepare(engine: Engine, n: int, seed: int, reuse: bool) -> str:
    """Build the ledger (or reuse the one there); returns what was done."""
    if reuse and _complete(engine, n):
        with engine.begin() as conn:
            # A reused database gets the indexes this version defines and lacks.
            present = _index_names(conn)
            missing = [str(ix.name) for ix in audit_ledger.indexes if ix.name not in present]
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            for ix in audit_ledger.indexes:
                if ix.name in missing:
                    ix.create(conn)
            # ... and loses the ones it no longer defines.
            defined = {ix.name for ix in audit_ledger.indexes}
            for name in sorted(present - defined):
                if name.startswith("ix_audit_ledger_"):
                    conn.execute(text(f"DROP INDEX {name}"))
                    missing.append(f"-{name}")
        if missing:
            _analyze(engine)
        return f"reused (created/-dropped: {', '.join(missing) or 'nothing'})"
    if inspect(engine).has_table("audit_ledger"):
        raise SystemExit("the database already holds a ledger that is not a complete bench one")
    started = time.perf_counter()
    create_tables(engine)
    (_build_pg if engine.dialect.name == "postgresql" else _build_sqlite)(engine, n, seed)
    _people(engine)
    _analyze(engine)
    return f"built in {time.perf_counter() - started:.0f} s"


def _index_names(conn: Any) -> set[str]:
    if conn.dialect.name == "postgresql":
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_ledger'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_ledger'"
    return {str(r[0]) for r in conn.execute(text(sql))}


def team_scope(team: int) -> tuple[ColumnElement[bool], ...]:
    """The ledger scope of a reader with ``team`` scope, built as LedgerReadsMixin does."""
    users = cast(Table, User.__table__)
    reader = Principal(user_id=team * TEAM_SIZE + 1, username="", team_id=team + 1, roles=())
    in_scope = select(users.c.username).where(rows_in("team", "audit", reader, users.c.id))
    return (audit_ledger.c.actor.in_(in_scope),)


class Statements:
    """The SQL each question sends (for ``--explain``)."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        # SET LOCAL too: a plan is only the app's if the app's settings are replayed.
        if self.on and statement.lstrip().upper().startswith(("SELECT", "SET")):
            self.seen.append((statement, params))


def explain(engine: Engine, statements: list[tuple[str, Any]]) -> None:
    pg = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
    raw = engine.raw_connection()
    try:
        for statement, params in statements:
            cur = raw.cursor()
            if statement.lstrip().upper().startswith("SET"):
                cur.execute(statement, params)
                print("      " + statement)
                continue
            cur.execute(prefix + statement, params)
            print("      " + " ".join(statement.split()), f"  {params}")
            for row in cur.fetchall():
                print("        " + (row[0] if pg else str(row[-1])))
            cur.close()
        raw.rollback()
    finally:
        raw.close()


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(first run, median of the warm runs) in ms, and the answer."""
    started = time.perf_counter()
    result = fn()
    first = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(WARM_ROUNDS):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(samples), result


def questions(ledger: Ledger) -> list[tuple[str, Callable[[], object]]]:
    month_ago = START + timedelta(days=330)
    team0, team3 = team_scope(0), team_scope(3)
    e = ledger.entries
    return [
        ("who viewed contact 4242 (newest 50)",
         lambda: list(e(record_resource="contact", record_id=4242, limit=50,
                        newest_first=True))),
        ("who viewed contact 4242 (every entry, a year)",
         lambda: list(e(record_resource="contact", record_id=4242))),
        ("who viewed company 77 (included in contact views)",
         lambda: list(e(record_resource="company", record_id=77, newest_first=True, limit=50))),
        ("contact 4242, team scope (newest 50)",
         lambda: list(e(record_resource="contact", record_id=4242, limit=50, newest_first=True,
                        where=team3))),
        ("a heavy user's newest 50", lambda: list(e(actor=HEAVY[0], limit=50,
                                                    newest_first=True))),
        ("a heavy user's newest 1,000 (the API's largest page)",
         lambda: list(e(actor=HEAVY[0], limit=1000, newest_first=True))),
        ("a heavy user's newest 6,000 (3 keyset batches)",
         lambda: list(e(actor=HEAVY[0], limit=6000, newest_first=True))),
        ("a user's exports (newest 50)",
         lambda: list(e(actor=USERS[30], action="export", limit=50, newest_first=True))),
        ("exports by anyone (newest 50)",
         lambda: list(e(action="export", limit=50, newest_first=True))),
        ("denials (newest 50)", lambda: list(e(outcome="denied", limit=50, newest_first=True))),
        ("system channel (newest 50)",
         lambda: list(e(channel="system", limit=50, newest_first=True))),
        ("a user's denials on the cli, a month (newest 50)",
         lambda: list(e(month_ago, month_ago + timedelta(days=30), actor=USERS[40],
                        outcome="denied", channel="cli", limit=50, newest_first=True))),
        ("denied exports (newest 50)",
         lambda: list(e(action="export", outcome="denied", limit=50, newest_first=True))),
        ("one hour a month ago (50)",
         lambda: list(e(month_ago, month_ago + timedelta(hours=1), limit=50))),
        ("one hour a month ago, newest first (50)",
         lambda: list(e(month_ago, month_ago + timedelta(hours=1), limit=50,
                        newest_first=True))),
        ("a user's day a month ago (every entry)",
         lambda: list(e(month_ago, month_ago + timedelta(days=1), actor=USERS[40]))),
        ("team scope: the team's newest 50", lambda: list(e(limit=50, newest_first=True,
                                                            where=team3))),
        ("team scope: the team's denials (newest 50)",
         lambda: list(e(outcome="denied", limit=50, newest_first=True, where=team3))),
        ("team scope: one hour a month ago (50)",
         lambda: list(e(month_ago, month_ago + timedelta(hours=1), limit=50, where=team0))),
        ("a heavy user's activity per day, 30 days",
         lambda: ledger.activity(HEAVY[0], since=START + timedelta(days=335))),
        ("a user's activity per day, a whole year", lambda: ledger.activity(USERS[40])),
        ("a heavy user's activity per day, a whole year",
         lambda: ledger.activity(HEAVY[0])),
        ("team scope: a team member's activity, a whole year",
         lambda: ledger.activity(USERS[35], where=team3)),
    ]  # fmt: skip


def run(url: str, n: int, seed: int, reuse: bool, show_plans: bool, verify: bool) -> bool:
    engine = create_engine(url)
    done = prepare(engine, n, seed, reuse)
    print(f"{engine.dialect.name}: {n:,} events, {done}")
    ledger = Ledger(engine, KEY)
    if verify:
        started = time.perf_counter()
        checked = ledger.verify()
        print(f"verify: {'intact' if checked.ok else checked.problem}, {checked.checked:,} entries "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    recorder = Statements(engine)
    first, base_ms, _ = timed(lambda: list(ledger.entries(limit=50, newest_first=True)))
    print(f"baseline: newest 50 entries unfiltered: first {first:.2f} ms, warm {base_ms:.2f} ms")
    print(f"  {'question':<52} {'first':>9} {'warm':>9}  {'vs base':>7}")
    ok = True
    for name, fn in questions(ledger):
        first, ms, result = timed(fn)
        size = len(result) if isinstance(result, list) else "?"
        verdict = "ok" if ms < LIMIT_MS else "OVER 200 ms"
        if ms < LIMIT_MS <= first:
            verdict += " (first run over)"
        ok &= ms < LIMIT_MS
        print(f"  {name:<52} {first:6.1f} ms {ms:6.1f} ms  {ms / base_ms:6.1f}x  "
              f"({size} rows)  {verdict}", flush=True)  # fmt: skip
        if show_plans:
            recorder.seen.clear()
            recorder.on = True
            fn()
            recorder.on = False
            explain(engine, recorder.seen)
    engine.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", help="PostgreSQL admin URL; the bench database is made there")
    parser.add_argument("--db", help="PostgreSQL: keep the bench in this database")
    parser.add_argument("--file", type=Path, help="SQLite: keep the bench in this file")
    parser.add_argument("--reuse", action="store_true", help="use a complete ledger already there")
    parser.add_argument("--explain", action="store_true", help="print each question's plans")
    parser.add_argument("--verify", action="store_true", help="walk the chain before asking")
    args = parser.parse_args()
    flags = (args.reuse, args.explain, args.verify)
    if args.pg:
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        name = args.db or f"crmguard_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = str(create_engine(args.pg).url.set(database=name).render_as_string(False))
            ok = run(url, args.events, args.seed, *flags)
        finally:
            if not args.db:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()
    elif args.file:
        ok = run(f"sqlite:///{args.file}", args.events, args.seed, *flags)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            ok = run(f"sqlite:///{Path(tmp) / 'ledger.db'}", args.events, args.seed, *flags)
    print("all under 200 ms" if ok else "some questions took over 200 ms")


if __name__ == "__main__":
    main()
