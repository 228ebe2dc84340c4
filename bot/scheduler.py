"""The durable job queue's engine: starts queued jobs fairly within the image cap, survives restarts.

Jobs live in storage; this object only decides *when* each runs. It never holds state that a restart
would lose: on start-up it re-reads the queue, re-runs jobs a dead process left running (once), and
re-delivers finished jobs whose results were never posted.

A pass does not read the whole queue (it runs after every submission, cancel and finished job): the
queued jobs are kept in memory per guild and user (``FairQueue``), read once at start-up and then kept
in step (``_sync``): jobs submitted since (by any process: ids grow), the running jobs (at most the
image cap's worth: dropped from the queue), and jobs another process stopped running (re-queued ones
come back). A job cancelled or claimed elsewhere is dropped when a pass looks at it: the first jobs of
the order are checked still queued (``_verify``) and a claim that fails drops it. The order is merged
lazily from the users' heads, so a pass looks at about three times ``capacity`` jobs, and queue
positions (``entry``, ``guild_queue``) are computed only as far down as asked, once per pass. A job
cancelled in another process deep in the queue is still counted in the positions behind it until it
nears the head (cancels in this process drop it at once).

How a pass fills the free images (``_fill``):

* Jobs are taken in ``fair_order`` (round-robin across guilds and users, running jobs counted) and
  start while they fit. Across processes the order is the same everywhere: rounds count the jobs
  running in every process, and "served longest ago" is the claim time each claim stores
  (``Storage.turns``). Jobs re-queued after their process died go first: they already had their turn.
  Images count, not jobs: a job holds ``images_requested`` of the ``capacity``
  from its claim until the API has answered (storing, posting and recording the result do not).
* **Backfilling:** when the next job (the *head*) does not fit, the free images go to the jobs just
  behind it, largest that fits first (best fit, so a 3-image gap takes a 3-image job and the 1-image
  jobs are kept for the gaps only they can fill). Without it, a 4-image head would leave 3 images idle
  for a whole job duration.
* **Anti-starvation:** once the head has waited ``backfill_patience`` seconds (default: 1.5 average
  job durations, so it first gets the chance of one whole round of jobs ending), it gets a
  reservation: the earliest time enough images free up (running jobs are expected to take the average
  duration) plus ``backfill_slack`` (default: a quarter of a duration). From then on a job may jump it
  only if, by that estimate, the head still starts before its reservation; once the reservation time
  has passed, nothing jumps it. So a head starts at most about patience + one job duration + slack
  (about 2¾ durations) after it first could not, whatever arrives behind it. The price is images idle
  while they gather for the head. In ``benchmarks/bench_bot.py``'s makespan run (100 jobs of 1-4
  images): ×1.06-1.08 of the floor with reservations; ×1.06 without, but a 4-image job then waited 13
  durations (small jobs took every image as it came free); ×1.13 with strict head-of-line order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot import settlement
from bot.errors import BotError, NotFound
from bot.fairness import FairQueue, fair_order, guild_key, guild_key_of, key_text, user_key
from bot.i18n import msg, store_message
from bot.imaging.decode import image_on_disk
from bot.interactions import answerable, everywhere
from bot.models import EditResult, ImageOnDisk
from bot.options import EditOptions
from bot.service import EditService
from bot.settings import DEFAULT_JOB_LEASE_S
from bot.store import AckedInteraction, CapacityFull, Job, JobStatus, Lease, OutputImage, Requester, Storage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # a job that was running when the process died is re-run at most once
REDELIVER_WINDOW = timedelta(hours=24)
RESTART_FAILURE = msg("job-failed-restart")
INTERNAL_FAILURE = msg("job-failed-internal")
DEFAULT_JOB_SECONDS = 15.0  # used for estimates until real durations are known
QUEUE_VIEW_TTL_S = 1.0  # how long queue positions and estimates are reused while nothing changes
GAP_S = 10.0  # how long an id skipped by the new-jobs read is looked at again (an uncommitted submission)
MAX_GAPS = 256  # at most this many of them


class JobNotifier(Protocol):
    """What the scheduler tells the outside world (the Discord adapter implements it).

    ``deliver`` must be idempotent (it records the posted message in storage), because a crash
    between posting and recording is followed by a second call after the restart.
    """

    async def job_started(self, job: Job) -> None: ...
    async def deliver(self, job: Job) -> None: ...
    async def queue_changed(self, scheduler: Scheduler) -> None: ...
    async def restarted(self, interactions: list[AckedInteraction]) -> None: ...  # at start-up, see recover


@dataclass(frozen=True, slots=True)
class QueueEntry:
    job: Job
    position: int  # 1 = next to start
    eta_seconds: float  # until it starts


class Scheduler:
    def __init__(
        self,
        storage: Storage,
        service: EditService,
        notifier: JobNotifier,
        *,
        capacity: int,
        clock: Callable[[], float] = time.monotonic,
        backfill: bool = True,
        backfill_patience: float | None = None,
        backfill_slack: float | None = None,
        owner: str = "local",
        lease_seconds: float = DEFAULT_JOB_LEASE_S,
        poll_seconds: float | None = None,
        claims: bool = True,
        global_capacity: int | None = None,
        receives: Callable[[int | None], bool] | None = everywhere,
        place: Callable[[Requester], None] | None = None,
    ) -> None:
        """``backfill=False`` is strict head-of-line order. ``backfill_patience``/``backfill_slack``
        (seconds; None: 1.5 and 0.25 average job durations) bound how long the head of the queue may be
        passed over, see the module docstring.

        ``owner`` names this process in its claims (``WORKER_ID``): at start-up it takes back the jobs
        its previous life held. ``lease_seconds``: how long a claim survives without a heartbeat, so how
        soon another process re-runs a dead one's job. ``poll_seconds``: look at the queue at least this
        often (other processes submit jobs and free images without waking this one); None: only when
        woken (one process). ``claims=False``: a gateway that runs no jobs (``RUN_WORKER=false``): it
        keeps the queue order and positions for ``/queue`` and progress messages, and starts nothing.
        ``capacity`` is what this process holds at most (``WORKER_MAX_IMAGES``), ``global_capacity``
        what all processes hold together (``MAX_IMAGES_IN_FLIGHT``; None: ``capacity``), checked by
        the claim itself. ``receives``: the servers (by id; None: DMs) whose members this process answers
        (``Settings.receives``: its own shards): their interrupted interactions at start-up and their
        queue positions; None: none (a queue-only worker, which shows only the jobs it runs). ``place``:
        the operator's rule on where edits happen (``JobService.check_place``), checked again before a
        job is claimed: a job from a server taken off ``ALLOWED_GUILD_IDS`` (or a DM once ``ALLOW_DMS``
        is off) while it waited is failed with a refund instead of spending the operator's images."""
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.storage = storage
        self.service = service
        self.notifier = notifier
        self.capacity = capacity
        self.backfill = backfill
        self.backfill_patience = backfill_patience  # None: 1.5 average job durations
        self.backfill_slack = backfill_slack  # None: a quarter of the average job duration
        self._clock = clock
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._refusals: set[asyncio.Task[None]] = set()  # jobs failed before their claim (``place``)
        self._running: dict[int, Job] = {}  # jobs holding images (claimed, API not answered yet)
        self._running_images: dict[int, int] = {}
        self._started_at: dict[int, float] = {}  # until the job's task ends (progress display)
        self._queued: FairQueue[Job] = FairQueue()  # every queued job, kept in step incrementally (_sync)
        self._seen_id = 0  # the newest queued job read so far: later ones are new
        self._gaps: dict[int, float] = {}  # ids skipped below it (maybe not committed yet) -> when noticed
        self._others: dict[int, Job] = {}  # jobs other processes were running at the last pass
        self._stamped: dict[Hashable, int] = {}  # key -> claim time stored for it (Storage.turns), for queued keys
        self._dirty: set[Hashable] = set()  # keys whose stored claim time must be read again
        self._turns_version = 0  # changes with _stamped or _last_started (the merged heads are rebuilt)
        self._order_running: list[Job] = []  # the running jobs (every process) the last pass counted
        self._retried_ids: set[int] = set()  # queued jobs re-run after their process died: they go first
        self._view: _View | None = None  # positions and estimates, computed lazily per pass (queue, entry)
        self._blocked_since: dict[int, float] = {}  # job id -> when it first was the head and did not fit
        self._reserved_until: dict[int, float] = {}  # job id -> latest start others may push it to
        self._last_started: dict[object, int] = {}  # user and guild keys -> turn number (round-robin)
        self._turns = itertools.count()
        self._durations: deque[float] = deque(maxlen=50)
        self._wake = asyncio.Event()
        self._fill_lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self._announcer: asyncio.Task[None] | None = None
        self._announce_again = False
        self._accepting = False
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self._heartbeat: asyncio.Task[None] | None = None
        self.claims = claims
        self.receives = receives
        self.place = place
        self.global_capacity = capacity if global_capacity is None else global_capacity

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.recover()
        self._accepting = True
        self._loop_task = asyncio.create_task(self._loop(), name="scheduler")
        if self.claims:
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="scheduler-heartbeat")
        self.wake()

    async def recover(self) -> None:
        """At start-up: requeue or fail what this process's previous life (same ``owner``) held and every
        job whose lease ran out (with ``claims``); answer the interactions a dead gateway acknowledged,
        while their tokens live (with ``receives``: a gateway, for the servers of its own
        shards, never a queue-only worker: either would take a live gateway's not-yet-saved interactions
        for dead ones); re-deliver what was never posted. The heartbeat later picks up the jobs of other
        processes that die."""
        failed_jobs = await self._recover_lost(self.owner, deliver=False) if self.claims else []
        if self.receives is not None:
            # before any delivery: a job whose progress message was never sent gets its original response back
            await self._notify(self.notifier.restarted, await answerable(self.storage, self.receives))
        for failed in failed_jobs:
            await self._notify(self.notifier.deliver, failed)
        if not self.claims:
            return
        since = datetime.now(UTC) - REDELIVER_WINDOW
        for job in await self.storage.undelivered_jobs(since):
            log.info("job %d finished but was never posted; posting it now", job.id)
            await self._notify(self.notifier.deliver, job)

    async def _recover_lost(self, owner: str | None, *, deliver: bool = True) -> list[Job]:
        failed_jobs = []
        for job in await self.storage.lost_jobs(owner):
            if job.attempts < MAX_ATTEMPTS:
                log.warning("job %d was running when its process stopped; running it again", job.id)
                await self.storage.requeue_lost(job.id, owner)
            else:
                log.warning("job %d interrupted %d times; failing it with a refund", job.id, job.attempts)
                failed = await self.storage.fail_job(
                    job.id, "restart", store_message(RESTART_FAILURE), settlement.failed(job, refund=True)
                )
                if failed is not None:
                    failed_jobs.append(failed)
        if deliver:
            for failed in failed_jobs:
                await self._notify(self.notifier.deliver, failed)
        return failed_jobs

    async def _heartbeat_loop(self) -> None:
        """Renew this process's leases; re-run the jobs of processes whose leases ran out."""
        while self._accepting:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = list(self._tasks)
                kept = await self.storage.renew_leases(self.owner, held, self.lease_seconds)
                for job_id in set(held) - kept:
                    log.error("job %d: this process lost its claim (lease expired); it may run twice", job_id)
                await self._recover_lost(None)
            except Exception:
                log.exception("heartbeat failed; trying again")
            self.wake()

    async def stop(self, grace: float) -> None:
        """Stop starting jobs; give running ones ``grace`` seconds, then put them back in the queue.

        Jobs submitted meanwhile are stored as queued and start in the next process. A job cut off
        while its API call runs is run again by the next process, and Ideogram may bill both calls:
        so the default grace (``SHUTDOWN_GRACE_S``) covers the longest a started job can take."""
        self._accepting = False
        for task in (self._loop_task, self._announcer, self._heartbeat):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        async with self._fill_lock:  # a pass still running (``refresh``) finishes starting its jobs
            tasks = [*self._tasks.values(), *self._refusals]
        if tasks:
            log.info("waiting up to %.0fs for %d running job(s)", grace, len(tasks))
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    async def refresh(self) -> None:
        """Re-read the queue now (after a submission or cancel) so positions are current at once."""
        if self._accepting:
            async with self._fill_lock:
                await self._fill()

    # --- queue view ----------------------------------------------------------------------------

    @property
    def images_running(self) -> int:
        return sum(self._running_images.values())

    @property
    def average_job_seconds(self) -> float:
        """How long a job holds its images (claim to API answer), over the last 50 jobs."""
        return sum(self._durations) / len(self._durations) if self._durations else DEFAULT_JOB_SECONDS

    @property
    def patience(self) -> float:
        return self.backfill_patience if self.backfill_patience is not None else 1.5 * self.average_job_seconds

    @property
    def slack(self) -> float:
        return self.backfill_slack if self.backfill_slack is not None else self.average_job_seconds / 4

    def running_since(self, job_id: int) -> float | None:
        started = self._started_at.get(job_id)
        return None if started is None else self._clock() - started

    def positions_shown(self) -> Iterator[Job]:
        """The queued jobs whose progress messages this process keeps current: those of the servers it
        ``receives``. With several processes each message then has one editor: a gateway shows its own
        shards' queue, a queue-only worker none (it shows only the jobs it runs)."""
        receives = self.receives
        if receives is None:
            return iter(())
        return (job for job in self._queued if receives(job.requester.guild_id))

    @property
    def waiting_count(self) -> int:
        """How many jobs are queued (every process's, as of the last pass)."""
        return len(self._queued)

    def queue(self) -> list[QueueEntry]:
        """The queued jobs in the order they will start, with a start estimate for each (all of them:
        prefer ``entry`` and ``guild_queue``, which compute only as far as they need).

        The estimate replays the queue: each running job is expected to free its images one average
        duration after it started, and each queued job starts once enough images are free."""
        view = self._current_view()
        view.extend(len(self._queued))
        return list(view.entries)

    def entry(self, job_id: int) -> QueueEntry | None:
        """A queued job's position and estimate: the order is merged up to it (and kept for the pass)."""
        if job_id not in self._queued:
            return None
        view = self._current_view()
        while job_id not in view.by_id and view.extend(len(view.entries) + 64):
            pass
        return view.by_id.get(job_id)

    def guild_queue(
        self, guild_id: int | None, visible: Callable[[Job], bool], limit: int
    ) -> tuple[list[QueueEntry], int, int]:
        """For ``/queue show``: the first ``limit`` entries of that server's queue that pass ``visible``
        (server-wide positions), how many of its entries pass ``visible``, and how many it has in all.
        The order is merged only until those entries are found."""
        key = guild_key_of(guild_id) if guild_id is not None else None
        jobs = list(self._queued.in_guild(key)) if key is not None else []
        shown = sum(1 for job in jobs if visible(job))
        wanted = min(limit, shown)
        found: list[QueueEntry] = []
        view = self._current_view()
        index = 0
        while len(found) < wanted:
            if index >= len(view.entries):
                view.extend(len(view.entries) + 64)
                if index >= len(view.entries):
                    break  # the whole queue was merged
            for e in view.entries[index:]:
                if e.job.requester.guild_id == guild_id and visible(e.job) and len(found) < wanted:
                    found.append(e)
            index = len(view.entries)
        return found, shown, len(jobs)

    def _current_view(self) -> _View:
        now = self._clock()
        if self._view is None or now - self._view.at >= QUEUE_VIEW_TTL_S:
            frees = [(at - now, images) for at, images in self._expected_frees(now)]
            free = self.capacity - self.images_running
            self._view = _View(now, self._order(), frees, free, self.average_job_seconds, self._images_of)
        return self._view

    def _order(self) -> Iterator[Job]:
        """The queued jobs in the order they start: re-run jobs first (they already had their turn;
        fair among themselves), then ``fair_order`` merged lazily from the users' queues."""
        again = self._retried()
        served = {k: self._turn(k) for job in again for k in (guild_key(job), user_key(job))}
        yield from fair_order(again, self._order_running, served)
        same_as = (self._turns_version, frozenset(job.id for job in self._order_running))
        yield from self._queued.order(self._order_running, self._turn, skip={j.id for j in again}, same_as=same_as)

    def _retried(self) -> list[Job]:
        return [job for job_id in self._retried_ids if (job := self._queued.get(job_id)) is not None]

    def _turn(self, key: Hashable) -> tuple[int, int]:
        """Who was served longest ago: the claim time every process stamps, then this process's order."""
        return self._stamped.get(key, -1), self._last_started.get(key, -1)

    def _images_of(self, job: Job) -> int:
        return min(job.images_requested, self.capacity)

    def _expected_frees(self, now: float) -> list[tuple[float, int]]:
        """(when, images) each running job is expected to free: one average duration after its start."""
        average = self.average_job_seconds
        return [
            (max(now, self._started_at.get(job_id, now) + average), images)
            for job_id, images in self._running_images.items()
        ]

    # --- the loop --------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while self._accepting:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                async with self._fill_lock:
                    await self._fill()
            except Exception:  # a storage hiccup must not stop the queue for good
                log.exception("scheduler pass failed; retrying shortly")
                await asyncio.sleep(1)
                self.wake()

    async def _sync(self) -> None:
        """Bring the in-memory queue up to date without reading it whole: jobs submitted since the last
        pass (by any process: ids grow), jobs other processes started (dropped), and jobs that left
        another process's hands (re-queued ones come back). Jobs cancelled or claimed elsewhere are
        dropped when the pass looks at them (``_verify``, or a claim that fails)."""
        new = await self.storage.jobs_with_status(JobStatus.QUEUED, after_id=self._seen_id)
        for job in new:
            self._add(job)
        now = self._clock()
        if new:
            # Ids skipped over may belong to submissions not committed yet (PostgreSQL hands out ids
            # before commit): look at them again for a few seconds.
            known = {job.id for job in new}
            low = max(self._seen_id, new[-1].id - MAX_GAPS)
            self._gaps.update((i, now) for i in range(low + 1, new[-1].id) if i not in known)
            self._seen_id = max(self._seen_id, new[-1].id)
        if self._gaps:
            self._gaps = {i: at for i, at in self._gaps.items() if now - at < GAP_S}
            if len(self._gaps) > MAX_GAPS:
                self._gaps = dict(sorted(self._gaps.items())[-MAX_GAPS:])
            for job in await self.storage.jobs_with_status(JobStatus.QUEUED, job_ids=sorted(self._gaps)):
                self._add(job)
                self._gaps.pop(job.id, None)
        running = await self.storage.jobs_with_status(JobStatus.RUNNING)  # at most the image cap's worth
        for job in running:
            self._drop(job.id)
            self._gaps.pop(job.id, None)
        others = {job.id: job for job in running if job.id not in self._tasks}
        for job in others.values():
            if job.id not in self._others:
                self._dirty |= {guild_key(job), user_key(job)}  # its claim stamped a new turn
        left = sorted(self._others.keys() - others.keys())
        if left:  # finished, failed, or re-queued (its process died or stopped): only those come back
            for job in await self.storage.jobs_with_status(JobStatus.QUEUED, job_ids=left):
                self._add(job)
        self._others = others
        # Rounds count the jobs running in every process (this one's from memory: the listing may
        # predate a claim), so the fair order is the same in all of them.
        self._order_running = [*self._running.values(), *others.values()]
        await self._sync_turns()

    async def _sync_turns(self) -> None:
        """Read again the claim time stored for the keys marked dirty (``Storage.turns``): one query, and
        none when nothing changed."""
        if not self._dirty:
            return
        keys = sorted(self._dirty, key=key_text)
        stamped = await self.storage.turns([key_text(k) for k in keys])
        for key in keys:
            if key_text(key) in stamped:
                self._stamped[key] = stamped[key_text(key)]
        self._dirty.clear()
        self._turns_version += 1

    def _add(self, job: Job) -> None:
        if job.id not in self._queued:
            self._dirty |= {guild_key(job), user_key(job)}
        self._queued.add(job)
        if job.attempts > 0:
            self._retried_ids.add(job.id)
        self._view = None

    def _drop(self, job_id: int) -> None:
        job = self._queued.discard(job_id)
        if job is not None:
            self._dirty |= {guild_key(job), user_key(job)}
            self._retried_ids.discard(job_id)
            self._blocked_since.pop(job_id, None)
            self._reserved_until.pop(job_id, None)
            self._view = None

    async def _verify(self, count: int) -> list[Job]:
        """The first ``count`` jobs of the order, each checked still queued in storage (fresh records):
        a job cancelled or claimed elsewhere since it was read is dropped here. Only the turns of the
        dropped jobs' keys are read again (a claim elsewhere stamped them), not the whole ``_sync``: a
        job another process started counts as running from the next pass on."""
        for _ in range(3):
            ahead = list(itertools.islice(self._order(), count))
            if not ahead:
                return []
            listed = await self.storage.jobs_with_status(JobStatus.QUEUED, job_ids=[job.id for job in ahead])
            fresh = {job.id: job for job in listed}
            for job in ahead:
                if job.id in fresh:
                    self._queued.add(fresh[job.id])
                else:
                    self._drop(job.id)
            if len(fresh) == len(ahead):
                return [fresh[job.id] for job in ahead]
            await self._sync_turns()
        return list(itertools.islice(self._order(), count))

    def discard(self, job_id: int) -> None:
        """A job left the queue (cancelled here): drop it now rather than when it nears the head."""
        self._drop(job_id)

    def progress_message_set(self, job_id: int, channel_id: int, message_id: int) -> None:
        """Keep the queued record current: progress messages of queued jobs follow queue changes."""
        job = self._queued.get(job_id)
        if job is not None:
            self._queued.add(replace(job, progress_channel_id=channel_id, progress_message_id=message_id))
            self._view = None

    async def _fill(self) -> None:
        now = self._clock()
        await self._sync()
        if len(self._last_started) + len(self._stamped) > 4 * (len(self._queued) + len(self._order_running)) + 64:
            keys = {k for job in self._order_running for k in (guild_key(job), user_key(job))} | self._queued.keys()
            self._last_started = {k: v for k, v in self._last_started.items() if k in keys}  # only the active
            self._stamped = {k: v for k, v in self._stamped.items() if k in keys}
        # Only the head of the order matters: the jobs that fit now, the first that does not, and the
        # backfill window behind it.
        ordered = await self._verify(3 * self.capacity + 1)
        self._blocked_since = {k: v for k, v in self._blocked_since.items() if k in self._queued}
        self._reserved_until = {k: v for k, v in self._reserved_until.items() if k in self._queued}

        # The cap is global: images held by every process's live claims (the claim re-checks it). A
        # gateway that never claims has nothing to fill.
        free = 0
        if self.claims:
            held = await self.storage.images_in_flight()
            free = min(self.capacity - self.images_running, self.global_capacity - max(self.images_running, held))
        started: set[int] = set()
        position = 0
        try:
            while position < len(ordered) and free > 0 and self._accepting and self.claims:  # in order, while they fit
                job = ordered[position]
                if self._images_of(job) > free:
                    break
                if await self._start(job):
                    free -= self._images_of(job)
                    started.add(job.id)
                position += 1
            if position < len(ordered) and free > 0 and self.backfill and self.claims:
                head = ordered[position]
                free -= await self._backfill(head, ordered[position + 1 :], free, now, started)
        except CapacityFull:  # another process took the images meanwhile: wait for the next pass
            log.debug("the image cap is full across processes; waiting")
        self._order_running = [*self._running.values(), *self._others.values()]
        self._view = None
        self._announce()

    async def _backfill(self, head: Job, behind: list[Job], free: int, now: float, started: set[int]) -> int:
        """Start jobs from behind the head (which does not fit) in the free images; returns how many
        images they took. Largest first, then fair order; never past the head's reservation."""
        since = self._blocked_since.setdefault(head.id, now)
        frees = self._expected_frees(now)
        need = self._images_of(head)
        if head.id not in self._reserved_until and now - since >= self.patience:
            self._reserved_until[head.id] = _earliest(need, free, frees) + self.slack
        reserved = self._reserved_until.get(head.id)
        window = sorted(behind[: 2 * self.capacity], key=lambda j: -self._images_of(j))  # stable: fair order
        taken = 0
        for job in window:
            images = self._images_of(job)
            if images > free - taken or not self._accepting:
                continue
            if reserved is not None:
                later = [*frees, (now + self.average_job_seconds, images)]
                if _earliest(need, free - taken - images, later) > max(reserved, now):
                    continue  # it would push the head past its reservation
            if await self._start(job):
                taken += images
                frees.append((now + self.average_job_seconds, images))
                started.add(job.id)
        return taken

    async def _start(self, job: Job) -> bool:
        if self.place is not None:
            try:
                self.place(job.requester)
            except BotError as exc:  # the operator no longer serves where it was asked for
                self._drop(job.id)
                refusal = asyncio.create_task(self._fail(job, exc), name=f"refuse-{job.id}")  # not in the pass
                self._refusals.add(refusal)
                refusal.add_done_callback(self._refusals.discard)
                return False
        turn_keys = (key_text(guild_key(job)), key_text(user_key(job)))
        lease = Lease(self.owner, self.lease_seconds, self.global_capacity, turn_keys)
        claimed = await self.storage.claim_job(job.id, lease)
        self._drop(job.id)  # claimed, or no longer queued (cancelled, or claimed by another process)
        if claimed is None:
            return False
        self._dirty |= {guild_key(job), user_key(job)}  # the claim stamped their turn: read it next pass
        turn = next(self._turns)
        self._turns_version += 1
        self._last_started[user_key(job)] = self._last_started[guild_key(job)] = turn
        self._blocked_since.pop(job.id, None)
        self._reserved_until.pop(job.id, None)
        self._running[claimed.id] = claimed
        self._running_images[claimed.id] = self._images_of(claimed)
        self._started_at[claimed.id] = self._clock()
        self._tasks[claimed.id] = asyncio.create_task(self._run(claimed), name=f"job-{claimed.id}")
        return True

    def _announce(self) -> None:
        """Tell the notifier the queue changed, in the background: progress messages are many slow
        HTTP calls, and starting jobs must not wait for them. Changes during a run coalesce."""
        if not self._accepting or self.receives is None:
            return
        self._announce_again = True
        if self._announcer is None or self._announcer.done():
            self._announcer = asyncio.create_task(self._announce_loop(), name="queue-announcer")

    async def _announce_loop(self) -> None:
        while self._announce_again:
            self._announce_again = False
            await self._notify(self.notifier.queue_changed, self)

    async def _run(self, job: Job) -> None:
        answered = False
        try:
            await self._notify(self.notifier.job_started, job)
            try:
                result = await self._call_api(job)
                answered = True
                self._durations.append(self._clock() - self._started_at[job.id])
                await self.storage.release_images(job.id)  # for every process's cap, before our own
            finally:
                self._release(job.id)  # the API has answered: its images are free for the next job
            outputs = await self._store_outputs(result)
            del result  # the images are on disk now: not held while they are delivered
            done = await self.storage.complete_job(job.id, outputs, settlement.succeeded(job, outputs))
        except asyncio.CancelledError:
            if not self._accepting:  # clean shutdown: back to the queue, the attempt not counted
                if not answered:
                    log.warning(
                        "job %d: shutdown cut off its API call; it runs again after the restart and may be "
                        "billed twice (SHUTDOWN_GRACE_S is shorter than the call)",
                        job.id,
                    )
                await self.storage.requeue_job(job.id, keep_attempt=False)
            raise
        except BotError as exc:
            await self._fail(job, exc)
        except Exception:
            log.exception("job %d crashed", job.id)
            failed = await self.storage.fail_job(
                job.id, "internal", store_message(INTERNAL_FAILURE), settlement.failed(job, refund=True)
            )
            if failed is not None:
                await self._notify(self.notifier.deliver, failed)
        else:
            await self._notify(self.notifier.deliver, done)
        finally:
            self._tasks.pop(job.id, None)
            self._started_at.pop(job.id, None)

    async def _fail(self, job: Job, exc: BotError) -> None:
        log.info("job %d failed: %s (%s)", job.id, exc.code, exc.detail)
        failed = await self.storage.fail_job(
            job.id, exc.code, store_message(exc.message), settlement.failed(job, refund=exc.refund)
        )
        if failed is not None:
            await self._notify(self.notifier.deliver, failed)

    def _release(self, job_id: int) -> None:
        if self._running_images.pop(job_id, None) is not None:
            self._running.pop(job_id, None)
            self._view = None
            self.wake()

    async def _call_api(self, job: Job) -> EditResult:
        """The inputs go from their files in the store to the API, and the results from the API into
        the store, in chunks: nothing is read whole (issue 11)."""
        image, mask = await asyncio.gather(self._input(job.input_sha), self._input(job.mask_sha))
        options = replace(EditOptions.from_json(job.options), num_images=job.images_requested, seed=job.seed)
        return await self.service.send(image, mask, job.prompt, options, store=self.storage.files)

    async def _input(self, sha: str) -> ImageOnDisk:
        try:
            return await asyncio.to_thread(image_on_disk, self.storage.files.path(sha), sha)
        except FileNotFoundError:
            raise NotFound(msg("file-image-gone"), detail=f"image file {sha} is missing") from None

    async def _store_outputs(self, result: EditResult) -> list[OutputImage]:
        """Results streamed into the store are there already (``sha``); bytes are written now."""
        files = self.storage.files
        outputs = []
        for img in result.images:
            if img.image is None:
                sha = None
            elif isinstance(img.image, ImageOnDisk) and img.image.sha is not None:
                sha = img.image.sha
            else:
                assert not isinstance(img.image, ImageOnDisk), "a result on disk comes from the store"
                sha = await files.put(img.image.data)
            outputs.append(
                OutputImage(
                    index=img.index,
                    sha=sha,
                    seed=img.seed,
                    is_safe=img.is_safe,
                    prompt_used=img.prompt_used,
                    resolution=img.resolution,
                    width=img.image.width if img.image else None,
                    height=img.image.height if img.image else None,
                    mime=img.image.mime if img.image else None,
                )
            )
        return outputs

    async def _notify(self, hook: Callable, *args: object) -> None:
        """Delivery problems are logged, never allowed to stop the queue."""
        try:
            await hook(*args)
        except Exception:
            log.exception("notifier %s failed", getattr(hook, "__name__", hook))


