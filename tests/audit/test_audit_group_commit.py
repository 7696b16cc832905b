"""Group commit: appends that arrive together share one transaction, each returns only
once its own event is committed, a failed commit fails every call it carried, a lone
caller commits on its own while later callers queue behind it, and many processes on
PostgreSQL still write one linear chain."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime

import pytest
from audit_helpers import KEY, refuse_actor
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


def test_a_caller_that_fails_on_waking_still_wakes_the_rest_of_its_batch(
    engine: Engine,
) -> None:
    """The callers of a batch are woken one after another, each by the one before; a
    caller that fails between its waking and its return must not strand the rest."""

    class Failing(Ledger):
        doomed: set[int] = set()

        def _returned(self) -> None:
            super()._returned()
            if threading.get_ident() in self.doomed:
                raise RuntimeError("interrupted on its way out")

    ledger = Failing(engine, KEY)
    returned: list[int] = []
    raised: list[int] = []

    def work(i: int) -> None:
        if i % 4 == 1:
            Failing.doomed.add(threading.get_ident())
        try:
            returned.append(ledger.append(AuditEvent(f"w{i}", "view", "contact", (i,))).seq)
        except RuntimeError:
            raised.append(i)

    ledger._lock.acquire()  # hold the writer while 16 callers arrive
    # Daemon threads and one deadline: a stranded caller fails the test, not the run.
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    while len(ledger._queue) < 15:
        threading.Event().wait(0.01)
    ledger._lock.release()
    deadline = time.monotonic() + 30
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a caller was never woken"
    assert set(raised) <= {1, 5, 9, 13} and len(raised) >= 3  # all but a leader's
    assert len(returned) + len(raised) == 16
    assert Ledger(engine, KEY).verify().checked == 16


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


@pytest.mark.parametrize("refused", ["lone", "queued", "none"])
def test_a_lone_caller_commits_on_its_own_while_later_callers_queue_behind_it(
    engine: Engine, refused: str
) -> None:
    refuse_actor(engine, "mallory")
    inside, go = threading.Event(), threading.Event()

    def clock() -> datetime:  # the first reading holds the lone caller inside its commit
        if not inside.is_set():
            inside.set()
            go.wait(30)
        return datetime.now(UTC)

    ledger = Ledger(engine, KEY, clock=clock)
    other = create_engine(engine.url.render_as_string(hide_password=False))
    got: dict[str, LedgerEntry | BaseException] = {}

    def call(name: str) -> None:
        try:
            entry = ledger.append(AuditEvent(name, "view", "contact", (1,), 1))
        except BaseException as exc:  # collected: each caller's own outcome
            got[name] = exc
            return
        # Durable before the call returned: another connection already sees it.
        with other.connect() as conn:
            seen = conn.execute(
                text("SELECT hash FROM audit_ledger WHERE seq = :s"), {"s": entry.seq}
            ).scalar()
        assert seen == entry.hash
        got[name] = entry

    lone = threading.Thread(target=call, args=("mallory" if refused == "lone" else "lone",))
    lone.start()
    assert inside.wait(30)
    assert ledger._leading and not ledger._queue  # committing directly: nothing queued
    names = [f"w{i}" for i in range(10)]
    if refused == "queued":
        names[4] = "mallory"
    threads = [threading.Thread(target=call, args=(n,)) for n in names]
    for t in threads:
        t.start()
    while len(ledger._queue) < len(names):  # all of them behind the lone caller
        threading.Event().wait(0.005)
    go.set()
    for t in [lone, *threads]:
        t.join()
    other.dispose()
    if refused != "none":
        error = got.pop("mallory")
        assert isinstance(error, LedgerWriteError) and "this actor is refused" in str(error)
    entries = [v for v in got.values() if isinstance(v, LedgerEntry)]
    assert len(entries) == len(got), got  # nobody else failed
    kept = len(names) + 1 - (refused != "none")
    assert sorted(e.seq for e in entries) == list(range(1, kept + 1))  # linear, no gap
    if refused != "lone":
        lone_entry = got["lone"]
        assert isinstance(lone_entry, LedgerEntry) and lone_entry.seq == 1
    result = ledger.verify()
    assert (result.ok, result.checked) == (True, kept)
    assert ledger._conn is None and not ledger._leading  # the role and connection laid down


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
