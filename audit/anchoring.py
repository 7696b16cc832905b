"""The anchorer: signs the committed head every N events or T seconds, and at shutdown.

It reads the head from the database (only committed entries are ever anchored, so a
rolled-back transaction can never leave an anchor that points at nothing), signs it,
records it as a database checkpoint too, and hands it to every anchor store. A store
that cannot be reached keeps its newest unsent anchor, retried on every tick: appends
never wait for an anchor store, and the anchor is written when the store is back.

It never anchors a head that has lost what the last anchor vouched for: if the entry
the newest anchor names is gone or different (the tail was cut, the database was put
back to an older copy), it refuses and logs an error, so the anchors keep remembering
the longer history instead of blessing the shortened one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import SQLAlchemyError

from audit.anchors import Anchor, AnchorStore, sign
from audit.errors import AnchorError, one_line
from audit.keys import public_key_hex
from audit.schema import audit_checkpoints
from audit.writer import read_head

log = structlog.get_logger()

_HASH_AT = text("SELECT hash FROM audit_ledger WHERE seq = :seq")
DEFAULT_EVERY = 1000
DEFAULT_SECONDS = 60.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Anchorer:
    """Anchors one ledger's head to ``stores``; :meth:`close` anchors the final head."""

    def __init__(
        self,
        engine: Engine,
        key: Ed25519PrivateKey,
        stores: Sequence[AnchorStore],
        *,
        every: int = DEFAULT_EVERY,
        seconds: float = DEFAULT_SECONDS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if every < 1 or seconds <= 0:
            raise AnchorError("anchors need a positive event count and interval")
        self._engine = engine
        self._key = key
        self._public_hex = public_key_hex(key.public_key())
        self.stores = list(stores)
        self.every = every
        self.seconds = seconds
        self._clock = clock or _utcnow
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._count = 0
        self._last: tuple[int, str] | None = None
        newest = self.stores[0].last_anchor() if self.stores else None
        if newest is not None:
            self._last = (newest.seq, newest.hash)
        self._pending: dict[int, Anchor] = {}
        self._thread: threading.Thread | None = None

    # -- what the ledger calls -----------------------------------------------------

    def noted(self, events: int) -> None:
        """``events`` were appended; wake the thread once N have gathered."""
        self._count += events
        if self._count >= self.every:
            self._wake.set()

    def start(self) -> None:
        """Start the background timer (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ledger-anchorer", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the timer and anchor the final head (the shutdown anchor)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.anchor_now()

    # -- the work ------------------------------------------------------------------

    def pending(self) -> dict[str, Anchor]:
        """Anchors signed but not yet written, by store (what an outage holds back)."""
        with self._lock:
            return {self.stores[i].describe(): a for i, a in self._pending.items()}

    def anchor_now(self) -> Anchor | None:
        """Sign the committed head if it moved, publish it, retry what is pending."""
        with self._lock:
            self._count = 0
            anchor = None
            try:
                with self._engine.connect() as conn:
                    head = read_head(conn)
                    if head is not None and not self._extends_last(conn, head):
                        head = None
            except SQLAlchemyError as exc:
                log.warning("audit.anchor_head_unreadable", cause=one_line(exc))
                head = None
            if head is not None and head != self._last:
                anchor = sign(self._key, head[0], head[1], self._clock())
                self._record_in_database(anchor)
                for i in range(len(self.stores)):
                    self._pending[i] = anchor
                self._last = head
            self._flush()
            return anchor

    def _extends_last(self, conn: Connection, head: tuple[int, str]) -> bool:
        last = self._last
        if last is None or head == last:
            return True
        found = None if head[0] < last[0] else conn.execute(_HASH_AT, {"seq": last[0]}).scalar()
        if found == last[1]:
            return True
        log.error(
            "audit.anchor_refused",
            reason="the ledger no longer holds the entry the last anchor vouches for",
            anchored_seq=last[0],
            head_seq=head[0],
        )
        return False

    def _record_in_database(self, anchor: Anchor) -> None:
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(audit_checkpoints).values(
                        seq=anchor.seq,
                        hash=anchor.hash,
                        ts=anchor.ts,
                        signature=anchor.signature,
                        public_key=self._public_hex,
                    )
                )
        except SQLAlchemyError as exc:
            log.warning("audit.checkpoint_not_recorded", cause=one_line(exc))

    def _flush(self) -> None:
        for i, anchor in list(self._pending.items()):
            store = self.stores[i]
            try:
                store.publish(anchor)
            except AnchorError as exc:
                log.warning(
                    "audit.anchor_store_unavailable", store=store.describe(), cause=str(exc)
                )
                continue
            del self._pending[i]

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=self.seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.anchor_now()
            except Exception as exc:  # the timer must survive any one failure
                log.warning("audit.anchor_failed", cause=one_line(exc))
