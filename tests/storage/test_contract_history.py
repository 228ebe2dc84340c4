"""Contract: history, deletion and retention: rows go, and files go only when nothing references them."""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

import pytest

from bot.store import CleanupReport, ImageKind, JobStatus, Storage
from tests.storage_support import T0, UNLIMITED, Clock, MakeBackend, fail, finish, gid, submit, uid

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


async def files_of(backend: Storage, job_id: int) -> set[str]:
    return {i.sha for i in await backend.job_images(job_id) if i.sha}


def on_disk(backend: Storage, shas: set[str]) -> set[str]:
    return {sha for sha in shas if backend.files.exists(sha)}


# --- history --------------------------------------------------------------------------------------


async def test_history_is_newest_first_and_paged(backend: Storage) -> None:
    ids = [(await submit(backend, prompt=f"prompt {n}")).id for n in range(7)]
    await submit(backend, user=uid(2))
    page1 = await backend.history(uid(1), limit=3)
    page3 = await backend.history(uid(1), limit=3, offset=6)
    assert [j.id for j in page1] == ids[::-1][:3]
    assert [j.id for j in page3] == [ids[0]]
    assert await backend.history(uid(1), limit=3, offset=9) == []
    assert await backend.count_history(uid(1)) == 7
    with pytest.raises(ValueError):
        await backend.history(uid(1), limit=-1)


async def test_history_can_be_limited_to_one_server(backend: Storage) -> None:
    a = await submit(backend, guild=gid(1))
    await submit(backend, guild=gid(2))
    dm = await submit(backend, guild=None)
    assert [j.id for j in await backend.history(uid(1), guild_id=gid(1))] == [a.id]
    assert await backend.count_history(uid(1), guild_id=gid(2)) == 1
    assert [j.requester.guild_id for j in await backend.history(uid(1))] == [None, gid(2), gid(1)]
    assert (await backend.history(uid(1)))[0].id == dm.id


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
    backend: Storage, search: str, expected: set[str]
) -> None:
    for prompt in PROMPTS:
        await submit(backend, prompt=prompt)
    found = await backend.history(uid(1), search=search, limit=50)
    assert {j.prompt for j in found} == expected
    assert await backend.count_history(uid(1), search=search) == len(expected)


# --- deleting ----------------------------------------------------------------------------------------


async def test_delete_job_removes_rows_and_unshared_files(backend: Storage) -> None:
    keep = await finish(backend, await submit(backend, data=b"shared input", mask=b"mask one"))
    gone = await finish(backend, await submit(backend, data=b"shared input", mask=b"mask two", images=2))
    shared, own = await files_of(backend, keep.id), await files_of(backend, gone.id)
    assert await backend.delete_job(gone.id) is True
    assert await backend.get_job(gone.id) is None
    assert await backend.job_images(gone.id) == []
    assert on_disk(backend, own) == own & shared  # only the shared input survives
    assert on_disk(backend, shared) == shared
    assert await backend.delete_job(gone.id) is False


async def test_active_jobs_cannot_be_deleted(backend: Storage) -> None:
    queued = await submit(backend)
    running = await submit(backend)
    await backend.claim_job(running.id)
    assert await backend.delete_job(queued.id) is False
    assert await backend.delete_job(running.id) is False
    assert await backend.delete_user_history(uid(1)) == 0
    assert on_disk(backend, await files_of(backend, queued.id)) == await files_of(backend, queued.id)


async def test_deleting_a_parent_keeps_its_children(backend: Storage) -> None:
    parent = await finish(backend, await submit(backend))
    child = await finish(backend, await submit(backend, parent_job_id=parent.id, data=b"other", mask=b"other mask"))
    await backend.delete_job(parent.id)
    survivor = await backend.get_job(child.id)
    assert survivor is not None and survivor.parent_job_id is None


async def test_delete_user_history_deletes_only_that_users_finished_jobs(backend: Storage) -> None:
    mine = [await finish(backend, await submit(backend, data=f"mine {n}".encode())) for n in range(3)]
    queued = await submit(backend, data=b"mine queued")
    theirs = await finish(backend, await submit(backend, user=uid(2), data=b"theirs"))
    my_files = set().union(*[await files_of(backend, j.id) for j in mine]) - await files_of(backend, queued.id)
    assert await backend.delete_user_history(uid(1)) == 3
    assert [j.id for j in await backend.history(uid(1))] == [queued.id]
    assert await backend.get_job(theirs.id) is not None
    assert on_disk(backend, my_files) == set()


async def test_delete_many_jobs_in_chunks(backend: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[type(backend).__module__], "DELETE_CHUNK", 4)
    jobs = [await finish(backend, await submit(backend, data=f"input {n}".encode())) for n in range(10)]
    assert await backend.delete_user_history(uid(1)) == 10
    assert on_disk(backend, set().union(*[await files_of(backend, j.id) for j in jobs])) == set()


