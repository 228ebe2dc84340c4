"""A user's past edits: pages, re-posting, deleting, thumbnails and comparisons, and ``/quota``.

The rules (who may re-post or delete what, from which server) come from ``bot.access``; this service
applies them and reads storage, so the ``/history`` cog only translates to and from Discord.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot import access
from bot.access import Actor, Reason
from bot.errors import Forbidden, NotFound
from bot.i18n import msg
from bot.jobs import JobService, Origin
from bot.store import ImageKind, Job, JobImage, QuotaStatus, Storage


@dataclass(frozen=True, slots=True)
class Page:
    jobs: list[Job]
    total: int
    offset: int  # moved back to the last page when edits were deleted since it was shown


@dataclass(frozen=True, slots=True)
class Comparison:
    job: Job
    before: bytes
    after: bytes


class Deleted(StrEnum):
    DONE = "done"
    GONE = "gone"  # not in the user's history any more
    ACTIVE = "active"  # queued or running: cancel it or wait


def shown_outputs(images: list[JobImage]) -> list[JobImage]:
    return sorted((i for i in images if i.kind is ImageKind.OUTPUT and i.sha), key=lambda i: i.index)


class HistoryService:
    def __init__(self, storage: Storage, jobs: JobService) -> None:
        self.storage = storage
        self.jobs = jobs

    async def page(self, user_id: int, search: str | None, offset: int, size: int) -> Page:
        total = await self.storage.count_history(user_id, search=search)
        if total and offset >= total:  # edits were deleted since this page was shown: go to the last page
            offset = (total - 1) // size * size
        jobs = await self.storage.history(user_id, search=search, limit=size, offset=offset)
        return Page(jobs, total, offset)

    async def count(self, user_id: int) -> int:
        return await self.storage.count_history(user_id)

    async def thumbnail_source(self, job: Job) -> bytes | None:
        """The first shown result, else the input: what a history line shows as its thumbnail."""
        images = await self.storage.job_images(job.id)
        source = next(iter(shown_outputs(images)), None) or next(
            (i for i in images if i.kind is ImageKind.INPUT and i.sha), None
        )
        if source is None or source.sha is None or not self.storage.files.exists(source.sha):
            return None
        return await self.storage.files.get(source.sha)

    async def for_repost(self, actor: Actor, job_id: int) -> Job:
        """``/history show``: a job the actor may post again here (``access.may_repost``)."""
        job = await self.storage.get_job(job_id)
        if job is None or not access.may_repost(actor, job):
            raise NotFound(msg("history-no-such-edit", job=str(job_id)))
        if not [i for i in await self.storage.job_images(job.id) if i.kind is ImageKind.OUTPUT]:
            raise NotFound(msg("history-no-images", job=str(job_id), status=msg("job-status", status=str(job.status))))
        return job

    async def check_delete(self, actor: Actor, job_id: int) -> Job:
        job = await self.storage.get_job(job_id)
        decision = access.may_delete_history(actor, job) if job is not None else None
        if job is None or (decision is not None and decision.reason is Reason.NOT_REQUESTER):
            raise NotFound(msg("history-not-yours", job=str(job_id)))
        if not decision:
            raise Forbidden(
                msg("history-still-active", job=str(job_id), status=msg("job-status", status=str(job.status)))
            )
        return job

    async def delete(self, actor: Actor, job_id: int) -> tuple[Deleted, Job | None]:
        job = await self.storage.get_job(job_id)
        if job is None or job.requester.user_id != actor.user_id:
            return Deleted.GONE, job
        if not access.may_delete_history(actor, job) or not await self.storage.delete_job(job_id):
            return Deleted.ACTIVE, job  # storage re-checks: it may have been re-queued meanwhile
        return Deleted.DONE, job

    async def delete_all(self, user_id: int) -> tuple[int, int]:
        """Delete every finished edit of the user: (deleted, still queued or running and kept)."""
        count = await self.storage.delete_user_history(user_id)
        return count, await self.storage.count_history(user_id)

    async def compare(self, actor: Actor, job_id: int, *, shown_here: bool) -> Comparison:
        job = await self.jobs.for_follow_up(actor, job_id, shown_here=shown_here)
        outputs = shown_outputs(await self.storage.job_images(job.id))
        if not outputs:
            raise NotFound(msg("history-nothing-to-compare"))
        assert outputs[0].sha is not None
        before = await self.storage.files.get(job.input_sha)
        return Comparison(job, before, await self.storage.files.get(outputs[0].sha))

    async def quota(self, origin: Origin) -> QuotaStatus:
        limits = await self.jobs.limits_for(origin.requester, origin.role_ids)
        return await self.storage.quota_status(origin.requester, limits)
