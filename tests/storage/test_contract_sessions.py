"""Contract: editing sessions: one per result and thread, a head that follows new versions, settings."""

from __future__ import annotations

import pytest

from bot.errors import NotFound
from bot.store import JobStatus, Session, SessionExists, Storage
from tests.storage_support import T0, cid, fail, finish, gid, submit, uid

THREAD = cid(900)


async def open_session(backend: Storage, root_id: int, thread_id: int = THREAD) -> Session:
    session = await backend.create_session(
        guild_id=gid(10), channel_id=cid(100), thread_id=thread_id, owner_id=uid(1), root_job_id=root_id, head_index=0
    )
    await backend.attach_job_to_session(root_id, session.id)
    return session


async def test_a_session_starts_at_its_root_and_is_found_three_ways(backend: Storage) -> None:
    root = await finish(backend, await submit(backend))
    session = await open_session(backend, root.id)
    assert (session.root_job_id, session.head_job_id, session.head_index) == (root.id, root.id, 0)
    assert (session.locked, session.owner_pays, session.closed, session.created_at) == (False, False, False, T0)
    assert await backend.get_session(session.id) == session
    assert await backend.session_by_thread(THREAD) == session
    assert await backend.session_by_root(root.id) == session
    assert await backend.session_by_root(root.id + 1) is None
    assert [j.id for j in await backend.session_jobs(session.id)] == [root.id]


async def test_one_session_per_result_and_per_thread(backend: Storage) -> None:
    root = await finish(backend, await submit(backend))
    other = await finish(backend, await submit(backend))
    await open_session(backend, root.id)
    with pytest.raises(SessionExists, match="already has an editing session") as clash:
        await open_session(backend, root.id, thread_id=cid(901))
    assert clash.value.thread_id == THREAD
    with pytest.raises(SessionExists):
        await open_session(backend, other.id, thread_id=THREAD)


async def test_completing_a_version_moves_the_head_in_the_same_transaction(backend: Storage) -> None:
    root = await finish(backend, await submit(backend))
    session = await open_session(backend, root.id)
    version = await submit(backend, images=3, session_id=session.id, parent_job_id=root.id)
    await finish(backend, version, delivered=2, withheld=1)
    moved = await backend.get_session(session.id)
    assert (moved.head_job_id, moved.head_index) == (version.id, 0)
    withheld = await submit(backend, session_id=session.id, parent_job_id=version.id)
    await finish(backend, withheld, delivered=0, withheld=1)  # nothing to show: the head stays
    assert (await backend.get_session(session.id)).head_job_id == version.id
    failed = await submit(backend, session_id=session.id)
    await fail(backend, failed, refund=True, code="api_error", message="boom")
    jobs = await backend.session_jobs(session.id)
    assert [j.id for j in jobs] == [root.id, version.id, withheld.id, failed.id]
    assert jobs[-1].status is JobStatus.FAILED


async def test_update_session_changes_only_known_fields(backend: Storage) -> None:
    root = await finish(backend, await submit(backend))
    session = await open_session(backend, root.id)
    updated = await backend.update_session(session.id, locked=True, owner_pays=True, head_index=2)
    assert (updated.locked, updated.owner_pays, updated.head_index, updated.closed) == (True, True, 2, False)
    assert (await backend.update_session(session.id, closed=True)).closed
    for bad in ({"owner_id": uid(5)}, {"locked": 1}, {"head_index": True}):
        with pytest.raises(ValueError):
            await backend.update_session(session.id, **bad)
    with pytest.raises(NotFound):
        await backend.update_session(12345, locked=True)


async def test_attach_needs_an_existing_job_and_session(backend: Storage) -> None:
    root = await finish(backend, await submit(backend))
    session = await open_session(backend, root.id)
    with pytest.raises(NotFound):
        await backend.attach_job_to_session(999, session.id)
    with pytest.raises(NotFound):
        await backend.attach_job_to_session(root.id, 999)


async def test_a_session_outlives_the_deletion_of_its_jobs(backend: Storage) -> None:
    root = await finish(backend, await submit(backend))
    session = await open_session(backend, root.id)
    assert await backend.delete_job(root.id)
    assert await backend.get_session(session.id) == session
    assert await backend.session_jobs(session.id) == []
