"""Two-core pipelines: compression in a small thread pool, hashing and writing in a
helper thread. zstd, hashlib, AES-GCM and file writes all release the GIL, so on the
two cores of a small server the stages truly overlap; memory stays bounded by a few
frames in flight.
"""

from __future__ import annotations

import hashlib
import mmap
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
MAX_FRAME_INPUT = MAX_FRAME_OUTPUT + MAX_FRAME_OUTPUT // 128 + 1024  # zstd's worst case
Buffer = bytearray | mmap.mmap
Decoded = tuple[memoryview, Buffer]
"""A frame's plaintext and the pooled buffer that holds it (to be released)."""


class _Pool:
    """Up to ``limit`` reusable buffers, made on demand (empty: the user sizes them);
    ``get`` waits when all are out."""

    def __init__(self, limit: int) -> None:
        self._free: queue.SimpleQueue[Buffer] = queue.SimpleQueue()
        self._limit = limit
        self._made = 0

    def get(self) -> Buffer:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            if self._made < self._limit:
                self._made += 1
                return bytearray()
            return self._free.get()

    def put(self, buf: Buffer) -> None:
        self._free.put(buf)


class FrameDecoder:
    """Splits the compressed stream (length-prefixed zstd frames, fed in arbitrary
    pieces) and decompresses frames in parallel, yielding plaintext in order.

    Nothing is allocated per frame: each frame is copied once, straight from the fed
    pieces, into a pooled input buffer, and decompressed (``readinto``, sized by the
    content size its header declares) into a pooled output buffer. Allocating and
    faulting in hundreds of multi-megabyte objects cost more than zstd itself. Every
    yielded ``(view, buffer)`` must be handed back with :meth:`release` once written; the
    pools are bounded, so a consumer that never releases stalls the decoder instead of
    growing memory.
    """

    def __init__(self, where: str, threads: int = 2, buffers: int = 0) -> None:
        self._where = where
        self._local = threading.local()
        self._workers = max(1, threads)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="unzstd")
        self._pending: deque[Future[Decoded]] = deque()
        # One per worker in flight plus one in the consumer's hand is the least that works.
        self._out = _Pool(max(buffers or self._workers + 5, self._workers + 1))
        self._in = _Pool(self._workers + 2)
        self._head = bytearray()  # the length prefix being read
        self._frame: Buffer | None = None  # the frame being assembled
        self._need = self._have = 0

    def release(self, buf: Buffer) -> None:
        """Give a buffer back once its view has been consumed."""
        self._out.put(buf)

    def _one(self, frame_buf: Buffer, size: int, buf: Buffer) -> Decoded:
        try:
            return self._decompress(memoryview(frame_buf)[:size], buf)
        finally:
            self._in.put(frame_buf)

    def _decompress(self, frame: memoryview, buf: Buffer) -> Decoded:
        if not hasattr(self._local, "dctx"):
            self._local.dctx = zstandard.ZstdDecompressor()
        try:
            need = zstandard.frame_content_size(frame)
            if not 0 <= need <= MAX_FRAME_OUTPUT:
                raise BackupCorrupt(f"{self._where}: compressed frame declares no usable size")
            if len(buf) < need:
                # Anonymous mmap: page-aligned, so the writer can send it to disk directly.
                buf = mmap.mmap(-1, need)
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
        view = memoryview(data)
        pos, end = 0, len(view)
        while pos < end:
            if self._frame is None:
                take = min(FRAME_LEN.size - len(self._head), end - pos)
                self._head += view[pos : pos + take]
                pos += take
                if len(self._head) < FRAME_LEN.size:
                    break
                (self._need,) = FRAME_LEN.unpack(self._head)
                self._head.clear()
                if not 0 < self._need <= MAX_FRAME_INPUT:
                    raise BackupCorrupt(f"{self._where}: compressed frame has an impossible size")
                frame = self._in.get()
                if len(frame) < self._need:
                    frame = bytearray(self._need)
                self._frame, self._have = frame, 0
            take = min(self._need - self._have, end - pos)
            self._frame[self._have : self._have + take] = view[pos : pos + take]
            self._have += take
            pos += take
            if self._have == self._need:
                job = self._pool.submit(self._one, self._frame, self._need, self._out.get())
                self._pending.append(job)
                self._frame = None
                while len(self._pending) > self._workers:
                    yield self._pending.popleft().result()

    def finish(self) -> Iterator[Decoded]:
        try:
            while self._pending:
                yield self._pending.popleft().result()
            if self._frame is not None or self._head:
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
