"""Content-addressed image files."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import storage.files as files_module
from bot.errors import NotFound
from bot.store import TooLarge
from storage.files import LocalFileStore


async def test_put_stores_under_the_sha256_and_is_idempotent(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path)
    data = b"\x89PNG fake image"
    sha = await files.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert files.path(sha) == tmp_path / sha[:2] / sha
    assert await files.get(sha) == data and files.exists(sha)
    before = files.path(sha).stat().st_mtime_ns
    assert await files.put(data) == sha
    assert files.path(sha).stat().st_mtime_ns == before  # written once, never modified


async def test_concurrent_puts_of_the_same_bytes_leave_one_complete_file(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path)
    data = os.urandom(256 * 1024)
    shas = await asyncio.gather(*(files.put(data) for _ in range(20)))
    assert len(set(shas)) == 1
    assert [p.name for p in (tmp_path / shas[0][:2]).iterdir()] == [shas[0]]  # no temporary files left
    assert await files.get(shas[0]) == data


async def test_missing_files(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path)
    sha = "0" * 64
    assert not files.exists(sha)
    with pytest.raises(NotFound):
        await files.get(sha)
    assert files.remove(sha) is False


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABCDEF" + "0" * 58, "0" * 63, "g" * 64, ""])
async def test_only_sha256_names_are_accepted(tmp_path: Path, bad: str) -> None:
    files = LocalFileStore(tmp_path)
    with pytest.raises(ValueError):
        files.exists(bad)
    with pytest.raises(ValueError):
        await files.get(bad)


async def test_pins_protect_fresh_uploads_until_unpinned_or_expired(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path, pin_seconds=3600)
    sha = await files.put(b"fresh")
    assert files.pinned(sha)
    files.unpin(sha, None)
    assert not files.pinned(sha)
    expiring = LocalFileStore(tmp_path, pin_seconds=0)
    assert not expiring.pinned(await expiring.put(b"gone at once"))


async def test_stale_files_lists_old_images_and_crashed_temp_files(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path)
    old, new = await files.put(b"old"), await files.put(b"new")
    stray = tmp_path / old[:2] / ".abc.123.tmp"
    stray.write_bytes(b"partial")
    (tmp_path / "README").write_text("not an image")
    long_ago = time.time() - 100
    for path in (files.path(old), stray):
        os.utime(path, (long_ago, long_ago))
    found = {(sha, path.name) for sha, path in files.stale_files(time.time() - 50)}
    assert found == {(old, old), (None, stray.name)}
    assert new not in {sha for sha, _ in found}
    assert list(LocalFileStore(tmp_path / "nothing").stale_files(time.time())) == []


async def test_put_hashes_and_writes_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Results are up to 50 MB: hashing them on the loop would stall every interaction meanwhile."""
    threads: list[threading.Thread] = []

    class RecordingHashlib:
        @staticmethod
        def sha256(data: bytes) -> hashlib._Hash:
            threads.append(threading.current_thread())
            return hashlib.sha256(data)

    monkeypatch.setattr(files_module, "hashlib", RecordingHashlib)
    store = LocalFileStore(tmp_path)
    data = os.urandom(4 * 1024 * 1024)
    sha = await store.put(data)
    assert sha == hashlib.sha256(data).hexdigest() and store.path(sha).read_bytes() == data
    assert threads and threads[0] is not threading.main_thread()
    assert store.pinned(sha)


async def test_a_stream_is_stored_without_holding_it_in_memory(tmp_path: Path) -> None:
    """32 MB through ``put_stream`` and ``stage``: the peak Python allocation stays near one chunk."""
    store = LocalFileStore(tmp_path / "images")
    chunk = bytes(range(256)) * 1024  # 256 KB, reused: the source itself allocates nothing new
    total = 128
    expected = hashlib.sha256()
    for _ in range(total):
        expected.update(chunk)

    async def source() -> AsyncIterator[bytes]:
        for _ in range(total):
            yield chunk

    tracemalloc.start()
    try:
        sha = await store.put_stream(source())
        _, peak_put = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        staged = await store.stage(source())
        _, peak_stage = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = total * len(chunk)
    assert sha == expected.hexdigest() and store.path(sha).stat().st_size == size
    assert staged.stat().st_size == size and staged.parent == store.root
    assert peak_put < size / 16 and peak_stage < size / 16, (peak_put, peak_stage)
    store.unstage(staged)
    assert not staged.exists()


async def test_a_stream_is_written_and_hashed_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attachments of a burst of ``/edit`` arrive together: a write blocked by a busy disk, or hashing,
    on the loop would hold every acknowledgement behind it (issue 11). Creating the file too."""
    threads: list[tuple[str, threading.Thread]] = []
    write_batch, incoming = files_module._write_batch, LocalFileStore._incoming

    def recording_write(*args: object, **kwargs: object) -> None:
        threads.append(("write", threading.current_thread()))
        write_batch(*args, **kwargs)  # type: ignore[arg-type]

    def recording_incoming(self: LocalFileStore) -> object:
        threads.append(("create", threading.current_thread()))
        return incoming(self)

    monkeypatch.setattr(files_module, "_write_batch", recording_write)
    monkeypatch.setattr(LocalFileStore, "_incoming", recording_incoming)
    store = LocalFileStore(tmp_path / "images")
    data = os.urandom(3 * files_module.WRITE_BATCH + 1000)

    async def source() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    sha = await store.put_stream(source())
    assert sha == hashlib.sha256(data).hexdigest() and store.path(sha).read_bytes() == data
    staged = await store.stage(source())
    assert staged.read_bytes() == data
    kinds = [kind for kind, _ in threads]
    assert kinds.count("create") == 2 and kinds.count("write") >= 4  # batched, but not whole
    assert all(thread is not threading.main_thread() for _, thread in threads)


async def test_a_stream_past_its_limit_leaves_nothing_behind(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "images")

    async def source() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    with pytest.raises(TooLarge):
        await store.put_stream(source(), max_bytes=5000)
    with pytest.raises(TooLarge):
        await store.stage(source(), max_bytes=5000)
    assert [p for p in (tmp_path / "images").rglob("*") if p.is_file()] == []
