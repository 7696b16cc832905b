"""Several writers at once (threads and processes, separate instances): one linear chain."""

from __future__ import annotations

import multiprocessing
import threading

from audit_helpers import KEY
from sqlalchemy import Engine, create_engine, text

from audit import AuditEvent, Ledger

PER_WRITER = 25


def _write(url: str, name: str, n: int) -> None:
    engine = create_engine(url)
    ledger = Ledger(engine, KEY)  # one "application instance" with its own head cache
    for i in range(n):
        ledger.append(AuditEvent(name, "view", "contact", (i,), 1))
    engine.dispose()


def _assert_one_chain(engine: Engine, writers: list[str], per_writer: int) -> None:
    ledger = Ledger(engine, KEY)
    result = ledger.verify()
    assert result.ok, result.problem
    assert result.checked == len(writers) * per_writer
    with engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_ledger ORDER BY seq"))]
    assert seqs == list(range(1, len(seqs) + 1))
    for name in writers:
        mine = [e.record_ids[0] for e in ledger.entries(actor=name)]
        assert mine == list(range(per_writer))  # each writer's events kept their order


def test_threads_with_separate_instances(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    names = [f"thread{i}" for i in range(6)]
    threads = [threading.Thread(target=_write, args=(url, n, PER_WRITER)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _assert_one_chain(engine, names, PER_WRITER)


def test_threads_sharing_one_instance_and_append_in(engine: Engine) -> None:
    ledger = Ledger(engine, KEY)
    errors: list[BaseException] = []

    def work(name: str, inside: bool) -> None:
        try:
            for i in range(PER_WRITER):
                event = AuditEvent(name, "view", "contact", (i,), 1)
                if inside:
                    with engine.begin() as conn:
                        ledger.append_in(conn, event)
                else:
                    ledger.append(event)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    names = [f"t{i}" for i in range(6)]
    threads = [threading.Thread(target=work, args=(n, i % 2 == 0)) for i, n in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _assert_one_chain(engine, names, PER_WRITER)


def test_processes(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # a forked child must not inherit pooled connections
    ctx = multiprocessing.get_context("fork")
    names = [f"proc{i}" for i in range(4)]
    procs = [ctx.Process(target=_write, args=(url, n, PER_WRITER)) for n in names]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    _assert_one_chain(engine, names, PER_WRITER)
