"""Archiving old ledger segments: sealed, compressed, signed, and only then removed.

A ledger grows for ever; a company may want last year's entries out of the live table
without losing a single one. An archive segment is a contiguous run of the oldest live
entries, written as the export's JSON Lines, compressed, hashed and described by a
manifest signed with the checkpoint key. The shell stores the segment (local folder or
S3, write-once where the bucket allows), reads it back, records the archive step in the
ledger, and only then asks :func:`remove_archived` to take the rows out.

The database lets those rows go only because a row of ``audit_archives`` covers them:
the append-only triggers refuse any DELETE of an entry no archive covers, and
``audit_archives`` is itself append-only. Verification starts the live chain where the
last archive ends (its ``last_hash`` must be the first live entry's ``prev_hash``) and
checks every manifest's signature; the segments themselves prove their entries with the
same checks as an export. Nothing is deleted by a cleanup job: an archive step is an act
of someone, recorded like any other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

import zstandard
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from audit.errors import ArchiveError, LedgerReadError, one_line
from audit.events import GENESIS_HASH, LedgerEntry, format_ts
from audit.schema import audit_archives, audit_ledger, audit_record_index

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ArchiveManifest:
    """What a segment holds and how to check it; signed as a whole."""

    seq_from: int
    seq_to: int
    prev_hash: str
    last_hash: str
    entries: int
    first_ts: str
    last_ts: str
    object_key: str
    sha256: str
    size: int
    sealed_at: str
    signature: str = ""
    public_key: str = ""

    def message(self) -> bytes:
        """The exact bytes that are signed: every field but the signature's own."""
        body = {k: v for k, v in asdict(self).items() if k not in ("signature", "public_key")}
        body["version"] = MANIFEST_VERSION
        return b"crmguard-audit-archive\n" + json.dumps(body, sort_keys=True).encode()

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def signature_problem(self, trusted: Ed25519PublicKey | None) -> str | None:
        """Why this manifest cannot be trusted, or None when its signature holds."""
        try:
            key = trusted or Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))
            key.verify(bytes.fromhex(self.signature), self.message())
        except (InvalidSignature, ValueError):
            return (
                f"the archive of entries {self.seq_from}-{self.seq_to} has an invalid "
                "signature (forged, altered, or made with another signing key)"
            )
        return None


@dataclass(frozen=True)
class Segment:
    """A sealed segment: its signed manifest and the compressed JSON Lines."""

    manifest: ArchiveManifest
    data: bytes


def object_key(seq_from: int, seq_to: int) -> str:
    """Where a segment is stored, sortable by position in the chain."""
    return f"ledger-archive/{seq_from:012d}-{seq_to:012d}.jsonl.zst"


def seal(
    entries: list[LedgerEntry],
    prev_hash: str,
    signing_key: Ed25519PrivateKey,
    sealed_at: datetime,
) -> Segment:
    """Compress and sign ``entries`` (already verified, contiguous, oldest first)."""
    if not entries:
        raise ArchiveError("there is nothing to archive in that range")
    lines = "".join(
        json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n" for e in entries
    )
    data = zstandard.ZstdCompressor(level=9).compress(lines.encode())
    first, last = entries[0], entries[-1]
    manifest = ArchiveManifest(
        seq_from=first.seq,
        seq_to=last.seq,
        prev_hash=prev_hash,
        last_hash=last.hash,
        entries=len(entries),
        first_ts=format_ts(first.ts),
        last_ts=format_ts(last.ts),
        object_key=object_key(first.seq, last.seq),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        sealed_at=format_ts(sealed_at),
    )
    signature = signing_key.sign(manifest.message()).hex()
    public = signing_key.public_key().public_bytes_raw().hex()
    signed = ArchiveManifest(**{**asdict(manifest), "signature": signature, "public_key": public})
    return Segment(signed, data)


def open_segment(manifest: ArchiveManifest, data: bytes) -> Iterator[str]:
    """The segment's JSON Lines, after checking its size and SHA-256 against the manifest."""
    if len(data) != manifest.size or hashlib.sha256(data).hexdigest() != manifest.sha256:
        raise ArchiveError(
            f"the stored archive {manifest.object_key} does not match its manifest "
            "(altered, truncated or replaced)"
        )
    try:
        text = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 34).decode()
    except (zstandard.ZstdError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"the archive {manifest.object_key} cannot be read: {exc}") from None
    return iter(text.splitlines())


def manifests(engine: Engine) -> list[ArchiveManifest]:
    """Every archive row, oldest segment first."""
    t = audit_archives
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.seq_from)).mappings().all()
    except SQLAlchemyError as exc:
        raise LedgerReadError(one_line(exc)) from exc
    return [ArchiveManifest(**{k: v for k, v in row.items() if k != "id"}) for row in rows]


def live_start(conn: Connection) -> tuple[int, str]:
    """(first seq expected in the live table, the hash it must link to)."""
    t = audit_archives
    row = conn.execute(
        select(t.c.seq_to, t.c.last_hash).order_by(t.c.seq_to.desc()).limit(1)
    ).first()
    return (1, GENESIS_HASH) if row is None else (int(row[0]) + 1, str(row[1]))


def remove_archived(conn: Connection, manifest: ArchiveManifest) -> int:
    """Record the archive and take its entries out of the live table, in the caller's
    transaction; returns how many entries left. The triggers allow exactly this."""
    start, link = live_start(conn)
    if manifest.seq_from != start or manifest.prev_hash != link:
        raise ArchiveError(
            f"the segment starts at entry {manifest.seq_from}, but the live ledger starts at "
            f"{start}: archive the oldest entries first"
        )
    conn.execute(insert(audit_archives).values(**manifest.to_json()))
    in_range = audit_ledger.c.seq.between(manifest.seq_from, manifest.seq_to)
    live = conn.execute(select(func.count()).select_from(audit_ledger).where(in_range))
    if int(live.scalar_one()) != manifest.entries:
        raise ArchiveError(
            f"entries {manifest.seq_from}-{manifest.seq_to} changed since they were sealed"
        )
    conn.execute(
        delete(audit_record_index).where(
            audit_record_index.c.seq.between(manifest.seq_from, manifest.seq_to)
        )
    )
    removed = conn.execute(delete(audit_ledger).where(in_range)).rowcount
    return int(removed)
