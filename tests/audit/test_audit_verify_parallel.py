"""A large ledger is verified by two processes (the walk from the oldest entry and a
helper from the newest); the verdict, down to the first bad seq, the kind, the count
and the words, must be the one the walk alone gives, for every kind of tampering and
wherever it sits: in the walk's half, in the helper's half, or on a batch boundary."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import KEY, drop_guards, stepping_clock
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from audit import AuditEvent, KeyFileError, Ledger, VerifyResult, Vouch, link, verify_chain
from audit import spare_core as spare_module
from audit import verify as verify_module
from audit.chain import canonical
from audit.walk import Fault, Walk, exact_batch
from audit.walk_sql import Queries

N = 600
BATCH = 50  # 12 batches: the helper takes the newer ones, the walk the older ones
SIGNER = Ed25519PrivateKey.generate()
REAL_SPARE_CORE = verify_module._spare_core


@pytest.fixture(autouse=True)
def spare_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test machine may be busy; these tests are about the verdict, not the load."""
    monkeypatch.setattr(verify_module, "_spare_core", lambda: True)


@pytest.fixture
def filled(engine: Engine) -> Engine:
    ledger = Ledger(engine, KEY, stepping_clock(), signing_key=SIGNER, checkpoint_every=100)
    with engine.begin() as conn:
        for i in range(1, N + 1):
            event = AuditEvent(
                f"user{i % 7}", "view", "contact", tuple(range(i, i + 1 + i % 5)), 1 + i % 5,
                channel="web", ip="10.0.0.7", request_id=f"req-{i}",
                details={"fields": ["email", "phöne"]},
            )  # fmt: skip
            ledger.append_in(conn, event)
    return engine


@pytest.fixture
def joins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int | None]]:
    """What every join attempt of the real helper returned (None: the walk did it).

    A test ledger is small enough for the walk to finish before a second interpreter
    has started; so the first attempt waits (up to 20 s) until the helper has reported
    a batch, or given up, and the helper's half really is the helper's.
    """
    seen: list[int | None] = []
    real = verify_module._Helper.join

    def join(self: Any, w: Any) -> int | None:
        if not seen:
            for _ in range(400):
                if self._clean or not self._alive:
                    break
                self._read(0.05)
        out = real(self, w)
        seen.append(out)
        return out

    monkeypatch.setattr(verify_module._Helper, "join", join)
    yield seen


def hash_at(engine: Engine, seq: int) -> str:
    with engine.connect() as conn:
        q = text("SELECT hash FROM audit_ledger WHERE seq = :s")
        return str(conn.execute(q, {"s": seq}).scalar())


def outside(engine: Engine, *seqs: int) -> list[Vouch]:
    return [Vouch(s, hash_at(engine, s), "the anchor file") for s in seqs]


def exact_only(cursor: Any, q: Queries, w: Walk, batch: int) -> tuple[Fault | None, int]:
    """The reference: every batch read whole from the ordinary columns and walked by the
    diagnosing walk alone (no fast path, no bytes built by the database)."""
    cursor.execute(q.exact, (w.expected - 1, batch))
    rows = cursor.fetchall()
    return exact_batch(rows, w), len(rows)


def both(
    engine: Engine, key: bytes | None, vouches: list[Vouch]
) -> tuple[VerifyResult, VerifyResult]:
    """(alone, with the helper) on the same database; alone is also what the exact walk,
    without the fast path, says."""
    common: dict[str, Any] = {"batch": BATCH, "vouches": vouches}
    alone = verify_chain(engine, key, SIGNER.public_key(), parallel_from=None, **common)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(verify_module, "walk_next", exact_only)
        exact = verify_chain(engine, key, SIGNER.public_key(), parallel_from=None, **common)
    assert alone == exact
    shown: list[int] = []
    helped = verify_chain(engine, key, SIGNER.public_key(), shown.append, parallel_from=0, **common)
    assert shown == sorted(shown)
    return alone, helped


