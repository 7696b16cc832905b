"""Two-core pipelines: compression in a small thread pool, hashing and writing in a
helper thread. zstd, hashlib, AES-GCM and file writes all release the GIL, so on the
two cores of a small server the stages truly overlap; memory stays bounded by a few
frames in flight.
"""

from __future__ import annotations

import hashlib
import queue
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import zstandard

from backup.errors import BackupCorrupt

FRAME_INPUT = 16 * 1024 * 1024


def compress_frames(
    blocks: Iterable[bytes], level: int, threads: int
) -> Iterator[tuple[bytes, bytes]]:
    """Yield (input block, independent zstd frame) in order, compressing ahead in parallel."""
    local = threading.local()

    def one(block: bytes) -> bytes:
        if not hasattr(local, "cctx"):
            local.cctx = zstandard.ZstdCompressor(level=level, write_checksum=False)
        frame: bytes = local.cctx.compress(block)
        return frame

    workers = max(1, threads)
    with ThreadPoolExecutor(workers, thread_name_prefix="zstd") as pool:
        pending: deque[tuple[bytes, Future[bytes]]] = deque()
        for block in blocks:
            pending.append((block, pool.submit(one, block)))
            if len(pending) > workers + 1:
                head, fut = pending.popleft()
                yield head, fut.result()
        while pending:
            head, fut = pending.popleft()
            yield head, fut.result()


FRAME_LEN = struct.Struct(">I")


def frame_record(frame: bytes) -> bytes:
    """A frame as it sits in the compressed stream: u32 length, then the zstd frame."""
    return FRAME_LEN.pack(len(frame)) + frame


class FrameDecoder:
    """Splits the compressed stream (length-prefixed zstd frames, fed in arbitrary
    pieces) and decompresses frames in parallel, yielding plaintext in order."""

    def __init__(self, where: str, threads: int = 2) -> None:
        self._where = where
        self._buf = bytearray()
        self._local = threading.local()
        self._workers = max(1, threads)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="unzstd")
        self._pending: deque[Future[bytes]] = deque()

    def _one(self, frame: bytes) -> bytes:
        if not hasattr(self._local, "dctx"):
            self._local.dctx = zstandard.ZstdDecompressor()
        try:  # one shot: the frame header carries the content size, so one allocation
            out: bytes = self._local.dctx.decompress(frame)
        except zstandard.ZstdError:
            raise BackupCorrupt(f"{self._where}: compressed stream is damaged") from None
        return out

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buf += data
        pos = 0
        while len(self._buf) - pos >= FRAME_LEN.size:
            (n,) = FRAME_LEN.unpack_from(self._buf, pos)
            if len(self._buf) - pos - FRAME_LEN.size < n:
                break
            start = pos + FRAME_LEN.size
            self._pending.append(self._pool.submit(self._one, bytes(self._buf[start : start + n])))
            pos = start + n
            while len(self._pending) > self._workers + 1:
                yield self._pending.popleft().result()
        del self._buf[:pos]

    def finish(self) -> Iterator[bytes]:
        try:
            while self._pending:
                yield self._pending.popleft().result()
            if self._buf:
                raise BackupCorrupt(f"{self._where}: compressed stream ends inside a frame")
        finally:
            self.close()

    def close(self) -> None:
        for fut in self._pending:
            fut.cancel()
        self._pool.shutdown(wait=True)


class HashingWriter:
    """Hashes and hands bytes to ``sink`` in a helper thread; errors surface on close."""

    def __init__(self, sink: Callable[[bytes], object], depth: int = 4) -> None:
        self.sha = hashlib.sha256()
        self.size = 0
        self._sink = sink
        self._q: queue.Queue[bytes | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="restore-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._q.get()) is not None:
            if self._error is None:
                try:
                    self.sha.update(item)
                    self._sink(item)
                except BaseException as exc:  # handed to the caller in close()
                    self._error = exc

    def write(self, data: bytes) -> None:
        if self._error is not None:
            self.close()
        self.size += len(data)
        self._q.put(data)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
