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

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from audit import archive, checkpoints
from audit.chain import SEAL_LABEL, Sealer, canonical
from audit.errors import KeyFileError, LedgerReadError, one_line
from audit.events import GENESIS_HASH, TamperKind, VerifyResult, Vouch

BATCH = 5000
_encode_str = json.encoder.encode_basestring

_COLUMNS = (
    "seq, ts, actor, action, resource, record_ids, count, outcome, channel, ip, "
    "request_id, details, prev_hash, hash, mac"
)


def _select(paramstyle: str) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    # Fixed text: the column list is a constant, the bounds are bound parameters.
    return (
        f"SELECT {_COLUMNS} FROM audit_ledger WHERE seq > {mark} "  # noqa: S608
        f"ORDER BY seq LIMIT {mark}"
    )


@dataclass
class _Walk:
    """State carried from one batch to the next."""

    key: bytes | None
    vouched: dict[int, list[Vouch]]
    expected: int = 1
    prev: str = GENESIS_HASH
    checked: int = 0
    sealed_ok: int = 0
    legacy_ok: bool = True
    legacy: int = 0
    recent: dict[str, int] = field(default_factory=dict)
    sealer: Sealer | None = None

    def __post_init__(self) -> None:
        if self.key is not None:
            self.sealer = Sealer(self.key)


@dataclass(frozen=True)
class Fault:
    seq: int
    kind: TamperKind
    problem: str


def _link_fault(rows: Sequence[Any], i: int, w: _Walk) -> Fault:
    """Why row ``i`` does not link to the entry before it: reordered, inserted or deleted."""
    seq = w.expected
    if any(r[12] == w.prev for r in rows[i + 1 :]):
        return Fault(seq, "reordered", f"entry {seq} is out of place: entries were reordered")
    j = w.recent.get(rows[i][12])
    for r in rows[max(0, i - 64) : i]:
        if r[13] == rows[i][12]:
            j = r[0]
    if j is not None:
        return Fault(
            j + 1,
            "inserted",
            f"entry {seq} links back to entry {j}: entries {j + 1}..{seq - 1} were inserted",
        )
    return Fault(
        seq,
        "deleted",
        f"entry {seq} does not link to entry {seq - 1}: entries before it were deleted "
        "(and the rest renumbered) or it was replaced",
    )


def _seal_fault(rows: Sequence[Any], i: int, w: _Walk, legacy: bool) -> Fault:
    """An entry the key did not make: a wrong key, an inserted entry, or a forged one."""
    seq = w.expected
    if w.sealed_ok == 0 and w.key is not None and _all_seals_fail(rows[i : i + 8], w.key):
        raise KeyFileError(
            "the MAC key does not match this ledger (no entry carries its seal); "
            "check that the key file belongs to this home"
        )
    nxt = rows[i + 1] if i + 1 < len(rows) else None
    if nxt is not None and nxt[12] == w.prev:
        return Fault(seq, "inserted", f"entry {seq} was inserted: entry {seq + 1} links past it")
    what = "MAC" if legacy else "seal"
    return Fault(
        seq,
        "forged",
        f"entry {seq} does not carry the application's {what}: it was forged or altered "
        "by someone without the key",
    )


def _sealed(r: Any, key: bytes) -> bool:
    if r[14] is not None:
        return bool(hmac.digest(key, SEAL_LABEL + r[13].encode(), "sha256").hex() == r[14])
    body = canonical(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11])
    return bool(hmac.digest(key, r[12].encode() + body, "sha256").hex() == r[13])


def _all_seals_fail(rows: Sequence[Any], key: bytes) -> bool:
    """Several entries in a row, none sealed with this key: the key is another ledger's."""
    return len(rows) >= 2 and not any(_sealed(r, key) for r in rows)


def _walk_batch(rows: Sequence[Any], w: _Walk) -> Fault | None:
    """One batch: the public walk, then the seals of the rows it proved.

    Each public hash commits to every entry before it, so a valid seal on entry m
    proves entries 1..m were written by the application, and seals are valid up to the
    first entry someone else wrote and invalid from there on. So only the last proved
    entry's seal is checked; when it fails, a binary search finds the first bad one.
    """
    start_checked, start_sealed = w.checked, w.sealed_ok
    fault, stop = _walk_public(rows, w)
    sealer = w.sealer
    if sealer is None:
        return fault
    first = next((j for j in range(stop) if rows[j][14] is not None), None)
    if first is None or sealer(rows[stop - 1][13]) == rows[stop - 1][14]:
        if first is not None:
            w.sealed_ok = start_sealed + stop
        return fault
    lo, hi = first, stop - 1  # the seal at hi fails; find the first index that fails
    while lo < hi:
        mid = (lo + hi) // 2
        if sealer(rows[mid][13]) == rows[mid][14]:
            lo = mid + 1
        else:
            hi = mid
    row = rows[lo]
    w.expected, w.prev = row[0], row[12]
    w.checked, w.sealed_ok = start_checked + lo, start_sealed + lo
    return _seal_fault(rows, lo, w, legacy=False)


