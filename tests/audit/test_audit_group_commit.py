"""Group commit: appends that arrive together share one transaction, each returns only
once its own event is committed, a failed commit fails every call it carried, and many
processes on PostgreSQL still write one linear chain."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from audit_helpers import KEY
from sqlalchemy import Engine, create_engine, text

from audit import AuditEvent, Ledger, LedgerEntry, LedgerWriteError


def test_waiting_appends_share_one_commit_and_each_is_durable(engine: Engine) -> None:
    ticks: list[int] = []
    base = Ledger(engine, KEY)

    def clock() -> object:  # one reading per transaction attempt
        from datetime import UTC, datetime

        ticks.append(1)
        return datetime.now(UTC)

    ledger = Ledger(engine, KEY, clock=clock)  # type: ignore[arg-type]
    results: list[LedgerEntry] = []
    other = create_engine(engine.url.render_as_string(hide_password=False))

    def work(i: int) -> None:
        entry = ledger.append(AuditEvent(f"w{i}", "view", "contact", (i,), 1))
        # Durable before the call returned: another connection already sees it.
        with other.connect() as conn:
            seen = conn.execute(
                text("SELECT hash FROM audit_ledger WHERE seq = :s"), {"s": entry.seq}
            ).scalar()
        assert seen == entry.hash
        results.append(entry)

    ledger._lock.acquire()  # hold the writer while 16 callers arrive
    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    while len(ledger._queue) < 15:  # the first caller leads (and waits for the lock)
        threading.Event().wait(0.01)
    ledger._lock.release()
    for t in threads:
        t.join()
    other.dispose()
    assert sorted(e.seq for e in results) == list(range(1, 17))
    assert len(ticks) == 2  # the leader's own event, then the other 15 in one commit
    assert base.verify().checked == 16


def test_a_refused_commit_fails_every_call_it_carried(engine: Engine) -> None:
    ledger = Ledger(engine, KEY)
    ledger.append(AuditEvent("a", "view", "contact"))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_ledger"))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            ledger.append(AuditEvent("b", "view", "contact"))
        except LedgerWriteError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 8  # fail closed: nobody is told their event was kept


def _writer(url: str, name: str, threads: int, per_thread: int) -> None:
    engine = create_engine(url, pool_size=threads)
    ledger = Ledger(engine, KEY)

    def work(t: int) -> None:
        for i in range(per_thread):
            ledger.append(AuditEvent(f"{name}-{t}", "view", "contact", (i,), 1))

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    engine.dispose()


@pytest.mark.postgres
def test_eight_processes_on_postgresql_write_one_chain(pg_url: str) -> None:
    from audit import create_tables

    engine = create_engine(pg_url)
    create_tables(engine)
    engine.dispose()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(pg_url, f"p{i}", 4, 15)) for i in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0] * 8
    engine = create_engine(pg_url)
    ledger = Ledger(engine, KEY)
    result = ledger.verify()
    assert (result.ok, result.checked) == (True, 8 * 4 * 15)
    with engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_ledger ORDER BY seq"))]
    assert seqs == list(range(1, 8 * 4 * 15 + 1))  # no gaps, no duplicates, no fork
    for i in range(8):
        for t in range(4):
            mine = [e.record_ids[0] for e in ledger.entries(actor=f"p{i}-{t}")]
            assert mine == list(range(15))  # each writer's events kept their order
    engine.dispose()
