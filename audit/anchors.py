"""Anchors: signed ledger heads kept outside the database, and the stores that hold them.

A checkpoint kept in the same database proves nothing against the person who holds
that database: they cut the tail and the checkpoint with it, or put back last month's
copy. An anchor is the same Ed25519 signature over ``(seq, hash, ts)`` written where that
person cannot reach: an append-only file on another disk, an S3 bucket with Object Lock,
the company's syslog. Verification compares the ledger with every anchor it can read.

The signed bytes are those of :func:`audit.checkpoints.message`, so an anchor and a
database checkpoint of the same head are the same statement.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from audit.checkpoints import message
from audit.errors import AnchorError
from audit.events import format_ts, parse_ts
from audit.keys import public_key_hex

FORMAT = "crmguard-ledger-anchors"
VERSION = 1


@dataclass(frozen=True)
class Anchor:
    """A signed statement: the ledger had ``hash`` at ``seq`` at time ``ts``."""

    seq: int
    hash: str
    ts: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "ts": self.ts, "signature": self.signature}

    @classmethod
    def from_json(cls, data: Any) -> Anchor:
        """Parse one anchor; ValueError for anything that is not one."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        seq, hash_, ts, sig = (
            data.get("seq"),
            data.get("hash"),
            data.get("ts"),
            data.get("signature"),
        )
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ValueError("no valid seq")
        if not all(isinstance(v, str) for v in (hash_, ts, sig)):
            raise ValueError("hash, ts and signature must be strings")
        parse_ts(str(ts))
        return cls(seq, str(hash_), str(ts), str(sig))

    def valid_under(self, public: Ed25519PublicKey) -> bool:
        try:
            public.verify(bytes.fromhex(self.signature), message(self.seq, self.hash, self.ts))
        except (InvalidSignature, ValueError):
            return False
        return True


def sign(key: Ed25519PrivateKey, seq: int, hash_: str, ts: datetime) -> Anchor:
    ts_text = format_ts(ts)
    return Anchor(seq, hash_, ts_text, key.sign(message(seq, hash_, ts_text)).hex())


def header(public: Ed25519PublicKey) -> dict[str, Any]:
    """What opens an anchor file or object: the format and whose key signs it."""
    return {"format": FORMAT, "version": VERSION, "public_key": public_key_hex(public)}


def check_header(data: Any, trusted: Ed25519PublicKey, where: str) -> None:
    """Refuse what is not an anchor store, or is the anchor store of another ledger."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AnchorError(f"{where} is not a crmguard anchor file (corrupt or another file)")
    if data.get("version") != VERSION:
        raise AnchorError(f"{where} has anchor format version {data.get('version')!r}, not 1")
    theirs, ours = str(data.get("public_key")), public_key_hex(trusted)
    if theirs != ours:
        raise AnchorError(
            f"{where} belongs to another ledger: it is signed by key {theirs[:16]}..., "
            f"this ledger's checkpoint public key is {ours[:16]}..."
        )


def parse_anchor(raw: str | bytes, trusted: Ed25519PublicKey, where: str) -> Anchor:
    """One anchor, parsed and its signature checked, or an AnchorError naming ``where``."""
    try:
        anchor = Anchor.from_json(json.loads(raw))
    except ValueError as exc:
        raise AnchorError(f"{where} is corrupt: not an anchor ({exc})") from None
    if not anchor.valid_under(trusted):
        raise AnchorError(
            f"{where} is corrupt: the anchor for entry {anchor.seq} does not carry a valid "
            "signature of this ledger's checkpoint key"
        )
    return anchor


class AnchorStore(ABC):
    """Somewhere outside the database that keeps anchors.

    ``publish`` raises :class:`~audit.errors.AnchorUnavailable` when the store cannot be
    reached (the caller keeps the anchor and tries again later); ``load`` returns every
    anchor, each signature checked, or raises :class:`~audit.errors.AnchorError`.
    """

    readable = True

    @abstractmethod
    def describe(self) -> str:
        """Where the anchors go, for messages (no secrets)."""

    @abstractmethod
    def publish(self, anchor: Anchor) -> None: ...

    @abstractmethod
    def load(self, trusted: Ed25519PublicKey) -> list[Anchor]: ...

    def last_anchor(self) -> Anchor | None:
        """The newest anchor, when the store can tell cheaply (the anchor file can)."""
        return None


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