class _View:
    """Queue positions and start estimates, extended lazily along the merged order: a progress message
    asks for its own job, ``/queue show`` for the first few of a server, and only those get computed.

    The estimate replays the queue: each running job is expected to free its images one average duration
    after it started, and each queued job starts once enough images are free."""

    def __init__(
        self,
        at: float,
        order: Iterator[Job],
        frees: list[tuple[float, int]],
        free: int,
        average: float,
        images_of: Callable[[Job], int],
    ) -> None:
        self.at = at
        self.entries: list[QueueEntry] = []
        self.by_id: dict[int, QueueEntry] = {}
        self._order = order
        self._frees = frees
        heapq.heapify(self._frees)
        self._free = free
        self._start = 0.0
        self._average = average
        self._images_of = images_of

    def extend(self, count: int) -> bool:
        """Compute entries up to ``count``; False once the queue is exhausted."""
        while len(self.entries) < count:
            job = next(self._order, None)
            if job is None:
                return False
            need = self._images_of(job)
            while self._free < need and self._frees:
                finish, images = heapq.heappop(self._frees)
                self._start, self._free = max(self._start, finish), self._free + images
            entry = QueueEntry(job, len(self.entries) + 1, self._start)
            self.entries.append(entry)
            self.by_id[job.id] = entry
            self._free -= need
            heapq.heappush(self._frees, (self._start + self._average, need))
        return True


def _earliest(need: int, free: int, frees: list[tuple[float, int]]) -> float:
    """When ``need`` images will be free, given ``free`` now and (when, images) expected to free."""
    if free >= need:
        return -math.inf
    for at, images in sorted(frees):
        free += images
        if free >= need:
            return at
    return math.inf
