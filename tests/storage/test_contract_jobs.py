"""Contract: the job queue: submission, status transitions, settling the reservation, posting, concurrency.

Runs on every backend (``backend`` / ``make_backend`` in ``conftest.py``), through ``Storage`` only.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import replace
from datetime import datetime

import pytest

from bot.errors import NotFound, QuotaExceeded
from bot.store import EffectiveLimits, ImageKind, JobAction, JobStatus, Requester, Settlement, Storage
from tests.storage_support import (
    LIMITS,
    T0,
    UNLIMITED,
    Clock,
    MakeBackend,
    cancel,
    cid,
    complete,
    fail,
    finish,
    gid,
    new_job,
    outputs,
    submit,
    uid,
)


async def used(backend: Storage, user: int = uid(1), guild: int | None = gid(10)) -> tuple[int, int]:
    """(window, daily) images counted for a user right now."""
    status = await backend.quota_status(Requester(user, guild), UNLIMITED, T0)
    return status.window_used, status.daily_used


# --- submission -----------------------------------------------------------------------------------


async def test_submit_stores_every_field_and_reads_back_identically(backend: Storage) -> None:
    parent = await submit(backend)
    job = await backend.submit_job(
        await new_job(
            backend,
            user=uid(7),
            guild=gid(20),
            images=3,
            prompt="Add a hat",
            action=JobAction.REROLL,
            seed=1234,
            parent_job_id=parent.id,
            session_id=55,  # a session id is ours (not Discord's)
            private=True,
            reply_token="tok",
        ),
        UNLIMITED,
        T0,
    )
    assert job.status is JobStatus.QUEUED and job.attempts == 0
    assert job.payer_user_id == uid(7)  # the requester pays by default
    assert job.created_at == T0
    assert (job.seed, job.parent_job_id, job.session_id) == (1234, parent.id, 55)
    assert (job.private, job.reply_token) == (True, "tok")
    assert job.options == {"num_images": 3, "style_type": "AUTO"}
    assert await backend.get_job(job.id) == job
    images = await backend.job_images(job.id)
    assert [(i.kind, i.index, i.sha) for i in images] == [
        (ImageKind.INPUT, 0, job.input_sha),
        (ImageKind.MASK, 0, job.mask_sha),
    ]


async def test_submit_refuses_inputs_that_were_not_stored(backend: Storage) -> None:
    job = await new_job(backend)
    backend.files.remove(job.input_sha)
    with pytest.raises(NotFound):
        await backend.submit_job(job, UNLIMITED)
    assert await backend.jobs_with_status(*JobStatus) == []
    assert await used(backend) == (0, 0)


async def test_submit_needs_at_least_one_image(backend: Storage) -> None:
    job = replace(await new_job(backend), images_requested=0)
    with pytest.raises(ValueError, match="at least 1"):
        await backend.submit_job(job, UNLIMITED)


async def test_naive_datetimes_are_refused(backend: Storage) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await backend.submit_job(await new_job(backend), UNLIMITED, datetime(2030, 1, 1))


async def test_get_job_of_an_unknown_id_is_none(backend: Storage) -> None:
    assert await backend.get_job(999) is None


# --- transitions --------------------------------------------------------------------------------


async def test_claim_requeue_complete_follow_the_state_machine(backend: Storage, clock: Clock) -> None:
    job = await submit(backend, images=2)
    clock.advance(seconds=5)
    running = await backend.claim_job(job.id)
    assert running is not None and running.status is JobStatus.RUNNING
    assert running.attempts == 1 and running.started_at == clock.now
    assert await backend.claim_job(job.id) is None  # already running
    assert await cancel(backend, job) is None  # only queued jobs can be cancelled
    requeued = await backend.requeue_job(job.id)
    assert requeued is not None and requeued.status is JobStatus.QUEUED and requeued.started_at is None
    assert await backend.requeue_job(job.id) is None  # not running
    again = await backend.claim_job(job.id)
    assert again is not None and again.attempts == 2
    clock.advance(seconds=20)
    done = await complete(backend, job, await outputs(backend, job, 2))
    assert done.status is JobStatus.SUCCEEDED and done.finished_at == clock.now
    with pytest.raises(NotFound):
        await complete(backend, job, [])
    assert await fail(backend, job, refund=True, code="api_error", message="late") is None
    assert await backend.claim_job(job.id) is None


async def test_complete_needs_a_running_job(backend: Storage) -> None:
    job = await submit(backend)
    with pytest.raises(NotFound):
        await complete(backend, job, [])  # still queued
    with pytest.raises(NotFound):
        await backend.complete_job(12345, [], Settlement(charged=0))


async def test_fail_applies_to_queued_and_running_jobs(backend: Storage) -> None:
    queued = await submit(backend)
    failed = await fail(backend, queued, refund=True, code="bad_input", message="x" * 5000)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error_code == "bad_input" and len(failed.error_message or "") == 2000
    running = await submit(backend)
    await backend.claim_job(running.id)
    assert (await fail(backend, running, refund=True, code="api_timeout", message="slow")).status is JobStatus.FAILED
    assert await backend.fail_job(404, "x", "y", Settlement(charged=0)) is None


async def test_cancel_only_while_queued(backend: Storage) -> None:
    job = await submit(backend)
    cancelled = await cancel(backend, job)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED and cancelled.finished_at is not None
    assert await cancel(backend, job) is None
    assert await backend.claim_job(job.id) is None


async def test_outputs_are_recorded_with_withheld_images(backend: Storage) -> None:
    job = await submit(backend, images=3)
    done = await finish(backend, job, delivered=2, withheld=1)
    assert (done.images_delivered, done.images_withheld) == (2, 1)
    out = [i for i in await backend.job_images(job.id) if i.kind is ImageKind.OUTPUT]
    assert [i.index for i in out] == [0, 1, 2]
    assert out[2].sha is None and not out[2].is_safe
    assert out[0].sha and backend.files.exists(out[0].sha)
    assert (out[0].seed, out[0].resolution, out[0].width, out[0].mime) == (1000, "1024x1024", 1024, "image/png")
    assert out[0].prompt_used == "a red bicycle, detailed"


async def test_complete_refuses_outputs_that_were_not_stored(backend: Storage) -> None:
    job = await submit(backend)
    await backend.claim_job(job.id)
    produced = await outputs(backend, job, 1)
    backend.files.remove(produced[0].sha or "")
    with pytest.raises(ValueError, match="not in the file store"):
        await complete(backend, job, produced)
    assert (await backend.get_job(job.id)).status is JobStatus.RUNNING  # nothing half-done


# --- reserve, then settle --------------------------------------------------------------------------


async def test_queued_and_running_jobs_hold_their_reservation(backend: Storage) -> None:
    job = await submit(backend, images=4)
    assert await used(backend) == (4, 4)
    await backend.claim_job(job.id)
    assert await used(backend) == (4, 4)
    await backend.requeue_job(job.id)
    assert await used(backend) == (4, 4)


@pytest.mark.parametrize(
    ("settle", "charged"),
    [
        ("complete 4", 4),
        ("complete 3 + 1 withheld", 4),  # Ideogram bills withheld images too
        ("complete 2", 2),  # fewer than asked: the rest is released
        ("complete 5", 5),  # whatever the API produced is what it billed
        ("fail with refund", 0),
        ("fail without refund", 4),
        ("cancel", 0),
    ],
)
async def test_settling_charges_what_was_produced_and_releases_the_rest(
    backend: Storage, settle: str, charged: int
) -> None:
    job = await submit(backend, images=4)
    if settle.startswith("complete"):
        await backend.claim_job(job.id)
        delivered = int(settle.split()[1])
        withheld = 1 if "withheld" in settle else 0
        await complete(backend, job, await outputs(backend, job, delivered, withheld))
    elif settle.startswith("fail"):
        await fail(backend, job, refund="without" not in settle)
    else:
        await cancel(backend, job)
    assert await used(backend) == (charged, charged)
    report = await backend.usage_report(gid(10), T0)
    assert [(r.user_id, r.images, r.jobs) for r in report] == ([(uid(1), charged, 1)] if charged else [])


async def test_the_payer_is_charged_and_the_requester_holds_the_active_job(backend: Storage) -> None:
    job = await submit(backend, user=uid(2), payer_user_id=uid(9), images=2)
    assert job.payer_user_id == uid(9)
    assert await used(backend, user=uid(9)) == (2, 2)
    assert await used(backend, user=uid(2)) == (0, 0)
    status = await backend.quota_status(Requester(uid(2), gid(10)), UNLIMITED, T0)
    assert status.active_jobs == 1
    await finish(backend, job)
    assert [(r.user_id, r.images) for r in await backend.usage_report(gid(10), T0)] == [(uid(9), 2)]


# --- posting ---------------------------------------------------------------------------------------------


async def test_mark_posted_is_idempotent(backend: Storage) -> None:
    job = await finish(backend, await submit(backend))
    channel, message = cid(100), cid(5000)
    assert await backend.mark_posted(job.id, channel, message) is True
    assert await backend.mark_posted(job.id, channel, cid(6000)) is False  # a restart re-delivering
    posted = await backend.get_job(job.id)
    assert posted is not None and posted.posted
    assert (posted.result_channel_id, posted.result_message_id) == (channel, message)
    assert await backend.mark_posted(777, cid(1), cid(2)) is False
    assert await backend.job_by_message(channel, message) == posted
    assert await backend.job_by_message(cid(101), message) is None


async def test_undelivered_jobs_are_finished_but_never_posted(backend: Storage, clock: Clock) -> None:
    old = await finish(backend, await submit(backend))
    clock.advance(hours=30)
    posted = await finish(backend, await submit(backend))
    await backend.mark_posted(posted.id, cid(1), cid(2))
    unposted = await finish(backend, await submit(backend))
    failed = await submit(backend)
    await fail(backend, failed, refund=True, code="api_error", message="boom")
    await submit(backend)  # still queued
    cancelled = await submit(backend)
    await cancel(backend, cancelled)  # nothing to deliver
    since = clock.now - (clock.now - old.finished_at) / 2
    assert [j.id for j in await backend.undelivered_jobs(since)] == [unposted.id, failed.id]


async def test_progress_message_can_be_replaced(backend: Storage) -> None:
    job = await submit(backend)
    await backend.set_progress_message(job.id, cid(1), cid(2))
    await backend.set_progress_message(job.id, cid(1), cid(3))
    stored = await backend.get_job(job.id)
    assert (stored.progress_channel_id, stored.progress_message_id) == (cid(1), cid(3))


async def test_jobs_with_status_in_queue_order(backend: Storage) -> None:
    a = await submit(backend, guild=gid(1))
    b = await submit(backend, guild=gid(2))
    c = await submit(backend, guild=gid(1))
    await backend.claim_job(b.id)
    assert [j.id for j in await backend.jobs_with_status(JobStatus.QUEUED)] == [a.id, c.id]
    assert [j.id for j in await backend.jobs_with_status(JobStatus.QUEUED, JobStatus.RUNNING)] == [a.id, b.id, c.id]
    assert [j.id for j in await backend.jobs_with_status(JobStatus.QUEUED, guild_id=gid(1))] == [a.id, c.id]
    assert await backend.jobs_with_status(JobStatus.SUCCEEDED) == []
    with pytest.raises(ValueError):
        await backend.jobs_with_status()


async def test_jobs_with_status_newer_than_or_among(backend: Storage) -> None:
    """What the scheduler reads instead of the whole queue: jobs submitted after the newest it has seen
    (``after_id``), and whether the few at the head are still queued (``job_ids``)."""
    a = await submit(backend, guild=gid(1))
    b = await submit(backend, guild=gid(2))
    c = await submit(backend, guild=gid(1))
    await backend.claim_job(b.id)
    assert [j.id for j in await backend.jobs_with_status(JobStatus.QUEUED, after_id=a.id)] == [c.id]
    assert [j.id for j in await backend.jobs_with_status(JobStatus.QUEUED, JobStatus.RUNNING, after_id=a.id)] == [
        b.id,
        c.id,
    ]
    assert await backend.jobs_with_status(JobStatus.QUEUED, after_id=c.id) == []
    assert [j.id for j in await backend.jobs_with_status(JobStatus.QUEUED, job_ids=[c.id, b.id, a.id])] == [a.id, c.id]
    assert [j.id for j in await backend.jobs_with_status(JobStatus.RUNNING, job_ids=[b.id])] == [b.id]
    assert await backend.jobs_with_status(JobStatus.QUEUED, job_ids=[]) == []
    among = await backend.jobs_with_status(JobStatus.QUEUED, guild_id=gid(1), after_id=a.id, job_ids=[a.id, c.id])
    assert [j.id for j in among] == [c.id] and among[0].input_sha == c.input_sha  # whole records


# --- concurrency ---------------------------------------------------------------------------------------


async def test_100_concurrent_submissions_never_overshoot_the_window(backend: Storage) -> None:
    limits = EffectiveLimits(
        window_images=7, window_seconds=600, daily_images=25, max_active_jobs=1000, guild_daily_images=200
    )
    jobs = [await new_job(backend, data=f"image {n}".encode()) for n in range(100)]
    results = await asyncio.gather(*(backend.submit_job(j, limits, T0) for j in jobs), return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert sum(j.images_requested for j in accepted) == 7
    assert len(refused) == 93 and all(isinstance(r, QuotaExceeded) and r.limit == "window" for r in refused)
    assert await used(backend) == (7, 7)


async def test_concurrent_submissions_from_many_users_never_overshoot_the_guild_cap(backend: Storage) -> None:
    limits = EffectiveLimits(
        window_images=5, window_seconds=600, daily_images=25, max_active_jobs=3, guild_daily_images=10
    )
    jobs = [await new_job(backend, user=uid(u), images=2) for u in range(100)]
    results = await asyncio.gather(*(backend.submit_job(j, limits, T0) for j in jobs), return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, BaseException)]
    assert sum(j.images_requested for j in accepted) == 10
    assert {r.limit for r in results if isinstance(r, QuotaExceeded)} == {"guild_daily"}


async def test_two_backends_on_one_database_share_the_work(make_backend: MakeBackend) -> None:
    """Two storages (two connections or pools, as two processes would have) on one database, many
    writers each: nothing fails (no "database is locked"), nothing is lost."""
    async with make_backend() as one, make_backend() as two:
        seeded = [await submit(one, user=uid(u)) for u in range(40)]

        async def lifecycle(store: Storage, n: int) -> None:
            job = await submit(store, user=uid(n), images=2)
            await store.claim_job(job.id)
            if n % 3:
                await complete(store, job, await outputs(store, job, 2))
                await store.mark_posted(job.id, cid(1), cid(job.id))
            else:
                await fail(store, job, refund=True)

        async def admin(store: Storage, n: int) -> None:
            await store.update_guild_config(gid(10), uid(1), daily_images=n)

        await asyncio.gather(
            *(lifecycle(one if n % 2 else two, 100 + n) for n in range(120)),
            *(admin(two, n) for n in range(20)),
            *(cancel(one, j) for j in seeded),
            *(two.history(uid(100 + n)) for n in range(20)),
        )
        assert len(await one.jobs_with_status(JobStatus.SUCCEEDED)) == 80
        assert len(await two.jobs_with_status(JobStatus.FAILED)) == 40
        assert len(await two.jobs_with_status(JobStatus.CANCELLED)) == 40
        assert (await one.guild_config(gid(10))).daily_images is not None


async def test_a_refusal_in_a_batch_does_not_undo_the_others(backend: Storage) -> None:
    good = [await new_job(backend, user=uid(u)) for u in range(5)]
    too_big = await new_job(backend, user=uid(99), images=6)
    results = await asyncio.gather(
        *(backend.submit_job(j, LIMITS, T0) for j in [*good[:2], too_big, *good[2:]]), return_exceptions=True
    )
    assert isinstance(results[2], QuotaExceeded) and results[2].limit == "too_many_images"
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 5
    assert len(await backend.jobs_with_status(JobStatus.QUEUED)) == 5


async def test_closed_storage_refuses_work(make_backend: MakeBackend) -> None:
    backend = make_backend()
    with pytest.raises(RuntimeError, match="not open"):
        await backend.get_job(1)
    await backend.open()
    await backend.close()
    await backend.close()  # idempotent
    with pytest.raises(RuntimeError, match="not open"):
        await backend.submit_job(await new_job(backend), UNLIMITED)


async def test_close_lets_queued_writes_commit_first(make_backend: MakeBackend) -> None:
    backend = make_backend()
    await backend.open()
    jobs = [await new_job(backend, user=uid(u)) for u in range(20)]
    pending = [asyncio.create_task(backend.submit_job(j, UNLIMITED)) for j in jobs]
    await asyncio.sleep(0)  # queued, not yet committed
    await backend.close()
    assert len({(await task).id for task in pending}) == 20
    async with make_backend() as reopened:
        assert len(await reopened.jobs_with_status(JobStatus.QUEUED)) == 20


def test_the_backend_implements_the_whole_storage_protocol(make_backend: MakeBackend) -> None:
    backend_class = type(make_backend())
    for name, method in vars(Storage).items():
        if name.startswith("_") or not inspect.iscoroutinefunction(method):
            continue
        ours = getattr(backend_class, name, None)
        assert ours is not None, f"{backend_class.__name__} lacks {name}"
        theirs = inspect.signature(method).parameters
        assert [(p.name, p.kind) for p in inspect.signature(ours).parameters.values()] == [
            (p.name, p.kind) for p in theirs.values()
        ], name


async def test_requeue_after_a_clean_shutdown_gives_the_attempt_back(backend: Storage) -> None:
    job = await submit(backend)
    assert (await backend.claim_job(job.id)).attempts == 1
    requeued = await backend.requeue_job(job.id, keep_attempt=False)
    assert requeued is not None and requeued.attempts == 0
    assert (await backend.claim_job(job.id)).attempts == 1
    assert (await backend.requeue_job(job.id)).attempts == 1  # a crash recovery keeps it
