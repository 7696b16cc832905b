"""The SQL a verify walk reads a batch with: fixed texts, bounds as bound parameters.

Apart from :mod:`audit.walk` (which holds the checks) and, like it, free of the package
and of SQLAlchemy, so the verify helper process loads it in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = (
    "seq, ts, actor, action, resource, record_ids, count, outcome, channel, ip, "
    "request_id, details, prev_hash, hash, mac"
)


def select_sql(paramstyle: str) -> str:
    """One batch: the entries after a seq, in chain order, at most a given number."""
    mark = "?" if paramstyle == "qmark" else "%s"
    # Fixed text: the column list is a constant, the bounds are bound parameters.
    return (
        f"SELECT {COLUMNS} FROM audit_ledger WHERE seq > {mark} "  # noqa: S608
        f"ORDER BY seq LIMIT {mark}"
    )


_SQLITE_TYPES = " AND ".join(
    [f"typeof({c}) = 'text'" for c in (
        "ts", "actor", "action", "resource", "record_ids", "outcome", "channel", "details",
        "prev_hash", "hash", "mac",
    )]
    + ["typeof(seq) = 'integer'", "typeof(count) = 'integer'"]
    + [f"typeof({c}) IN ('text', 'null')" for c in ("ip", "request_id")]
)  # fmt: skip

SQLITE_HASHED_SQL = (
    "SELECT seq, prev_hash, hash, mac, CASE WHEN " + _SQLITE_TYPES + " THEN CAST("
    "prev_hash || '{\"action\":' || json_quote(action) || ',\"actor\":' || json_quote(actor)"
    " || ',\"channel\":' || json_quote(channel) || ',\"count\":' || count"
    " || ',\"details\":' || details || ',\"ip\":' || json_quote(ip)"
    " || ',\"outcome\":' || json_quote(outcome) || ',\"record_ids\":' || record_ids"
    " || ',\"request_id\":' || json_quote(request_id) || ',\"resource\":' || json_quote(resource)"
    " || ',\"seq\":' || seq || ',\"ts\":' || json_quote(ts) || '}' AS BLOB) END "
    "FROM audit_ledger WHERE seq > ? ORDER BY seq LIMIT ?"
)
"""SQLite only: each entry's hashed bytes (previous hash, then :func:`canonical`) built
by SQLite in C, so Python receives five values a row instead of fifteen and only hashes.

``json_quote`` escapes exactly as the standard library's JSON string encoder (every
character 1-127 and the non-ASCII ones compared in the tests), and a row whose column
types are not the ones the application writes yields NULL, so the walk falls back. This
is only the fast path's input: bytes that hash to the stored hash are, by the hash, the
bytes the application hashed; any row it does not accept is walked from the ordinary
columns by the exact walk, which names the fault. Not used on PostgreSQL, where the
server would do the string work on the same cores and a plain read is cheaper overall.
"""


@dataclass(frozen=True)
class Queries:
    """The batch queries of one database: the ordinary columns (every walk can use),
    and, where the database can build them cheaply, the hashed bytes (the fast path)."""

    exact: str
    hashed: str | None = None


def queries(dialect: str, paramstyle: str) -> Queries:
    return Queries(select_sql(paramstyle), SQLITE_HASHED_SQL if dialect == "sqlite" else None)
