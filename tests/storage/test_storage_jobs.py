"""The job queue: submission, status transitions, settling the reservation, posting, concurrency."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import aiosqlite
import pytest

from bot.errors import NotFound, QuotaExceeded
from bot.store import EffectiveLimits, ImageKind, JobAction, JobStatus, Requester, Storage
from storage.sqlite import SqliteStorage
from tests.storage_support import LIMITS, T0, UNLIMITED, Clock, finish, make_storage, new_job, outputs, submit


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStorage]:
    async with make_storage(tmp_path, clock) as opened:
        yield opened


async def used(storage: SqliteStorage, user: int = 1, guild: int | None = 10) -> tuple[int, int]:
    """(window, daily) images counted for a user right now."""
    status = await storage.quota_status(Requester(user, guild), UNLIMITED, T0)
    return status.window_used, status.daily_used


# --- submission -----------------------------------------------------------------------------------


async def test_submit_stores_every_field_and_reads_back_identically(storage: SqliteStorage) -> None:
    parent = await submit(storage)
    job = await storage.submit_job(
        await new_job(
            storage,
            user=7,
            guild=20,
            images=3,
            prompt="Add a hat",
            action=JobAction.REROLL,
            seed=1234,
            parent_job_id=parent.id,
            session_id=55,
            private=True,
            reply_token="tok",
        ),
        UNLIMITED,
        T0,
    )
    assert job.status is JobStatus.QUEUED and job.attempts == 0
    assert job.payer_user_id == 7  # the requester pays by default
    assert job.created_at == T0
    assert (job.seed, job.parent_job_id, job.session_id) == (1234, parent.id, 55)
    assert (job.private, job.reply_token) == (True, "tok")
    assert job.options == {"num_images": 3, "style_type": "AUTO"}
    assert await storage.get_job(job.id) == job
    images = await storage.job_images(job.id)
    assert [(i.kind, i.index, i.sha) for i in images] == [
        (ImageKind.INPUT, 0, job.input_sha),
        (ImageKind.MASK, 0, job.mask_sha),
    ]


async def test_submit_refuses_inputs_that_were_not_stored(storage: SqliteStorage) -> None:
    job = await new_job(storage)
    storage.files.remove(job.input_sha)
    with pytest.raises(NotFound):
        await storage.submit_job(job, UNLIMITED)
    assert await storage.jobs_with_status(*JobStatus) == []
    assert await used(storage) == (0, 0)


async def test_submit_needs_at_least_one_image(storage: SqliteStorage) -> None:
    job = replace(await new_job(storage), images_requested=0)
    with pytest.raises(ValueError, match="at least 1"):
        await storage.submit_job(job, UNLIMITED)


async def test_naive_datetimes_are_refused(storage: SqliteStorage) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await storage.submit_job(await new_job(storage), UNLIMITED, datetime(2030, 1, 1))


async def test_get_job_of_an_unknown_id_is_none(storage: SqliteStorage) -> None:
    assert await storage.get_job(999) is None


# --- transitions --------------------------------------------------------------------------------


async def test_claim_requeue_complete_follow_the_state_machine(storage: SqliteStorage, clock: Clock) -> None:
    job = await submit(storage, images=2)
    clock.advance(seconds=5)
    running = await storage.claim_job(job.id)
    assert running is not None and running.status is JobStatus.RUNNING
    assert running.attempts == 1 and running.started_at == clock.now
    assert await storage.claim_job(job.id) is None  # already running
    assert await storage.cancel_job(job.id) is None  # only queued jobs can be cancelled
    requeued = await storage.requeue_job(job.id)
    assert requeued is not None and requeued.status is JobStatus.QUEUED and requeued.started_at is None
    assert await storage.requeue_job(job.id) is None  # not running
    again = await storage.claim_job(job.id)
    assert again is not None and again.attempts == 2
    clock.advance(seconds=20)
    done = await storage.complete_job(job.id, await outputs(storage, job, 2))
    assert done.status is JobStatus.SUCCEEDED and done.finished_at == clock.now
    with pytest.raises(NotFound):
        await storage.complete_job(job.id, [])
    assert await storage.fail_job(job.id, "api_error", "late", refund=True) is None
    assert await storage.claim_job(job.id) is None


async def test_complete_needs_a_running_job(storage: SqliteStorage) -> None:
    job = await submit(storage)
    with pytest.raises(NotFound):
        await storage.complete_job(job.id, [])  # still queued
    with pytest.raises(NotFound):
        await storage.complete_job(12345, [])


async def test_fail_applies_to_queued_and_running_jobs(storage: SqliteStorage) -> None:
    queued = await submit(storage)
    failed = await storage.fail_job(queued.id, "bad_input", "x" * 5000, refund=True)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error_code == "bad_input" and len(failed.error_message or "") == 2000
    running = await submit(storage)
    await storage.claim_job(running.id)
    assert (await storage.fail_job(running.id, "api_timeout", "slow", refund=True)).status is JobStatus.FAILED
    assert await storage.fail_job(404, "x", "y", refund=True) is None


async def test_cancel_only_while_queued(storage: SqliteStorage) -> None:
    job = await submit(storage)
    cancelled = await storage.cancel_job(job.id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED and cancelled.finished_at is not None
    assert await storage.cancel_job(job.id) is None
    assert await storage.claim_job(job.id) is None


async def test_outputs_are_recorded_with_withheld_images(storage: SqliteStorage) -> None:
    job = await submit(storage, images=3)
    done = await finish(storage, job, delivered=2, withheld=1)
    assert (done.images_delivered, done.images_withheld) == (2, 1)
    out = [i for i in await storage.job_images(job.id) if i.kind is ImageKind.OUTPUT]
    assert [i.index for i in out] == [0, 1, 2]
    assert out[2].sha is None and not out[2].is_safe
    assert out[0].sha and storage.files.exists(out[0].sha)
    assert (out[0].seed, out[0].resolution, out[0].width, out[0].mime) == (1000, "1024x1024", 1024, "image/png")
    assert out[0].prompt_used == "a red bicycle, detailed"


async def test_complete_refuses_outputs_that_were_not_stored(storage: SqliteStorage) -> None:
    job = await submit(storage)
    await storage.claim_job(job.id)
    produced = await outputs(storage, job, 1)
    storage.files.remove(produced[0].sha or "")
    with pytest.raises(ValueError, match="not in the file store"):
        await storage.complete_job(job.id, produced)
    assert (await storage.get_job(job.id)).status is JobStatus.RUNNING  # nothing half-done


# --- reserve, then settle --------------------------------------------------------------------------


async def test_queued_and_running_jobs_hold_their_reservation(storage: SqliteStorage) -> None:
    job = await submit(storage, images=4)
    assert await used(storage) == (4, 4)
    await storage.claim_job(job.id)
    assert await used(storage) == (4, 4)
    await storage.requeue_job(job.id)
    assert await used(storage) == (4, 4)


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
    storage: SqliteStorage, settle: str, charged: int
) -> None:
    job = await submit(storage, images=4)
    if settle.startswith("complete"):
        await storage.claim_job(job.id)
        delivered = int(settle.split()[1])
        withheld = 1 if "withheld" in settle else 0
        await storage.complete_job(job.id, await outputs(storage, job, delivered, withheld))
    elif settle.startswith("fail"):
        await storage.fail_job(job.id, "api_error", "boom", refund="without" not in settle)
    else:
        await storage.cancel_job(job.id)
    assert await used(storage) == (charged, charged)
    report = await storage.usage_report(10, T0)
    assert [(r.user_id, r.images, r.jobs) for r in report] == ([(1, charged, 1)] if charged else [])


async def test_the_payer_is_charged_and_the_requester_holds_the_active_job(storage: SqliteStorage) -> None:
    job = await submit(storage, user=2, payer_user_id=9, images=2)
    assert job.payer_user_id == 9
    assert await used(storage, user=9) == (2, 2)
    assert await used(storage, user=2) == (0, 0)
    status = await storage.quota_status(Requester(2, 10), UNLIMITED, T0)
    assert status.active_jobs == 1
    await finish(storage, job)
    assert [(r.user_id, r.images) for r in await storage.usage_report(10, T0)] == [(9, 2)]


# --- posting ---------------------------------------------------------------------------------------------


async def test_mark_posted_is_idempotent(storage: SqliteStorage) -> None:
    job = await finish(storage, await submit(storage))
    assert await storage.mark_posted(job.id, 100, 5000) is True
    assert await storage.mark_posted(job.id, 100, 6000) is False  # a restart re-delivering
    posted = await storage.get_job(job.id)
    assert posted is not None and posted.posted
    assert (posted.result_channel_id, posted.result_message_id) == (100, 5000)
    assert await storage.mark_posted(777, 1, 2) is False
    assert await storage.job_by_message(100, 5000) == posted
    assert await storage.job_by_message(101, 5000) is None


async def test_undelivered_jobs_are_finished_but_never_posted(storage: SqliteStorage, clock: Clock) -> None:
    old = await finish(storage, await submit(storage))
    clock.advance(hours=30)
    posted = await finish(storage, await submit(storage))
    await storage.mark_posted(posted.id, 1, 2)
    unposted = await finish(storage, await submit(storage))
    failed = await submit(storage)
    await storage.fail_job(failed.id, "api_error", "boom", refund=True)
    await submit(storage)  # still queued
    cancelled = await submit(storage)
    await storage.cancel_job(cancelled.id)  # nothing to deliver
    since = clock.now - (clock.now - old.finished_at) / 2
    assert [j.id for j in await storage.undelivered_jobs(since)] == [unposted.id, failed.id]


async def test_progress_message_can_be_replaced(storage: SqliteStorage) -> None:
    job = await submit(storage)
    await storage.set_progress_message(job.id, 1, 2)
    await storage.set_progress_message(job.id, 1, 3)
    stored = await storage.get_job(job.id)
    assert (stored.progress_channel_id, stored.progress_message_id) == (1, 3)


async def test_jobs_with_status_in_queue_order(storage: SqliteStorage) -> None:
    a = await submit(storage, guild=1)
    b = await submit(storage, guild=2)
    c = await submit(storage, guild=1)
    await storage.claim_job(b.id)
    assert [j.id for j in await storage.jobs_with_status(JobStatus.QUEUED)] == [a.id, c.id]
    assert [j.id for j in await storage.jobs_with_status(JobStatus.QUEUED, JobStatus.RUNNING)] == [a.id, b.id, c.id]
    assert [j.id for j in await storage.jobs_with_status(JobStatus.QUEUED, guild_id=1)] == [a.id, c.id]
    assert await storage.jobs_with_status(JobStatus.SUCCEEDED) == []
    with pytest.raises(ValueError):
        await storage.jobs_with_status()


# --- concurrency ---------------------------------------------------------------------------------------


async def test_100_concurrent_submissions_never_overshoot_the_window(storage: SqliteStorage) -> None:
    limits = EffectiveLimits(
        window_images=7, window_seconds=600, daily_images=25, max_active_jobs=1000, guild_daily_images=200
    )
    jobs = [await new_job(storage, data=f"image {n}".encode()) for n in range(100)]
    results = await asyncio.gather(*(storage.submit_job(j, limits, T0) for j in jobs), return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert sum(j.images_requested for j in accepted) == 7
    assert len(refused) == 93 and all(isinstance(r, QuotaExceeded) and r.limit == "window" for r in refused)
    assert await used(storage) == (7, 7)


async def test_concurrent_submissions_from_many_users_never_overshoot_the_guild_cap(storage: SqliteStorage) -> None:
    limits = EffectiveLimits(
        window_images=5, window_seconds=600, daily_images=25, max_active_jobs=3, guild_daily_images=10
    )
    jobs = [await new_job(storage, user=u, images=2) for u in range(100)]
    results = await asyncio.gather(*(storage.submit_job(j, limits, T0) for j in jobs), return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, BaseException)]
    assert sum(j.images_requested for j in accepted) == 10
    assert {r.limit for r in results if isinstance(r, QuotaExceeded)} == {"guild_daily"}


async def test_concurrent_mixed_writers_never_see_database_is_locked(tmp_path: Path) -> None:
    """Two storages (two connections, as two processes would have) on one file, many writers each."""
    async with make_storage(tmp_path) as one, make_storage(tmp_path) as two:
        seeded = [await submit(one, user=u) for u in range(40)]

        async def lifecycle(store: SqliteStorage, user: int) -> None:
            job = await submit(store, user=user, images=2)
            await store.claim_job(job.id)
            if user % 3:
                await store.complete_job(job.id, await outputs(store, job, 2))
                await store.mark_posted(job.id, 1, job.id)
            else:
                await store.fail_job(job.id, "api_error", "boom", refund=True)

        async def admin(store: SqliteStorage, n: int) -> None:
            await store.update_guild_config(10, 1, daily_images=n)

        await asyncio.gather(
            *(lifecycle(one if u % 2 else two, 100 + u) for u in range(120)),
            *(admin(two, n) for n in range(20)),
            *(one.cancel_job(j.id) for j in seeded),
            *(two.history(100 + u) for u in range(20)),
        )
        assert len(await one.jobs_with_status(JobStatus.SUCCEEDED)) == 80
        assert len(await two.jobs_with_status(JobStatus.FAILED)) == 40
        assert len(await two.jobs_with_status(JobStatus.CANCELLED)) == 40


async def test_a_refusal_in_a_batch_does_not_undo_the_others(storage: SqliteStorage) -> None:
    good = [await new_job(storage, user=u) for u in range(5)]
    too_big = await new_job(storage, user=99, images=6)
    results = await asyncio.gather(
        *(storage.submit_job(j, LIMITS, T0) for j in [*good[:2], too_big, *good[2:]]), return_exceptions=True
    )
    assert isinstance(results[2], QuotaExceeded) and results[2].limit == "too_many_images"
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 5
    assert len(await storage.jobs_with_status(JobStatus.QUEUED)) == 5


async def test_a_caller_cancelled_before_its_turn_is_not_run(storage: SqliteStorage) -> None:
    first, second = await new_job(storage, user=1), await new_job(storage, user=2)
    a = asyncio.create_task(storage.submit_job(first, UNLIMITED))
    b = asyncio.create_task(storage.submit_job(second, UNLIMITED))
    await asyncio.sleep(0)  # both are queued for the writer, which has not run yet
    b.cancel()
    assert (await a).requester.user_id == 1
    with pytest.raises(asyncio.CancelledError):
        await b
    assert [j.requester.user_id for j in await storage.jobs_with_status(JobStatus.QUEUED)] == [1]


async def test_closed_storage_refuses_work(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    with pytest.raises(RuntimeError, match="not open"):
        await storage.get_job(1)
    await storage.open()
    await storage.close()
    await storage.close()  # idempotent
    with pytest.raises(RuntimeError, match="not open"):
        await storage.submit_job(await new_job(storage), UNLIMITED)


async def test_close_lets_queued_writes_commit_first(tmp_path: Path) -> None:
    storage = make_storage(tmp_path)
    await storage.open()
    jobs = [await new_job(storage, user=u) for u in range(20)]
    pending = [asyncio.create_task(storage.submit_job(j, UNLIMITED)) for j in jobs]
    await asyncio.sleep(0)  # queued, not yet committed
    await storage.close()
    assert len({(await task).id for task in pending}) == 20
    async with make_storage(tmp_path) as reopened:
        assert len(await reopened.jobs_with_status(JobStatus.QUEUED)) == 20


def test_sqlite_storage_implements_the_whole_storage_protocol() -> None:
    for name, method in vars(Storage).items():
        if name.startswith("_") or not inspect.iscoroutinefunction(method):
            continue
        ours = getattr(SqliteStorage, name, None)
        assert ours is not None, f"SqliteStorage lacks {name}"
        theirs = inspect.signature(method).parameters
        assert [(p.name, p.kind) for p in inspect.signature(ours).parameters.values()] == [
            (p.name, p.kind) for p in theirs.values()
        ], name


def test_the_aiosqlite_internals_we_rely_on_exist() -> None:
    """``SqliteStorage._on_thread`` runs whole transactions on aiosqlite's thread through these."""
    assert callable(aiosqlite.Connection._execute)
    assert isinstance(aiosqlite.Connection._conn, property)


async def test_requeue_after_a_clean_shutdown_gives_the_attempt_back(storage: SqliteStorage) -> None:
    job = await submit(storage)
    assert (await storage.claim_job(job.id)).attempts == 1
    requeued = await storage.requeue_job(job.id, keep_attempt=False)
    assert requeued is not None and requeued.attempts == 0
    assert (await storage.claim_job(job.id)).attempts == 1
    assert (await storage.requeue_job(job.id)).attempts == 1  # a crash recovery keeps it
