"""The core services the cogs call (limits, history, queue, job lookups) on a real ``SqliteStorage``:
they apply the access policy themselves, so no adapter can forget it."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.access import Actor
from bot.cli import build_parser
from bot.errors import Forbidden, InputError, NotFound, QuotaExceeded
from bot.history import Deleted, HistoryService
from bot.jobs import JobService, Origin
from bot.limits_service import LimitsService
from bot.metrics import METRICS, sample
from bot.models import MaskSpec, Region
from bot.queue_service import QueueService
from bot.scheduler import QueueEntry
from bot.service import EditService
from bot.settings import LimitDefaults, Settings
from bot.store import Job, JobAction, JobStatus, NewJob, Requester
from storage.sqlite import SqliteStorage
from tests.fakes.ideogram import sample_image
from tests.storage_support import UNLIMITED, Clock, finish, make_storage

GUILD_A, GUILD_B = 1083542166512746496, 1174229812345678901
CHANNEL_A, STAFF_A, CHANNEL_B = 1083542167028498432, 1083542167351459840, 1174229812987654321
ALICE, BOB, MOD, MALLORY = 412345678901234567, 523456789012345678, 634567890123456789, 987654321098765432
ROLE = 1190203040506070809

ALICE_A = Actor(ALICE, GUILD_A, CHANNEL_A)
BOB_A = Actor(BOB, GUILD_A, CHANNEL_A)
MOD_A = Actor(
    MOD, GUILD_A, CHANNEL_A, manage_messages=True, manage_guild=True, readable_channel_ids=frozenset({STAFF_A})
)
MALLORY_B = Actor(MALLORY, GUILD_B, CHANNEL_B, manage_messages=True, manage_guild=True)


@dataclass
class StubScheduler:
    """What ``QueueService`` and ``JobService.cancel`` use of the scheduler: its queue and a refresh."""

    waiting: list[QueueEntry] = field(default_factory=list)
    refreshed: int = 0
    discarded: list[int] = field(default_factory=list)

    def queue(self) -> list[QueueEntry]:
        return self.waiting

    def guild_queue(self, guild_id: int | None, visible, limit: int) -> tuple[list[QueueEntry], int, int]:
        here = [e for e in self.waiting if e.job.requester.guild_id == guild_id]
        shown = [e for e in here if visible(e.job)]
        return shown[:limit], len(shown), len(here)

    def discard(self, job_id: int) -> None:
        self.discarded.append(job_id)

    def progress_message_set(self, job_id: int, channel_id: int, message_id: int) -> None:
        pass

    def running_since(self, job_id: int) -> float | None:
        return 12.0

    async def refresh(self) -> None:
        self.refreshed += 1


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with make_storage(tmp_path, Clock()) as opened:
        yield opened


@pytest.fixture
def scheduler() -> StubScheduler:
    return StubScheduler()


@pytest.fixture
def jobs(tmp_path: Path, storage: SqliteStorage, scheduler: StubScheduler) -> JobService:
    return JobService(Settings(data_dir=tmp_path), storage, None, scheduler)  # type: ignore[arg-type]


async def submit(
    storage: SqliteStorage,
    user: int = ALICE,
    guild: int | None = GUILD_A,
    channel: int | None = CHANNEL_A,
    *,
    prompt: str = "a red hat",
    private: bool = False,
) -> Job:
    new = NewJob(
        requester=Requester(user, guild, channel, None),
        action=JobAction.EDIT,
        prompt=prompt,
        options={"num_images": 1},
        images_requested=1,
        input_sha=await storage.files.put(b"input image"),
        mask_sha=await storage.files.put(b"mask image"),
        private=private,
    )
    return await storage.submit_job(new, UNLIMITED)


# --- limits ------------------------------------------------------------------------------------------


async def test_limits_need_manage_server_and_stay_in_the_actors_server(storage: SqliteStorage) -> None:
    service = LimitsService(Settings(), storage)
    for outsider in (BOB_A, Actor(MOD, None, None, manage_guild=True)):
        with pytest.raises(Forbidden, match="Manage Server"):
            await service.set(outsider, "daily_images", 3)
    await service.set(MALLORY_B, "daily_images", 3)  # changes server B only
    assert (await storage.guild_config(GUILD_A)).daily_images is None
    shown = await service.set(MOD_A, "window_minutes", 0)  # 0 minutes means the shortest window
    assert shown.config.window_minutes == 1 and shown.audit and shown.audit[0].actor_id == MOD


async def test_an_exempt_role_stays_exempt_when_its_limits_change(storage: SqliteStorage) -> None:
    service = LimitsService(Settings(), storage)
    await service.exempt(MOD_A, ROLE, True)
    view = await service.set_role(MOD_A, ROLE, daily_images=7)
    (role,) = view.config.roles
    assert (role.exempt, role.daily_images) == (True, 7)
    view = await service.exempt(MOD_A, ROLE, False)  # and its limits stay when the exemption goes
    assert (view.config.roles[0].exempt, view.config.roles[0].daily_images) == (False, 7)
    assert (await service.set_role(MOD_A, ROLE, remove=True)).config.roles == ()


async def test_every_refusal_is_counted_once_including_a_burst_over_the_active_limit(
    tmp_path: Path, storage: SqliteStorage, scheduler: StubScheduler
) -> None:
    """Edits still preparing count as active jobs: the refusals they cause are counted like the others."""
    settings = Settings(data_dir=tmp_path, limits=LimitDefaults(user_max_active_jobs=2))
    service = JobService(settings, storage, None, scheduler)  # type: ignore[arg-type]
    origin = Origin(Requester(ALICE, GUILD_A, CHANNEL_A, None))

    def refused() -> float:
        value = sample(METRICS, "inpaint_refusals_total", {"limit": "active"})
        return 0.0 if math.isnan(value) else value

    before = refused()
    async with AsyncExitStack() as held:
        for _ in range(2):
            await held.enter_async_context(service.preparing(origin, 1))
        with pytest.raises(QuotaExceeded):  # two preparing: refused before storage is asked
            await held.enter_async_context(service.preparing(origin, 1))
    assert refused() - before == 1
    await submit(storage)  # one saved active job and one preparing: storage refuses the next
    async with service.preparing(origin, 1):
        with pytest.raises(QuotaExceeded):
            async with service.preparing(origin, 1):
                pass
    assert refused() - before == 2


# --- history --------------------------------------------------------------------------------------------


async def test_repost_is_scoped_to_the_server_and_refusals_look_like_missing_edits(
    storage: SqliteStorage, jobs: JobService
) -> None:
    history = HistoryService(storage, jobs)
    public = await finish(storage, await submit(storage))
    private = await finish(storage, await submit(storage, private=True))
    assert (await history.for_repost(ALICE_A, public.id)).id == public.id
    assert (await history.for_repost(Actor(ALICE, GUILD_B, CHANNEL_B), private.id)).id == private.id  # own: anywhere
    assert (await history.for_repost(MOD_A, public.id)).id == public.id
    for actor, job in ((MALLORY_B, public), (BOB_A, public), (MOD_A, private)):
        with pytest.raises(NotFound, match=f"You have no edit #{job.id}"):
            await history.for_repost(actor, job.id)
    queued = await submit(storage)
    with pytest.raises(NotFound, match="no images to show"):
        await history.for_repost(ALICE_A, queued.id)


async def test_deleting_history_refuses_running_edits_and_other_peoples(
    storage: SqliteStorage, jobs: JobService
) -> None:
    history = HistoryService(storage, jobs)
    done = await finish(storage, await submit(storage))
    running = await submit(storage)
    assert await storage.claim_job(running.id)
    with pytest.raises(Forbidden, match="still running"):
        await history.check_delete(ALICE_A, running.id)
    assert (await history.delete(ALICE_A, running.id))[0] is Deleted.ACTIVE
    with pytest.raises(NotFound):
        await history.check_delete(MOD_A, done.id)
    assert (await history.delete(MOD_A, done.id))[0] is Deleted.GONE
    assert (await history.delete(ALICE_A, done.id))[0] is Deleted.DONE
    assert await storage.get_job(done.id) is None and await storage.get_job(running.id) is not None


# --- queue and cancelling -------------------------------------------------------------------------------


async def test_queue_shows_only_what_the_viewer_may_see(
    storage: SqliteStorage, jobs: JobService, scheduler: StubScheduler
) -> None:
    public = await submit(storage, prompt="public")
    private = await submit(storage, prompt="private", private=True)
    staff = await submit(storage, MOD, channel=STAFF_A, prompt="staff")
    elsewhere = await submit(storage, MALLORY, GUILD_B, CHANNEL_B, prompt="elsewhere")
    running = await submit(storage, BOB, prompt="running")
    assert await storage.claim_job(running.id)
    scheduler.waiting = [QueueEntry(job, n, 1.0) for n, job in enumerate((public, private, staff, elsewhere), 1)]
    queue = QueueService(storage, scheduler, jobs)  # type: ignore[arg-type]

    def seen(snapshot) -> set[str]:
        return {e.job.prompt for e in snapshot.waiting} | {r.job.prompt for r in snapshot.running}

    bob = await queue.snapshot(BOB_A)
    assert seen(bob) == {"public", "running"} and (bob.running_total, bob.waiting_total) == (1, 3)
    assert bob.waiting_visible == 1
    first = await queue.snapshot(ALICE_A, limit=1)  # the first few listed, the others counted
    assert [e.job.prompt for e in first.waiting] == ["public"] and first.waiting_visible == 2
    assert seen(await queue.snapshot(ALICE_A)) == {"public", "private", "running"}
    assert seen(await queue.snapshot(MOD_A)) == {"public", "staff", "running"}
    assert seen(await queue.snapshot(MALLORY_B)) == {"elsewhere"}


async def test_cancel_only_in_the_jobs_own_server(
    storage: SqliteStorage, jobs: JobService, scheduler: StubScheduler
) -> None:
    queue = QueueService(storage, scheduler, jobs)  # type: ignore[arg-type]
    job = await submit(storage)
    with pytest.raises(NotFound, match=f"no job #{job.id}"):
        await queue.cancel(MALLORY_B, job.id)  # another server's moderator: as if it did not exist
    with pytest.raises(NotFound):
        await queue.cancel(Actor(ALICE, GUILD_B, CHANNEL_B), job.id)  # its requester, from another server
    with pytest.raises(Forbidden, match="Only the person who asked"):
        await queue.cancel(BOB_A, job.id)
    assert (await storage.get_job(job.id)).status is JobStatus.QUEUED and scheduler.refreshed == 0
    assert (await queue.cancel(MOD_A, job.id)).status is JobStatus.CANCELLED
    assert scheduler.discarded == [job.id]  # the scheduler's in-memory queue drops it at once
    with pytest.raises(InputError, match="can no longer be cancelled"):
        await queue.cancel(ALICE_A, job.id)


async def test_follow_ups_need_the_job_in_view(storage: SqliteStorage, jobs: JobService) -> None:
    job = await finish(storage, await submit(storage))
    assert (await jobs.for_follow_up(MALLORY_B, job.id, shown_here=True)).id == job.id  # a button they were shown
    for actor in (MALLORY_B, Actor(BOB, None, None)):
        with pytest.raises(NotFound):
            await jobs.for_follow_up(actor, job.id, shown_here=False)  # a forged id
    assert await storage.mark_posted(job.id, CHANNEL_A, 1190203040506070001)
    assert (await jobs.by_message(CHANNEL_A, 1190203040506070001)).id == job.id
    assert await jobs.by_message(CHANNEL_B, 1190203040506070001) is None


# --- one validation for Discord and the CLI ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (MaskSpec(region=Region.TOP, box=(0, 0, 50, 50)), "either `region` or `box`"),
        (MaskSpec(mask=b"mask", region=Region.TOP), "either a mask file or a region/box"),
        (MaskSpec(mask=b"mask", box=(0, 0, 50, 50)), "either a mask file or a region/box"),
    ],
)
async def test_one_area_at_a_time_is_the_cores_check(tmp_path: Path, spec: MaskSpec, says: str) -> None:
    """``/edit`` runs ``check_area_choice`` before downloading; the CLI and every job reach it through
    ``EditService.prepare`` (the CLI no longer has its own argparse exclusivity)."""
    with pytest.raises(InputError, match=says):
        await EditService(Settings(data_dir=tmp_path), None).prepare(sample_image(96, 64), spec)  # type: ignore[arg-type]
    args = build_parser().parse_args(["edit", "in.png", "--prompt", "p", "--mask", "m.png", "--box", "1,1,50,50"])
    assert (args.mask, args.box) == (Path("m.png"), "1,1,50,50")  # refused by the core, with the same words
