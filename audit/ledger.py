"""The ledger: append events to one linear hash chain; read, verify and export it.

Several application instances may share one PostgreSQL database. They agree on the
order of events through the primary key: each writer inserts ``head + 1`` and, if
someone else got there first, re-reads the head and tries again, so there is no
sequence that could leave gaps on rollback. On PostgreSQL a writer that lost a race
queues behind the others on a transaction-scoped advisory lock before it reads the head
again, so under load the instances take turns instead of colliding over and over.

Group commit (:mod:`audit.group_commit`): threads of one process that append at the
same time share one transaction; each call returns only after the commit that holds
its event, so a returned entry is durable. This module holds the insert-and-commit of
a batch, ``append_in``, and the reading and archiving side.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import IO

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import ColumnElement, Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from audit import archive, checkpoints, day_totals, query, record_index, verify
from audit.anchoring import Anchorer
from audit.batching import (
    MAX_ATTEMPTS,
    Retry,
    Stale,
)
from audit.chain import Sealer
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
    Vouch,
)
from audit.group_commit import GroupCommit
from audit.schema import audit_ledger
from audit.writer import (
    Placement,
    Prepared,
    insert,
    insert_batch,
    prepare,
    read_head,
)

log = structlog.get_logger()

ARCHIVE_SEGMENT = 200_000
"""Entries per archived segment: a bounded unit to seal, store, read back and query."""

_PG_LOCK = text("SELECT pg_advisory_xact_lock(7369823361)")  # 'crmg' + 'ledger', fixed


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Ledger(GroupCommit):
    """The audit ledger on one database, keyed with ``mac_key``.

    ``signing_key`` (Ed25519) enables checkpoints; with ``checkpoint_every`` one is
    written in the same transaction as every N-th event. ``verify_key`` is the public
    key an auditor trusts; it defaults to the signing key's own public half.
    ``anchorer`` (see :mod:`audit.anchoring`) is told of every append and anchors the
    head outside the database; :meth:`close` writes the shutdown anchor.
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
        anchorer: Anchorer | None = None,
    ) -> None:
        if len(mac_key) < 16:
            raise AuditError("the ledger MAC key is too short (need at least 16 bytes)")
        if checkpoint_every is not None and (checkpoint_every < 1 or signing_key is None):
            raise AuditError("checkpoint_every needs a signing key and a positive number")
        self._engine = engine
        self._key = bytes(mac_key)
        self._sealer = Sealer(self._key)
        self._clock = clock or _utcnow
        self._signing_key = signing_key
        self._verify_key = verify_key or (signing_key.public_key() if signing_key else None)
        self._checkpoint_every = checkpoint_every
        self._lock = threading.Lock()  # the in-process head (shared with append_in)
        self._init_group_commit()
        self._head: tuple[int, str] | None = None
        self._pg = engine.dialect.name == "postgresql"
        self._anchorer = anchorer
        if anchorer is not None:
            anchorer.start()

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- writing -----------------------------------------------------------------

    @property
    def anchorer(self) -> Anchorer | None:
        return self._anchorer

    def close(self) -> None:
        """Anchor the final head (when anchoring is on); the ledger stays usable."""
        with self._lock:
            self._drop_writer()
        if self._anchorer is not None:
            self._anchorer.close()

    def _insert_committed(self, prepared: list[Prepared]) -> tuple[list[Placement], datetime]:
        retry = Retry(reconnect=True)
        with self._lock:  # the in-process head is shared with append_in
            for _ in range(MAX_ATTEMPTS):
                head = self._head
                try:
                    done = self._attempt(prepared, head)
                except Stale:
                    self._head = None
                    continue
                except DBAPIError as exc:
                    self._head = None
                    self._drop_writer()
                    retry.absorb(exc)
                    continue
                except SQLAlchemyError as exc:
                    self._head = None
                    self._drop_writer()
                    raise LedgerWriteError(one_line(exc)) from exc
                seq, _, digest = done[0][-1]
                self._head = (seq, digest)
                return done
        raise retry.give_up()

    def _attempt(
        self, prepared: list[Prepared], head: tuple[int, str] | None
    ) -> tuple[list[Placement], datetime]:
        """One try at committing ``prepared`` after ``head`` (None: read it first).

        On PostgreSQL, with the head known and no checkpoint due, the batch is a single
        statement on the writer connection in autocommit: its own transaction, durable
        when it returns, one round trip instead of BEGIN, INSERT and COMMIT (plus the
        pool's ping). Anything else runs in an explicit transaction.
        """
        ts = self._clock()
        if self._pg:
            if head is not None and not self._checkpoint_due(head[0], len(prepared)):
                done = insert_batch(self._writer(), self._sealer, prepared, head, ts)
                if done is None:
                    raise Stale  # all or nothing: nothing went in
                return done
            with self._engine.begin() as conn:
                return self._insert_in(conn, prepared, head, ts)
        conn = self._writer()
        with conn.begin():
            return self._insert_in(conn, prepared, head, ts)

    def _insert_in(
        self,
        conn: Connection,
        prepared: list[Prepared],
        head: tuple[int, str] | None,
        ts: datetime,
    ) -> tuple[list[Placement], datetime]:
        if head is None:
            # After a start or a lost race: queue behind the other instances'
            # writers, then read the true head under the lock.
            if self._pg:
                conn.execute(_PG_LOCK)
            head = read_head(conn)
        done = insert_batch(conn, self._sealer, prepared, head, ts)
        if done is None:
            raise Stale  # roll back whatever part of the batch went in
        self._maybe_checkpoint(conn, done[0])
        return done

    def _checkpoint_due(self, head_seq: int, events: int) -> bool:
        every = self._checkpoint_every
        if not every or self._signing_key is None:
            return False
        return (head_seq + events) // every != head_seq // every

    def _writer(self) -> Connection:
        """The connection the leader writes batches on, kept while writers keep coming
        (no pool checkout, reset or ping per batch); autocommit on PostgreSQL."""
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._engine.connect()
            if self._pg:
                conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
        return conn

    def _drop_writer(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError):  # already broken: nothing to keep
                conn.close()

    def _maybe_checkpoint(self, conn: Connection, placements: list[Placement]) -> None:
        every = self._checkpoint_every
        if not every or self._signing_key is None:
            return
        for seq, _, digest in placements:
            if seq % every == 0:
                checkpoints.write(conn, self._signing_key, seq, digest, self._clock())

    def append_in(self, conn: Connection, event: AuditEvent) -> LedgerEntry:
        """Record ``event`` inside the caller's transaction (atomic with a data change).

        On PostgreSQL each attempt runs in a SAVEPOINT so that a collision does not
        abort the caller's transaction. The caller's isolation level must be READ
        COMMITTED (the default) so that a retry can see the new head.
        """
        prepared = prepare(event)
        head = self._head
        retry = Retry(reconnect=False)  # the caller's connection is the caller's
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
            if self._anchorer is not None:
                self._anchorer.noted(1)  # it anchors only what it reads as committed
            return entry
        raise retry.give_up()

    def _insert(
        self, conn: Connection, prepared: Prepared, head: tuple[int, str] | None
    ) -> LedgerEntry | None:
        done = insert(conn, self._sealer, prepared, head, self._clock())
        if done is not None:
            self._maybe_checkpoint(conn, [(done.seq, done.prev_hash, done.hash)])
        return done

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

    def verify(
        self,
        progress: Callable[[int], None] | None = None,
        vouches: Sequence[Vouch] = (),
        *,
        index: bool = False,
    ) -> VerifyResult:
        """Walk the whole chain in batches; see :func:`audit.verify.verify_chain`."""
        return verify.verify_chain(
            self._engine, self._key, self._verify_key, progress, vouches=vouches, index=index
        )

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
        archive_keep: query.ArchiveKeep | None = None,
    ) -> Iterator[LedgerEntry]:
        """Entries in chain order (``since`` inclusive, ``until`` exclusive), streamed.

        ``record_resource`` with ``record_id`` names one record (see :class:`query.Filters`
        and :mod:`audit.record_index`: "who viewed company 12" also finds the contact
        views that included it); ``where`` adds the caller's SQL clauses (a reader's
        scope); ``archive_reader`` reads archived segments too, where ``archive_keep``
        applies the rule of ``where`` (archived lines are matched in Python).
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
            archive_keep=archive_keep,
        )

    # -- archiving ---------------------------------------------------------------

    def seal_archive(self, upto_seq: int, max_entries: int = ARCHIVE_SEGMENT) -> archive.Segment:
        """Seal the oldest live entries up to ``upto_seq`` (at most ``max_entries``), each
        verified on the way, into a signed segment; nothing is removed here."""
        if self._signing_key is None:
            raise ArchiveError(
                "archiving needs the checkpoint signing key (keys/checkpoint.key): "
                "run `crmguard migrate` (it makes a missing one) or restore the key file"
            )
        # The whole chain first: a damaged ledger is never sealed as if it were sound.
        checked = self.verify()
        if not checked.ok:
            raise ArchiveError(f"refusing to archive a damaged ledger: {checked.problem}")
        t = audit_ledger
        try:
            with self._engine.connect() as conn:
                start, link = archive.live_start(conn)
                count = min(max_entries, upto_seq - start + 1)
                if count < 1:
                    raise ArchiveError(
                        f"nothing to archive: the live ledger starts at entry {start}"
                    )
                rows = conn.execute(
                    select(t).where(t.c.seq >= start).order_by(t.c.seq).limit(count)
                ).all()
        except SQLAlchemyError as exc:
            raise LedgerReadError(one_line(exc)) from exc
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

    def sum_days(self) -> int:
        """Sum the days that have ended into the day totals now (the daemon does this,
        so an owner's first question of the day does not); returns the summed seq."""
        try:
            with self._engine.begin() as conn:
                return day_totals.catch_up(conn, datetime.now(UTC))
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
