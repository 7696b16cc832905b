"""Batched appends: the split encoding hashes what the contract says, stored text comes
back exactly, one refused event fails only its own call, checkpoints due inside a batch
are written, the writer connection goes back to the pool, and processes mixing group
commit with appends inside callers' transactions still write one chain."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest
from audit_helpers import KEY, refuse_actor
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from audit import (
    Anchorer,
    AuditEvent,
    FileAnchors,
    InvalidEvent,
    Ledger,
    LedgerEntry,
    LedgerWriteError,
    create_tables,
)
from audit.chain import canonical, canonical_fields, canonical_place, dumps, ts_json
from audit.events import format_ts, parse_ts
from audit.writer import _stamp, entry, prepare


@settings(max_examples=150, deadline=None)
@given(
    seq=st.integers(min_value=1),
    strings=st.lists(st.text(), min_size=6, max_size=6),
    ip=st.none() | st.text(),
    request_id=st.none() | st.text(),
    record_ids=st.lists(st.integers() | st.text(), max_size=6),
    count=st.integers(min_value=0),
    details=st.dictionaries(st.text(), st.none() | st.integers() | st.text(), max_size=4),
)
def test_fields_then_place_is_the_canonical_text(
    seq: int,
    strings: list[str],
    ip: str | None,
    request_id: str | None,
    record_ids: list[int | str],
    count: int,
    details: dict[str, object],
) -> None:
    ts, actor, action, resource, outcome, channel = strings
    ids, det = dumps(record_ids), dumps(details)
    whole = canonical(
        seq, ts, actor, action, resource, ids, count, outcome, channel, ip, request_id, det
    )
    fields = canonical_fields(
        actor, action, resource, ids, count, outcome, channel, ip, request_id, det
    )
    assert fields.encode() + canonical_place(seq, ts_json(ts)) == whole


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30)),
    offset_minutes=st.integers(min_value=-23 * 60, max_value=23 * 60),
)
def test_the_batch_stamp_is_format_ts_and_parse_ts(moment: datetime, offset_minutes: int) -> None:
    ts = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    text_, stored = _stamp(ts)
    assert text_ == format_ts(ts)
    assert stored == parse_ts(text_) and stored.tzinfo is UTC


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.integers(min_value=-(10**30), max_value=10**30), max_size=8)
    | st.lists(st.integers() | st.text(), max_size=8),
    details=st.dictionaries(st.text(), st.integers() | st.text(), max_size=3),
)
def test_prepared_columns_are_the_contract_encodings(
    ids: list[int | str], details: dict[str, object]
) -> None:
    event = AuditEvent("alice", "view", "contact", tuple(ids), len(ids), details=details)
    prepared = prepare(event)
    assert prepared.record_ids_json == dumps(ids)
    assert prepared.details_json == dumps(details)
    assert prepared.details == details


def test_a_built_entry_is_the_dataclass_entry() -> None:
    event = AuditEvent("alice", "view", "contact", (1, "x"), 2, details={"a": [1]})
    stamp = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    built = entry(prepare(event), (7, "a" * 64, "b" * 64), stamp)
    plain = LedgerEntry(
        7, stamp, "alice", "view", "contact", (1, "x"), 2, "allowed", "system", None, None,
        {"a": [1]}, "a" * 64, "b" * 64,
    )  # fmt: skip
    assert built == plain and repr(built) == repr(plain) and built.event == event
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.seq = 8  # type: ignore[misc]


def test_bad_details_are_still_refused() -> None:
    with pytest.raises(InvalidEvent, match="plain JSON"):
        prepare(AuditEvent("alice", "view", "contact", details={"x": object()}))
    with pytest.raises(InvalidEvent, match="plain JSON"):
        prepare(AuditEvent("alice", "view", "contact", details=None))  # type: ignore[arg-type]


def test_a_naive_clock_is_still_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _stamp(datetime(2026, 1, 1))


def _in_one_batch(ledger: Ledger, calls: list[Callable[[], object]]) -> None:
    """Run ``calls`` in threads so that all but the first share one batch: the first
    leads and waits for the chain lock (held here) while the others queue behind it."""
    ledger._lock.acquire()
    threads = [threading.Thread(target=call) for call in calls]
    threads[0].start()
    while ledger._queue or not ledger._leading:  # the first has taken its own batch
        threading.Event().wait(0.005)
    for t in threads[1:]:
        t.start()
    while len(ledger._queue) < len(calls) - 1:
        threading.Event().wait(0.005)
    ledger._lock.release()
    for t in threads:
        t.join()


def test_one_refused_event_fails_only_its_own_call(engine: Engine) -> None:
    refuse_actor(engine, "mallory")
    ledger = Ledger(engine, KEY)
    got: dict[str, LedgerEntry | BaseException] = {}

    def call(name: str) -> Callable[[], None]:
        def run() -> None:
            try:
                got[name] = ledger.append(AuditEvent(name, "view", "contact", (1,), 1))
            except BaseException as exc:  # collected: each caller's own outcome
                got[name] = exc

        return run

    names = ["first"] + [f"w{i}" for i in range(5)] + ["mallory"] + [f"w{i}" for i in range(5, 10)]
    _in_one_batch(ledger, [call(n) for n in names])
    refused = got.pop("mallory")
    assert isinstance(refused, LedgerWriteError) and "this actor is refused" in str(refused)
    assert all(isinstance(v, LedgerEntry) for v in got.values()), got
    assert sorted(v.seq for v in got.values() if isinstance(v, LedgerEntry)) == list(range(1, 12))
    result = ledger.verify()
    assert (result.ok, result.checked) == (True, 11)


TRICKY = [
    'quote " backslash \\ slash / and a tab\t',
    "line\nbreak\r\nand \x01 \x1f controls",
    "accents é ü ß, cjk 漢字, rtl שלום, emoji 😀, separators \u2028\u2029",
    "looks like json: {\"a\": [1, 2]} and 'single'",
]


def test_stored_text_comes_back_exactly(engine: Engine) -> None:
    ledger = Ledger(engine, KEY)
    events = [
        AuditEvent(
            actor=s[:200],
            action="view",
            resource="contact",
            record_ids=(1, s, "company:12", -5),
            count=4,
            ip=s[:64],
            request_id=s[:100],
            details={"note": s, "nested": {"list": [s, 1, None, True], "é": 1.5}},
        )
        for s in TRICKY
    ]
    returned: list[LedgerEntry] = []

    def call(event: AuditEvent) -> Callable[[], object]:
        return lambda: returned.append(ledger.append(event))

    _in_one_batch(ledger, [call(e) for e in [*events, events[0]]])
    returned.append(ledger.append(events[1]))  # and a batch of one
    read = {e.seq: e for e in ledger.entries()}
    assert len(read) == len(returned) == 6
    for got in returned:
        assert read[got.seq].to_json() == got.to_json()
        assert got.event in events
    assert ledger.verify().ok


def test_a_lone_surrogate_is_refused_before_the_database(engine: Engine) -> None:
    ledger = Ledger(engine, KEY)
    ledger.append(AuditEvent("alice", "view", "contact", (1,)))
    with pytest.raises(InvalidEvent, match="lone surrogate"):
        ledger.append(AuditEvent("alice", "view", "contact", (1,), details={"x": "\ud800"}))
    assert ledger.append(AuditEvent("alice", "view", "contact", (2,))).seq == 2
    assert ledger.verify().ok


def test_checkpoints_due_inside_a_batch_are_written(engine: Engine) -> None:
    signer = Ed25519PrivateKey.generate()
    ledger = Ledger(engine, KEY, signing_key=signer, checkpoint_every=4)
    calls = [
        partial(ledger.append, AuditEvent(f"w{i}", "view", "contact", (i,))) for i in range(10)
    ]
    _in_one_batch(ledger, list(calls))  # seq 1, then 2..10 in one batch
    with engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_checkpoints ORDER BY seq"))]
    assert seqs == [4, 8]
    result = ledger.verify()
    assert (result.ok, result.checked) == (True, 10)


def test_the_writer_connection_goes_back_to_the_pool(engine: Engine) -> None:
    ledger = Ledger(engine, KEY)

    def work(i: int) -> None:
        for n in range(20):
            ledger.append(AuditEvent(f"w{i}", "view", "contact", (n,)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger._conn is None
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert ledger.verify().checked == 160


def _mixed_writer(url: str, name: str, group: int, inside: int, per_thread: int) -> None:
    engine = create_engine(url, pool_size=group + inside + 2)
    ledger = Ledger(engine, KEY)

    def grouped(t: int) -> None:
        for i in range(per_thread):
            ledger.append(AuditEvent(f"{name}-g{t}", "view", "contact", (i,), 1))

    def in_transaction(t: int) -> None:
        for i in range(per_thread):
            with engine.begin() as conn:
                ledger.append_in(conn, AuditEvent(f"{name}-i{t}", "update", "contact", (i,), 1))

    pool = [threading.Thread(target=grouped, args=(t,)) for t in range(group)]
    pool += [threading.Thread(target=in_transaction, args=(t,)) for t in range(inside)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    engine.dispose()


@pytest.mark.postgres
def test_processes_mixing_group_commit_and_append_in_on_postgresql_write_one_chain(
    pg_url: str,
) -> None:
    engine = create_engine(pg_url)
    create_tables(engine)
    engine.dispose()
    ctx = multiprocessing.get_context("fork")
    per_thread, group, inside = 12, 3, 1
    procs = [
        ctx.Process(target=_mixed_writer, args=(pg_url, f"p{i}", group, inside, per_thread))
        for i in range(4)
    ]  # 16 concurrent writers in 4 processes
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0] * 4
    engine = create_engine(pg_url)
    ledger = Ledger(engine, KEY)
    total = 4 * (group + inside) * per_thread
    result = ledger.verify()
    assert (result.ok, result.checked) == (True, total)
    with engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_ledger ORDER BY seq"))]
    assert seqs == list(range(1, total + 1))  # no gaps, no duplicates, no fork
    for i in range(4):
        for actor in [f"p{i}-g{t}" for t in range(group)] + [f"p{i}-i{t}" for t in range(inside)]:
            mine = [e.record_ids[0] for e in ledger.entries(actor=actor)]
            assert mine == list(range(per_thread))  # each writer's events kept their order
    engine.dispose()


def test_anchors_and_the_record_index_follow_concurrent_appends(
    engine: Engine, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    store = FileAnchors(tmp_path / "anchors.jsonl", key.public_key())
    anchorer = Anchorer(engine, key, [store], every=10, seconds=3600)
    ledger = Ledger(engine, KEY, signing_key=key, anchorer=anchorer)

    def work(i: int) -> None:
        for n in range(15):
            ledger.append(AuditEvent(f"w{i}", "view", "contact", (n, f"company:{i}"), 2))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger.close()  # the shutdown anchor
    anchors = store.load(key.public_key())
    assert (anchors[-1].seq, anchors[-1].hash) == ledger.head() and anchors[-1].seq == 120
    assert ledger.index_records() == 120
    viewed = [e.actor for e in ledger.entries(record_resource="company", record_id=3)]
    assert viewed == ["w3"] * 15
    assert len(list(ledger.entries(record_resource="contact", record_id=7))) == 8
    result = ledger.verify()
    assert (result.ok, result.checked) == (True, 120)


@pytest.mark.postgres
def test_writer_connections_the_server_drops_are_replaced_and_nothing_is_lost(
    pg_url: str,
) -> None:
    """The batch goes to the driver's cursor directly: a connection the server ends
    between or during batches must still come back as a dropped connection (retried on
    a new one), never as an error the callers see or an event half-kept."""
    engine = create_engine(pg_url, pool_size=12)
    create_tables(engine)
    ledger = Ledger(engine, KEY)
    stop = threading.Event()
    kept: list[int] = []
    refused: list[BaseException] = []

    def work(i: int) -> None:
        for n in range(60):
            try:
                kept.append(ledger.append(AuditEvent(f"w{i}", "view", "contact", (n,))).seq)
            except LedgerWriteError as exc:
                refused.append(exc)

    def kill() -> None:
        killer = create_engine(pg_url, poolclass=NullPool)
        with killer.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            while not stop.wait(0.02):
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        killer.dispose()

    killer = threading.Thread(target=kill)
    killer.start()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    killer.join()
    engine.dispose()
    check = create_engine(pg_url)
    report = Ledger(check, KEY).verify()
    check.dispose()
    assert report.ok
    # Every returned append is in the one chain. (A connection ended after its COMMIT
    # but before the reply may leave an event in twice: kept rather than lost.)
    assert len(set(kept)) == len(kept) and report.checked >= len(kept)
    assert len(kept) + len(refused) == 480
    assert len(kept) > 240  # dropped connections were retried, not given up on
