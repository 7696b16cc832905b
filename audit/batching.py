"""Group commit's parts: one waiting append, the retry policy, and the batch limits.

The ledger's writers queue :class:`Waiting` appends; one of them leads, commits a batch
and wakes the others (see :meth:`audit.ledger.Ledger.append`). What may be retried, and
when a failure is one event's rather than the batch's, is decided here so that the
leader's loop only moves batches.
"""

from __future__ import annotations

import _thread
import random
import time
from datetime import datetime

import structlog
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from audit.errors import LedgerWriteError, one_line
from audit.writer import Placement, Prepared, is_seq_collision, is_transient, is_unreachable

log = structlog.get_logger()

MAX_ATTEMPTS = 200
"""Attempts before giving up; a collision means another writer made progress."""
MAX_STALLS = 5
"""Lock timeouts or lost connections tolerated; SQLite already waited its busy timeout."""
MAX_BATCH = 256
"""Events one commit carries at most (group commit)."""
GATHER_MAX = 0.002
"""Longest wait (seconds) for woken callers to come back before taking a batch."""
GATHER_SHARE = 0.5
"""... and at most this share of the last commit's duration (no wait if commits are fast)."""


class Waiting:
    """One append waiting for the commit that carries it."""

    __slots__ = ("error", "lead", "placement", "prepared", "relay", "ts", "wake")

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.placement: Placement | None = None  # set once its commit is done
        self.ts: datetime | None = None
        self.error: BaseException | None = None
        self.lead = False  # handed the leader's role rather than a result
        self.relay: Waiting | None = None  # the next of its batch to wake (see _wake)
        # Held from the start; released once (result or role) and the waiter wakes: a
        # bare lock costs a fraction of a threading.Event's condition per wait.
        self.wake = _thread.allocate_lock()
        self.wake.acquire()

    @property
    def done(self) -> bool:
        return self.placement is not None or self.error is not None


class Stale(Exception):
    """The head moved under a batch: roll it back and try again."""


class Retry:
    """Decides, per failed attempt, whether to try again or fail closed."""

    def __init__(self, reconnect: bool) -> None:
        self.reconnect = reconnect
        self.stalls = 0
        self.last = "the chain head kept moving"

    def absorb(self, exc: DBAPIError) -> None:
        if is_seq_collision(exc):
            return
        stalled = is_transient(exc) or (self.reconnect and exc.connection_invalidated)
        if stalled and self.stalls < MAX_STALLS:
            self.stalls += 1
            self.last = one_line(exc)
            time.sleep(0.01 * self.stalls * random.random())
            return
        # The cause is the driver's first line: no statement, no bound values.
        log.warning("audit.write_refused", cause=one_line(exc))
        raise LedgerWriteError(one_line(exc)) from exc

    def give_up(self) -> LedgerWriteError:
        log.warning("audit.write_gave_up", cause=self.last, attempts=MAX_ATTEMPTS)
        return LedgerWriteError(f"{self.last}; gave up after {MAX_ATTEMPTS} attempts")


def may_be_one_event(exc: Exception) -> bool:
    """Could one event of a batch be the cause of ``exc`` (see ``_commit_batch``)?"""
    cause = exc.__cause__ if isinstance(exc, LedgerWriteError) else exc
    if isinstance(exc, LedgerWriteError) and cause is None:
        return False  # gave up on a head that kept moving: not about any one event
    if isinstance(cause, DBAPIError):
        return not is_unreachable(cause)
    return not isinstance(cause, SQLAlchemyError)
