"""Verification: walk the chain from seq 1, recomputing every MAC, in bounded batches.

It reports the first entry that is wrong, because everything after a broken link is
unprovable: an auditor needs to know where trust ends, not a list of a thousand
follow-on failures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from audit import archive, checkpoints
from audit.chain import canonical, mac
from audit.errors import LedgerReadError, one_line
from audit.events import GENESIS_HASH, VerifyResult

BATCH = 5000

SELECT_AFTER = text(
    "SELECT seq, ts, actor, action, resource, record_ids, count, outcome, channel, ip, "
    "request_id, details, prev_hash, hash FROM audit_ledger "
    "WHERE seq > :after ORDER BY seq LIMIT :n"
)


def _bad(checked: int, seq: int, problem: str) -> VerifyResult:
    return VerifyResult(ok=False, checked=checked, first_bad_seq=seq, problem=problem)


def row_problem(row: Any, expected_seq: int, prev_hash: str, key: bytes) -> str | None:
    seq = row[0]
    if seq != expected_seq:
        return f"entry {expected_seq} is missing (the next entry is {seq}): entries were deleted"
    if row[12] != prev_hash:
        return f"entry {seq} does not link to entry {seq - 1}: entries were replaced or reordered"
    body = canonical(
        seq, row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        row[10], row[11],
    )  # fmt: skip
    if mac(key, prev_hash, body) != row[13]:
        if seq == 1:
            return (
                "entry 1 does not match its MAC: the MAC key may be wrong "
                "(or the first entry was altered)"
            )
        return f"entry {seq} does not match its MAC: it was altered after it was written"
    return None


def verify_chain(
    engine: Engine,
    key: bytes,
    trusted: Ed25519PublicKey | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> VerifyResult:
    """Check seq continuity, links, MACs and every checkpoint; stop at the first fault."""
    cps = list(checkpoints.load_all(engine))
    for cp in cps:
        problem = checkpoints.signature_problem(cp, trusted)
        if problem:
            return _bad(0, cp.seq, problem)
    vouched: dict[int, str] = {}
    for cp in cps:
        vouched.setdefault(cp.seq, cp.hash)
        if vouched[cp.seq] != cp.hash:
            return _bad(0, cp.seq, f"two checkpoints disagree about entry {cp.seq}")
    checked = 0
    prev_hash = GENESIS_HASH
    expected = 1
    # Archived segments come first: each manifest signed, each starting where the one
    # before ended; the live table then starts where the last one ends.
    for m in archive.manifests(engine):
        problem = m.signature_problem(trusted)
        if problem is None and (m.seq_from != expected or m.prev_hash != prev_hash):
            problem = (
                f"the archive of entries {m.seq_from}-{m.seq_to} does not continue the "
                f"chain at entry {expected}: an archive is missing or was replaced"
            )
        if problem:
            return _bad(checked, m.seq_from, problem)
        expected, prev_hash = m.seq_to + 1, m.last_hash
    try:
        with engine.connect() as conn:
            while True:
                rows = conn.execute(SELECT_AFTER, {"after": expected - 1, "n": batch}).all()
                for row in rows:
                    problem = row_problem(row, expected, prev_hash, key)
                    if problem is None and vouched.get(expected, row[13]) != row[13]:
                        problem = (
                            f"entry {expected} differs from its signed checkpoint: "
                            "the chain was rewritten from there on"
                        )
                    if problem:
                        return _bad(checked, expected, problem)
                    prev_hash = row[13]
                    expected += 1
                    checked += 1
                if progress is not None and rows:
                    progress(checked)
                if len(rows) < batch:
                    break
                conn.rollback()  # end the read so a long walk holds no snapshot or lock
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc
    last_vouched = max(vouched, default=0)
    if last_vouched >= expected:
        return _bad(
            checked,
            expected,
            f"the ledger ends at entry {expected - 1} but a signed checkpoint vouches for "
            f"entry {last_vouched}: entries were removed from the end",
        )
    return VerifyResult(ok=True, checked=checked, first_bad_seq=None, problem=None)