def sql(engine: Engine, *statements: str, **params: object) -> None:
    drop_guards(engine)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def swap(engine: Engine, a: int, b: int) -> None:
    """Entries a and b change places (each keeps the other's content and hashes)."""
    cols = "ts, actor, action, resource, record_ids, count, outcome, channel, ip, " \
        "request_id, details, prev_hash, hash, mac"  # fmt: skip
    with engine.connect() as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                text(f"SELECT seq, {cols} FROM audit_ledger WHERE seq IN (:a, :b)"),
                {"a": a, "b": b},
            )
        }
    names = [c.strip() for c in cols.split(",")]
    sets = ", ".join(f"{c} = :{c}" for c in names)
    drop_guards(engine)
    with engine.begin() as conn:
        for seq, other in ((a, b), (b, a)):
            conn.execute(
                text(f"UPDATE audit_ledger SET {sets} WHERE seq = :seq"),
                {"seq": seq, **dict(zip(names, rows[other], strict=True))},
            )


def forge_tail(engine: Engine, at: int) -> None:
    """Everything from ``at`` replaced by one entry with a right public hash, no seal."""
    prev = hash_at(engine, at - 1)
    body = canonical(at, "2026-11-22T10:00:00.000000Z", "mallory", "view", "contact",
                     "[1]", 1, "allowed", "web", None, None, "{}")  # fmt: skip
    sql(engine, f"DELETE FROM audit_ledger WHERE seq >= {at}")
    sql(
        engine,
        "INSERT INTO audit_ledger (seq, ts, actor, action, resource, record_ids, count,"
        " outcome, channel, ip, request_id, details, prev_hash, hash, mac) VALUES "
        "(:seq, '2026-11-22T10:00:00.000000Z', 'mallory', 'view', 'contact', '[1]', 1,"
        " 'allowed', 'web', NULL, NULL, '{}', :prev, :hash, :mac)",
        seq=at, prev=prev, hash=link(prev, body), mac="0" * 64,
    )  # fmt: skip


TAMPERING: dict[str, Callable[[Engine], None]] = {
    "altered, helper's half": lambda e: sql(
        e, "UPDATE audit_ledger SET record_ids = '[999]' WHERE seq = 420"
    ),
    "altered, first of a batch": lambda e: sql(
        e, "UPDATE audit_ledger SET actor = 'x' WHERE seq = 451"
    ),
    "altered, last of a batch": lambda e: sql(
        e, "UPDATE audit_ledger SET ts = '2030-01-01T00:00:00.000000Z' WHERE seq = 450"
    ),
    "altered, walk's half": lambda e: sql(
        e, "UPDATE audit_ledger SET details = '{}' WHERE seq = 30"
    ),
    "altered, newest": lambda e: sql(e, f"UPDATE audit_ledger SET count = 99 WHERE seq = {N}"),
    "deleted, first of a batch": lambda e: sql(e, "DELETE FROM audit_ledger WHERE seq = 451"),
    "deleted, inside": lambda e: sql(e, "DELETE FROM audit_ledger WHERE seq IN (420, 421)"),
    "truncated": lambda e: sql(e, "DELETE FROM audit_ledger WHERE seq > 580"),
    "link broken on a boundary": lambda e: sql(
        e, "UPDATE audit_ledger SET prev_hash = :h WHERE seq = 501", h="f" * 64
    ),
    "reordered": lambda e: swap(e, 420, 421),
    "reordered across a boundary": lambda e: swap(e, 450, 451),
    # Only the last seal of a batch is checked (each hash commits to all before it).
    "seal forged, last of a batch": lambda e: sql(
        e, "UPDATE audit_ledger SET mac = :m WHERE seq = 450", m="0" * 64
    ),
    "seal removed": lambda e: sql(e, "UPDATE audit_ledger SET mac = NULL WHERE seq = 420"),
    "forged tail": lambda e: forge_tail(e, 420),
    "emptied": lambda e: sql(e, "DELETE FROM audit_ledger"),
}


def test_a_clean_large_ledger_is_shared_between_two_processes(
    filled: Engine, joins: list[int | None]
) -> None:
    vouches = outside(filled, 250, 600)
    for key in (KEY, None):
        joins.clear()
        alone, helped = both(filled, key, vouches)
        assert alone == helped
        assert (helped.ok, helped.checked, helped.head_seq) == (True, N, N)
        assert any(joins), "the helper's batches were never joined"


