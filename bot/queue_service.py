"""``/queue``: what runs and waits on a server, as one member may see it, and cancelling from it.

The server's queue shows only that server's edits, and of those only the ones the viewer could see
anyway: no private edits of others, none from channels the viewer cannot read (``bot.access``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import access
from bot.access import Actor
from bot.jobs import JobService
from bot.scheduler import QueueEntry, Scheduler
from bot.store import Job, JobStatus, Storage

SHOWN = 15  # waiting entries listed by ``/queue show``; the rest are counted


@dataclass(frozen=True, slots=True)
class Running:
    job: Job
    seconds: float


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    running: list[Running]  # the ones the viewer may see
    waiting: list[QueueEntry]  # the ones the viewer may see; positions are the server-wide ones
    running_total: int  # this server's, shown or not
    waiting_total: int
    waiting_visible: int  # how many of the waiting ones the viewer may see (``waiting`` holds the first few)


class QueueService:
    def __init__(self, storage: Storage, scheduler: Scheduler, jobs: JobService) -> None:
        self.storage = storage
        self.scheduler = scheduler
        self.jobs = jobs

    async def snapshot(self, actor: Actor, limit: int = SHOWN) -> QueueSnapshot:
        """The first ``limit`` waiting entries the viewer may see, with counts: the queue order is
        merged only that far (not replayed whole for every view)."""
        running = await self.storage.jobs_with_status(JobStatus.RUNNING, guild_id=actor.guild_id)
        waiting, visible, total = self.scheduler.guild_queue(
            actor.guild_id, lambda job: access.may_see_queue_entry(actor, job), limit
        )
        return QueueSnapshot(
            running=[
                Running(job, self.scheduler.running_since(job.id) or 0)
                for job in running
                if access.may_see_queue_entry(actor, job)
            ],
            waiting=waiting,
            running_total=len(running),
            waiting_total=total,
            waiting_visible=visible,
        )

    async def cancel(self, actor: Actor, job_id: int) -> Job:
        return await self.jobs.cancel(job_id, actor)
