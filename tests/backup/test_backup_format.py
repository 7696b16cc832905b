"""Property tests of the chunk format: every tampering is detected and names a chunk."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backup.chunks import ChunkWriter, plaintext_views, preamble
from backup.errors import BackupCorrupt

KEY = bytes(range(32))
CHUNK = 1024


def encrypt(data: bytes, backup_id: str = "b1", key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    w = ChunkWriter(out, key, backup_id, CHUNK)
    w.write(data)
    w.close()
    return out.getvalue()


def decrypt(blob: bytes, backup_id: str = "b1", key: bytes = KEY) -> bytes:
    views = plaintext_views(io.BytesIO(blob), key, backup_id, "backup t")
    return b"".join(bytes(v) for v in views)


def split(blob: bytes, backup_id: str = "b1") -> tuple[bytes, list[bytes]]:
    pre = preamble(backup_id, CHUNK)
    chunks, pos = [], len(pre)
    while pos < len(blob):
        n = int.from_bytes(blob[pos : pos + 4], "big")
        chunks.append(blob[pos : pos + 4 + n])
        pos += 4 + n
    return pre, chunks


payloads = st.binary(min_size=0, max_size=5 * CHUNK)


@given(payloads)
def test_round_trip(data: bytes) -> None:
    assert decrypt(encrypt(data)) == data


@settings(max_examples=150)
@given(payloads, st.data())
def test_any_bit_flip_is_detected(data: bytes, pick: st.DataObject) -> None:
    blob = bytearray(encrypt(data))
    bit = pick.draw(st.integers(0, len(blob) * 8 - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(BackupCorrupt):
        decrypt(bytes(blob))


@settings(max_examples=150)
@given(payloads, st.data())
def test_any_truncation_is_detected(data: bytes, pick: st.DataObject) -> None:
    blob = encrypt(data)
    cut = pick.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(BackupCorrupt):
        decrypt(blob[:cut])


@given(st.binary(min_size=2 * CHUNK + 1, max_size=6 * CHUNK), st.data())
def test_reordered_chunks_are_detected_and_named(data: bytes, pick: st.DataObject) -> None:
    pre, chunks = split(encrypt(data))
    i = pick.draw(st.integers(0, len(chunks) - 2))
    chunks[i], chunks[i + 1] = chunks[i + 1], chunks[i]
    with pytest.raises(BackupCorrupt, match=rf"chunk {i}\b"):
        decrypt(pre + b"".join(chunks))


@given(st.binary(min_size=CHUNK + 1, max_size=4 * CHUNK), st.data())
def test_splice_from_another_position_is_detected(data: bytes, pick: st.DataObject) -> None:
    # Same key on purpose (worst case): the index in nonce and AAD still catches it.
    pre_a, a = split(encrypt(data))
    _pre_b, b = split(encrypt(os.urandom(len(data))))
    i = pick.draw(st.integers(0, len(a) - 1))
    j = pick.draw(st.integers(0, len(b) - 1).filter(lambda j: j != i))
    a[i] = b[j]
    with pytest.raises(BackupCorrupt, match=r"chunk \d+"):
        decrypt(pre_a + b"".join(a))


@given(st.binary(min_size=1, max_size=3 * CHUNK), st.data())
def test_splice_with_fresh_data_keys_is_detected(data: bytes, pick: st.DataObject) -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    pre, a = split(encrypt(data, key=k1))
    _p, b = split(encrypt(data, key=k2))
    i = pick.draw(st.integers(0, min(len(a), len(b)) - 1))
    a[i] = b[i]
    with pytest.raises(BackupCorrupt, match=rf"chunk {i}\b"):
        decrypt(pre + b"".join(a), key=k1)


def test_dropping_the_final_chunk_is_named() -> None:
    pre, chunks = split(encrypt(os.urandom(3 * CHUNK)))
    with pytest.raises(BackupCorrupt, match="truncated after chunk 1"):
        decrypt(pre + b"".join(chunks[:-1]))


def test_appending_after_final_is_named() -> None:
    pre, chunks = split(encrypt(os.urandom(2 * CHUNK)))
    with pytest.raises(BackupCorrupt, match="follows the final chunk 1"):
        decrypt(pre + b"".join(chunks) + chunks[0])


def test_object_of_another_backup_is_refused() -> None:
    with pytest.raises(BackupCorrupt, match="another backup"):
        decrypt(encrypt(b"x" * 10, backup_id="b2"), backup_id="b1")
