"""Content-addressed image files on the local disk: ``<root>/ab/abcdef…`` named by their sha256.

A file is written once and never modified, so readers need no locks and a re-upload of the same image
costs nothing. Writes are crash-safe: a temporary file in the same directory, fsync, then
``os.replace`` (atomic), then an fsync of the directory so the new name survives a power cut. A
crash leaves at worst a stray ``*.tmp`` file, which ``stale_files`` reports for cleanup.

Deleting is the storage layer's job (it knows which files rows still reference). ``put`` *pins* a
file for ``pin_seconds``: a caller stores the files first and creates the job a moment later, and a
cleanup running in between must not delete a file it has not seen referenced yet. Storage unpins
files once a row references them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import AsyncIterable, Iterator
from pathlib import Path
from typing import BinaryIO

from bot.errors import NotFound
from bot.i18n import msg
from bot.store import TooLarge

SHA_RE = re.compile(r"[0-9a-f]{64}")
TMP_SUFFIX = ".tmp"
WRITE_BATCH = 256 * 1024  # bytes of a stream gathered before they are written (and hashed) in a thread


class LocalFileStore:
    def __init__(self, root: Path | str, *, pin_seconds: float = 3600.0) -> None:
        self.root = Path(root)
        self._root = os.fspath(self.root)
        self.pin_seconds = pin_seconds
        self._pins: dict[str, float] = {}
        self._pins_lock = threading.Lock()  # pins are read on the database thread too

    # --- the FileStore protocol ----------------------------------------------------------------

    async def put(self, data: bytes) -> str:
        """Store ``data`` and return its sha256; storing the same bytes again is a no-op. Hashing
        (results are up to 50 MB) and writing run in a worker thread, off the event loop."""
        return await asyncio.to_thread(self.put_sync, data)

    def put_sync(self, data: bytes) -> str:
        """``put`` for a worker thread: hash, pin, write (blocking)."""
        sha = hashlib.sha256(data).hexdigest()
        self.pin(sha)
        self._write(sha, data)
        return sha

    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> Path:
        """Receive a stream (a download) into a temporary file, chunk by chunk, so it is never whole in
        memory; the caller reads it and ``unstage``s it (an upload is not kept: its metadata may be
        private). ``TooLarge`` (nothing kept) past ``max_bytes``. A file left behind is swept with the
        other stale temporary files."""
        path, _ = await self._receive(chunks, max_bytes, hashed=False)
        return path

    def unstage(self, path: Path) -> None:
        if path.parent != self.root or not path.name.endswith(TMP_SUFFIX):
            raise ValueError(f"not a staged file: {path}")
        path.unlink(missing_ok=True)

    async def put_stream(self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> str:
        """``put`` for a stream: hashed and written chunk by chunk as it arrives, then fsynced and
        renamed under its sha256 (pinned, as ``put``). ``TooLarge`` (nothing kept) past ``max_bytes``."""
        tmp, sha = await self._receive(chunks, max_bytes, hashed=True)
        try:
            self.pin(sha)
            await asyncio.to_thread(self._adopt, sha, tmp)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return sha

    async def _receive(self, chunks: AsyncIterable[bytes], max_bytes: int | None, *, hashed: bool) -> tuple[Path, str]:
        """The temporary file is created, written, hashed and synced in worker threads: a write can
        block for long when the disk is busy (other processes' fsyncs, dirty-page throttling), and a
        burst of uploads then stalled every interaction on the event loop. Chunks are gathered up to
        ``WRITE_BATCH`` bytes per hand-off, so the hand-offs cost the loop less than the writes did."""
        out, tmp = await asyncio.to_thread(self._incoming)
        digest = hashlib.sha256()
        batch: list[bytes] = []
        batched = size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(f"the stream is larger than {max_bytes} bytes")
                batch.append(chunk)
                batched += len(chunk)
                if batched >= WRITE_BATCH:
                    await asyncio.to_thread(_write_batch, out, batch, digest if hashed else None)
                    batch, batched = [], 0
            await asyncio.to_thread(_write_batch, out, batch, digest if hashed else None, close=True, sync=hashed)
        except BaseException:
            out.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return Path(tmp), digest.hexdigest()

    def _incoming(self) -> tuple[BinaryIO, str]:
        """A new temporary file in ``root`` for a stream, open for writing (blocking)."""
        os.makedirs(self._root, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming.", suffix=TMP_SUFFIX, dir=self.root)
        return os.fdopen(fd, "wb"), tmp

    async def get(self, sha: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path(sha).read_bytes)
        except FileNotFoundError:
            raise NotFound(msg("file-image-gone"), detail=f"image file {sha} is missing") from None

    def exists(self, sha: str) -> bool:
        # plain strings, not Path: storage calls this inside transactions, on the hot path
        if not SHA_RE.fullmatch(sha):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return os.path.isfile(f"{self._root}/{sha[:2]}/{sha}")

    # --- used by the storage layer -------------------------------------------------------------

    def path(self, sha: str) -> Path:
        """Where ``sha`` lives; refuses anything that is not a sha256, so no path can escape ``root``."""
        if not SHA_RE.fullmatch(sha):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha

    def pin(self, sha: str) -> None:
        with self._pins_lock:
            self._pins[sha] = time.monotonic() + self.pin_seconds

    def unpin(self, *shas: str | None) -> None:
        with self._pins_lock:
            for sha in shas:
                if sha is not None:
                    self._pins.pop(sha, None)

    def pinned(self, sha: str) -> bool:
        with self._pins_lock:
            until = self._pins.get(sha)
            if until is not None and until < time.monotonic():
                del self._pins[sha]
                until = None
            return until is not None

    def remove(self, sha: str) -> bool:
        """Delete a file (synchronous: storage calls it on its own thread). False if it was absent."""
        try:
            self.path(sha).unlink()
        except FileNotFoundError:
            return False
        return True

    def stale_files(self, older_than: float) -> Iterator[tuple[str | None, Path]]:
        """Files last written before ``older_than`` (epoch seconds): ``(sha, path)``, with sha None
        for a temporary file a crash left behind. Blocking; run it in a thread."""
        if not self.root.is_dir():
            return
        for bucket in self.root.iterdir():
            if bucket.name.endswith(TMP_SUFFIX) and bucket.is_file():  # a ``put_stream`` a crash cut off
                if bucket.stat().st_mtime < older_than:
                    yield None, bucket
                continue
            if not bucket.is_dir() or len(bucket.name) != 2:
                continue
            for entry in os.scandir(bucket):
                try:
                    if not entry.is_file() or entry.stat().st_mtime >= older_than:
                        continue
                except FileNotFoundError:
                    continue
                if entry.name.endswith(TMP_SUFFIX):
                    yield None, Path(entry.path)
                elif SHA_RE.fullmatch(entry.name) and entry.name.startswith(bucket.name):
                    yield entry.name, Path(entry.path)

    # --- internals --------------------------------------------------------------------------------

    def _adopt(self, sha: str, tmp: Path) -> None:
        """Move a complete, fsynced temporary file under its hash (or drop it: already stored)."""
        target = self.path(sha)
        if target.is_file():
            tmp.unlink(missing_ok=True)
            return
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            _fsync_dir(target.parent.parent)
        os.replace(tmp, target)
        _fsync_dir(target.parent)

    def _write(self, sha: str, data: bytes) -> None:
        target = self.path(sha)
        if target.is_file():
            return
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            _fsync_dir(target.parent.parent)  # the new bucket's name must survive a power cut too
        fd, tmp = tempfile.mkstemp(prefix=f".{sha[:16]}.", suffix=TMP_SUFFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)


def _write_batch(
    out: BinaryIO, batch: list[bytes], digest: hashlib._Hash | None, *, close: bool = False, sync: bool = False
) -> None:
    """One hand-off of ``_receive`` (blocking: a worker thread): write and hash a batch of chunks in
    order, then, for the last one, flush, fsync when the file is to be kept, and close."""
    for chunk in batch:
        if digest is not None:
            digest.update(chunk)
        out.write(chunk)
    if close:
        out.flush()
        if sync:
            os.fsync(out.fileno())
        out.close()


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable; not possible (nor needed) on Windows."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
