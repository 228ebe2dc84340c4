"""What only the SQLite backend has: its single writer and the aiosqlite internals it relies on."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest

from bot.store import JobStatus
from storage.sqlite import SqliteStorage
from tests.storage_support import UNLIMITED, new_job, uid


async def test_a_caller_cancelled_before_its_turn_is_not_run(storage: SqliteStorage) -> None:
    first, second = await new_job(storage, user=uid(1)), await new_job(storage, user=uid(2))
    a = asyncio.create_task(storage.submit_job(first, UNLIMITED))
    b = asyncio.create_task(storage.submit_job(second, UNLIMITED))
    await asyncio.sleep(0)  # both are queued for the writer, which has not run yet
    b.cancel()
    assert (await a).requester.user_id == uid(1)
    with pytest.raises(asyncio.CancelledError):
        await b
    assert [j.requester.user_id for j in await storage.jobs_with_status(JobStatus.QUEUED)] == [uid(1)]


def test_the_aiosqlite_internals_we_rely_on_exist() -> None:
    """``SqliteStorage._on_thread`` runs whole transactions on aiosqlite's thread through these."""
    assert callable(aiosqlite.Connection._execute)
    assert isinstance(aiosqlite.Connection._conn, property)
