"""Pipelined group commit on PostgreSQL: the next batch is inserted while the last one's
COMMIT waits for the disk.

A batch runs in its own transaction on one of a few writer connections. Its leader
inserts the waiting events, and keeps inserting those that arrive (one statement per
arrival group) until it may commit: once the batch before it has committed and the
callers that commit woke are back or a share of a commit's time has passed. Then it
hands the leader's role on and sends COMMIT; the next leader opens the next batch on
another connection meanwhile, its first row linked to this batch's last hash (known
before the commit).

Why this keeps one linear chain, every event durable before its call returns:

* A batch after one whose COMMIT is under way cannot prove its link with the usual
  ``EXISTS`` check (those rows are invisible to it); it is proven by order instead: the
  batch commits only after the one before it committed, and rolls back if that failed.
  So no batch is ever committed after a missing one (no gap), and the primary key keeps
  any other writer off the seqs it holds (no fork): another instance that wants them
  waits for this transaction and then collides, as it would with a committed row.
* A batch that follows committed rows (or reads the head under the advisory lock)
  proves its link with ``EXISTS`` as a single append does.
* Any failure rolls the batch back and hands it to the plain path
  (:meth:`GroupCommit._commit_batch`): retried whole, or event by event when the cause
  may be one event's values, so a refused event fails only its own call.
"""

from __future__ import annotations

import contextlib
import time
from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from audit.batching import MAX_ATTEMPTS, MAX_BATCH, Stale, Ticket, Waiting
from audit.chain import Sealer
from audit.group_commit import GroupCommit
from audit.writer import (
    PG_LOCK,
    Placement,
    insert_batch,
    is_seq_collision,
    read_head,
    seal_pg,
    send_pg,
)

_Sealed = tuple[list[Placement], datetime, Ticket]


