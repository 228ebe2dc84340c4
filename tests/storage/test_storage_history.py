"""History, deletion and retention: rows go, and files go only when nothing references them."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store import CleanupReport, ImageKind, JobStatus
from storage.sqlite import SqliteStorage
from tests.storage_support import T0, UNLIMITED, Clock, finish, make_storage, submit

PROMPTS = (
    "a Cat in a hat",
    "Concatenate",
    "CAFÉ sign",
    "Straße at night",
    "100% cotton",
    "1000 cotton",
    "a_b test",
    "axb test",
    "back\\slash",
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStorage]:
    async with make_storage(tmp_path, clock) as opened:
        yield opened


async def files_of(storage: SqliteStorage, job_id: int) -> set[str]:
    return {i.sha for i in await storage.job_images(job_id) if i.sha}


def on_disk(storage: SqliteStorage, shas: set[str]) -> set[str]:
    return {sha for sha in shas if storage.files.exists(sha)}


# --- history --------------------------------------------------------------------------------------


async def test_history_is_newest_first_and_paged(storage: SqliteStorage) -> None:
    ids = [(await submit(storage, prompt=f"prompt {n}")).id for n in range(7)]
    await submit(storage, user=2)
    page1 = await storage.history(1, limit=3)
    page3 = await storage.history(1, limit=3, offset=6)
    assert [j.id for j in page1] == ids[::-1][:3]
    assert [j.id for j in page3] == [ids[0]]
    assert await storage.history(1, limit=3, offset=9) == []
    assert await storage.count_history(1) == 7
    with pytest.raises(ValueError):
        await storage.history(1, limit=-1)


async def test_history_can_be_limited_to_one_server(storage: SqliteStorage) -> None:
    a = await submit(storage, guild=1)
    await submit(storage, guild=2)
    dm = await submit(storage, guild=None)
    assert [j.id for j in await storage.history(1, guild_id=1)] == [a.id]
    assert await storage.count_history(1, guild_id=2) == 1
    assert [j.requester.guild_id for j in await storage.history(1)] == [None, 2, 1]
    assert (await storage.history(1))[0].id == dm.id


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("CAT", {"a Cat in a hat", "Concatenate"}),
        ("café", {"CAFÉ sign"}),
        ("STRASSE", {"Straße at night"}),
        ("100%", {"100% cotton"}),
        ("a_b", {"a_b test"}),
        ("%", {"100% cotton"}),
        ("\\", {"back\\slash"}),
        ("", set(PROMPTS)),
    ],
)
async def test_history_search_is_a_case_insensitive_literal_substring(
    storage: SqliteStorage, search: str, expected: set[str]
) -> None:
    for prompt in PROMPTS:
        await submit(storage, prompt=prompt)
    found = await storage.history(1, search=search, limit=50)
    assert {j.prompt for j in found} == expected
    assert await storage.count_history(1, search=search) == len(expected)


async def test_guild_history_shows_every_member_newest_first(storage: SqliteStorage) -> None:
    a = await submit(storage, user=1, guild=5)
    b = await submit(storage, user=2, guild=5, private=True)
    await submit(storage, user=3, guild=6)
    jobs = await storage.guild_history(5)
    assert [j.id for j in jobs] == [b.id, a.id]
    assert jobs[0].private
    assert [j.id for j in await storage.guild_history(5, limit=1, offset=1)] == [a.id]


# --- deleting ----------------------------------------------------------------------------------------


async def test_delete_job_removes_rows_and_unshared_files(storage: SqliteStorage) -> None:
    keep = await finish(storage, await submit(storage, data=b"shared input", mask=b"mask one"))
    gone = await finish(storage, await submit(storage, data=b"shared input", mask=b"mask two", images=2))
    shared, own = await files_of(storage, keep.id), await files_of(storage, gone.id)
    assert await storage.delete_job(gone.id) is True
    assert await storage.get_job(gone.id) is None
    assert await storage.job_images(gone.id) == []
    assert on_disk(storage, own) == own & shared  # only the shared input survives
    assert on_disk(storage, shared) == shared
    assert await storage.delete_job(gone.id) is False


async def test_active_jobs_cannot_be_deleted(storage: SqliteStorage) -> None:
    queued = await submit(storage)
    running = await submit(storage)
    await storage.claim_job(running.id)
    assert await storage.delete_job(queued.id) is False
    assert await storage.delete_job(running.id) is False
    assert await storage.delete_user_history(1) == 0
    assert on_disk(storage, await files_of(storage, queued.id)) == await files_of(storage, queued.id)


async def test_deleting_a_parent_keeps_its_children(storage: SqliteStorage) -> None:
    parent = await finish(storage, await submit(storage))
    child = await finish(storage, await submit(storage, parent_job_id=parent.id, data=b"other", mask=b"other mask"))
    await storage.delete_job(parent.id)
    survivor = await storage.get_job(child.id)
    assert survivor is not None and survivor.parent_job_id is None


async def test_delete_user_history_deletes_only_that_users_finished_jobs(storage: SqliteStorage) -> None:
    mine = [await finish(storage, await submit(storage, data=f"mine {n}".encode())) for n in range(3)]
    queued = await submit(storage, data=b"mine queued")
    theirs = await finish(storage, await submit(storage, user=2, data=b"theirs"))
    my_files = set().union(*[await files_of(storage, j.id) for j in mine]) - await files_of(storage, queued.id)
    assert await storage.delete_user_history(1) == 3
    assert [j.id for j in await storage.history(1)] == [queued.id]
    assert await storage.get_job(theirs.id) is not None
    assert on_disk(storage, my_files) == set()


async def test_delete_many_jobs_in_chunks(storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storage.sqlite.DELETE_CHUNK", 4)
    jobs = [await finish(storage, await submit(storage, data=f"input {n}".encode())) for n in range(10)]
    assert await storage.delete_user_history(1) == 10
    assert on_disk(storage, set().union(*[await files_of(storage, j.id) for j in jobs])) == set()


# --- retention --------------------------------------------------------------------------------------------


async def test_cleanup_deletes_old_finished_jobs_and_keeps_shared_files(storage: SqliteStorage, clock: Clock) -> None:
    old_done = await finish(storage, await submit(storage, data=b"shared input", mask=b"old mask"))
    old_failed = await submit(storage, data=b"failed input", mask=b"failed mask")
    await storage.fail_job(old_failed.id, "api_error", "boom", refund=True)
    old_queued = await submit(storage, data=b"queued input")  # never started: must survive
    old_running = await submit(storage, data=b"running input")
    await storage.claim_job(old_running.id)
    clock.advance(days=40)
    recent = await finish(storage, await submit(storage, data=b"shared input", mask=b"new mask"))
    old_files = await files_of(storage, old_done.id) | await files_of(storage, old_failed.id)
    report = await storage.cleanup(clock.now - timedelta(days=30))
    assert report.jobs_removed == 2
    assert {j.id for j in await storage.history(1, limit=50)} == {old_queued.id, old_running.id, recent.id}
    assert on_disk(storage, await files_of(storage, recent.id)) == await files_of(storage, recent.id)
    shared = await files_of(storage, recent.id) & old_files
    assert len(shared) == 1  # the input both jobs used
    assert on_disk(storage, old_files) == shared
    assert report.files_removed == len(old_files) - 1
    assert await storage.cleanup(clock.now - timedelta(days=30)) == CleanupReport(0, 0)


async def test_cleanup_prunes_settled_usage_older_than_the_cutoff(storage: SqliteStorage, clock: Clock) -> None:
    await finish(storage, await submit(storage, now=T0, images=2))
    await submit(storage, now=T0, images=3)  # still queued: its reservation is kept
    clock.advance(days=40)
    await storage.cleanup(clock.now - timedelta(days=30))
    status = await storage.quota_status((await storage.history(1))[0].requester, UNLIMITED, T0)
    assert status.daily_used == 3
    assert await storage.usage_report(10, T0 - timedelta(days=1)) == []


async def test_cleanup_sweeps_orphaned_files_but_not_pinned_ones(tmp_path: Path) -> None:
    async with make_storage(tmp_path, pin_seconds=3600) as storage:
        kept = await finish(storage, await submit(storage))
        orphan = await storage.files.put(b"uploaded, then the submission was refused")
        pinned = await storage.files.put(b"uploaded a moment ago, job not created yet")
        storage.files.unpin(orphan)
        long_ago = time.time() - 7200
        for sha in (orphan, pinned, *await files_of(storage, kept.id)):
            os.utime(storage.files.path(sha), (long_ago, long_ago))
        stray = storage.files.path(orphan).parent / ".deadbeef.crashed.tmp"
        stray.write_bytes(b"half a file")
        os.utime(stray, (long_ago, long_ago))
        report = await storage.cleanup(T0 - timedelta(days=30))
        assert report == CleanupReport(jobs_removed=0, files_removed=2)
        assert not storage.files.exists(orphan) and not stray.exists()
        assert storage.files.exists(pinned)
        assert on_disk(storage, await files_of(storage, kept.id)) == await files_of(storage, kept.id)


async def test_outputs_are_part_of_a_jobs_files(storage: SqliteStorage) -> None:
    job = await finish(storage, await submit(storage, images=2), delivered=1, withheld=1)
    kinds = [i.kind for i in await storage.job_images(job.id)]
    assert kinds == [ImageKind.INPUT, ImageKind.MASK, ImageKind.OUTPUT, ImageKind.OUTPUT]
    assert (await storage.get_job(job.id)).status is JobStatus.SUCCEEDED
    assert len(await files_of(storage, job.id)) == 3
