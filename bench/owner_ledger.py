"""The bench ledger of ``bench_owner_queries.py``: a year of a 60-person company (one of
whom left after four months), chained and sealed as the writer does, loaded as a restore
would load it (rows first, then the secondary indexes and the record index's key, then
the day totals as ``crmguard migrate`` sums them, then ANALYZE), or reused when complete.

Kept apart from the questions and their timing so that each file holds one thing; the
bench script imports it from its own folder.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, inspect, text

from audit import audit_ledger, create_tables, day_totals
from audit.chain import Sealer, canonical, link
from audit.events import GENESIS_HASH
from audit.record_index import split_record
from crm_models.people import Team, User

USERS = [f"user{i:02d}" for i in range(60)]
HEAVY = USERS[:6]
#: A manager who left four months into the year: an owner's first question about them
#: ("what did they do last?") reads entries eight months behind the head.
DEPARTED = USERS[-1]
DEPARTED_AFTER_S = 120 * 86400
TEAM_SIZE = 10
START = datetime(2025, 12, 1, tzinfo=UTC)
SPAN_S = 365 * 86400
CONTACTS = 200_000
KEY = b"k" * 32

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
        if actor == DEPARTED and seq * step > DEPARTED_AFTER_S:
            actor = USERS[-2]  # their work went to a colleague (no draw: the rest is as before)
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
        # a ledger of an earlier version of this bench has the departed user to the end
        last = conn.execute(
            text("SELECT max(seq) FROM audit_ledger WHERE actor = :who"), {"who": DEPARTED}
        ).scalar()
    return head == n and upto == n and (last or 0) * (SPAN_S / n) <= DEPARTED_AFTER_S


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
            conn.execute(text("VACUUM ANALYZE audit_day_totals"))
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
        summed = _sum_days(engine)
        if missing or summed:
            _analyze(engine)
        return f"reused (created/-dropped: {', '.join(missing) or 'nothing'}){summed}"
    if inspect(engine).has_table("audit_ledger"):
        raise SystemExit("the database already holds a ledger that is not a complete bench one")
    started = time.perf_counter()
    create_tables(engine)
    (_build_pg if engine.dialect.name == "postgresql" else _build_sqlite)(engine, n, seed)
    _people(engine)
    summed = _sum_days(engine)
    _analyze(engine)
    return f"built in {time.perf_counter() - started:.0f} s{summed}"


def _sum_days(engine: Engine) -> str:
    """The day totals of a ledger that has none yet (tables, guards and sums, as the
    0007 migration makes them); what it took, or "" when they were there."""
    with engine.connect() as conn:
        summed = inspect(conn).has_table("audit_totals_progress")
        if summed and day_totals.totals_upto(conn) > 0:
            return ""
    started = time.perf_counter()
    create_tables(engine)  # the tables this version defines and lacks, and their guards
    with engine.begin() as conn:
        day_totals.catch_up(conn, datetime.now(UTC))
    return f"; day totals summed in {time.perf_counter() - started:.0f} s"


def _index_names(conn: Any) -> set[str]:
    if conn.dialect.name == "postgresql":
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_ledger'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_ledger'"
    return {str(r[0]) for r in conn.execute(text(sql))}
