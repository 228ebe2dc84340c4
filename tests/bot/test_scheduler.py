"""The scheduler on its own: fair order, the image cap, backfilling and its starvation bound, queue
positions and estimates, restart recovery and shutdown.

It runs against the real ``SqliteStorage`` (the queue *is* the jobs table) with a stub edit service
whose calls a test releases one by one, a recording notifier and a hand-driven clock, so nothing here
depends on timing.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.errors import ApiError, Forbidden
from bot.fairness import FairQueue, fair_order, guild_key, user_key
from bot.i18n import msg, stored_message, text
from bot.models import ApiImage, EditResult, ImageFile, ResultImage
from bot.options import EditOptions
from bot.scheduler import INTERNAL_FAILURE, MAX_ATTEMPTS, RESTART_FAILURE, Scheduler
from bot.settings import Settings
from bot.store import AckedInteraction, EffectiveLimits, Job, JobAction, JobStatus, NewJob, OutputImage, Requester
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage
from tests.fakes.ideogram import sample_image, sample_mask
from tests.ids import CHANNEL, GUILD, GUILDS, MESSAGE, OTHER_GUILD, USERS
from tests.storage_support import cancel, complete

UNLIMITED = EffectiveLimits(
    window_images=10**6, window_seconds=600, daily_images=10**6, max_active_jobs=10**6, guild_daily_images=10**6
)


# --- fair_order, as a pure function ------------------------------------------------------------------


@dataclass(frozen=True)
class J:
    id: int
    user: int
    guild: int | None = GUILD

    @property
    def requester(self) -> Requester:
        return Requester(self.user, self.guild)


def ids(jobs: list[J]) -> list[int]:
    return [j.id for j in jobs]


def test_users_take_turns_within_a_guild() -> None:
    jobs = [
        J(1, user=USERS[1]),
        J(2, user=USERS[1]),
        J(3, user=USERS[1]),
        J(4, user=USERS[2]),
        J(5, user=USERS[3]),
        J(6, user=USERS[2]),
    ]
    assert ids(fair_order(jobs)) == [1, 4, 5, 2, 6, 3]


def test_guilds_take_turns_whatever_their_size() -> None:
    busy = [J(i, user=USERS[i], guild=GUILDS[1]) for i in range(1, 6)]  # five users in a busy guild
    assert ids(fair_order([*busy, J(9, user=USERS[9], guild=GUILDS[2])])) == [1, 9, 2, 3, 4, 5]


def test_each_dm_user_is_a_slot_of_its_own() -> None:
    jobs = [J(1, user=USERS[1], guild=None), J(2, user=USERS[1], guild=None), J(3, user=USERS[2], guild=None)]
    assert ids(fair_order(jobs)) == [1, 3, 2]


def test_input_order_does_not_matter() -> None:
    jobs = [J(1, user=USERS[1]), J(2, user=USERS[2]), J(3, user=USERS[1]), J(4, user=USERS[3])]
    assert fair_order(list(reversed(jobs))) == fair_order(jobs)


def test_running_jobs_count_as_turns_already_taken() -> None:
    """User 1 has two edits generating: a newcomer's first job goes before user 1's third."""
    queued = [J(3, user=USERS[1]), J(4, user=USERS[2])]
    running = [J(1, user=USERS[1]), J(2, user=USERS[1])]
    assert ids(fair_order(queued)) == [3, 4]
    assert ids(fair_order(queued, running)) == [4, 3]


def test_a_guild_with_jobs_running_yields_to_an_idle_guild() -> None:
    queued = [J(3, user=USERS[1], guild=GUILDS[1]), J(4, user=USERS[2], guild=GUILDS[2])]
    running = [J(1, user=USERS[5], guild=GUILDS[1])]  # another member of guild 1
    assert ids(fair_order(queued, running)) == [4, 3]


def test_one_job_behind_fifty_waits_for_at_most_one() -> None:
    flood = [J(i, user=USERS[1]) for i in range(1, 51)]
    order = ids(fair_order([*flood, J(51, user=USERS[2])]))
    assert order.index(51) == 1
    assert ids(fair_order([*flood[8:], J(51, user=USERS[2])], running=flood[:8]))[0] == 51


# --- the scheduler with real storage ------------------------------------------------------------------


def png(size: tuple[int, int] = (8, 8), colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StubService:
    """``EditService.send`` that waits until the test releases the job (``finish``/``fail``)."""

    def __init__(self, scheduler_ref: Callable[[], Scheduler]) -> None:
        self._scheduler = scheduler_ref
        self.started: list[str] = []  # prompts, as the API calls arrive (reading inputs may reorder them)
        self.peak_images = 0
        self._gates: dict[str, asyncio.Future[EditResult]] = {}
        self.auto = False  # answer at once

    async def send(
        self, image: ApiImage, mask: ApiImage, prompt: str, options: EditOptions, *, store: object = None
    ) -> EditResult:
        self.started.append(prompt)
        self.peak_images = max(self.peak_images, self._scheduler().images_running)
        if self.auto:
            return self.result(options.num_images)
        gate = self._gates.setdefault(prompt, asyncio.get_running_loop().create_future())
        return await gate

    @staticmethod
    def result(n: int) -> EditResult:
        image = ImageFile(png(), "image/png", 8, 8)
        return EditResult(images=tuple(ResultImage(i, 42 + i, True, "p", "8x8", image) for i in range(n)))

    def finish(self, prompt: str, n: int = 1) -> None:
        self._gate(prompt).set_result(self.result(n))

    def fail(self, prompt: str, error: Exception) -> None:
        self._gate(prompt).set_exception(error)

    def _gate(self, prompt: str) -> asyncio.Future[EditResult]:
        return self._gates.setdefault(prompt, asyncio.get_running_loop().create_future())


@dataclass
class StubNotifier:
    """Records what the scheduler tells Discord; ``deliver`` records the post in storage, as the real
    notifier does, so recovery does not deliver the same job twice."""

    storage: SqliteStorage
    started: list[str] = field(default_factory=list)  # prompts, in the order the scheduler started them
    delivered: list[Job] = field(default_factory=list)
    queue_changes: int = 0
    block_queue_changed: bool = False
    deliver_gate: asyncio.Event | None = None
    restarted_with: list[tuple[list[AckedInteraction], int]] = field(default_factory=list)

    async def job_started(self, job: Job) -> None:
        self.started.append(job.prompt)

    async def deliver(self, job: Job) -> None:
        if self.deliver_gate is not None:
            await self.deliver_gate.wait()
        self.delivered.append(job)
        await self.storage.mark_posted(job.id, CHANNEL, MESSAGE + job.id)

    async def restarted(self, interactions: list[AckedInteraction]) -> None:
        self.restarted_with.append((interactions, len(self.delivered)))  # what, and after how many deliveries

    async def queue_changed(self, scheduler: Scheduler) -> None:
        self.queue_changes += 1
        if self.block_queue_changed:
            await asyncio.Event().wait()  # a slow Discord must not hold the queue up


@dataclass
class Rig:
    storage: SqliteStorage
    service: StubService
    notifier: StubNotifier
    clock: Clock
    scheduler: Scheduler

    async def submit(self, prompt: str, *, user: int = USERS[1], images: int = 1, guild: int | None = GUILD) -> Job:
        input_sha = await self.storage.files.put(sample_image(32, 32))
        mask_sha = await self.storage.files.put(sample_mask(32, 32))
        job = await self.storage.submit_job(
            NewJob(
                requester=Requester(user, guild, CHANNEL),
                action=JobAction.EDIT,
                prompt=prompt,
                options=EditOptions(num_images=images).to_json(),
                images_requested=images,
                input_sha=input_sha,
                mask_sha=mask_sha,
            ),
            UNLIMITED,
        )
        await self.scheduler.refresh()  # as JobService does after every submission
        return job

    async def status(self, job: Job) -> JobStatus:
        fresh = await self.storage.get_job(job.id)
        assert fresh is not None
        return fresh.status

    def queued_prompts(self) -> list[str]:
        return [e.job.prompt for e in self.scheduler.queue()]


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the event loop run until ``condition`` holds (the scheduler works in its own tasks)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.002)


async def settle(rig: Rig) -> None:
    """Until the scheduler has nothing more to do right now."""
    for _ in range(5):
        await asyncio.sleep(0)
    async with rig.scheduler._fill_lock:  # a pass in progress has finished
        pass
    await rig.scheduler.refresh()


@pytest.fixture
async def make_rig(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    rigs: list[Rig] = []

    async def make(capacity: int = 2, *, start: bool = True, **options: object) -> Rig:
        storage = SqliteStorage(tmp_path / "bot.sqlite3", LocalFileStore(tmp_path / "images"))
        await storage.open()
        clock = Clock()
        holder: list[Scheduler] = []
        service = StubService(lambda: holder[0])
        notifier = StubNotifier(storage)
        scheduler = Scheduler(storage, service, notifier, capacity=capacity, clock=clock, **options)  # type: ignore[arg-type]
        holder.append(scheduler)
        rig = Rig(storage, service, notifier, clock, scheduler)
        rigs.append(rig)
        if start:
            await scheduler.start()
        return rig

    yield make
    for rig in rigs:
        rig.service.auto = True
        await rig.scheduler.stop(0)
        await rig.storage.close()


async def test_starts_jobs_in_fair_order_within_the_image_cap(make_rig) -> None:
    rig = await make_rig(capacity=2, start=False)
    for i in range(3):
        await rig.submit(f"alice {i}", user=USERS[1])
    await rig.submit("bob 0", user=USERS[2])
    await rig.submit("carol 0", user=USERS[3])
    await rig.scheduler.start()
    await eventually(lambda: len(rig.notifier.started) == 2)
    assert rig.notifier.started == ["alice 0", "bob 0"]
    assert rig.queued_prompts() == ["carol 0", "alice 1", "alice 2"]
    for prompt in ["alice 0", "bob 0", "carol 0", "alice 1", "alice 2"]:
        await eventually(lambda prompt=prompt: prompt in rig.service.started)
        rig.service.finish(prompt)
    await eventually(lambda: len(rig.notifier.delivered) == 5)
    assert rig.notifier.started == ["alice 0", "bob 0", "carol 0", "alice 1", "alice 2"]
    assert rig.service.peak_images <= 2
    assert {j.status for j in rig.notifier.delivered} == {JobStatus.SUCCEEDED}


async def test_a_jobs_image_count_counts_against_the_cap(make_rig) -> None:
    rig = await make_rig(capacity=4)
    big = await rig.submit("three", user=USERS[1], images=3)
    await eventually(lambda: rig.notifier.started == ["three"])
    await rig.submit("two", user=USERS[2], images=2)
    await settle(rig)
    assert rig.notifier.started == ["three"] and rig.scheduler.images_running == 3
    rig.service.finish("three", 3)
    await eventually(lambda: rig.notifier.started == ["three", "two"])
    assert rig.service.peak_images <= 4
    await eventually(lambda: len(rig.notifier.delivered) == 1)
    assert await rig.status(big) is JobStatus.SUCCEEDED
    assert rig.notifier.delivered[0].images_delivered == 3


async def test_backfill_starts_a_smaller_job_when_the_head_does_not_fit(make_rig) -> None:
    rig = await make_rig(capacity=4)
    await rig.submit("a3", user=USERS[1], images=3)
    await eventually(lambda: rig.notifier.started == ["a3"])
    await rig.submit("b2", user=USERS[2], images=2)  # first in line, but only 1 image is free
    await rig.submit("c1", user=USERS[3], images=1)
    await settle(rig)
    assert rig.notifier.started == ["a3", "c1"]
    assert rig.queued_prompts() == ["b2"]
    assert rig.scheduler.images_running == 4


async def test_backfill_prefers_the_job_that_fills_the_gap(make_rig) -> None:
    rig = await make_rig(capacity=6, start=False)
    for user, (prompt, images) in enumerate([("a4", 4), ("b4", 4), ("c1", 1), ("d2", 2)], start=1):
        await rig.submit(prompt, user=USERS[user], images=images)
    await rig.scheduler.start()
    await eventually(lambda: len(rig.notifier.started) == 2)
    await settle(rig)
    assert rig.notifier.started == ["a4", "d2"], "2 free images: the 2-image job, not the 1-image one"
    assert rig.queued_prompts() == ["b4", "c1"]


async def test_without_backfill_the_order_is_strict(make_rig) -> None:
    rig = await make_rig(capacity=4, backfill=False)
    await rig.submit("a3", user=USERS[1], images=3)
    await eventually(lambda: rig.notifier.started == ["a3"])
    await rig.submit("b2", user=USERS[2], images=2)
    await rig.submit("c1", user=USERS[3], images=1)
    await settle(rig)
    assert rig.notifier.started == ["a3"]
    rig.service.finish("a3", 3)
    await eventually(lambda: len(rig.notifier.started) == 3)
    assert rig.notifier.started == ["a3", "b2", "c1"]


async def test_a_head_that_waited_past_the_patience_cannot_be_pushed_back(make_rig) -> None:
    """Jobs take 10 s. b4 needs every image; after 5 s of waiting it is promised a start when the
    running jobs end (t+10) plus 2 s, and a 1-image job that would hold an image until t+16 waits."""
    rig = await make_rig(capacity=4, backfill_patience=5, backfill_slack=2)
    rig.scheduler._durations.append(10.0)
    await rig.submit("a2", user=USERS[1], images=2)
    await rig.submit("b4", user=USERS[2], images=4)  # the head: only 2 images are free
    await rig.submit("c1", user=USERS[3], images=1)  # b4 is not waiting long yet: c1 may jump it
    await settle(rig)
    assert rig.notifier.started == ["a2", "c1"]

    rig.clock.now += 6
    await rig.submit("d1", user=USERS[4], images=1)  # there is a free image, but b4 is reserved now
    await settle(rig)
    assert rig.notifier.started == ["a2", "c1"]
    assert rig.queued_prompts() == ["b4", "d1"]

    rig.service.finish("a2", 2)
    rig.service.finish("c1")
    await eventually(lambda: len(rig.notifier.started) == 3)
    assert rig.notifier.started == ["a2", "c1", "b4"]


async def test_a_reserved_head_may_still_be_jumped_when_that_does_not_delay_it(make_rig) -> None:
    """b2 needs 2 images; the running 3-image job frees enough for it, so the free image is used."""
    rig = await make_rig(capacity=4, backfill_patience=5, backfill_slack=0)
    rig.scheduler._durations.append(10.0)
    await rig.submit("a3", user=USERS[1], images=3)
    await rig.submit("b2", user=USERS[2], images=2)
    await settle(rig)
    rig.clock.now += 6  # past the patience: b2 has a reservation from now on
    await rig.submit("c1", user=USERS[3], images=1)
    await settle(rig)
    assert rig.notifier.started == ["a3", "c1"]


async def test_patience_and_slack_follow_the_job_durations_unless_set(make_rig) -> None:
    rig = await make_rig(capacity=2, start=False)
    rig.scheduler._durations.extend([8.0, 12.0])
    assert (rig.scheduler.patience, rig.scheduler.slack) == (15.0, 2.5)
    fixed = await make_rig(capacity=2, start=False, backfill_patience=3, backfill_slack=0)
    fixed.scheduler._durations.append(100.0)
    assert (fixed.scheduler.patience, fixed.scheduler.slack) == (3, 0)


async def test_random_load_never_exceeds_the_cap_and_runs_every_job_once(make_rig) -> None:
    rnd = random.Random(7)
    rig = await make_rig(capacity=5, start=False, backfill_patience=0.5)
    sizes = {}
    for i in range(40):
        sizes[f"job {i}"] = rnd.randint(1, 5)
        await rig.submit(
            f"job {i}",
            user=USERS[rnd.randint(1, 6)],
            guild=rnd.choice([GUILD, OTHER_GUILD, None]),
            images=sizes[f"job {i}"],
        )
    await rig.scheduler.start()
    finished: set[str] = set()
    while len(finished) < len(sizes):
        await eventually(lambda: bool(set(rig.service.started) - finished))
        rig.clock.now += rnd.random()
        prompt = rnd.choice(sorted(set(rig.service.started) - finished))
        rig.service.finish(prompt, sizes[prompt])
        finished.add(prompt)
    await eventually(lambda: len(rig.notifier.delivered) == len(sizes))
    assert rig.service.peak_images <= 5
    assert sorted(j.prompt for j in rig.notifier.delivered) == sorted(sizes)
    assert all(
        j.status is JobStatus.SUCCEEDED and j.images_delivered == sizes[j.prompt] for j in rig.notifier.delivered
    )


async def test_positions_and_estimates_follow_recent_durations(make_rig) -> None:
    rig = await make_rig(capacity=2)
    await rig.submit("warm", user=USERS[9])
    await eventually(lambda: rig.notifier.started == ["warm"])
    rig.clock.now += 10  # one job took 10 s: the average is 10 s from now on
    rig.service.finish("warm")
    await eventually(lambda: len(rig.notifier.delivered) == 1)
    assert rig.scheduler.average_job_seconds == pytest.approx(10)

    await rig.submit("r1", user=USERS[1])
    await rig.submit("r2", user=USERS[2])
    await eventually(lambda: rig.notifier.started[-2:] == ["r1", "r2"])
    rig.clock.now += 4  # both have run for 4 s of their expected 10
    for user, prompt in [(3, "q1"), (4, "q2"), (5, "q3")]:
        await rig.submit(prompt, user=USERS[user])
    await settle(rig)
    entries = rig.scheduler.queue()
    assert [(e.job.prompt, e.position) for e in entries] == [("q1", 1), ("q2", 2), ("q3", 3)]
    assert [e.eta_seconds for e in entries] == pytest.approx([6, 6, 16])
    assert rig.scheduler.entry(entries[2].job.id) == entries[2]

    rig.clock.now += 20  # overdue running jobs: the next start is "now", not negative
    assert rig.scheduler.queue()[0].eta_seconds == 0


async def test_estimates_account_for_image_counts(make_rig) -> None:
    rig = await make_rig(capacity=4, backfill=False)
    rig.scheduler._durations.append(10.0)
    await rig.submit("r4", user=USERS[1], images=4)
    await eventually(lambda: rig.notifier.started == ["r4"])
    await rig.submit("q2", user=USERS[2], images=2)
    await rig.submit("q3", user=USERS[3], images=3)
    await settle(rig)
    assert [(e.job.prompt, e.eta_seconds) for e in rig.scheduler.queue()] == [("q2", 10), ("q3", 20)]


async def test_cancelled_job_leaves_the_queue_and_positions_close_up(make_rig) -> None:
    rig = await make_rig(capacity=1)
    await rig.submit("run", user=USERS[1])
    await eventually(lambda: rig.notifier.started == ["run"])
    first = await rig.submit("first", user=USERS[2])
    await rig.submit("second", user=USERS[3])
    await settle(rig)
    assert rig.queued_prompts() == ["first", "second"]
    assert await cancel(rig.storage, first) is not None
    await rig.scheduler.refresh()
    assert [(e.job.prompt, e.position) for e in rig.scheduler.queue()] == [("second", 1)]


async def test_api_errors_fail_the_job_with_a_refund_and_free_the_images(make_rig) -> None:
    rig = await make_rig(capacity=1)
    job = await rig.submit("doomed", user=USERS[1], images=1)
    await rig.submit("next", user=USERS[2])
    await eventually(lambda: rig.notifier.started == ["doomed"])
    rig.service.fail("doomed", ApiError("The image service is down.", detail="503"))
    await eventually(lambda: rig.notifier.started == ["doomed", "next"])
    failed = next(j for j in rig.notifier.delivered if j.id == job.id)
    assert (
        failed.status is JobStatus.FAILED and text(stored_message(failed.error_message)) == "The image service is down."
    )
    quota = await rig.storage.quota_status(Requester(USERS[1], GUILD), UNLIMITED)
    assert quota.window_used == 0 and quota.active_jobs == 0


async def test_unexpected_errors_fail_the_job_with_a_refund(make_rig) -> None:
    rig = await make_rig(capacity=1)
    job = await rig.submit("bug", user=USERS[1])
    await eventually(lambda: rig.notifier.started == ["bug"])
    rig.service.fail("bug", ZeroDivisionError())
    await eventually(lambda: len(rig.notifier.delivered) == 1)
    assert rig.notifier.delivered[0].id == job.id
    assert stored_message(rig.notifier.delivered[0].error_message) == INTERNAL_FAILURE
    quota = await rig.storage.quota_status(Requester(USERS[1], GUILD), UNLIMITED)
    assert quota.window_used == 0


async def test_a_job_from_a_server_no_longer_served_is_failed_with_a_refund_not_run(make_rig) -> None:
    """``place`` (the operator's allow list, checked again before each claim): the waiting job of a
    server taken off the list never reaches the API; its member is told why and gets the images back."""
    served = {GUILD}

    def place(requester: Requester) -> None:
        if requester.guild_id not in served:
            raise Forbidden(msg("served-not-here"))

    rig = await make_rig(capacity=1, place=place)
    first = await rig.submit("served", user=USERS[1])
    await eventually(lambda: rig.notifier.started == ["served"])
    dropped = await rig.submit("unlisted", user=USERS[2], guild=OTHER_GUILD)
    await rig.submit("still served", user=USERS[3])
    rig.service.finish("served")
    await eventually(lambda: rig.notifier.started == ["served", "still served"])
    await eventually(lambda: len(rig.notifier.delivered) == 2)
    refused = next(j for j in rig.notifier.delivered if j.id == dropped.id)
    assert refused.status is JobStatus.FAILED and refused.error_code == "forbidden"
    assert "unlisted" not in rig.service.started
    quota = await rig.storage.quota_status(Requester(USERS[2], OTHER_GUILD), UNLIMITED)
    assert quota.window_used == 0 and quota.active_jobs == 0
    assert (await rig.status(first)) is JobStatus.SUCCEEDED


async def test_images_are_freed_when_the_api_answers_not_when_the_post_is_done(make_rig) -> None:
    rig = await make_rig(capacity=1)
    rig.notifier.deliver_gate = asyncio.Event()  # Discord is slow to take the result
    await rig.submit("first", user=USERS[1])
    await rig.submit("second", user=USERS[2])
    await eventually(lambda: rig.notifier.started == ["first"])
    rig.service.finish("first")
    await eventually(lambda: rig.notifier.started == ["first", "second"])
    assert rig.notifier.delivered == []
    rig.notifier.deliver_gate.set()
    await eventually(lambda: len(rig.notifier.delivered) == 1)


async def test_a_slow_queue_announcement_does_not_hold_up_starting_jobs(make_rig) -> None:
    rig = await make_rig(capacity=1)
    rig.notifier.block_queue_changed = True
    await rig.submit("first", user=USERS[1])
    await rig.submit("second", user=USERS[2])
    await eventually(lambda: rig.notifier.started == ["first"])
    rig.service.finish("first")
    await eventually(lambda: rig.notifier.started == ["first", "second"])
    assert rig.notifier.queue_changes >= 1


async def test_each_process_shows_the_positions_of_its_own_servers_only(make_rig) -> None:
    """With several processes every progress message has one editor: a gateway its shards' servers, a
    queue-only worker none (it shows the jobs it runs)."""
    gateway = await make_rig(capacity=1, receives=lambda guild_id: guild_id == GUILD)
    await gateway.submit("running", user=USERS[1])
    await eventually(lambda: gateway.notifier.started == ["running"])
    await gateway.submit("here", user=USERS[2], guild=GUILD)
    await gateway.submit("elsewhere", user=USERS[3], guild=OTHER_GUILD)
    await settle(gateway)
    assert sorted(e.job.prompt for e in gateway.scheduler.queue()) == ["elsewhere", "here"]
    assert [j.prompt for j in gateway.scheduler.positions_shown()] == ["here"]
    await eventually(lambda: gateway.notifier.queue_changes >= 1)

    worker = await make_rig(capacity=1, start=False, receives=None)
    await worker.scheduler.start()
    await worker.submit("queued", user=USERS[4])
    await settle(worker)
    assert list(worker.scheduler.positions_shown()) == []
    assert worker.notifier.queue_changes == 0
    gateway.service.finish("running")


# --- restart recovery and shutdown -----------------------------------------------------------------------


async def test_recovery_reruns_once_then_fails_with_a_refund_and_redelivers(make_rig) -> None:
    rig = await make_rig(capacity=4, start=False)
    once = await rig.submit("interrupted once", user=USERS[1])
    twice = await rig.submit("interrupted twice", user=USERS[2], images=2)
    waiting = await rig.submit("still queued", user=USERS[3])
    unposted = await rig.submit("done, never posted", user=USERS[4])
    posted = await rig.submit("done and posted", user=USERS[5])
    storage = rig.storage
    await storage.claim_job(once.id)
    await storage.claim_job(twice.id)
    await storage.requeue_job(twice.id)
    assert (await storage.claim_job(twice.id)).attempts == MAX_ATTEMPTS  # type: ignore[union-attr]
    for job in (unposted, posted):
        await storage.claim_job(job.id)
        sha = await storage.files.put(png())
        await complete(storage, job, [OutputImage(0, sha, 1, True, "p", "8x8", 8, 8, "image/png")])
    await storage.mark_posted(posted.id, CHANNEL, MESSAGE)

    rig.service.auto = True
    await rig.scheduler.start()  # a new process: recovery first
    delivered_first = [j.id for j in rig.notifier.delivered[:2]]
    assert delivered_first == [twice.id, unposted.id], "recovery delivers before anything runs"
    failed = rig.notifier.delivered[0]
    assert failed.status is JobStatus.FAILED and failed.error_code == "restart"
    assert stored_message(failed.error_message) == RESTART_FAILURE
    await eventually(lambda: len(rig.notifier.delivered) == 4)
    assert sorted(rig.notifier.started) == ["interrupted once", "still queued"]
    assert sorted(j.id for j in rig.notifier.delivered) == sorted([once.id, twice.id, waiting.id, unposted.id])
    assert posted.id not in [j.id for j in rig.notifier.delivered]
    refunded = await storage.quota_status(Requester(USERS[2], GUILD), UNLIMITED)
    assert refunded.window_used == 0 and refunded.active_jobs == 0
    rerun = await storage.get_job(once.id)
    assert rerun is not None and rerun.status is JobStatus.SUCCEEDED and rerun.attempts == 2


async def test_recovery_hands_live_acknowledged_interactions_to_the_notifier_before_delivering(make_rig) -> None:
    rig = await make_rig(start=False)
    unposted = await rig.submit("done, never posted", user=USERS[1])
    await rig.storage.claim_job(unposted.id)
    await complete(rig.storage, unposted, [OutputImage(0, await rig.storage.files.put(png()), 1, True, "p", "8x8")])
    now = datetime.now(UTC)

    def acked(n: int, age: timedelta) -> AckedInteraction:
        return AckedInteraction(MESSAGE + n, MESSAGE, USERS[1], GUILD, CHANNEL, "en-US", now - age, token=f"t{n}")

    for record in (acked(1, timedelta(minutes=2)), acked(2, timedelta(minutes=20)), acked(3, timedelta(seconds=5))):
        await rig.storage.record_interaction(record)
    await rig.storage.settle_interaction(MESSAGE + 3)  # answered without a job before the crash

    await rig.scheduler.start()
    [(handed, delivered_before)] = rig.notifier.restarted_with
    assert [i.interaction_id for i in handed] == [MESSAGE + 1], "only unsettled ones whose token may live"
    assert delivered_before == 0 and [j.id for j in rig.notifier.delivered] == [unposted.id]


async def test_stop_lets_running_jobs_finish_within_the_grace(make_rig) -> None:
    rig = await make_rig(capacity=2)
    job = await rig.submit("quick", user=USERS[1])
    await eventually(lambda: rig.notifier.started == ["quick"])
    stopping = asyncio.create_task(rig.scheduler.stop(grace=30))
    await eventually(lambda: not rig.scheduler._accepting)
    await rig.submit("late", user=USERS[2])  # arrives during shutdown: stored, not started
    await rig.scheduler.refresh()
    rig.service.finish("quick")
    await stopping
    assert await rig.status(job) is JobStatus.SUCCEEDED
    assert rig.notifier.started == ["quick"]
    assert [j.prompt for j in await rig.storage.jobs_with_status(JobStatus.QUEUED)] == ["late"]


async def test_default_grace_lets_a_running_api_call_finish_and_it_is_not_run_again(make_rig) -> None:
    grace = Settings.from_mapping({}).shutdown_grace_s
    rig = await make_rig(capacity=2)
    job = await rig.submit("long call", user=1)
    await eventually(lambda: rig.service.started == ["long call"])
    stopping = asyncio.create_task(rig.scheduler.stop(grace))
    await asyncio.sleep(0.2)
    assert not stopping.done(), "shutdown waits for the call"
    rig.service.finish("long call")
    await stopping
    assert await rig.status(job) is JobStatus.SUCCEEDED
    assert [j.id for j in rig.notifier.delivered] == [job.id]
    after = Scheduler(rig.storage, rig.service, rig.notifier, capacity=2)  # the next process
    await after.start()
    await asyncio.sleep(0.05)
    await after.stop(0)
    assert rig.service.started == ["long call"], "called once: nothing to re-run after the restart"
    assert [j.id for j in rig.notifier.delivered] == [job.id]


async def test_cutting_a_call_off_warns_that_it_may_be_billed_twice(make_rig, caplog) -> None:
    rig = await make_rig(capacity=2)
    job = await rig.submit("cut off", user=1)
    await eventually(lambda: rig.service.started == ["cut off"])
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        await rig.scheduler.stop(grace=0.01)
    assert f"job {job.id}: shutdown cut off its API call" in caplog.text and "billed twice" in caplog.text


async def test_stop_requeues_what_does_not_finish_within_the_grace(make_rig) -> None:
    rig = await make_rig(capacity=2)
    job = await rig.submit("slow", user=USERS[1], images=2)
    await eventually(lambda: rig.notifier.started == ["slow"])
    await rig.scheduler.stop(grace=0.01)
    fresh = await rig.storage.get_job(job.id)
    assert (
        fresh is not None and fresh.status is JobStatus.QUEUED and fresh.attempts == 0
    )  # a clean shutdown does not use up an attempt
    quota = await rig.storage.quota_status(Requester(USERS[1], GUILD), UNLIMITED)
    assert quota.window_used == 2 and quota.active_jobs == 1, "the reservation is kept for the next run"
    assert rig.notifier.delivered == []


# --- the queue kept in memory: merged lazily, synced without reading it whole --------------------------


def test_the_merged_queue_is_fair_order() -> None:
    """``FairQueue.order`` (heads merged lazily) gives exactly ``fair_order`` (a sort of everything),
    with running jobs and round-robin turns, after additions and removals in any order."""
    rng = random.Random(11)
    guilds = [*GUILDS, None]
    for _ in range(60):
        jobs = [J(i, rng.choice(USERS[:6]), rng.choice(guilds)) for i in range(1, rng.randrange(2, 60))]
        running = [J(1000 + i, rng.choice(USERS[:6]), rng.choice(guilds)) for i in range(rng.randrange(0, 6))]
        turns = {k: rng.randrange(5) for j in jobs for k in (guild_key(j), user_key(j)) if rng.random() < 0.5}
        queue: FairQueue[J] = FairQueue()
        for job in rng.sample(jobs, len(jobs)):
            queue.add(job)
        gone = set(rng.sample([j.id for j in jobs], len(jobs) // 4))
        for job_id in gone:
            queue.discard(job_id)
        kept = [j for j in jobs if j.id not in gone]
        assert len(queue) == len(kept)
        expected = ids(fair_order(kept, running, turns))
        assert ids(list(queue.order(running, lambda key, turns=turns: turns.get(key, -1)))) == expected
        for _ in range(2):  # built once, then the cached heads (nothing changed)
            assert ids(list(queue.order(running, lambda key, turns=turns: turns.get(key, -1), same_as=1))) == expected
        if kept:
            queue.discard(kept[0].id)  # a change: the heads are rebuilt
            cached = queue.order(running, lambda key, turns=turns: turns.get(key, -1), same_as=1)
            assert ids(list(cached)) == ids(fair_order(kept[1:], running, turns))
            queue.add(kept[0])
        skip = set(expected[::3])
        merged = queue.order(running, lambda key, turns=turns: turns.get(key, -1), skip=skip)
        assert ids(list(merged)) == ids(fair_order([j for j in kept if j.id not in skip], running, turns))


class CountingStorage:
    """The storage, counting calls and the rows (jobs, keys) each call returned."""

    def __init__(self, inner: SqliteStorage) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.rows = 0
        self.uncommitted: set[int] = set()  # jobs other readers cannot see yet (a transaction in flight)

    def __getattr__(self, name: str) -> object:
        attr = getattr(self.inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def counted(*args: object, **kwargs: object) -> object:
            self.calls[name] += 1
            result = await attr(*args, **kwargs)
            if name == "jobs_with_status":
                result = [job for job in result if job.id not in self.uncommitted]
            if isinstance(result, list | dict | set):
                self.rows += len(result)
            return result

        return counted

    def reset(self) -> None:
        self.calls.clear()
        self.rows = 0


async def test_a_pass_does_not_read_the_whole_queue(make_rig) -> None:
    """With 5,000 jobs queued, a pass (after a submission, a cancel, a finished job) reads a bounded
    number of rows: the new jobs, the running ones, and the few heads it may start — never the queue."""
    rig = await make_rig(capacity=4, start=False)
    input_sha = await rig.storage.files.put(sample_image(32, 32))
    mask_sha = await rig.storage.files.put(sample_mask(32, 32))
    users = [USERS[0] + 7919 * k for k in range(500)]  # realistic snowflakes

    def new(n: int) -> NewJob:
        requester = Requester(users[n % len(users)], GUILDS[n % len(GUILDS)], CHANNEL)
        options = EditOptions(num_images=1 + n % 3).to_json()
        return NewJob(requester, JobAction.EDIT, f"job {n}", options, 1 + n % 3, input_sha, mask_sha)

    await asyncio.gather(*(rig.storage.submit_job(new(n), UNLIMITED) for n in range(5000)))
    counting = CountingStorage(rig.storage)
    scheduler = Scheduler(counting, rig.service, rig.notifier, capacity=4, clock=rig.clock)  # type: ignore[arg-type]
    rig.service._scheduler = lambda: scheduler
    rig.scheduler = scheduler
    await scheduler.start()  # the one full read, at start-up
    await eventually(lambda: len(rig.service.started) >= 2)
    await settle(rig)
    assert scheduler.waiting_count == 5000 - len(scheduler._running)
    bound = 3 * scheduler.capacity + 1 + 8  # the heads looked at, the running jobs, a few keys' turns

    counting.reset()
    await scheduler.refresh()  # nothing changed
    assert counting.rows <= bound and sum(counting.calls.values()) <= 6, (counting.rows, counting.calls)

    counting.reset()
    extra = await rig.storage.submit_job(new(5000), UNLIMITED)  # another process's submission
    await scheduler.refresh()
    assert counting.rows <= bound + 1 and scheduler.entry(extra.id) is not None

    deep = scheduler.queue()[-1].job
    await cancel(rig.storage, deep)  # cancelled elsewhere, deep in the queue
    counting.reset()
    await scheduler.refresh()
    assert counting.rows <= bound

    first = rig.service.started[0]
    counting.reset()
    rig.service.finish(first)  # a slot frees: the next job starts from the merged heads
    await eventually(lambda: len(rig.service.started) >= 3)
    await settle(rig)
    assert counting.rows <= 3 * bound, (counting.rows, counting.calls)
    assert "jobs_with_status" in counting.calls


async def test_jobs_that_left_the_queue_elsewhere_are_dropped_at_the_head(make_rig) -> None:
    """A gateway (claims=False) keeps the queue in memory: jobs claimed or cancelled by other processes
    leave its positions once the pass looks at them; jobs re-queued elsewhere come back."""
    rig = await make_rig(capacity=2, claims=False)
    jobs = [await rig.submit(f"job {n}", user=USERS[n]) for n in range(4)]
    assert rig.queued_prompts() == ["job 0", "job 1", "job 2", "job 3"]
    await cancel(rig.storage, jobs[0])  # another process's /queue cancel
    claimed = await rig.storage.claim_job(jobs[1].id)  # another process claims and finishes it
    assert claimed is not None
    await complete(rig.storage, claimed, [])
    await rig.scheduler.refresh()
    assert rig.queued_prompts() == ["job 2", "job 3"]
    assert rig.scheduler.entry(jobs[2].id).position == 1  # type: ignore[union-attr]
    assert await rig.storage.claim_job(jobs[2].id)
    await rig.scheduler.refresh()  # seen running elsewhere
    assert rig.queued_prompts() == ["job 3"]
    await rig.storage.requeue_job(jobs[2].id)  # its process stopped: back in the queue, first
    await rig.scheduler.refresh()
    assert rig.queued_prompts() == ["job 2", "job 3"] and rig.scheduler.waiting_count == 2


async def test_a_gateways_pass_reads_only_what_it_needs(make_rig) -> None:
    """A gateway (claims=False) never reads the images in flight (it fills nothing), and a head that left
    the queue elsewhere costs a re-read of its keys' turns, not a second whole sync."""
    rig = await make_rig(capacity=2, start=False, claims=False)
    counting = CountingStorage(rig.storage)
    scheduler = Scheduler(counting, rig.service, rig.notifier, capacity=2, clock=rig.clock, claims=False)  # type: ignore[arg-type]
    rig.scheduler = scheduler
    await scheduler.start()
    jobs = [await rig.submit(f"job {n}", user=USERS[n]) for n in range(3)]
    counting.reset()
    await scheduler.refresh()  # nothing changed
    assert "images_in_flight" not in counting.calls and "turns" not in counting.calls, counting.calls
    assert counting.calls["jobs_with_status"] == 3, counting.calls  # new jobs, running jobs, the heads
    await cancel(rig.storage, jobs[0])  # another process's /queue cancel, at the head
    counting.reset()
    await scheduler.refresh()
    assert rig.queued_prompts() == ["job 1", "job 2"]
    assert counting.calls == {"jobs_with_status": 4, "turns": 1}, counting.calls  # the heads read twice


async def test_a_submission_committed_after_a_newer_one_is_not_missed(make_rig) -> None:
    """Ids are handed out before commit (PostgreSQL): a job that becomes visible after a newer one was
    read is still picked up (ids skipped over are looked at again for a while)."""
    rig = await make_rig(capacity=1, start=False, claims=False)
    counting = CountingStorage(rig.storage)
    scheduler = Scheduler(counting, rig.service, rig.notifier, capacity=1, clock=rig.clock, claims=False)  # type: ignore[arg-type]
    rig.scheduler = scheduler
    await scheduler.start()
    first = await rig.submit("first", user=USERS[1])
    counting.uncommitted.add(first.id + 1)
    late = await rig.submit("late", user=USERS[2])
    newer = await rig.submit("newer", user=USERS[3])
    assert rig.queued_prompts() == ["first", "newer"]
    counting.uncommitted.clear()  # it commits
    await scheduler.refresh()
    assert rig.queued_prompts() == ["first", "late", "newer"] and scheduler.entry(late.id) is not None
    assert newer.id == late.id + 1


async def test_guild_queue_lists_a_servers_visible_entries_with_server_wide_positions(make_rig) -> None:
    """The real ``guild_queue`` (``/queue show``), against the whole merged order: only that server's
    entries that pass ``visible``, at their positions in the whole queue, the first ``limit`` of them,
    and the counts; the ones asked for lie past the first 64 merged entries, so the order is extended."""
    rig = await make_rig(capacity=1, claims=False)  # keeps the queue in order, starts nothing
    for n in range(70):
        await rig.submit(f"here {n}", user=USERS[1])
        await rig.submit(f"there {n}", user=USERS[2], guild=OTHER_GUILD)

    def late(job: Job) -> bool:
        return job.prompt.startswith("there ") and int(job.prompt.split()[1]) >= 60

    found, shown, total = rig.scheduler.guild_queue(OTHER_GUILD, late, 3)
    everything = rig.scheduler.queue()  # after: it merges the whole order, which guild_queue must do alone
    expected = [e for e in everything if e.job.requester.guild_id == OTHER_GUILD and late(e.job)]
    assert [(e.job.id, e.position) for e in found] == [(e.job.id, e.position) for e in expected[:3]]
    assert min(e.position for e in found) > 64
    assert (shown, total) == (10, 70)
    assert rig.scheduler.guild_queue(GUILD, late, 3) == ([], 0, 70)
    assert rig.scheduler.guild_queue(None, late, 3) == ([], 0, 0)  # DMs have no server queue
