"""The restore pipeline's pooled buffers: order, bounds, damage and errors."""

from __future__ import annotations

import hashlib
import io
import os
import threading

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from backup.chunks import ChunkWriter, plaintext_views
from backup.errors import BackupCorrupt
from backup.pipeline import FrameDecoder, HashingWriter, compress_frames, frame_record


def compressed_stream(blocks: list[bytes]) -> bytes:
    return b"".join(frame_record(f) for _b, f in compress_frames(blocks, 3, 2))


def decode(stream: bytes, piece: int, buffers: int = 0) -> bytes:
    decoder = FrameDecoder("backup t", threads=2, buffers=buffers)
    out = bytearray()
    try:
        for i in range(0, len(stream), piece):
            for view, buf in decoder.feed(stream[i : i + piece]):
                out += view
                decoder.release(buf)
        for view, buf in decoder.finish():
            out += view
            decoder.release(buf)
    finally:
        decoder.close()
    return bytes(out)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.binary(max_size=5000), min_size=1, max_size=12),
    st.integers(1, 7000),
)
def test_frames_come_back_in_order_whatever_the_feeding(blocks: list[bytes], piece: int) -> None:
    assert decode(compressed_stream(blocks), piece) == b"".join(blocks)


def test_more_frames_than_pooled_buffers_do_not_stall() -> None:
    blocks = [os.urandom(100) * (i + 1) for i in range(40)]
    # The smallest pool that can work: one per worker plus one in the consumer's hand.
    assert decode(compressed_stream(blocks), 4096, buffers=3) == b"".join(blocks)


def test_a_growing_frame_gets_a_larger_buffer() -> None:
    blocks = [b"a" * 10, b"b" * 100_000, b"c" * 10, b"d" * 300_000]
    assert decode(compressed_stream(blocks), 1 << 20, buffers=3) == b"".join(blocks)


def test_frame_whose_declared_size_lies_is_refused() -> None:
    frame = bytearray(zstandard.ZstdCompressor(level=3).compress(b"x" * 1000))
    # Frame header: magic(4), descriptor(1) with a 2-byte size field at offset 5 for 256..65791.
    assert frame[4] & 0xE0 == 0x60  # single segment, 2-byte content size
    size = int.from_bytes(frame[5:7], "little") + 256
    frame[5:7] = (size + 10 - 256).to_bytes(2, "little")
    with pytest.raises(BackupCorrupt, match="backup t"):
        decode(frame_record(bytes(frame)), 1 << 20)


def test_stream_ending_inside_a_frame_is_refused() -> None:
    stream = compressed_stream([b"hello" * 100])
    with pytest.raises(BackupCorrupt, match="ends inside a frame"):
        decode(stream[:-3], 1 << 20)


def test_writer_hashes_everything_and_returns_every_buffer() -> None:
    released: list[int] = []
    written = bytearray()
    writer = HashingWriter(lambda v: written.extend(v))
    pieces = [os.urandom(1000) for _ in range(20)]
    for i, p in enumerate(pieces):
        writer.write(memoryview(p), lambda i=i: released.append(i))
    writer.close()
    assert bytes(written) == b"".join(pieces)
    assert writer.sha.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert sorted(released) == list(range(20))


def test_writer_error_surfaces_and_buffers_still_come_back() -> None:
    released = threading.Semaphore(0)

    def sink(_v: memoryview) -> None:
        raise OSError(28, "No space left on device")

    writer = HashingWriter(sink)
    with pytest.raises(OSError, match="No space"):
        for _ in range(10):
            writer.write(memoryview(b"x" * 10), released.release)
        writer.close()
    writer.close()  # a second close is harmless
    got = 0
    while released.acquire(timeout=0):
        got += 1
    assert got >= 1
    assert got == writer.size // 10 or got == writer.size // 10 + 1


def test_plaintext_views_reuse_one_buffer_and_match_the_input() -> None:
    key, data = os.urandom(32), os.urandom(10_000)
    out = io.BytesIO()
    writer = ChunkWriter(out, key, "b1", 1024)
    writer.write(data)
    writer.close()
    owners = set()
    got = bytearray()
    for view in plaintext_views(io.BytesIO(out.getvalue()), key, "b1", "backup b1"):
        owners.add(id(view.obj))
        got += view
    assert bytes(got) == data
    assert len(owners) == 1