def _walk_public(rows: Sequence[Any], w: _Walk) -> tuple[Fault | None, int]:
    """The hot loop: links, hashes, legacy MACs and vouches, with the fewest calls we can.

    Returns the fault (if any) and the index it stopped at. State lives in locals and
    goes back into ``w`` before any return, so the helpers that explain a fault see
    exactly where the walk stopped.
    """
    key, vouched = w.key, w.vouched
    sha256, digest, enc = hashlib.sha256, hmac.digest, _encode_str
    expected, prev, checked, sealed = w.expected, w.prev, w.checked, w.sealed_ok
    fault: Fault | None = None
    for i, row in enumerate(rows):
        seq, ts, actor, action, resource, ids, count, outcome, channel, ip, rid, details = row[:12]
        if seq != expected or row[12] != prev:
            w.expected, w.prev, w.checked, w.sealed_ok = expected, prev, checked, sealed
            if seq != expected:
                return Fault(
                    expected,
                    "deleted",
                    f"entry {expected} is missing (the next entry is {seq}): entries were deleted",
                ), i
            return _link_fault(rows, i, w), i
        try:
            # canonical(), inlined: the same bytes for the types the application writes
            # (text columns come back as str, count as int); any other type in a text
            # column raises here, and a non-integer count cannot match its hash.
            body = (
                f'{{"action":{enc(action)},"actor":{enc(actor)},"channel":{enc(channel)},'
                f'"count":{count},"details":{details},'
                f'"ip":{"null" if ip is None else enc(ip)},"outcome":{enc(outcome)},'
                f'"record_ids":{ids},"request_id":{"null" if rid is None else enc(rid)},'
                f'"resource":{enc(resource)},"seq":{seq},"ts":{enc(ts)}}}'
            ).encode()
        except (TypeError, AttributeError):
            w.expected, w.prev, w.checked, w.sealed_ok = expected, prev, checked, sealed
            return Fault(
                seq, "altered", f"entry {seq} holds a value of the wrong type: it was altered"
            ), i
        h, m = row[13], row[14]
        if m is not None:
            w.legacy_ok = False
            if sha256(prev.encode() + body).hexdigest() != h:
                fault = Fault(
                    seq, "altered", f"entry {seq} does not match its hash: it was altered"
                )
        elif not w.legacy_ok:
            fault = Fault(
                seq, "forged", f"entry {seq} has no seal but follows sealed entries: it was forged"
            )
        elif key is None:
            w.legacy += 1
        elif digest(key, prev.encode() + body, "sha256").hex() == h:
            sealed += 1
        elif sealed == 0:
            w.expected, w.prev, w.checked, w.sealed_ok = expected, prev, checked, sealed
            return _seal_fault(rows, i, w, legacy=True), i
        else:
            fault = Fault(seq, "altered", f"entry {seq} does not match its MAC: it was altered")
        if fault is None and seq in vouched:
            for v in vouched[seq]:
                if v.hash != h:
                    fault = Fault(
                        seq,
                        "rewritten",
                        f"entry {seq} differs from what {v.source} vouches for: "
                        "the chain was rewritten from there on (or the database was put "
                        "back to an older copy and written to since)",
                    )
                    break
        if fault is not None:
            w.expected, w.prev, w.checked, w.sealed_ok = expected, prev, checked, sealed
            return fault, i
        checked += 1
        prev = h
        expected += 1
    w.expected, w.prev, w.checked, w.sealed_ok = expected, prev, checked, sealed
    w.recent = {r[13]: r[0] for r in rows[-64:]}
    return None, len(rows)


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


def _bad(w: _Walk, fault: Fault, anchored: int | None) -> VerifyResult:
    return VerifyResult(
        ok=False,
        checked=w.checked,
        first_bad_seq=fault.seq,
        problem=fault.problem,
        kind=fault.kind,
        anchored_seq=anchored,
        head_seq=w.expected - 1,
    )


def _end_fault(w: _Walk, vouches: Sequence[Vouch]) -> Fault | None:
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


def _archived(engine: Engine, trusted: Ed25519PublicKey | None, w: _Walk) -> Fault | None:
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


def verify_chain(
    engine: Engine,
    key: bytes | None,
    trusted: Ed25519PublicKey | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
    vouches: Sequence[Vouch] = (),
) -> VerifyResult:
    """Check continuity, links, hashes, seals (with ``key``) and every vouch.

    ``key`` None is the auditor's check: the public chain only, trusted as far as the
    signed anchors in ``vouches`` reach. Raises LedgerReadError when the database cannot
    be read, KeyFileError when ``key`` is not this ledger's.
    """
    db_vouches, fault = database_vouches(engine, trusted)
    outside = [v for v in vouches if v.outside]
    anchored = max((v.seq for v in outside), default=None)
    all_vouches = [*vouches, *db_vouches]
    vouched: dict[int, list[Vouch]] = {}
    for v in all_vouches:
        vouched.setdefault(v.seq, []).append(v)
    w = _Walk(key, vouched)
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
            sql = _select(engine.dialect.paramstyle)
            cursor = raw.cursor()
            while True:
                cursor.execute(sql, (w.expected - 1, batch))
                rows = cursor.fetchall()
                fault = _walk_batch(rows, w)
                if fault is not None:
                    return _bad(w, fault, anchored)
                if progress is not None and rows:
                    progress(w.checked)
                if len(rows) < batch:
                    break
                raw.rollback()  # end the read so a long walk holds no snapshot or lock
            cursor.close()
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc
    except engine.dialect.loaded_dbapi.Error as exc:
        raise LedgerReadError(one_line(exc)) from exc
    end = _end_fault(w, all_vouches)
    if end is not None:
        return _bad(w, end, anchored)
    notes = []
    if w.legacy:
        notes.append(
            f"{w.legacy} entries predate the public chain (schema 0001): only the MAC key "
            "proves their content"
        )
    result = VerifyResult(True, w.checked, None, None, None, anchored, w.expected - 1)
    return replace(result, notes=tuple(notes))
