"""Reading a backup back: unwrap the key, authenticate the manifest, then stream the
data through decryption, decompression and the plaintext SHA-256 into a sink.

Callers write into a temporary target and only move it into place after
:func:`read_backup` returned, because the hash is only known at the end.
"""

from __future__ import annotations

from collections.abc import Callable

from backup.catalog import data_key, load_record
from backup.chunks import decrypt_chunks
from backup.errors import BackupCorrupt
from backup.interface import KeyProvider, Progress, Store, no_progress
from backup.manifest import ManifestRecord, derive
from backup.pipeline import FrameDecoder, HashingWriter

Sink = Callable[[bytes], object]


def read_backup(
    store: Store,
    provider: KeyProvider,
    backup_id: str,
    sink: Sink,
    progress: Progress = no_progress,
) -> ManifestRecord:
    """Stream the plaintext of ``backup_id`` into ``sink``; raise unless every check passes."""
    record = load_record(store, backup_id)
    key = provider.unwrap(record.header.wrapped, backup_id)
    record.check(key)
    where = f"backup {backup_id}"
    decoder = FrameDecoder(where)
    out = HashingWriter(sink)
    try:
        with store.open(data_key(backup_id)) as src:
            for plain in decrypt_chunks(src, derive(key, "crmguard-chunks"), backup_id, where):
                for piece in decoder.feed(plain):
                    out.write(piece)
                    progress(len(piece))
        for piece in decoder.finish():
            out.write(piece)
            progress(len(piece))
    finally:
        decoder.close()
        out.close()
    size, sha = out.size, out.sha
    manifest = record.manifest
    if size != manifest.plaintext_bytes or sha.hexdigest() != manifest.plaintext_sha256:
        raise BackupCorrupt(
            f"{where}: restored bytes do not match the manifest's SHA-256/size "
            f"({size} vs {manifest.plaintext_bytes} bytes)"
        )
    return record
