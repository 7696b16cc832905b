"""Reading a backup back: unwrap the key, authenticate the manifest, then stream the
data through decryption, decompression and the plaintext SHA-256 into a sink.

Callers write into a temporary target and only move it into place after
:func:`read_backup` returned, because the hash is only known at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import zstandard

from backup.catalog import data_key, load_record
from backup.chunks import decrypt_chunks
from backup.errors import BackupCorrupt
from backup.interface import KeyProvider, Progress, Store, no_progress
from backup.manifest import ManifestRecord, derive

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
    sha = hashlib.sha256()
    size = 0
    dobj = zstandard.ZstdDecompressor().decompressobj()
    with store.open(data_key(backup_id)) as src:
        for plain in decrypt_chunks(src, derive(key, "crmguard-chunks"), backup_id, where):
            try:
                out = dobj.decompress(plain)
            except zstandard.ZstdError:
                raise BackupCorrupt(f"{where}: compressed stream is damaged") from None
            if out:
                sha.update(out)
                size += len(out)
                sink(out)
                progress(len(out))
    manifest = record.manifest
    if size != manifest.plaintext_bytes or sha.hexdigest() != manifest.plaintext_sha256:
        raise BackupCorrupt(
            f"{where}: restored bytes do not match the manifest's SHA-256/size "
            f"({size} vs {manifest.plaintext_bytes} bytes)"
        )
    return record
