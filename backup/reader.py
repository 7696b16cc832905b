"""Reading a backup back: unwrap the key, authenticate the manifest, then stream the
data through decryption, decompression and the plaintext SHA-256 into a sink.

Callers write into a temporary target and only move it into place after
:func:`read_backup` returned, because the hash is only known at the end.
"""

from __future__ import annotations

from collections.abc import Callable

from backup.catalog import data_key, load_record
from backup.chunks import plaintext_views
from backup.errors import BackupCorrupt
from backup.interface import KeyProvider, Progress, Store, no_progress
from backup.manifest import ManifestRecord, derive
from backup.pipeline import Buffer, FrameDecoder, HashingWriter

Sink = Callable[[memoryview], object]
"""Receives each piece of plaintext in order; the view is only valid during the call."""


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

    def emit(view: memoryview, buf: Buffer) -> None:
        out.write(view, lambda: decoder.release(buf))
        progress(len(view))

    try:
        with store.open(data_key(backup_id)) as src:
            for plain in plaintext_views(src, derive(key, "crmguard-chunks"), backup_id, where):
                for view, buf in decoder.feed(plain):
                    emit(view, buf)
        for view, buf in decoder.finish():
            emit(view, buf)
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