# --- retention --------------------------------------------------------------------------------------------


async def test_cleanup_deletes_old_finished_jobs_and_keeps_shared_files(backend: Storage, clock: Clock) -> None:
    old_done = await finish(backend, await submit(backend, data=b"shared input", mask=b"old mask"))
    old_failed = await submit(backend, data=b"failed input", mask=b"failed mask")
    await fail(backend, old_failed, refund=True, code="api_error", message="boom")
    old_queued = await submit(backend, data=b"queued input")  # never started: must survive
    old_running = await submit(backend, data=b"running input")
    await backend.claim_job(old_running.id)
    clock.advance(days=40)
    recent = await finish(backend, await submit(backend, data=b"shared input", mask=b"new mask"))
    old_files = await files_of(backend, old_done.id) | await files_of(backend, old_failed.id)
    report = await backend.cleanup(clock.now - timedelta(days=30))
    assert report.jobs_removed == 2
    assert {j.id for j in await backend.history(uid(1), limit=50)} == {old_queued.id, old_running.id, recent.id}
    assert on_disk(backend, await files_of(backend, recent.id)) == await files_of(backend, recent.id)
    shared = await files_of(backend, recent.id) & old_files
    assert len(shared) == 1  # the input both jobs used
    assert on_disk(backend, old_files) == shared
    assert report.files_removed == len(old_files) - 1
    assert await backend.cleanup(clock.now - timedelta(days=30)) == CleanupReport(0, 0)


async def test_cleanup_prunes_settled_usage_older_than_the_cutoff(backend: Storage, clock: Clock) -> None:
    await finish(backend, await submit(backend, now=T0, images=2))
    await submit(backend, now=T0, images=3)  # still queued: its reservation is kept
    clock.advance(days=40)
    await backend.cleanup(clock.now - timedelta(days=30))
    status = await backend.quota_status((await backend.history(uid(1)))[0].requester, UNLIMITED, T0)
    assert status.daily_used == 3
    assert await backend.usage_report(gid(10), T0 - timedelta(days=1)) == []


async def test_cleanup_sweeps_orphaned_files_but_not_pinned_ones(make_backend: MakeBackend) -> None:
    async with make_backend(pin_seconds=3600) as backend:
        kept = await finish(backend, await submit(backend))
        orphan = await backend.files.put(b"uploaded, then the submission was refused")
        pinned = await backend.files.put(b"uploaded a moment ago, job not created yet")
        backend.files.unpin(orphan)
        long_ago = time.time() - 7200
        for sha in (orphan, pinned, *await files_of(backend, kept.id)):
            os.utime(backend.files.path(sha), (long_ago, long_ago))
        stray = backend.files.path(orphan).parent / ".deadbeef.crashed.tmp"
        stray.write_bytes(b"half a file")
        os.utime(stray, (long_ago, long_ago))
        report = await backend.cleanup(T0 - timedelta(days=30))
        assert report == CleanupReport(jobs_removed=0, files_removed=2)
        assert not backend.files.exists(orphan) and not stray.exists()
        assert backend.files.exists(pinned)
        assert on_disk(backend, await files_of(backend, kept.id)) == await files_of(backend, kept.id)


async def test_outputs_are_part_of_a_jobs_files(backend: Storage) -> None:
    job = await finish(backend, await submit(backend, images=2), delivered=1, withheld=1)
    kinds = [i.kind for i in await backend.job_images(job.id)]
    assert kinds == [ImageKind.INPUT, ImageKind.MASK, ImageKind.OUTPUT, ImageKind.OUTPUT]
    assert (await backend.get_job(job.id)).status is JobStatus.SUCCEEDED
    assert len(await files_of(backend, job.id)) == 3


async def test_cleanup_in_small_chunks_removes_everything_old_and_nothing_recent(
    backend: Storage, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention walks jobs and settled usage in chunks (each its own transaction); with chunks far
    smaller than the work, every old row still goes and the chunk boundaries lose nothing."""
    module = sys.modules[type(backend).__module__]
    monkeypatch.setattr(module, "DELETE_CHUNK", 2)
    monkeypatch.setattr(module, "LEDGER_CHUNK", 3)
    old = [await finish(backend, await submit(backend, data=f"old {n}".encode())) for n in range(7)]
    clock.advance(days=40)
    recent = await finish(backend, await submit(backend, data=b"recent", now=clock.now))
    report = await backend.cleanup(clock.now - timedelta(days=30))
    assert report.jobs_removed == len(old)
    assert [j.id for j in await backend.history(uid(1), limit=50)] == [recent.id]
    usage = await backend.usage_report(gid(10), T0 - timedelta(days=1))  # the old usage is pruned
    assert [(row.images, row.jobs) for row in usage] == [(1, 1)]
