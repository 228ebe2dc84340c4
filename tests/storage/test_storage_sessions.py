"""Editing sessions: one per result and thread, a head that follows new versions, settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import InputError, NotFound
from bot.store import JobStatus
from storage.sqlite import SqliteStorage
from tests.storage_support import T0, Clock, finish, make_storage, submit


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with make_storage(tmp_path, Clock()) as opened:
        yield opened


async def open_session(storage: SqliteStorage, root_id: int, thread_id: int = 900):
    session = await storage.create_session(
        guild_id=10, channel_id=100, thread_id=thread_id, owner_id=1, root_job_id=root_id, head_index=0
    )
    await storage.attach_job_to_session(root_id, session.id)
    return session


async def test_a_session_starts_at_its_root_and_is_found_three_ways(storage: SqliteStorage) -> None:
    root = await finish(storage, await submit(storage))
    session = await open_session(storage, root.id)
    assert (session.root_job_id, session.head_job_id, session.head_index) == (root.id, root.id, 0)
    assert (session.locked, session.owner_pays, session.closed, session.created_at) == (False, False, False, T0)
    assert await storage.get_session(session.id) == session
    assert await storage.session_by_thread(900) == session
    assert await storage.session_by_root(root.id) == session
    assert await storage.session_by_root(root.id + 1) is None
    assert [j.id for j in await storage.session_jobs(session.id)] == [root.id]


async def test_one_session_per_result_and_per_thread(storage: SqliteStorage) -> None:
    root = await finish(storage, await submit(storage))
    other = await finish(storage, await submit(storage))
    await open_session(storage, root.id)
    with pytest.raises(InputError, match="already has an editing session"):
        await open_session(storage, root.id, thread_id=901)
    with pytest.raises(InputError):
        await open_session(storage, other.id, thread_id=900)


async def test_completing_a_version_moves_the_head_in_the_same_transaction(storage: SqliteStorage) -> None:
    root = await finish(storage, await submit(storage))
    session = await open_session(storage, root.id)
    version = await submit(storage, images=3, session_id=session.id, parent_job_id=root.id)
    await finish(storage, version, delivered=2, withheld=1)
    moved = await storage.get_session(session.id)
    assert (moved.head_job_id, moved.head_index) == (version.id, 0)
    withheld = await submit(storage, session_id=session.id, parent_job_id=version.id)
    await finish(storage, withheld, delivered=0, withheld=1)  # nothing to show: the head stays
    assert (await storage.get_session(session.id)).head_job_id == version.id
    failed = await submit(storage, session_id=session.id)
    await storage.fail_job(failed.id, "api_error", "boom", refund=True)
    jobs = await storage.session_jobs(session.id)
    assert [j.id for j in jobs] == [root.id, version.id, withheld.id, failed.id]
    assert jobs[-1].status is JobStatus.FAILED


async def test_update_session_changes_only_known_fields(storage: SqliteStorage) -> None:
    root = await finish(storage, await submit(storage))
    session = await open_session(storage, root.id)
    updated = await storage.update_session(session.id, locked=True, owner_pays=True, head_index=2)
    assert (updated.locked, updated.owner_pays, updated.head_index, updated.closed) == (True, True, 2, False)
    assert (await storage.update_session(session.id, closed=True)).closed
    for bad in ({"owner_id": 5}, {"locked": 1}, {"head_index": True}):
        with pytest.raises(ValueError):
            await storage.update_session(session.id, **bad)
    with pytest.raises(NotFound):
        await storage.update_session(12345, locked=True)


async def test_attach_needs_an_existing_job_and_session(storage: SqliteStorage) -> None:
    root = await finish(storage, await submit(storage))
    session = await open_session(storage, root.id)
    with pytest.raises(NotFound):
        await storage.attach_job_to_session(999, session.id)
    with pytest.raises(NotFound):
        await storage.attach_job_to_session(root.id, 999)


async def test_a_session_outlives_the_deletion_of_its_jobs(storage: SqliteStorage) -> None:
    root = await finish(storage, await submit(storage))
    session = await open_session(storage, root.id)
    assert await storage.delete_job(root.id)
    assert await storage.get_session(session.id) == session
    assert await storage.session_jobs(session.id) == []