class PipelinedCommit(GroupCommit):
    """:class:`GroupCommit` with PostgreSQL's batches pipelined (see the module)."""

    _engine: Engine
    _sealer: Sealer
    _clock: Callable[[], datetime]
    _head: tuple[int, str] | None

    @abstractmethod
    def _maybe_checkpoint(self, conn: Connection, placements: list[Placement]) -> None:
        """Write the checkpoints due among ``placements`` in ``conn``'s transaction."""

    @abstractmethod
    def _checkpoint_due(self, head_seq: int, events: int) -> bool:
        """Does a checkpoint fall among the next ``events`` after ``head_seq``?"""

    @abstractmethod
    def _writer(self) -> Connection:
        """The kept autocommit connection (used under the insert lock, or by the one
        batch in flight that holds the tail)."""

    def _pipelined(self, batch: list[Waiting], own: Waiting) -> Callable[[], None] | None:
        with self._lock:
            prev = self._settled_tail(wait=False)
            if prev is None:
                return self._seal_alone(batch, own)
        try:
            conn = self._spare()
        except SQLAlchemyError:
            return None  # the plain path reports it (or retries, as it may)
        try:
            with self._lock:
                sealed = self._open(conn, batch)
                if sealed is None:
                    self._give_back(conn)
                    return None  # rolled back: the leader commits it the plain way
                placements, ts, ticket = sealed
                self._head, self._tail = ticket.last, ticket
                with self._cv:
                    self._flying += 1
        except BaseException as exc:  # interrupted: nothing kept, every caller told
            self._give_back(conn)
            self._wake(batch, own, error=exc)
            raise
        return lambda: self._finish(conn, batch, own, placements, ts, ticket)

    def _seal_alone(self, batch: list[Waiting], own: Waiting) -> Callable[[], None] | None:
        """Under the insert lock, nothing in flight: seal ``batch`` as one autocommit
        statement (its own transaction, durable when it returns, one round trip), sent
        once the role is handed on, so that the next batch can open behind it."""
        head = self._head
        if head is None or self._checkpoint_due(head[0], len(batch)):
            return None  # read the head under the lock / write the checkpoint with it
        sealed = seal_pg(self._sealer, [w.prepared for w in batch], head, self._clock())
        seq, _, digest = sealed.placements[-1]
        ticket = Ticket((seq, digest))
        self._head, self._tail = ticket.last, ticket
        with self._cv:
            self._flying += 1

        def send() -> None:
            ok = False
            started = time.perf_counter()
            try:
                ok = send_pg(self._writer(), sealed)
            except SQLAlchemyError:
                pass  # tried again below from the true head, or failed event by event
            finally:
                self._settle(ok, started, batch, own, sealed.placements, sealed.ts, ticket)

        return send

    def _finish(
        self,
        conn: Connection,
        batch: list[Waiting],
        own: Waiting,
        placements: list[Placement],
        ts: datetime,
        ticket: Ticket,
    ) -> None:
        """COMMIT an open batch (the leader's role already handed on)."""
        started = time.perf_counter()
        ok = False
        try:
            conn.commit()
            ok = True
        except SQLAlchemyError:
            pass  # tried again below from the true head, or failed event by event
        finally:
            if not ok:
                with contextlib.suppress(SQLAlchemyError):
                    conn.rollback()
            self._settle(ok, started, batch, own, placements, ts, ticket, conn)

    def _settle(
        self,
        ok: bool,
        started: float,
        batch: list[Waiting],
        own: Waiting,
        placements: list[Placement],
        ts: datetime,
        ticket: Ticket,
        conn: Connection | None = None,
    ) -> None:
        """Settle the ticket that the next batch waits on and count the woken callers
        in the same step, so that the next leader waits for them to come back (see
        :meth:`GroupCommit._gather`); then wake them, or try the batch again the plain
        way. (An interruption propagates once the ticket is settled.)"""
        if ok:
            self._last_commit = time.perf_counter() - started
            for w, placement in zip(batch, placements, strict=True):
                w.ts, w.placement = ts, placement
        keep = conn is not None and not (conn.closed or conn.invalidated)
        others = [w for w in batch if w is not own]
        with self._cv:
            ticket.ok, ticket.settled = ok, True
            if ok:  # a failed batch stays in flight while it is tried again
                self._flying -= 1
            if keep and conn is not None:
                self._spares.append(conn)
            if ok:
                self._waking += len(others)
            self._cv.notify_all()
            idle = self._idle()
        if conn is not None and not keep:
            idle.append(conn)
        self._close(idle)
        if not ok:
            try:
                self._commit_batch(batch, own)
            finally:
                with self._cv:
                    self._flying -= 1
                    idle = self._idle()
            self._close(idle)
            return
        for w in others:
            w.wake.release()
        self._committed(len(batch))
        if self._anchorer is not None:
            self._anchorer.noted(len(placements))

    def _open(self, conn: Connection, batch: list[Waiting]) -> _Sealed | None:
        """Under the insert lock: insert ``batch`` (growing it with arrivals) in an open
        transaction, until the batch before has committed; None: rolled back."""
        prev = self._settled_tail(wait=False)
        for _ in range(MAX_ATTEMPTS):
            head = prev.last if prev is not None else self._head
            ts = self._clock()
            placements: list[Placement] = []
            done: tuple[list[Placement], datetime] | None = None
            try:
                if head is None:  # queue behind the other instances, read the true head
                    conn.execute(PG_LOCK)
                    head = read_head(conn)
                chunk = list(batch)
                after_pending = prev is not None
                while chunk:
                    prepared = [w.prepared for w in chunk]
                    done = insert_batch(
                        conn, self._sealer, prepared, head, ts, after_pending=after_pending
                    )
                    if done is None:
                        raise Stale
                    self._maybe_checkpoint(conn, done[0])
                    placements.extend(done[0])
                    seq, _, digest = done[0][-1]
                    head, after_pending = (seq, digest), False  # our own rows are visible
                    more = self._more(batch, prev)
                    if more is None:  # the batch before failed: this one links to nothing
                        conn.rollback()
                        self._head = None
                        return None
                    chunk = more
            except (Stale, DBAPIError) as exc:
                with contextlib.suppress(SQLAlchemyError):
                    conn.rollback()
                self._head = None
                if isinstance(exc, DBAPIError) and not is_seq_collision(exc):
                    return None  # the plain path knows what may be retried
                prev = self._settled_tail(wait=True)  # another instance moved the head
                continue
            except SQLAlchemyError:
                with contextlib.suppress(SQLAlchemyError):
                    conn.rollback()
                self._head = None
                return None
            if done is None or head is None:
                return None  # an empty batch: nothing to commit
            return placements, done[1], Ticket(head)
        return None

    def _more(self, batch: list[Waiting], prev: Ticket | None) -> list[Waiting] | None:
        """The events to add to ``batch`` now; [] when it is time to commit, None when
        the batch before it failed."""
        deadline: float | None = None
        with self._cv:
            while True:
                if prev is not None and prev.settled and not prev.ok:
                    return None
                room = MAX_BATCH - len(batch)
                if self._queue and room > 0:
                    more = self._queue[:room]
                    del self._queue[: len(more)]
                    batch.extend(more)
                    return more
                if prev is not None and not prev.settled:
                    self._collecting = True
                    self._cv.wait()  # an arrival or the COMMIT before settling
                    self._collecting = False
                    continue
                if room <= 0 or self._waking <= 0:
                    return []
                # The callers the last commit woke are on their way back (_gather).
                now = time.perf_counter()
                if deadline is None:
                    deadline = now + self._gather_time()
                if now >= deadline:
                    return []
                self._cv.wait(deadline - now)

    def _settled_tail(self, wait: bool) -> Ticket | None:
        """Under the insert lock: the batch still committing to link onto, or None once
        it has settled (a failed one makes the head unknown: it is read again)."""
        prev = self._tail
        if prev is None:
            return None
        with self._cv:
            while wait and not prev.settled:
                self._cv.wait()
            settled, ok = prev.settled, prev.ok
        if not settled:
            return prev
        if not ok:
            self._head = None
        self._tail = None
        return None

    def _spare(self) -> Connection:
        with self._cv:
            conn = self._spares.pop() if self._spares else None
        if conn is None or conn.closed or conn.invalidated:
            conn = self._engine.connect()
        return conn

    def _give_back(self, conn: Connection) -> None:
        """Back to the idle writer connections after a rollback (closed if broken)."""
        with contextlib.suppress(SQLAlchemyError):
            conn.rollback()
        if conn.closed or conn.invalidated:
            self._close([conn])
            return
        with self._cv:
            self._spares.append(conn)
