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


MAX_FRAME_OUTPUT = 256 * 1024 * 1024
Decoded = tuple[memoryview, bytearray]


class FrameDecoder:
    """Splits the compressed stream (length-prefixed zstd frames, fed in arbitrary
    pieces) and decompresses frames in parallel, yielding plaintext in order.

    Each frame is decompressed into a pooled buffer (``readinto``, sized by the content
    size its header declares) rather than a fresh ``bytes``: allocating and faulting in
    hundreds of 16 MiB objects cost more than zstd itself. Every yielded ``(view, buffer)``
    must be handed back with :meth:`release` once written; the pool is bounded, so a
    consumer that never releases stalls the decoder instead of growing memory.
    """

    def __init__(self, where: str, threads: int = 2, buffers: int = 0) -> None:
        self._where = where
        self._buf = bytearray()
        self._local = threading.local()
        self._workers = max(1, threads)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="unzstd")
        self._pending: deque[Future[Decoded]] = deque()
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        # One per worker in flight plus one in the consumer's hand is the least that works.
        self._limit = max(buffers or self._workers + 5, self._workers + 1)
        self._made = 0

    def _acquire(self) -> bytearray:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            if self._made < self._limit:
                self._made += 1
                return bytearray()
            return self._free.get()

    def release(self, buf: bytearray) -> None:
        """Give a buffer back once its view has been consumed."""
        self._free.put(buf)

    def _one(self, frame: bytes, buf: bytearray) -> Decoded:
        if not hasattr(self._local, "dctx"):
            self._local.dctx = zstandard.ZstdDecompressor()
        try:
            need = zstandard.frame_content_size(frame)
            if not 0 <= need <= MAX_FRAME_OUTPUT:
                raise BackupCorrupt(f"{self._where}: compressed frame declares no usable size")
            if len(buf) < need:
                buf = bytearray(need)
            view = memoryview(buf)[:need]
            reader = self._local.dctx.stream_reader(frame, read_size=len(frame))
            got = 0
            while got < need and (n := reader.readinto(view[got:])):
                got += n
            if got != need or reader.readinto(bytearray(1)):
                raise BackupCorrupt(f"{self._where}: compressed frame size does not match")
        except zstandard.ZstdError:
            raise BackupCorrupt(f"{self._where}: compressed stream is damaged") from None
        return view, buf

    def feed(self, data: bytes | memoryview) -> Iterator[Decoded]:
        self._buf += data
        pos = 0
        while len(self._buf) - pos >= FRAME_LEN.size:
            (n,) = FRAME_LEN.unpack_from(self._buf, pos)
            if len(self._buf) - pos - FRAME_LEN.size < n:
                break
            start = pos + FRAME_LEN.size
            with memoryview(self._buf) as whole:
                frame = bytes(whole[start : start + n])
            self._pending.append(self._pool.submit(self._one, frame, self._acquire()))
            pos = start + n
            while len(self._pending) > self._workers:
                yield self._pending.popleft().result()
        del self._buf[:pos]

    def finish(self) -> Iterator[Decoded]:
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


class _Shared:
    """A piece handed to both helper threads; its buffer goes back after the second."""

    def __init__(self, data: memoryview, release: Callable[[], object] | None) -> None:
        self.data = data
        self._release = release
        self._left = 2
        self._lock = threading.Lock()

    def done(self) -> None:
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last and self._release is not None:
            self._release()


class HashingWriter:
    """Hashes and hands bytes to ``sink``, each in its own helper thread so SHA-256 and
    the write overlap with each other and with decompression; errors surface on close.

    ``release`` (if given) runs once the piece was both hashed and written (or skipped
    after an error), so pooled buffers always return to their pool.
    """

    def __init__(self, sink: Callable[[memoryview], object], depth: int = 3) -> None:
        self.sha = hashlib.sha256()
        self.size = 0
        self._sink = sink
        self._error: BaseException | None = None
        self._queues: list[queue.Queue[_Shared | None]] = [queue.Queue(depth), queue.Queue(depth)]
        self._threads = [
            threading.Thread(target=self._run, args=(q, fn), name=name, daemon=True)
            for q, fn, name in zip(
                self._queues,
                (self.sha.update, sink),
                ("restore-hash", "restore-write"),
                strict=True,
            )
        ]
        for t in self._threads:
            t.start()

    def _run(self, q: queue.Queue[_Shared | None], fn: Callable[[memoryview], object]) -> None:
        while (item := q.get()) is not None:
            try:
                if self._error is None:
                    fn(item.data)
            except BaseException as exc:  # handed to the caller in close()
                self._error = exc
            finally:
                item.done()

    def write(self, data: memoryview, release: Callable[[], object] | None = None) -> None:
        if self._error is not None:
            if release is not None:
                release()
            self.close()
        self.size += len(data)
        item = _Shared(data, release)
        for q in self._queues:
            q.put(item)

    def close(self) -> None:
        for q, t in zip(self._queues, self._threads, strict=True):
            if t.is_alive():
                q.put(None)
                t.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