@pytest.mark.parametrize("case", list(TAMPERING))
def test_the_diagnosis_is_the_one_the_walk_alone_gives(
    filled: Engine, case: str, joins: list[int | None]
) -> None:
    vouches = outside(filled, 250, 600)
    TAMPERING[case](filled)
    for key in (KEY, None):
        alone, helped = both(filled, key, vouches)
        assert helped == alone, (case, key)
        if key is not None:
            assert not alone.ok, case


def test_a_wrong_vouch_in_the_helpers_half_is_the_same_rewrite(
    filled: Engine, joins: list[int | None]
) -> None:
    vouches = [*outside(filled, 600), Vouch(420, "e" * 64, "the anchor file")]
    for key in (KEY, None):
        alone, helped = both(filled, key, vouches)
        assert helped == alone
        assert (helped.first_bad_seq, helped.kind) == (420, "rewritten")


def test_small_ledgers_are_walked_by_one_process(
    filled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    real = verify_module._Helper.start

    def start(*args: Any) -> Any:
        helper = real(*args)
        started.append(helper)
        return helper

    monkeypatch.setattr(verify_module._Helper, "start", start)
    assert verify_chain(filled, KEY, batch=BATCH).ok  # 600 entries: below the default
    assert started == [None]


def test_a_helper_that_cannot_start_leaves_the_walk_to_do_it_all(
    filled: Engine, monkeypatch: pytest.MonkeyPatch, joins: list[int | None]
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    result = verify_chain(filled, KEY, batch=BATCH, parallel_from=0)
    assert (result.ok, result.checked) == (True, N)
    assert not any(joins)


def test_a_walk_that_stops_before_the_helper_read_its_job_gives_its_verdict(
    filled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper is stopped while its job is still on the way (a slow start): the
    verdict, or here the wrong-key error, comes out, not a broken pipe."""
    real = verify_module._feed

    def late(proc: Any, data: bytes) -> None:
        time.sleep(0.3)
        real(proc, data)

    monkeypatch.setattr(verify_module, "_feed", late)
    with pytest.raises(KeyFileError):
        verify_chain(filled, b"another home's key 32 bytes long", batch=BATCH, parallel_from=0)
    sql(filled, "UPDATE audit_ledger SET actor = 'x' WHERE seq = 3")
    result = verify_chain(filled, KEY, batch=BATCH, parallel_from=0)
    assert (result.first_bad_seq, result.kind) == (3, "altered")


def test_a_busy_machine_is_walked_by_one_process(
    filled: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    real = verify_module._Helper.start

    def start(*args: Any) -> Any:
        helper = real(*args)
        started.append(helper)
        return helper

    monkeypatch.setattr(verify_module._Helper, "start", start)
    monkeypatch.setattr(verify_module, "_spare_core", REAL_SPARE_CORE)
    pressure = tmp_path / "cpu"
    pressure.write_text(
        "some avg10=68.90 avg60=62.39 avg300=21.39 total=75159810\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )
    monkeypatch.setattr(spare_module, "_PSI", str(pressure))
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert verify_chain(filled, KEY, batch=BATCH, parallel_from=0).ok
    assert started == [None]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: never a helper")
def test_cpu_pressure_decides_over_a_lagging_load_average(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A previous verify's helper keeps the 1-minute load up; pressure says the CPUs are
    free, so the next verify still gets its helper. Without pressure figures, the load
    average decides."""
    monkeypatch.setattr(verify_module, "_spare_core", REAL_SPARE_CORE)
    monkeypatch.setattr(os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    pressure = tmp_path / "cpu"
    pressure.write_text("some avg10=0.40 avg60=20.00 avg300=5.00 total=1\n")
    monkeypatch.setattr(spare_module, "_PSI", str(pressure))
    assert spare_module.spare_core()
    monkeypatch.setattr(spare_module, "_PSI", str(tmp_path / "absent"))
    assert not spare_module.spare_core()
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert spare_module.spare_core()
    pressure.write_text("garbage\n")
    monkeypatch.setattr(spare_module, "_PSI", str(pressure))
    assert spare_module.spare_core()  # unreadable pressure: the load average decides


# -- SQLite: the fast path's bytes are built by SQLite -------------------------------------

SQLITE_TAMPERING: dict[str, Callable[[Engine], None]] = {
    # The same bytes under another type: the exact walk calls it altered, so must we.
    "details stored as a BLOB": lambda e: sql(
        e, "UPDATE audit_ledger SET details = CAST(details AS BLOB) WHERE seq = 420"
    ),
    "record ids stored as a BLOB, walk's half": lambda e: sql(
        e, "UPDATE audit_ledger SET record_ids = CAST(record_ids AS BLOB) WHERE seq = 30"
    ),
    "actor stored as a BLOB": lambda e: sql(
        e, "UPDATE audit_ledger SET actor = CAST(actor AS BLOB) WHERE seq = 451"
    ),
    "count stored as text": lambda e: sql(
        e, "UPDATE audit_ledger SET count = 'x' || count WHERE seq = 420"
    ),
    "count stored as a real": lambda e: sql(
        e, "UPDATE audit_ledger SET count = count + 0.5 WHERE seq = 30"
    ),
    "timestamp stored as a number": lambda e: sql(
        e, "UPDATE audit_ledger SET ts = 20261122 WHERE seq = 450"
    ),
    "actor with quotes and control characters": lambda e: sql(
        e, "UPDATE audit_ledger SET actor = 'a\"b\\c' || char(1, 10, 9, 127) WHERE seq = 30"
    ),
}


ON_SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""Column types are enforced by PostgreSQL; only SQLite lets a value change type."""


@ON_SQLITE
@pytest.mark.parametrize("case", list(SQLITE_TAMPERING))
def test_sqlite_type_games_get_the_exact_walks_diagnosis(
    filled: Engine, case: str, joins: list[int | None]
) -> None:
    assert filled.dialect.name == "sqlite"
    vouches = outside(filled, 250, 600)
    SQLITE_TAMPERING[case](filled)
    for key in (KEY, None):
        alone, helped = both(filled, key, vouches)
        assert helped == alone, (case, key)
        if key is not None:
            assert not alone.ok, case


def test_sqlite_quotes_text_as_the_canonical_form_does() -> None:
    """The fast path's bytes and the hashed bytes agree for every ASCII character and a
    sample of others (any disagreement would only send batches to the slower walk)."""
    import json
    import sqlite3

    conn = sqlite3.connect(":memory:")
    samples = [chr(i) for i in range(1, 128)] + ["é", "ö", "\u2028", "\ufeff", "😀", 'a"b\\c']
    for s in samples:
        quoted = conn.execute("SELECT json_quote(?)", (s,)).fetchone()[0]
        assert quoted == json.encoder.encode_basestring(s), repr(s)


@ON_SQLITE
def test_a_clean_sqlite_ledger_is_walked_from_the_bytes_sqlite_builds(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every batch of a clean ledger passes the fast path: the ordinary columns are
    read only for the empty query that ends the walk."""
    assert engine.dialect.name == "sqlite"
    ledger = Ledger(engine, KEY, stepping_clock())
    with engine.begin() as conn:
        for i in range(1, 301):
            actor = f"user{i % 7}" if i % 50 else 'quo"te\\back\tslash ü'
            ledger.append_in(conn, AuditEvent(actor, "view", "contact", (i,), 1, ip=None))
    fetched = _count_fetched(monkeypatch)
    result = verify_chain(engine, KEY, batch=BATCH, parallel_from=None)
    assert (result.ok, result.checked) == (True, 300)
    assert set(fetched) <= {0}, fetched


def test_postgresql_batches_are_streamed_not_fetched_whole(
    filled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL every batch is walked as the server streams it (its work and the
    walk's overlap), never fetched whole first; SQLite's fetched path stays for SQLite."""
    fetched = _count_fetched(monkeypatch)
    result = verify_chain(filled, KEY, batch=BATCH, parallel_from=None)
    assert (result.ok, result.checked) == (True, N)
    if filled.dialect.name == "postgresql":
        assert fetched == []
    else:
        assert set(fetched) <= {0}  # SQLite: the bytes it builds; fetched only at the end


def _count_fetched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows of every batch the walk fetched whole (``walk_fetched``), in order."""
    from audit import walk as walk_module

    real = walk_module.walk_fetched
    fetched: list[int] = []

    def counted(cursor: Any, w: Walk, batch: int) -> tuple[Fault | None, int]:
        fault, rows = real(cursor, w, batch)
        fetched.append(rows)
        return fault, rows

    monkeypatch.setattr(walk_module, "walk_fetched", counted)
    return fetched
