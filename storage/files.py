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
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bot.errors import NotFound
from bot.i18n import msg

SHA_RE = re.compile(r"[0-9a-f]{64}")
TMP_SUFFIX = ".tmp"


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
