"""Verification: walk the chain from seq 1 in bounded batches, and say what was done to it.

Every entry must follow its predecessor (no gap), link to it (``prev_hash``), match its
public hash, and, when the MAC key is given, carry the application's seal. Then every
anchor, database checkpoint and backup manifest that vouches for an entry must find
that entry with that hash, and none may vouch for an entry past the end.

It reports the first entry that is wrong and the kind of tampering, because everything
after a broken link is unprovable: an auditor needs to know where trust ends, not a
list of a thousand follow-on failures.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from audit import archive, checkpoints, verify_helper
from audit.errors import LedgerReadError, one_line
from audit.events import VerifyResult, Vouch
from audit.index_check import check_index
from audit.spare_core import spare_core as _spare_core
from audit.totals_check import check_totals
from audit.walk import Fault, Walk, walk_next
from audit.walk_sql import Queries, queries

BATCH = 5000
PARALLEL_FROM = 50_000
"""Live entries from which a helper process walks the newer batches (see :class:`_Helper`):
below this, starting a second interpreter costs more than it saves."""
_HELPER_WAIT = 10.0
"""Seconds the walk waits for the helper to finish the batch it is on before doing it
itself (a batch takes a few milliseconds; this only bounds a helper that hangs)."""


def database_vouches(
    engine: Engine, trusted: Ed25519PublicKey | None
) -> tuple[list[Vouch], Fault | None]:
    """The database's own checkpoints as vouches (a forged one is a fault)."""
    try:
        stored = checkpoints.load_all(engine)
    except LedgerReadError:
        return [], None  # the checkpoints table itself gone: the ledger check says more
    vouches = []
    for cp in stored:
        problem = checkpoints.signature_problem(cp, trusted)
        if problem:
            return [], Fault(cp.seq, "forged", problem)
        vouches.append(Vouch(cp.seq, cp.hash, "a database checkpoint", outside=False))
    return vouches, None


def _table_exists(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).has_table("audit_ledger"))
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc


def _bad(w: Walk, fault: Fault, anchored: int | None) -> VerifyResult:
    return VerifyResult(
        ok=False,
        checked=w.checked,
        first_bad_seq=fault.seq,
        problem=fault.problem,
        kind=fault.kind,
        anchored_seq=anchored,
        head_seq=w.expected - 1,
    )


def _end_fault(w: Walk, vouches: Sequence[Vouch]) -> Fault | None:
    """Anything that vouches for an entry past the end: emptied, truncated or rolled back."""
    last = w.expected - 1
    beyond = [v for v in vouches if v.seq > last]
    if not beyond:
        return None
    top = max(beyond, key=lambda v: (v.outside, v.seq))
    if last == 0:
        return Fault(
            1, "emptied", f"the ledger is empty but {top.source} vouches for entry {top.seq}: "
            "the ledger table was emptied",
        )  # fmt: skip
    inside = [v for v in beyond if not v.outside]
    if inside or not top.outside:
        far = max(inside, key=lambda v: v.seq)
        return Fault(
            last + 1,
            "truncated",
            f"the ledger ends at entry {last} but {far.source} vouches for entry {far.seq}: "
            f"entries {last + 1}..{far.seq} were removed from the end",
        )
    return Fault(
        last + 1,
        "rolled_back",
        f"the ledger ends at entry {last} but {top.source} vouches for entry {top.seq}: "
        "the database was rolled back to an older copy (or its tail was cut together with "
        "its checkpoints)",
    )


def _archived(engine: Engine, trusted: Ed25519PublicKey | None, w: Walk) -> Fault | None:
    """Archived segments come first: each manifest signed, each starting where the one
    before ended; the live table then continues where the last one ends."""
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("audit_archives"):
                return None
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc
    for m in archive.manifests(engine):
        problem = m.signature_problem(trusted)
        if problem:
            return Fault(m.seq_from, "forged", problem)
        if m.seq_from != w.expected or m.prev_hash != w.prev:
            return Fault(
                m.seq_from,
                "deleted",
                f"the archive of entries {m.seq_from}-{m.seq_to} does not continue the chain "
                f"at entry {w.expected}: an archive is missing or was replaced",
            )
        w.expected, w.prev = m.seq_to + 1, m.last_hash
        w.recent = {m.last_hash: m.seq_to}
    return None


