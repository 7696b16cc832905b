"""Chunked authenticated encryption of the compressed stream (AES-256-GCM).

Each chunk's nonce is its index, and its associated data is the object's preamble (magic,
version, backup id, chunk size) plus the index and a final-chunk flag. Hence a flipped
bit, a dropped or repeated chunk, a reordering, a truncation at a chunk boundary, a chunk
spliced in from another backup or bytes appended after the end all fail authentication,
and the error names the chunk. The data key is fresh per backup, so index nonces never
repeat under one key.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backup.errors import BackupCorrupt

DATA_MAGIC = b"CRMGDAT\x01"
TAG_BYTES = 16
MAX_CHUNK = 64 * 1024 * 1024
_LEN = struct.Struct(">I")
_AAD_TAIL = struct.Struct(">QB")


def preamble(backup_id: str, chunk_size: int) -> bytes:
    """The bytes that open every data object; they are authenticated by every chunk."""
    ident = backup_id.encode()
    return DATA_MAGIC + struct.pack(">HH", 1, len(ident)) + ident + _LEN.pack(chunk_size)


def _nonce(index: int) -> bytes:
    return b"\0\0\0\0" + index.to_bytes(8, "big")


class ChunkWriter:
    """A write-only stream that encrypts what it is given into ``out`` chunk by chunk."""

    def __init__(self, out: BinaryIO, key: bytes, backup_id: str, chunk_size: int) -> None:
        if not 1024 <= chunk_size <= MAX_CHUNK:
            raise ValueError("chunk size out of range")
        self._out = out
        self._aead = AESGCM(key)
        self._pre = preamble(backup_id, chunk_size)
        self._size = chunk_size
        self._buf = bytearray()
        self._index = 0
        self.closed = False
        self.bytes_out = len(self._pre)
        out.write(self._pre)

    def _emit(self, data: bytes | memoryview, final: bool) -> None:
        aad = self._pre + _AAD_TAIL.pack(self._index, int(final))
        ct = self._aead.encrypt(_nonce(self._index), bytes(data), aad)
        self._out.write(_LEN.pack(len(ct)))
        self._out.write(ct)
        self.bytes_out += _LEN.size + len(ct)
        self._index += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buf += data
        # Keep at least one byte back: only close() knows which chunk is the final one.
        if len(self._buf) > self._size:
            view = memoryview(self._buf)
            start = 0
            while len(self._buf) - start > self._size:
                self._emit(view[start : start + self._size], final=False)
                start += self._size
            view.release()
            del self._buf[:start]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: chunks leave when full; present for file-like callers."""

    def close(self) -> None:
        """Emit the final chunk (possibly empty). The underlying stream stays open."""
        if not self.closed:
            self._emit(bytes(self._buf), final=True)
            self._buf.clear()
            self.closed = True

    @property
    def chunks(self) -> int:
        return self._index


def _read_exact(src: BinaryIO, n: int) -> bytes:
    parts = []
    while n:
        block = src.read(n)
        if not block:
            break
        parts.append(block)
        n -= len(block)
    return b"".join(parts)


def _fill(src: BinaryIO, view: memoryview) -> int:
    """Read into ``view`` until it is full or the source ends; the count read."""
    got = 0
    while got < len(view):
        n = src.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def plaintext_views(src: BinaryIO, key: bytes, backup_id: str, where: str) -> Iterator[memoryview]:
    """Yield each chunk's plaintext in order; raise BackupCorrupt naming the bad chunk.

    Each chunk is read and decrypted into buffers that are reused, so a view is only
    valid until the next one is requested.

    Why: on a small server a fresh multi-megabyte allocation per chunk costs more (page
    faults, unmapping) than AES-GCM itself; restores stream hundreds of chunks.
    """
    head = _read_exact(src, len(DATA_MAGIC) + 4)
    if len(head) < len(DATA_MAGIC) + 4 or not head.startswith(DATA_MAGIC):
        raise BackupCorrupt(f"{where}: data object does not start with the crmguard magic")
    id_len = struct.unpack(">H", head[-2:])[0]
    rest = _read_exact(src, id_len + _LEN.size)
    pre = head + rest
    if len(rest) != id_len + _LEN.size or rest[:id_len] != backup_id.encode():
        raise BackupCorrupt(f"{where}: data object belongs to another backup (preamble mismatch)")
    aead = AESGCM(key)
    index = 0
    ct_buf = bytearray()
    pt_buf = bytearray()
    pending = bytearray(_LEN.size)
    if _fill(src, memoryview(pending)) < _LEN.size:
        raise BackupCorrupt(f"{where}: truncated before chunk 0 (no data)")
    while True:
        (length,) = _LEN.unpack(pending)
        if not TAG_BYTES <= length <= MAX_CHUNK + TAG_BYTES:
            raise BackupCorrupt(f"{where}: chunk {index} has an impossible length (corrupt)")
        if len(ct_buf) < length:  # the first chunk sets the size; only a damaged one is larger
            ct_buf = bytearray(length)
            pt_buf = bytearray(length - TAG_BYTES)
        ct = memoryview(ct_buf)[:length]
        if _fill(src, ct) != length:
            raise BackupCorrupt(f"{where}: truncated inside chunk {index}")
        got = _fill(src, memoryview(pending))
        if got and got < _LEN.size:
            raise BackupCorrupt(f"{where}: stray bytes after chunk {index} (truncated or appended)")
        final = not got
        out = memoryview(pt_buf)[: length - TAG_BYTES]
        _open(aead, pre, index, ct, out, final, where)
        yield out
        if final:
            return
        index += 1


def _open(
    aead: AESGCM,
    pre: bytes,
    index: int,
    ct: memoryview,
    out: memoryview,
    final: bool,
    where: str,
) -> None:
    try:
        aead.decrypt_into(_nonce(index), ct, pre + _AAD_TAIL.pack(index, int(final)), out)
        return
    except InvalidTag:
        pass
    try:  # would it open with the other flag? Then the damage is truncation or appending.
        aead.decrypt_into(_nonce(index), ct, pre + _AAD_TAIL.pack(index, int(not final)), out)
    except InvalidTag:
        raise BackupCorrupt(
            f"{where}: chunk {index} failed authentication "
            "(corrupted, reordered, or from another backup)"
        ) from None
    if final:
        raise BackupCorrupt(f"{where}: truncated after chunk {index} (the final chunk is missing)")
    raise BackupCorrupt(f"{where}: data follows the final chunk {index} (appended or spliced)")
