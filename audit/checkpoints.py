"""Signed checkpoints: Ed25519 signatures over (seq, hash, ts) kept beside the chain.

A keyed chain shows any edit or gap, but not a shortened tail: drop the last hundred
entries and what is left still verifies. A checkpoint is a signed promise that the chain
reached ``seq`` with ``hash``; if that entry is later gone, verification says so. The
signing key is separate from the MAC key so that an auditor can hold only the public
half and still check every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from audit.errors import CheckpointError, LedgerReadError, one_line
from audit.events import Checkpoint, format_ts, parse_ts
from audit.keys import public_key_hex
from audit.schema import audit_checkpoints as t
from audit.writer import read_head


def message(seq: int, hash_: str, ts: str) -> bytes:
    """The exact bytes that are signed."""
    return f"crmguard-audit-checkpoint\n{seq}\n{hash_}\n{ts}".encode()


def write(
    conn: Connection, key: Ed25519PrivateKey, seq: int, hash_: str, ts: datetime
) -> Checkpoint:
    """Sign and store a checkpoint for (seq, hash) inside the caller's transaction."""
    ts_text = format_ts(ts)
    signature = key.sign(message(seq, hash_, ts_text)).hex()
    public = public_key_hex(key.public_key())
    conn.execute(
        insert(t).values(seq=seq, hash=hash_, ts=ts_text, signature=signature, public_key=public)
    )
    return Checkpoint(seq, hash_, parse_ts(ts_text), signature, public)


def checkpoint_head(engine: Engine, key: Ed25519PrivateKey, ts: datetime) -> Checkpoint:
    """Sign the current head in its own transaction."""
    try:
        with engine.begin() as conn:
            head = read_head(conn)
            if head is None:
                raise CheckpointError("the ledger is empty; there is nothing to checkpoint")
            return write(conn, key, head[0], head[1], ts)
    except SQLAlchemyError as exc:
        raise CheckpointError(f"cannot write a checkpoint: {one_line(exc)}") from exc


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint row as stored, unparsed: verification must survive junk rows."""

    seq: int
    hash: str
    ts: str
    signature: str
    public_key: str


def load_all(engine: Engine) -> list[StoredCheckpoint]:
    """Every stored checkpoint, oldest first (they are few: one per N events)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.id)).all()
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc
    return [
        StoredCheckpoint(int(r.seq), str(r.hash), str(r.ts), str(r.signature), str(r.public_key))
        for r in rows
    ]


def signature_problem(cp: StoredCheckpoint, trusted: Ed25519PublicKey | None) -> str | None:
    """Why the checkpoint's signature cannot be trusted, or None when it can.

    With a trusted public key the stored ``public_key`` column is ignored: a forger can
    write their own key there, but cannot sign with the owner's.
    """
    try:
        key = trusted or Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp.public_key))
        key.verify(bytes.fromhex(cp.signature), message(cp.seq, cp.hash, cp.ts))
    except (InvalidSignature, ValueError):
        return (
            f"the checkpoint for seq {cp.seq} has an invalid signature "
            "(forged, altered, or made with another signing key)"
        )
    return None
