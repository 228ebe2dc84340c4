"""Contract: claims with a lease, for several processes sharing one queue (issue 14).

The lease is the only thing that tells a dead process's jobs from a live one's; the cap check in the
claim is what keeps the images in flight of all processes together under ``MAX_IMAGES_IN_FLIGHT``.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.store import CapacityFull, JobStatus, Lease, Storage
from tests.storage_support import Clock, MakeBackend, cancel, complete, outputs, submit, uid

A = Lease("worker-a", 30, capacity=4)
B = Lease("worker-b", 30, capacity=4)


async def test_a_leased_claim_records_its_owner_and_holds_its_images(backend: Storage, clock: Clock) -> None:
    job = await submit(backend, images=3)
    running = await backend.claim_job(job.id, A)
    assert running is not None and running.status is JobStatus.RUNNING and running.attempts == 1
    assert await backend.images_in_flight() == 3
    assert await backend.claim_job(job.id, B) is None  # already claimed
    await backend.release_images(job.id)  # the API answered
    assert await backend.images_in_flight() == 0
    assert (await backend.get_job(job.id)).status is JobStatus.RUNNING  # type: ignore[union-attr]


async def test_the_cap_counts_every_owner_and_refuses_what_does_not_fit(backend: Storage) -> None:
    first, second, third, small = [
        await submit(backend, user=uid(u), images=n) for u, n in ((1, 2), (2, 2), (3, 1), (4, 1))
    ]
    assert await backend.claim_job(first.id, A) is not None
    assert await backend.claim_job(second.id, B) is not None
    with pytest.raises(CapacityFull):
        await backend.claim_job(third.id, A)
    assert (await backend.get_job(third.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    await backend.release_images(first.id)
    assert await backend.claim_job(third.id, B) is not None
    assert await backend.claim_job(small.id, A) is not None
    assert await backend.images_in_flight() == 4


async def test_a_job_larger_than_the_cap_runs_alone(backend: Storage) -> None:
    big, other = await submit(backend, user=uid(1), images=4), await submit(backend, user=uid(2), images=1)
    small_cap = Lease("worker-a", 30, capacity=2)
    assert await backend.claim_job(big.id, small_cap) is not None  # holds min(4, cap) = 2
    assert await backend.images_in_flight() == 2
    with pytest.raises(CapacityFull):
        await backend.claim_job(other.id, small_cap)


async def test_concurrent_claims_from_two_processes_never_exceed_the_cap(make_backend: MakeBackend) -> None:
    async with make_backend() as one, make_backend() as two:
        jobs = [await submit(one, user=uid(u), images=1 + u % 2) for u in range(30)]

        async def claim(store: Storage, job_id: int, lease: Lease) -> int:
            try:
                return 0 if await store.claim_job(job_id, lease) is None else 1
            except CapacityFull:
                return 0

        claimed = await asyncio.gather(
            *(claim(one if n % 2 else two, j.id, A if n % 2 else B) for n, j in enumerate(jobs))
        )
        assert sum(claimed) >= 2
        assert await one.images_in_flight() <= 4
        running = await two.jobs_with_status(JobStatus.RUNNING)
        assert sum(j.images_requested for j in running) <= 4


async def test_heartbeat_renews_only_the_owners_running_jobs(backend: Storage, clock: Clock) -> None:
    mine, theirs = await submit(backend, user=uid(1)), await submit(backend, user=uid(2))
    await backend.claim_job(mine.id, A)
    await backend.claim_job(theirs.id, B)
    clock.advance(seconds=25)
    assert await backend.renew_leases("worker-a", [mine.id, theirs.id], 30) == {mine.id}
    clock.advance(seconds=10)  # B's lease (30 s) ran out, A's was renewed to 55 s
    assert [j.id for j in await backend.lost_jobs()] == [theirs.id]
    assert await backend.images_in_flight() == 1  # an expired lease holds no images
    await complete(backend, mine, await outputs(backend, mine, 1))
    assert await backend.renew_leases("worker-a", [mine.id], 30) == set()  # finished: nothing to hold
    assert await backend.renew_leases("worker-a", [], 30) == set()


async def test_a_lost_job_is_requeued_once_and_never_under_a_new_owner(backend: Storage, clock: Clock) -> None:
    job = await submit(backend)
    await backend.claim_job(job.id, B)
    assert await backend.lost_jobs() == []
    assert await backend.requeue_lost(job.id) is None  # B is alive
    clock.advance(seconds=31)
    (lost,) = await backend.lost_jobs()
    requeued = await backend.requeue_lost(lost.id)
    assert requeued is not None and requeued.status is JobStatus.QUEUED and requeued.attempts == 1
    again = await backend.claim_job(job.id, A)
    assert again is not None and again.attempts == 2
    assert await backend.requeue_lost(lost.id) is None  # a stale view cannot take it from A


async def test_an_owner_starting_up_takes_back_its_own_and_unleased_jobs(backend: Storage) -> None:
    own, unleased, other = [await submit(backend, user=uid(u)) for u in range(3)]
    await backend.claim_job(own.id, A)
    await backend.claim_job(unleased.id)  # claimed by a version without leases
    await backend.claim_job(other.id, B)
    assert [j.id for j in await backend.lost_jobs("worker-a")] == [own.id, unleased.id]
    assert await backend.requeue_lost(other.id, "worker-a") is None
    assert await backend.requeue_lost(own.id, "worker-a") is not None
    assert await backend.requeue_lost(unleased.id, "worker-a") is not None


async def test_a_cancelled_job_is_never_claimed_by_any_process(make_backend: MakeBackend) -> None:
    async with make_backend() as one, make_backend() as two:
        job = await submit(one)
        assert await cancel(two, job) is not None
        assert await one.claim_job(job.id, A) is None
        assert await one.claim_job(job.id) is None
        assert (await one.get_job(job.id)).status is JobStatus.CANCELLED  # type: ignore[union-attr]


async def test_requeue_clears_the_lease(backend: Storage) -> None:
    job = await submit(backend, images=2)
    await backend.claim_job(job.id, A)
    await backend.requeue_job(job.id, keep_attempt=False)
    assert await backend.images_in_flight() == 0
    assert await backend.lost_jobs("worker-a") == []


async def test_a_claim_stamps_its_round_robin_keys_for_every_process(make_backend: MakeBackend, clock: Clock) -> None:
    async with make_backend() as one, make_backend() as two:
        first, second = await submit(one, user=uid(1)), await submit(one, user=uid(2))
        assert await two.turns(["g:1", "u:1"]) == {}
        await one.claim_job(first.id, Lease("worker-a", 30, 4, ("g:1", "u:1")))
        clock.advance(seconds=2)
        await two.claim_job(second.id, Lease("worker-b", 30, 4, ("g:1", "u:2")))
        turns = await one.turns(["g:1", "u:1", "u:2", "u:3"])
        assert set(turns) == {"g:1", "u:1", "u:2"}
        assert turns["g:1"] == turns["u:2"] == turns["u:1"] + 2000  # the later claim wins
        assert await one.turns([]) == {}
