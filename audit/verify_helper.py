"""The helper process of a large verification: it walks the newest batches, newest first.

:func:`audit.verify.verify_chain` walks the ledger up from its oldest live entry; on a
large ledger it starts this helper in a second interpreter (the machine's other core),
which walks the same batches, on the same batch grid, down from the newest. Each batch
is checked on its own, from the stored hash of the entry just before it, with the same
code (:mod:`audit.walk`), and reported as clean (with what the walk needs to carry on
past it) or as having a problem, at which point the helper stops. The parent joins the
clean batches when its own walk reaches them, and only when they start exactly where it
stands; everything else it walks itself, so the diagnosis is the sequential one.

The helper is loaded without the package's ``__init__`` (see :data:`BOOT`), so it
imports only the standard library, this module, :mod:`audit.walk` and what that needs,
plus the database driver. It reads one job (JSON) on stdin and writes one JSON line per
batch on stdout. It only reads: SQLite is opened read-only.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import quote

from audit.events import Vouch
from audit.walk import Walk, walk_next
from audit.walk_sql import queries

BOOT = (
    "import sys, types\n"
    "p = types.ModuleType('audit'); p.__path__ = [sys.argv[1]]; sys.modules['audit'] = p\n"
    "from audit.verify_helper import main\n"
    "main()\n"
)
"""What the helper interpreter runs: a bare package object stands in for ``audit`` so
that its ``__init__`` (SQLAlchemy, cryptography, boto3 hooks) is never imported."""

PG_IDENTITY = (
    "SELECT current_database(), pg_postmaster_start_time()::text, "
    "to_regclass('audit_ledger')::oid::bigint"
)
"""Which ledger table a PostgreSQL connection reads: both sides must agree."""


def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _connect(job: dict[str, Any]) -> tuple[Any, str]:
    """A read connection to the parent's database, and the driver's paramstyle."""
    if job["dialect"] == "sqlite":
        import sqlite3

        uri = f"file:{quote(job['path'])}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=job["timeout"]), "qmark"
    import psycopg

    conn = psycopg.connect(**job["params"], autocommit=True)
    with conn.cursor() as cur:
        cur.execute(PG_IDENTITY)
        if list(cur.fetchone() or ()) != job["identity"]:
            raise RuntimeError("not the parent's ledger table")
    return conn, "pyformat"


def _walk(conn: Any, paramstyle: str, job: dict[str, Any]) -> None:
    key = bytes.fromhex(job["key"]) if job["key"] is not None else None
    vouched: dict[int, list[Vouch]] = {}
    for seq, hash_, source, outside in job["vouches"]:
        vouched.setdefault(seq, []).append(Vouch(seq, hash_, source, outside))
    batch, first, top = job["batch"], job["first"], job["top"]
    q = queries(job["dialect"], paramstyle)
    cursor = conn.cursor()
    start = top
    while start >= first:
        _send({"start": start})
        # The entry before the batch (its hash is where the batch must link), then the
        # batch exactly as the sequential walk fetches it.
        cursor.execute(q.exact, (start - 2, 1))
        before = cursor.fetchone()
        clean = before is not None and before[0] == start - 1
        if clean:
            w = Walk(key, vouched, expected=start, prev=before[13])
            w.legacy_ok = before[14] is None
            try:
                fault, rows = walk_next(cursor, q, w, batch)
            except Exception:  # the parent will meet it and say what it is
                fault, rows = None, -1
            # Only the newest batch may be short; an empty one is no batch at all.
            clean = fault is None and (rows == batch or (start == top and 0 < rows < batch))
        if not clean:
            _send({"problem": start})
            return
        _send(
            {
                "clean": start,
                "rows": rows,
                "prev": before[13],
                "legacy_in": before[14] is None,
                "last": w.prev,
                "legacy_out": w.legacy_ok,
                "checked": w.checked,
                "sealed": w.sealed_ok,
                "legacy": w.legacy,
                "recent": [[h, s] for h, s in w.recent.items()],
            }
        )
        start -= batch


def main() -> None:
    """Read the job, walk until done or told nothing (the parent kills it when it meets)."""
    job = json.loads(sys.stdin.readline())
    sys.path[:] = job["sys_path"]
    try:
        conn, paramstyle = _connect(job)
    except Exception as exc:  # the parent then walks everything itself
        _send({"gone": type(exc).__name__})
        return
    try:
        _walk(conn, paramstyle, job)
    except Exception as exc:
        _send({"gone": type(exc).__name__})
