"""The ledger: append events to one linear, keyed hash chain; read, verify and export it.

Several application instances may share one PostgreSQL database. They agree on the
order of events through the primary key alone: each writer inserts ``head + 1`` and, if
someone else got there first, re-reads the head and tries again. No lock table, no
sequence that could leave gaps on rollback.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import IO

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import ColumnElement, Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from audit import archive, checkpoints, query, record_index, verify
from audit.errors import (
    ArchiveError,
    AuditError,
    CheckpointError,
    LedgerReadError,
    LedgerWriteError,
    one_line,
)
from audit.events import (
    ActivityDay,
    AuditEvent,
    Checkpoint,
    LedgerEntry,
    Outcome,
    VerifyResult,
)
from audit.writer import Prepared, insert, is_seq_collision, is_transient, prepare, read_head

log = structlog.get_logger()

ARCHIVE_SEGMENT = 200_000
"""Entries per archived segment: a bounded unit to seal, store, read back and query."""

MAX_ATTEMPTS = 200
"""Attempts before giving up; a collision means another writer made progress."""
MAX_STALLS = 5
"""Lock timeouts or lost connections tolerated; SQLite already waited its busy timeout."""


class _Retry:
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


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """The audit ledger on one database, keyed with ``mac_key``.

    ``signing_key`` (Ed25519) enables checkpoints; with ``checkpoint_every`` one is
    written in the same transaction as every N-th event. ``verify_key`` is the public
    key an auditor trusts; it defaults to the signing key's own public half.
    """

    def __init__(
        self,
        engine: Engine,
        mac_key: bytes,
        clock: Callable[[], datetime] | None = None,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        verify_key: Ed25519PublicKey | None = None,
        checkpoint_every: int | None = None,
    ) -> None:
        if len(mac_key) < 16:
            raise AuditError("the ledger MAC key is too short (need at least 16 bytes)")
        if checkpoint_every is not None and (checkpoint_every < 1 or signing_key is None):
            raise AuditError("checkpoint_every needs a signing key and a positive number")
        self._engine = engine
        self._key = bytes(mac_key)
        self._clock = clock or _utcnow
        self._signing_key = signing_key
        self._verify_key = verify_key or (signing_key.public_key() if signing_key else None)
        self._checkpoint_every = checkpoint_every
        self._lock = threading.Lock()
        self._head: tuple[int, str] | None = None
        self._pg = engine.dialect.name == "postgresql"

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- writing -----------------------------------------------------------------

    def append(self, event: AuditEvent) -> LedgerEntry:
        """Record ``event`` in its own transaction, committed before this returns."""
        prepared = prepare(event)
        retry = _Retry(reconnect=True)
        with self._lock:  # threads of one process queue here instead of colliding
            for _ in range(MAX_ATTEMPTS):
                head = self._head
                try:
                    with self._engine.begin() as conn:
                        if head is None:
                            head = read_head(conn)
                        entry = self._insert(conn, prepared, head)
                except DBAPIError as exc:
                    self._head = None
                    retry.absorb(exc)
                    continue
                except SQLAlchemyError as exc:
                    self._head = None
                    raise LedgerWriteError(one_line(exc)) from exc
                if entry is None:
                    self._head = None
                    continue
                self._head = (entry.seq, entry.hash)
                return entry
        raise retry.give_up()

    def append_in(self, conn: Connection, event: AuditEvent) -> LedgerEntry:
        """Record ``event`` inside the caller's transaction (atomic with a data change).

        On PostgreSQL each attempt runs in a SAVEPOINT so that a collision does not
        abort the caller's transaction. The caller's isolation level must be READ
        COMMITTED (the default) so that a retry can see the new head.
        """
        prepared = prepare(event)
        head = self._head
        retry = _Retry(reconnect=False)  # the caller's connection is the caller's
        for _ in range(MAX_ATTEMPTS):
            try:
                if head is None:
                    head = read_head(conn)
                if self._pg:
                    with conn.begin_nested():
                        entry = self._insert(conn, prepared, head)
                else:
                    entry = self._insert(conn, prepared, head)
            except DBAPIError as exc:
                head = None
                retry.absorb(exc)
                continue
            except SQLAlchemyError as exc:
                raise LedgerWriteError(one_line(exc)) from exc
            if entry is None:
                head = None
                continue
            # Speculative until the caller commits; if it rolls back, the next append
            # finds no such predecessor and re-reads the head (one retry, no gap).
            self._head = (entry.seq, entry.hash)
            return entry
        raise retry.give_up()

    def _insert(
        self, conn: Connection, prepared: Prepared, head: tuple[int, str] | None
    ) -> LedgerEntry | None:
        entry = insert(conn, self._key, prepared, head, self._clock())
        every = self._checkpoint_every
        if entry is not None and every and self._signing_key and entry.seq % every == 0:
            checkpoints.write(conn, self._signing_key, entry.seq, entry.hash, self._clock())
        return entry

    def checkpoint(self) -> Checkpoint:
        """Sign the current head now (e.g. before an archive or at the end of a day)."""
        if self._signing_key is None:
            raise CheckpointError("no checkpoint signing key is configured")
        return checkpoints.checkpoint_head(self._engine, self._signing_key, self._clock())

    # -- reading -----------------------------------------------------------------

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last committed entry, read from the database."""
        try:
            with self._engine.connect() as conn:
                return read_head(conn)
        except SQLAlchemyError as exc:
            raise LedgerReadError(one_line(exc)) from exc

    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyResult:
        """Walk the whole chain in batches; see :func:`audit.verify.verify_chain`."""
        return verify.verify_chain(self._engine, self._key, self._verify_key, progress)

    def entries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        actor: str | None = None,
        action: str | None = None,
        resource: str | None = None,
        record_id: int | str | None = None,
        outcome: Outcome | None = None,
        channel: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        record_resource: str | None = None,
        where: Sequence[ColumnElement[bool]] = (),
        archive_reader: query.ArchiveReader | None = None,
    ) -> Iterator[LedgerEntry]:
        """Entries in chain order (``since`` inclusive, ``until`` exclusive), streamed.

        ``record_resource`` with ``record_id`` names one record (see :class:`query.Filters`
        and :mod:`audit.record_index`: "who viewed company 12" also finds the contact
        views that included it); ``where`` adds the caller's SQL clauses (a reader's
        scope); ``archive_reader`` reads archived segments too.
        """
        filters = query.Filters(
            since,
            until,
            actor,
            action,
            resource,
            record_id,
            outcome,
            channel,
            record_resource=record_resource,
            where=tuple(where),
        )
        return query.iter_entries(
            self._engine,
            filters,
            limit=limit,
            newest_first=newest_first,
            archive_reader=archive_reader,
        )

    # -- archiving ---------------------------------------------------------------

    def seal_archive(self, upto_seq: int, max_entries: int = ARCHIVE_SEGMENT) -> archive.Segment:
        """Seal the oldest live entries up to ``upto_seq`` (at most ``max_entries``), each
        verified on the way, into a signed segment; nothing is removed here."""
        if self._signing_key is None:
            raise ArchiveError(
                "archiving needs the checkpoint signing key (keys/checkpoint.key): "
                "run `crmguard keys init` or restore the key file"
            )
        try:
            with self._engine.connect() as conn:
                start, link = archive.live_start(conn)
                count = min(max_entries, upto_seq - start + 1)
                if count < 1:
                    raise ArchiveError(
                        f"nothing to archive: the live ledger starts at entry {start}"
                    )
                rows = conn.execute(verify.SELECT_AFTER, {"after": start - 1, "n": count}).all()
        except SQLAlchemyError as exc:
            raise LedgerReadError(one_line(exc)) from exc
        prev, expected = link, start
        for row in rows:
            problem = verify.row_problem(row, expected, prev, self._key)
            if problem:
                raise ArchiveError(f"refusing to archive a damaged ledger: {problem}")
            prev, expected = row[13], expected + 1
        entries = [query.row_to_entry(r) for r in rows]
        return archive.seal(entries, link, self._signing_key, self._clock())

    def remove_archived(self, manifest: archive.ArchiveManifest) -> int:
        """Record a stored segment and take its entries out of the live table."""
        try:
            with self._engine.begin() as conn:
                return archive.remove_archived(conn, manifest)
        except SQLAlchemyError as exc:
            raise LedgerWriteError(one_line(exc)) from exc

    def archives(self) -> list[archive.ArchiveManifest]:
        """Every archived segment's manifest, oldest first."""
        return archive.manifests(self._engine)

    def activity(
        self,
        actor: str,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[ActivityDay]:
        """What ``actor`` did per UTC day, action, resource and outcome."""
        return query.activity(self._engine, actor, since, until, tuple(where))

    def index_records(self) -> int:
        """Bring the record index up to the head now (the daemon does this in the
        background so owners' queries find it current); returns the indexed seq."""
        try:
            with self._engine.begin() as conn:
                return record_index.catch_up(conn)
        except SQLAlchemyError as exc:
            raise LedgerWriteError(one_line(exc)) from exc

    def export_jsonl(
        self,
        out: IO[str],
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> int:
        """Write entries as JSON Lines (the :meth:`LedgerEntry.to_json` contract)."""
        filters = query.Filters(since, until, where=tuple(where))
        return query.export_jsonl(self._engine, out, filters)
