"""The durable job queue's engine: starts queued jobs fairly within the image cap, survives restarts.

Jobs live in storage; this object only decides *when* each runs. It never holds state that a restart
would lose: on start-up it re-reads the queue, re-runs jobs a dead process left running (once), and
re-delivers finished jobs whose results were never posted.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.errors import BotError
from bot.fairness import fair_order
from bot.imaging import load_image_info
from bot.models import ImageFile, PreparedEdit
from bot.options import EditOptions
from bot.service import EditService
from storage.base import Job, JobStatus, OutputImage, Storage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # a job that was running when the process died is re-run at most once
REDELIVER_WINDOW = timedelta(hours=24)
RESTART_FAILURE = "The bot restarted twice while making this edit, so it was stopped. Nothing was charged."
INTERNAL_FAILURE = "Something went wrong inside the bot while making this edit. Nothing was charged."
DEFAULT_JOB_SECONDS = 15.0  # used for estimates until real durations are known


class JobNotifier(Protocol):
    """What the scheduler tells the outside world (the Discord adapter implements it).

    ``deliver`` must be idempotent (it records the posted message in storage), because a crash
    between posting and recording is followed by a second call after the restart.
    """

    async def job_started(self, job: Job) -> None: ...
    async def deliver(self, job: Job) -> None: ...
    async def queue_changed(self, scheduler: Scheduler) -> None: ...


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
    ) -> None:
        self.storage = storage
        self.service = service
        self.notifier = notifier
        self.capacity = capacity
        self._clock = clock
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._running_images: dict[int, int] = {}
        self._started_at: dict[int, float] = {}
        self._queued: list[Job] = []
        self._durations: deque[float] = deque(maxlen=50)
        self._wake = asyncio.Event()
        self._fill_lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self._accepting = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.recover()
        self._accepting = True
        self._loop_task = asyncio.create_task(self._loop(), name="scheduler")
        self.wake()

    async def recover(self) -> None:
        """Requeue or fail what a dead process left running; re-deliver what it never posted."""
        for job in await self.storage.jobs_with_status(JobStatus.RUNNING):
            if job.attempts < MAX_ATTEMPTS:
                log.warning("job %d was running at shutdown; running it again", job.id)
                await self.storage.requeue_job(job.id)
            else:
                log.warning("job %d interrupted %d times; failing it with a refund", job.id, job.attempts)
                failed = await self.storage.fail_job(job.id, "restart", RESTART_FAILURE, refund=True)
                if failed is not None:
                    await self._notify(self.notifier.deliver, failed)
        since = datetime.now(UTC) - REDELIVER_WINDOW
        for job in await self.storage.undelivered_jobs(since):
            log.info("job %d finished but was never posted; posting it now", job.id)
            await self._notify(self.notifier.deliver, job)

    async def stop(self, grace: float) -> None:
        """Stop taking jobs; give running ones ``grace`` seconds, then put them back in the queue."""
        self._accepting = False
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        tasks = list(self._tasks.values())
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
        return sum(self._durations) / len(self._durations) if self._durations else DEFAULT_JOB_SECONDS

    def running_since(self, job_id: int) -> float | None:
        started = self._started_at.get(job_id)
        return None if started is None else self._clock() - started

    def queue(self) -> list[QueueEntry]:
        """The queued jobs in the order they will start, with a start estimate for each."""
        entries = []
        images_ahead = self.images_running
        for position, job in enumerate(self._queued, start=1):
            rounds = math.floor(images_ahead / self.capacity)
            entries.append(QueueEntry(job, position, rounds * self.average_job_seconds))
            images_ahead += self._images_of(job)
        return entries

    def entry(self, job_id: int) -> QueueEntry | None:
        return next((e for e in self.queue() if e.job.id == job_id), None)

    def _images_of(self, job: Job) -> int:
        return min(job.images_requested, self.capacity)

    # --- the loop --------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while self._accepting:
            await self._wake.wait()
            self._wake.clear()
            try:
                async with self._fill_lock:
                    await self._fill()
            except Exception:  # a storage hiccup must not stop the queue for good
                log.exception("scheduler pass failed; retrying shortly")
                await asyncio.sleep(1)
                self.wake()

    async def _fill(self) -> None:
        queued = fair_order(await self.storage.jobs_with_status(JobStatus.QUEUED))
        free = self.capacity - self.images_running
        started = []
        for job in queued:
            need = self._images_of(job)
            if need > free:
                break  # head-of-line: a big job is not starved by smaller ones behind it
            claimed = await self.storage.claim_job(job.id)
            if claimed is None:
                continue  # cancelled in the meantime
            free -= need
            started.append(job.id)
            self._running_images[claimed.id] = need
            self._started_at[claimed.id] = self._clock()
            self._tasks[claimed.id] = asyncio.create_task(self._run(claimed), name=f"job-{claimed.id}")
        self._queued = [job for job in queued if job.id not in started]
        await self._notify(self.notifier.queue_changed, self)

    async def _run(self, job: Job) -> None:
        try:
            await self._notify(self.notifier.job_started, job)
            outputs = await self._execute(job)
            done = await self.storage.complete_job(job.id, outputs)
        except asyncio.CancelledError:
            if not self._accepting:  # shutdown: back to the queue for the next process
                await self.storage.requeue_job(job.id)
            raise
        except BotError as exc:
            log.info("job %d failed: %s (%s)", job.id, exc.code, exc.detail)
            failed = await self.storage.fail_job(job.id, exc.code, exc.user_message, refund=exc.refund)
            if failed is not None:
                await self._notify(self.notifier.deliver, failed)
        except Exception:
            log.exception("job %d crashed", job.id)
            failed = await self.storage.fail_job(job.id, "internal", INTERNAL_FAILURE, refund=True)
            if failed is not None:
                await self._notify(self.notifier.deliver, failed)
        else:
            self._durations.append(self._clock() - self._started_at[job.id])
            await self._notify(self.notifier.deliver, done)
        finally:
            self._tasks.pop(job.id, None)
            self._running_images.pop(job.id, None)
            self._started_at.pop(job.id, None)
            self.wake()

    async def _execute(self, job: Job) -> list[OutputImage]:
        files = self.storage.files
        image, mask = await asyncio.gather(files.get(job.input_sha), files.get(job.mask_sha))
        prepared = PreparedEdit(image=_image_file(image), mask=_image_file(mask), edit_fraction=1.0)
        options = replace(EditOptions.from_json(job.options), num_images=job.images_requested, seed=job.seed)
        result = await self.service.run(prepared, job.prompt, options)
        outputs = []
        for img in result.images:
            sha = await files.put(img.image.data) if img.image is not None else None
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


def _image_file(data: bytes) -> ImageFile:
    fmt, width, height = load_image_info(data)
    return ImageFile(data=data, mime=f"image/{fmt.lower()}", width=width, height=height)
