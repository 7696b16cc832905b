"""Group commit: threads of one process that append at the same time share one commit.

One of them (the leader) takes every waiting event, inserts and commits the batch, and
wakes the others with their outcome; each call returns only after the commit that holds
its event, so a returned entry is durable.

On PostgreSQL the batches are pipelined (see :mod:`audit.pipeline`): a batch is inserted
in an open transaction while the previous batch's COMMIT is still flushing, the leader's
role passes on as soon as a batch is sealed, and a batch commits only after the one
before it has committed. SQLite has one writer at a time anyway: there the leader
inserts and commits each batch before taking the next.
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from audit.anchoring import Anchorer
from audit.batching import (
    GATHER_MAX,
    GATHER_SHARE,
    MAX_BATCH,
    Ticket,
    Waiting,
    may_be_one_event,
)
from audit.events import AuditEvent, LedgerEntry
from audit.writer import Placement, Prepared, prepare
from audit.writer import entry as make_entry


class GroupCommit:
    """The waiting, leading and waking of :meth:`append`; the ledger supplies the
    database side (:meth:`_insert_committed`, and :meth:`_pipelined` on PostgreSQL)."""

    _lock: threading.Lock
    _cv: threading.Condition
    _queue: list[Waiting]
    _leading: bool
    _waking: int
    _flying: int
    _last_commit: float
    _conn: Connection | None
    _spares: list[Connection]
    _tail: Ticket | None
    _collecting: bool
    _pg: bool
    _anchorer: Anchorer | None

    def _init_group_commit(self) -> None:
        self._lock = threading.Lock()  # the insert stage: the in-process head and tail
        self._cv = threading.Condition(threading.Lock())  # never re-entered
        self._queue = []
        self._leading = False
        self._waking = 0  # callers woken with their outcome, not yet out of append
        self._flying = 0  # pipelined batches whose COMMIT is under way
        self._last_commit = 0.0  # seconds the last batch took (bounds _gather's wait)
        self._conn = None  # the leader's autocommit connection (see Ledger._writer)
        self._spares = []  # idle connections for pipelined batches
        self._tail = None  # the last pipelined batch handed to its COMMIT
        self._collecting = False  # a pipelined leader waits for arrivals (see append)

    @abstractmethod
    def _insert_committed(self, prepared: list[Prepared]) -> tuple[list[Placement], datetime]:
        """Insert and commit ``prepared`` as one transaction (retrying what may be)."""

    @abstractmethod
    def _pipelined(self, batch: list[Waiting], own: Waiting) -> Callable[[], None] | None:
        """Insert ``batch`` in an open transaction; returns its COMMIT step, to run once
        the leader's role is handed on, or None when nothing of it was kept (then it
        goes through :meth:`_commit_batch`)."""

    def _committed(self, events: int) -> None:
        """Called once per commit with its number of events (a measuring hook)."""

    def append(self, event: AuditEvent) -> LedgerEntry:
        """Record ``event``; returns once the transaction holding it has committed."""
        waiting = Waiting(prepare(event))
        with self._cv:
            self._queue.append(waiting)
            leading = not self._leading
            self._leading = True
            if self._collecting:  # a pipelined leader waits for more events
                self._cv.notify_all()
        while True:
            if not leading:
                # Each waiter sleeps on its own event: woken once, with its result or
                # with the leader's role, never by every other batch's commit.
                waiting.wake.acquire()
                if waiting.done:
                    self._returned()
                    break
            self._lead(waiting)
            if waiting.done:
                break
            leading = False  # a pipelined leader whose own event is in a later batch
        if waiting.error is not None:
            raise waiting.error
        assert waiting.placement is not None and waiting.ts is not None
        return make_entry(waiting.prepared, waiting.placement, waiting.ts)

    def _lead(self, own: Waiting) -> None:
        """Hold the leader's role until it is handed on (always, even when interrupted:
        a role nobody holds would stop every writer)."""
        handed = False
        try:
            while not own.done:
                self._gather()
                with self._cv:
                    batch = self._queue[:MAX_BATCH]
                    del self._queue[: len(batch)]
                if not batch:  # its own event is another leader's now
                    return
                commit = self._pipelined(batch, own) if self._pg else None
                if commit is not None:
                    handed = True  # the next batch opens while this one commits
                    self._hand_off(None)
                    commit()
                    return
                self._commit_batch(batch, own)
        finally:
            if not handed:
                self._hand_off(own)

    def _hand_off(self, own: Waiting | None) -> None:
        """Hand the leader's role to the oldest waiter, or lay it down."""
        idle: list[Connection] = []
        with self._cv:
            if own is not None and own in self._queue:  # only when interrupted
                self._queue.remove(own)
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.wake.release()
            else:
                self._leading = False
                idle = self._idle()
        self._close(idle)

    def _returned(self) -> None:
        """A caller woken with its outcome is on its way out (see :meth:`_gather`)."""
        idle: list[Connection] = []
        with self._cv:
            self._waking -= 1
            if self._waking == 0:
                self._cv.notify_all()
                idle = self._idle()
        self._close(idle)

    def _idle(self) -> list[Connection]:
        """Under the condition: the writer connections to give back to the pool once
        nobody is writing: no leader, no COMMIT under way, and none of the callers the
        last commit woke still on its way (one of them usually comes back at once and
        leads with the same connections)."""
        if self._leading or self._waking or self._flying:
            return []
        idle, self._spares = self._spares, []
        if self._conn is not None:
            idle.append(self._conn)
            self._conn = None
        return idle

    @staticmethod
    def _close(idle: list[Connection]) -> None:
        for conn in idle:
            with contextlib.suppress(SQLAlchemyError):  # broken: nothing to keep
                conn.close()

    def _gather(self) -> None:
        """Let the callers the last commit woke leave before the next batch is taken.

        Under the GIL a woken caller runs until it blocks again, typically on its next
        append; taking the queue while they are still on their way would split the
        writers into two groups that take turns, each commit carrying half of them.
        The wait ends as soon as the last one is out (no polling), and is bounded by a
        fraction of the last commit's duration in case one is slow to be scheduled.
        """
        with self._cv:
            if self._waking <= 0 or len(self._queue) >= MAX_BATCH:
                return
            deadline = time.perf_counter() + self._gather_time()
            while self._waking > 0 and len(self._queue) < MAX_BATCH:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return
                self._cv.wait(left)

    def _gather_time(self) -> float:
        return min(GATHER_MAX, self._last_commit * GATHER_SHARE)

    def _commit_batch(self, batch: list[Waiting], own: Waiting) -> None:
        """Insert and commit ``batch`` as one transaction; every waiter gets its outcome.

        When the database refuses a batch of several events for what may be one event's
        values (a trigger, a value the server cannot store), each event is tried again
        on its own, so that one bad event fails only its own call.
        """
        started = time.perf_counter()
        try:
            placements, ts = self._insert_committed([w.prepared for w in batch])
        except Exception as exc:
            if len(batch) > 1 and may_be_one_event(exc):
                for w in batch:
                    self._commit_batch([w], own)
                return
            self._wake(batch, own, error=exc)
            return
        except BaseException as exc:
            self._wake(batch, own, error=exc)
            raise
        self._last_commit = time.perf_counter() - started
        self._done(batch, own, placements, ts)

    def _done(
        self, batch: list[Waiting], own: Waiting, placements: list[Placement], ts: datetime
    ) -> None:
        """Hand every caller of a committed batch its place."""
        for w, placement in zip(batch, placements, strict=True):
            w.ts = ts
            w.placement = placement
        self._wake(batch, own)
        self._committed(len(batch))
        if self._anchorer is not None:
            self._anchorer.noted(len(placements))

    def _wake(self, batch: list[Waiting], own: Waiting, error: BaseException | None = None) -> None:
        """Hand every caller of ``batch`` its outcome (the leader's own is not woken)."""
        others = [w for w in batch if w is not own]
        if others:
            with self._cv:
                self._waking += len(others)
        for w in batch:
            if error is not None:
                w.error = error
            if w is not own:
                w.wake.release()
