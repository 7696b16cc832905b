"""Group commit: threads of one process that append at the same time share one commit.

One of them (the leader) takes every waiting event, inserts and commits the batch as one
transaction, and wakes the others with their outcome; each call returns only after the
commit that holds its event, so a returned entry is durable.

Why one batch at a time, even on PostgreSQL: every caller has one event in flight, so
with W writers a commit carries at most W events and throughput can never exceed W
divided by the time of one WAL flush. Inserting the next batch on a second connection
while the last one's COMMIT flushes was measured (see docs/PERFORMANCE.md): left to
form on its own it rarely engaged (the writers come back together and one batch takes
them all) and measured 0.8x to 1.1x; forcing two groups to take turns, each flush
carrying half of the writers, measured 0.5x to 0.9x.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from abc import abstractmethod
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from audit.anchoring import Anchorer
from audit.batching import GATHER_MAX, GATHER_SHARE, MAX_BATCH, Waiting, may_be_one_event
from audit.events import AuditEvent, LedgerEntry
from audit.writer import Placement, Prepared, prepare
from audit.writer import entry as make_entry


class GroupCommit:
    """The waiting, leading and waking of :meth:`append`; the ledger supplies the
    database side (:meth:`_insert_committed`) and the writer connection it keeps."""

    _cv: threading.Condition
    _queue: list[Waiting]
    _leading: bool
    _waking: int
    _last_commit: float
    _conn: Connection | None
    _anchorer: Anchorer | None

    def _init_group_commit(self) -> None:
        self._cv = threading.Condition(threading.Lock())  # never re-entered
        self._queue = []
        self._leading = False
        self._waking = 0  # callers woken with their outcome, not yet out of append
        self._last_commit = 0.0  # seconds the last batch took (bounds _gather's wait)
        self._conn = None  # the leader's (see Ledger._writer)

    @abstractmethod
    def _insert_committed(self, prepared: list[Prepared]) -> tuple[list[Placement], datetime]:
        """Insert and commit ``prepared`` as one transaction (retrying what may be)."""

    def append(self, event: AuditEvent) -> LedgerEntry:
        """Record ``event``; returns once the transaction holding it has committed.

        A caller that finds nobody leading and nobody on the way back from the last
        commit takes the leader's role and commits its event itself (:meth:`_alone`);
        whoever arrives meanwhile queues behind it and is handed the role, so group
        commit only starts once there is a group.
        """
        prepared = prepare(event)
        with self._cv:
            if not self._leading and self._waking == 0:
                self._leading = True
                alone = True
            else:
                alone = False
                waiting = Waiting(prepared)
                self._queue.append(waiting)
                leading = not self._leading
                self._leading = True
        if alone:
            return self._alone(prepared)
        if not leading:
            # Each waiter sleeps on its own event: woken once, with its result or with
            # the leader's role, never by every other batch's commit.
            waiting.wake.acquire()
            leading = waiting.lead and not waiting.done
            if not leading:
                try:
                    self._returned()
                except BaseException:
                    self._pass_on(waiting)
                    raise
        if leading:
            try:
                while not waiting.done:
                    self._gather()
                    with self._cv:
                        batch = self._queue[:MAX_BATCH]
                        del self._queue[: len(batch)]
                    self._commit_batch(batch, waiting)
            finally:  # even when interrupted: a role nobody holds would stop every writer
                self._hand_off(waiting)
        self._pass_on(waiting)
        if waiting.error is not None:
            raise waiting.error
        assert waiting.placement is not None and waiting.ts is not None
        return make_entry(waiting.prepared, waiting.placement, waiting.ts)

    def _alone(self, prepared: Prepared) -> LedgerEntry:
        """Commit one event as leader, with no queue, gathering or waking of its own.

        The same insert-and-commit as a batch of one (:meth:`_insert_committed`: chain
        lock, head, retries, checkpoint), so its outcome and errors are a batch of one's;
        what it skips is the Waiting object, the condition taken three more times and
        the per-batch bookkeeping: about 6 of the 10 us of CPU the machinery cost a lone
        append (docs/PERFORMANCE.md, "One writer").
        """
        try:
            started = time.perf_counter()
            placements, ts = self._insert_committed([prepared])
            self._last_commit = time.perf_counter() - started
        finally:  # even when interrupted: callers may have queued behind this one
            self._hand_off(None)
        if self._anchorer is not None:
            self._anchorer.noted(1)
        return make_entry(prepared, placements[0], ts)

    def _hand_off(self, own: Waiting | None) -> None:
        """Hand the leader's role to the oldest waiter, or lay it down."""
        idle = None
        with self._cv:
            if own is not None and own in self._queue:  # interrupted before its batch
                self._queue.remove(own)
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.wake.release()
            else:
                self._leading = False
                if self._waking == 0:
                    idle, self._conn = self._conn, None
        self._close_idle(idle)

    def _returned(self) -> None:
        """A caller woken with its outcome is on its way out (see :meth:`_gather`)."""
        idle = None
        with self._cv:
            self._waking -= 1
            if self._waking == 0:
                self._cv.notify_all()
                if not self._leading:
                    idle, self._conn = self._conn, None
        self._close_idle(idle)

    @staticmethod
    def _close_idle(idle: Connection | None) -> None:
        """Give the writer connection back to the pool once nobody is writing: no leader,
        and none of the callers the last commit woke still on its way (one of them
        usually comes back at once and leads with the same connection). It is taken
        under the condition, so no leader can be using it."""
        if idle is not None:
            with contextlib.suppress(SQLAlchemyError):
                idle.close()

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
            deadline = time.perf_counter() + min(GATHER_MAX, self._last_commit * GATHER_SHARE)
            while self._waking > 0 and len(self._queue) < MAX_BATCH:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return
                self._cv.wait(left)

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
        for w, placement in zip(batch, placements, strict=True):
            w.ts = ts
            w.placement = placement
        self._wake(batch, own)
        if self._anchorer is not None:
            self._anchorer.noted(len(placements))

    def _wake(self, batch: list[Waiting], own: Waiting, error: BaseException | None = None) -> None:
        """Hand every caller of ``batch`` its outcome (the leader's own is not woken)."""
        others = [w for w in batch if w is not own]
        if others:
            with self._cv:
                self._waking += len(others)
        if error is not None:
            for w in batch:
                w.error = error
        for w, after in itertools.pairwise(others):
            w.relay = after
        if others:
            others[0].wake.release()

    @staticmethod
    def _pass_on(waiting: Waiting) -> None:
        """Wake the next caller of ``waiting``'s batch, as this one leaves ``append``.

        The callers of a batch are woken one after another rather than all at once:
        woken together they would all queue for the GIL, and each hand-over of it is a
        context switch and a futex call, which measured more CPU than their own work
        (2.5 switches and about 65 us an event at 16 writers, against 1.4 and about 42
        us when each wakes the next; docs/PERFORMANCE.md). Woken as this one is about
        to return, the next usually finds the GIL free by the time it runs.
        """
        after, waiting.relay = waiting.relay, None
        if after is not None:
            after.wake.release()
