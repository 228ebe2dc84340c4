"""Contract: what health checks and ``/metrics`` read (``ping``, ``ops_counts``), on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store import JobStatus, Storage
from tests.storage_support import T0, cancel, fail, finish, submit, uid


async def test_ping_answers_while_open_and_raises_once_closed(backend: Storage) -> None:
    assert await backend.ping() is None
    await backend.close()
    with pytest.raises(RuntimeError):
        await backend.ping()


async def test_ops_counts_every_status_and_the_images_used_since(backend: Storage) -> None:
    empty = await backend.ops_counts(T0 - timedelta(days=1))
    assert empty.jobs_by_status == dict.fromkeys(JobStatus, 0) and empty.images_used == 0

    yesterday = await submit(backend, now=T0 - timedelta(days=1), images=4)
    await finish(backend, yesterday)  # 4 charged, but before ``since``
    done = await submit(backend, now=T0, images=2)
    await finish(backend, done)  # 2 charged
    running = await submit(backend, now=T0, images=3, user=uid(2))
    assert await backend.claim_job(running.id) is not None  # 3 reserved
    await submit(backend, now=T0, images=1, user=uid(3))  # queued: 1 reserved
    await cancel(backend, await submit(backend, now=T0, images=5, user=uid(4)))  # refunded: 0
    await fail(backend, await submit(backend, now=T0, images=2, user=uid(5)), refund=True)  # refunded: 0
    await fail(backend, await submit(backend, now=T0, images=1, user=uid(6)), refund=False)  # charged: 1

    counts = await backend.ops_counts(T0 - timedelta(hours=1))
    assert counts.jobs_by_status == {
        JobStatus.QUEUED: 1,
        JobStatus.RUNNING: 1,
        JobStatus.SUCCEEDED: 2,
        JobStatus.FAILED: 2,
        JobStatus.CANCELLED: 1,
    }
    assert counts.images_used == 2 + 3 + 1 + 1
    assert (await backend.ops_counts(T0 - timedelta(days=2))).images_used == 4 + 7