def _walk_live(
    raw: Any,
    q: Queries,
    w: Walk,
    batch: int,
    progress: Callable[[int], None] | None,
    helper: _Helper | None,
) -> Fault | None:
    """The live table, batch by batch from where the archives end, joining the helper's
    clean batches where the walk reaches them."""
    cursor = raw.cursor()
    shown = 0
    try:
        while True:
            rows_in = helper.join(w) if helper is not None else None
            if rows_in is None:
                fault, rows_in = walk_next(cursor, q, w, batch)
                raw.rollback()  # end the read so a long walk holds no snapshot or lock
                if fault is not None:
                    return fault
            if progress is not None and rows_in:
                ahead = helper.ahead if helper is not None else 0
                shown = max(shown, w.checked + ahead)
                progress(shown)
            if rows_in < batch:
                return None
    finally:
        cursor.close()


class _Helper:
    """The parent's side of :mod:`audit.verify_helper`: start it, read what it found,
    join its clean batches to the walk, and always stop it.

    A batch is joined only when it starts at the seq the walk expects, links to the hash
    the walk holds, and assumed the same "public chain begun" state; then the walk takes
    the helper's end state (and counts) as if it had walked the batch itself, which on
    the same batch grid it would have done with the same outcome.
    """

    def __init__(self, proc: subprocess.Popen[bytes], feeding: threading.Thread) -> None:
        self._proc = proc
        self._feeding = feeding
        self._fd = proc.stdout.fileno() if proc.stdout is not None else -1
        self._buffer = b""
        self._clean: dict[int, dict[str, Any]] = {}
        self._on: int | None = None  # the batch the helper said it is walking
        self._alive = True
        self._ahead = 0

    @classmethod
    def start(
        cls, raw: Any, dialect: Any, w: Walk, batch: int, parallel_from: int
    ) -> _Helper | None:
        """Start a helper when the live ledger is large enough, or None (walk alone)."""
        cursor = raw.cursor()
        cursor.execute("SELECT max(seq) FROM audit_ledger")
        head = cursor.fetchone()[0]
        cursor.close()
        if not isinstance(head, int) or head - w.expected + 1 < max(parallel_from, 2 * batch):
            raw.rollback()
            return None
        if not _spare_core():
            raw.rollback()
            return None
        batches = (head - w.expected) // batch  # index of the newest batch; 0 is ours
        job: dict[str, Any] = {
            "batch": batch,
            "first": w.expected + batch,
            "top": w.expected + batches * batch,
            "key": w.key.hex() if w.key is not None else None,
            "vouches": [
                [v.seq, v.hash, v.source, v.outside]
                for vs in w.vouched.values()
                for v in vs
                if v.seq >= w.expected + batch - 1
            ],
            "sys_path": [p for p in sys.path if os.path.isabs(p)],
            **_target(raw, dialect),
        }
        raw.rollback()
        if job["dialect"] is None or not sys.executable or getattr(sys, "frozen", False):
            return None  # no database it can open, or no interpreter to start it with
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", verify_helper.BOOT, _AUDIT_DIR],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        data = (json.dumps(job) + "\n").encode()
        feeding = threading.Thread(target=_feed, args=(proc, data), daemon=True)
        feeding.start()  # a large job must not wait for the helper to start reading
        return cls(proc, feeding)

    def _read(self, timeout: float) -> None:
        """Take whatever the helper has written (waiting up to ``timeout`` for it)."""
        if not self._alive:
            return
        try:
            ready, _, _ = select.select([self._fd], [], [], timeout)
            chunk = os.read(self._fd, 1 << 16) if ready else None
        except (OSError, ValueError):  # no select() on pipes here: the walk goes alone
            chunk = b""
        if chunk is None:
            return
        if not chunk:
            self._alive = False
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                message = {}
            if "start" in message:
                self._on = message["start"]
            elif "clean" in message:
                self._clean[message["clean"]] = message
                self._ahead += message["checked"]
                self._on = None
            else:  # a problem, or it could not start: it stops either way
                self._alive = False

    def join(self, w: Walk) -> int | None:
        """Carry ``w`` past the helper's batch at ``w.expected`` (its row count), or None
        when the walk must fetch and walk that batch itself."""
        start = w.expected
        self._read(0)
        waited = 0.0
        while self._alive and start not in self._clean and self._on == start:
            if waited >= _HELPER_WAIT:
                break
            self._read(0.05)  # it is on this very batch: waiting beats doing it twice
            waited += 0.05
        for passed in [s for s in self._clean if s < start]:  # walked by us meanwhile
            self._ahead -= self._clean.pop(passed)["checked"]
        done = self._clean.pop(start, None)
        if done is None:
            return None
        self._ahead -= done["checked"]
        if done["prev"] != w.prev or done["legacy_in"] != w.legacy_ok:
            return None
        w.expected = start + done["rows"]
        w.prev, w.legacy_ok = done["last"], done["legacy_out"]
        w.checked += done["checked"]
        w.sealed_ok += done["sealed"]
        w.legacy += done["legacy"]
        w.recent = {h: s for h, s in done["recent"]}
        return int(done["rows"])

    @property
    def ahead(self) -> int:
        """Entries the helper has proved beyond the walk (for the progress display)."""
        return self._ahead

    def close(self) -> None:
        """Stop the helper (it only reads) and reap it."""
        self._proc.kill()
        self._proc.wait()
        self._feeding.join(timeout=1)
        for pipe in (self._proc.stdin, self._proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass  # a job it never read: nothing to flush it to


_AUDIT_DIR = os.path.dirname(os.path.abspath(__file__))


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    try:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.flush()
    except (OSError, ValueError):
        pass  # the helper is gone (or was stopped): the walk goes on alone


def _target(raw: Any, dialect: Any) -> dict[str, Any]:
    """How the helper reaches exactly the database (and table) this connection reads."""
    none: dict[str, Any] = {"dialect": None}
    if dialect.name == "sqlite" and dialect.driver == "pysqlite":
        files = {name: path for _, name, path in raw.execute("PRAGMA database_list")}
        shadow = raw.execute(
            "SELECT count(*) FROM temp.sqlite_master WHERE name = 'audit_ledger'"
        ).fetchone()[0]
        if not files.get("main") or shadow:
            return none  # in memory, or a temporary table of that name hides the real one
        return {"dialect": "sqlite", "path": files["main"], "timeout": 5.0}
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        params = dict(raw.info.get_parameters())
        if raw.info.password:
            params["password"] = raw.info.password
        cursor = raw.cursor()
        cursor.execute(verify_helper.PG_IDENTITY)
        identity = list(cursor.fetchone())
        cursor.close()
        if identity[2] is None:
            return none
        return {"dialect": "postgresql", "params": params, "identity": identity}
    return none


def verify_chain(
    engine: Engine,
    key: bytes | None,
    trusted: Ed25519PublicKey | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
    vouches: Sequence[Vouch] = (),
    *,
    parallel_from: int | None = PARALLEL_FROM,
    index: bool = False,
) -> VerifyResult:
    """Check continuity, links, hashes, seals (with ``key``) and every vouch, then the
    day totals and, with ``index``, the record index (see :mod:`audit.index_check`: a
    deep check, several times the walk's cost on a ledger whose entries name many
    records, so asked for rather than run every time).

    ``key`` None is the auditor's check: the public chain only, trusted as far as the
    signed anchors in ``vouches`` reach. Raises LedgerReadError when the database cannot
    be read, KeyFileError when ``key`` is not this ledger's. From ``parallel_from`` live
    entries on (None: never), a helper process walks the newer half; the verdict is the
    one the walk alone would give.
    """
    db_vouches, fault = database_vouches(engine, trusted)
    outside = [v for v in vouches if v.outside]
    anchored = max((v.seq for v in outside), default=None)
    all_vouches = [*vouches, *db_vouches]
    vouched: dict[int, list[Vouch]] = {}
    for v in all_vouches:
        vouched.setdefault(v.seq, []).append(v)
    w = Walk(key, vouched)
    if fault is not None:
        return _bad(w, fault, anchored)
    if not _table_exists(engine):
        return _bad(
            w,
            Fault(1, "dropped", "the ledger table audit_ledger is missing: it was dropped"),
            anchored,
        )
    fault = _archived(engine, trusted, w)
    if fault is not None:
        return _bad(w, fault, anchored)
    try:
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            helper = None
            if parallel_from is not None:
                helper = _Helper.start(raw, engine.dialect, w, batch, parallel_from)
            try:
                q = queries(engine.dialect.name, engine.dialect.paramstyle)
                fault = _walk_live(raw, q, w, batch, progress, helper)
            finally:
                if helper is not None:
                    helper.close()
            if fault is not None:
                return _bad(w, fault, anchored)
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc
    except engine.dialect.loaded_dbapi.Error as exc:
        raise LedgerReadError(one_line(exc)) from exc
    end = _end_fault(w, all_vouches)
    if end is not None:
        return _bad(w, end, anchored)
    miscounted, note = check_totals(engine)  # once the chain they sum up is proven
    if miscounted is not None:
        return _bad(w, miscounted, anchored)
    index_note = None
    if index:
        misindexed, index_note = check_index(engine)  # likewise the record index
        if misindexed is not None:
            return _bad(w, misindexed, anchored)
    notes = [n for n in (note, index_note) if n is not None]
    if w.legacy:
        notes.append(
            f"{w.legacy} entries predate the public chain (schema 0001): only the MAC key "
            "proves their content"
        )
    result = VerifyResult(True, w.checked, None, None, None, anchored, w.expected - 1)
    return replace(result, notes=tuple(notes))
