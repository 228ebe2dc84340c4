"""Turning a request into a queued job: validate, prepare, store the inputs, reserve the images.

Everything a Discord command or button does to create work goes through here, so the order of checks
(cheap ones first, the quota reservation last) and their messages are the same everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bot import access, limits, metrics, settlement
from bot.access import Actor, Reason
from bot.errors import Forbidden, InputError, NotFound, QuotaExceeded
from bot.i18n import msg
from bot.models import ImageFile, MaskSpec, PreparedEdit
from bot.options import EditOptions
from bot.quota import ACTIVE, refusal_for_payer, refusal_message, resolve_limits
from bot.scheduler import Scheduler
from bot.service import EditService
from bot.settings import Settings
from bot.store import EffectiveLimits, ImageKind, Job, JobAction, JobImage, JobStatus, NewJob, Requester, Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Submitted:
    job: Job
    prepared: PreparedEdit | None  # None when the inputs were reused from an earlier job
    preview: ImageFile | None = None  # made during preparation (``submit_stored``), instead of ``prepared``


@dataclass(frozen=True, slots=True)
class Origin:
    """Who asks and where; ``role_ids`` resolve role overrides, ``reply_token`` allows private replies."""

    requester: Requester
    role_ids: tuple[int, ...] = ()
    private: bool = False
    reply_token: str | None = None
    payer_user_id: int | None = None
    session_id: int | None = None
    open_thread: bool = False  # /edit thread:true: start an editing session when the result is posted


def _for_payer(refusal: QuotaExceeded, origin: Origin) -> QuotaExceeded:
    """A refusal from someone else's quota (an editing session's owner pays) names whose it is. Every
    refusal passes here once (the prechecks, the active-jobs one for edits still preparing included, or
    the reservation), so this is where it is counted."""
    metrics.refused(refusal.limit)
    return refusal_for_payer(refusal, payer_user_id=origin.payer_user_id, requester_user_id=origin.requester.user_id)


def new_seed() -> int:
    return secrets.randbelow(limits.SEED_MAX + 1)


class JobService:
    def __init__(self, settings: Settings, storage: Storage, service: EditService, scheduler: Scheduler):
        self.settings = settings
        self.storage = storage
        self.service = service
        self.scheduler = scheduler
        self._preparing: Counter[int] = Counter()  # per requester: edits admitted, not yet saved as jobs

    async def limits_for(self, requester: Requester, role_ids: Iterable[int]) -> EffectiveLimits:
        """The requester's limits (their own roles, never a session owner's) and the bot's budget."""
        budget, ceilings = self.settings.daily_image_budget, self.settings.admin_ceilings
        if requester.guild_id is None:
            return resolve_limits(self.settings.limits, None, (), budget=budget, ceilings=ceilings)
        config = await self.storage.guild_config(requester.guild_id)
        return resolve_limits(self.settings.limits, config, role_ids, budget=budget, ceilings=ceilings)

    def check_place(self, requester: Requester) -> None:
        """The operator's controls on where edits happen: only the servers it serves, and DMs only with
        ``ALLOW_DMS`` (the adapter refuses unserved servers first; this also covers the web editor)."""
        if requester.guild_id is None and not self.settings.allow_dms:
            raise Forbidden(msg("served-no-dms"))
        if not self.settings.serves(requester.guild_id):
            raise Forbidden(msg("served-not-here"))

    def check(self, prompt: str, options: EditOptions) -> str:
        """The checks that need no I/O; callers run them before downloading anything."""
        if options.num_images > self.settings.max_images_in_flight:
            raise InputError(msg("jobs-too-many-at-once", count=self.settings.max_images_in_flight))
        return self.service.validate(prompt, options)

    async def precheck(self, origin: Origin, images: int) -> None:
        """Refuse over-limit requests before any download (the reservation re-checks atomically)."""
        await self._precheck(origin, images, 0)

    @asynccontextmanager
    async def preparing(self, origin: Origin, images: int) -> AsyncIterator[None]:
        """``precheck``, counting the requester's edits still being downloaded or prepared as active
        jobs, then hold this one's place among them until the block ends (by then it is a saved job, or
        refused). So a burst of ``/edit`` beyond the active-job limit is refused before any download."""
        user = origin.requester.user_id
        others = self._preparing[user]
        self._preparing[user] += 1  # before any await: parallel calls see each other
        try:
            await self._precheck(origin, images, others)
            yield
        finally:
            self._preparing[user] -= 1
            if not self._preparing[user]:
                del self._preparing[user]

    async def _precheck(self, origin: Origin, images: int, preparing: int) -> None:
        """``preparing``: the requester's other edits still downloading or being prepared, counted as
        active jobs on top of the saved ones."""
        self.check_place(origin.requester)
        limits_ = await self.limits_for(origin.requester, origin.role_ids)
        allowed = limits_.max_active_jobs
        if preparing and not limits_.exempt and allowed > 0:
            if preparing >= allowed:
                raise _for_payer(self._active_refusal(images, allowed), origin)
            limits_ = replace(limits_, max_active_jobs=allowed - preparing)
        try:
            await self.storage.precheck(origin.requester, origin.payer_user_id, images, limits_)
        except QuotaExceeded as exc:
            refusal = self._active_refusal(images, allowed) if preparing and exc.limit == ACTIVE else exc
            raise _for_payer(refusal, origin) from None

    @staticmethod
    def _active_refusal(images: int, allowed: int) -> QuotaExceeded:
        return QuotaExceeded(
            limit=ACTIVE,
            retry_at=None,
            message=refusal_message(ACTIVE, requested=images, allowed=allowed, used=allowed),
        )

    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> Path:
        """Stream an upload to a temporary file (never whole in memory); the caller ``unstage``s it once
        submitted: only the prepared (metadata-stripped) image is stored. ``TooLarge`` past ``max_bytes``."""
        return await self.storage.files.stage(chunks, max_bytes=max_bytes)

    async def unstage(self, path: Path) -> None:
        await asyncio.to_thread(self.storage.files.unstage, path)

    def image_path(self, sha: str) -> Path:
        """A stored image's file, for reading or uploading it piecewise."""
        return self.storage.files.path(sha)

    async def submit_stored(
        self,
        origin: Origin,
        image: Path,
        spec: MaskSpec,
        prompt: str,
        options: EditOptions,
        *,
        with_preview: bool = True,
        on_position: Callable[[int], None] | None = None,
    ) -> Submitted:
        """``submit`` for an image on disk (a streamed attachment, see ``stage``): it waits for the
        memory budget with only the file's name in hand (``on_position`` hears its place), and the
        preview is made while the decoded image is held, so nothing large outlives the preparation."""
        prompt = self.check(prompt, options)
        done = await self.service.prepare_file(image, spec, with_preview=with_preview, on_position=on_position)
        input_sha = await self.storage.files.put(done.edit.image.data)
        mask_sha = await self.storage.files.put(done.edit.mask.data)
        preview = done.preview
        del done  # the prepared bytes are not needed any more: the job reads its inputs from the store
        job = await self._enqueue(origin, JobAction.EDIT, prompt, options, input_sha, mask_sha, None)
        return Submitted(job, None, preview)

    async def submit(
        self,
        origin: Origin,
        image: bytes,
        spec: MaskSpec,
        prompt: str,
        options: EditOptions,
        *,
        action: JobAction = JobAction.EDIT,
        parent_job_id: int | None = None,
    ) -> Submitted:
        self.check_place(origin.requester)
        prompt = self.check(prompt, options)
        prepared = await self.service.prepare(image, spec)
        input_sha = await self.storage.files.put(prepared.image.data)
        mask_sha = await self.storage.files.put(prepared.mask.data)
        job = await self._enqueue(origin, action, prompt, options, input_sha, mask_sha, parent_job_id)
        return Submitted(job, prepared)

    async def submit_followup(
        self,
        origin: Origin,
        parent: Job,
        action: JobAction,
        *,
        prompt: str | None = None,
        image_index: int = 0,
        spec: MaskSpec | None = None,
        options: EditOptions | None = None,
    ) -> Submitted:
        """Reroll, Edit again and Use as base: the inputs come from storage, not from Discord.

        ``spec`` replaces the parent's mask (drawn on the parent's input, or on the chosen result for
        Use as base); without it the parent's mask is reused, resized by the pipeline if needed.
        ``options`` replaces the parent's options (``/edit`` in a session thread).
        """
        if options is None:  # buttons keep the parent's options; only the seed changes
            options = EditOptions.from_json(parent.options)
            options = replace(options, seed=new_seed() if action is JobAction.REROLL else None)
        prompt = prompt if prompt is not None else parent.prompt
        if action is JobAction.USE_AS_BASE:
            outputs = [i for i in await self.storage.job_images(parent.id) if i.kind is ImageKind.OUTPUT and i.sha]
            if not outputs:
                raise NotFound(msg("result-no-image"))
            chosen = next((i for i in outputs if i.index == image_index), None)
            if chosen is None:
                raise InputError(msg("result-images-range", count=len(outputs)))
            image = await self.storage.files.get(chosen.sha)
            if spec is None:
                spec = MaskSpec(mask=await self.storage.files.get(parent.mask_sha))
            return await self.submit(origin, image, spec, prompt, options, action=action, parent_job_id=parent.id)
        if spec is not None:
            image = await self.storage.files.get(parent.input_sha)
            return await self.submit(origin, image, spec, prompt, options, action=action, parent_job_id=parent.id)
        prompt = self.check(prompt, options)
        job = await self._enqueue(origin, action, prompt, options, parent.input_sha, parent.mask_sha, parent.id)
        return Submitted(job, None)

    async def _enqueue(
        self,
        origin: Origin,
        action: JobAction,
        prompt: str,
        options: EditOptions,
        input_sha: str,
        mask_sha: str,
        parent_job_id: int | None,
    ) -> Job:
        self.check_place(origin.requester)
        limits_ = await self.limits_for(origin.requester, origin.role_ids)
        try:
            job = await self.storage.submit_job(
                NewJob(
                    requester=origin.requester,
                    action=action,
                    prompt=prompt,
                    options=options.to_json() | ({"open_thread": True} if origin.open_thread else {}),
                    images_requested=options.num_images,
                    input_sha=input_sha,
                    mask_sha=mask_sha,
                    seed=options.seed,
                    parent_job_id=parent_job_id,
                    session_id=origin.session_id,
                    payer_user_id=origin.payer_user_id,
                    private=origin.private,
                    reply_token=origin.reply_token,
                ),
                limits_,
            )
        except QuotaExceeded as exc:
            raise _for_payer(exc, origin) from None
        log.info("job %d queued: %s by user %d", job.id, action, origin.requester.user_id)
        await self.scheduler.refresh()
        return job

    async def get(self, job_id: int) -> Job:
        job = await self.storage.get_job(job_id)
        if job is None:
            raise NotFound(msg("job-gone"))
        return job

    async def find(self, job_id: int) -> Job | None:
        return await self.storage.get_job(job_id)

    async def images(self, job_id: int) -> list[JobImage]:
        return await self.storage.job_images(job_id)

    async def image(self, sha: str) -> bytes:
        return await self.storage.files.get(sha)

    def has_image(self, sha: str) -> bool:
        return self.storage.files.exists(sha)

    async def set_progress_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        await self.storage.set_progress_message(job_id, channel_id, message_id)
        self.scheduler.progress_message_set(job_id, channel_id, message_id)  # its in-memory queue

    async def mark_posted(self, job_id: int, channel_id: int, message_id: int) -> bool:
        return await self.storage.mark_posted(job_id, channel_id, message_id)

    async def by_message(self, channel_id: int, message_id: int) -> Job | None:
        """The job whose result is that message (recorded when it was posted)."""
        return await self.storage.job_by_message(channel_id, message_id)

    async def for_follow_up(self, actor: Actor, job_id: int, *, shown_here: bool) -> Job:
        """The parent of a Reroll / Edit again / Use as base, if the actor may build on it here.
        A job the actor may not see is answered like a missing one (ids are sequential)."""
        job = await self.get(job_id)
        if not access.may_follow_up(actor, job, shown_here=shown_here):
            raise NotFound(msg("job-gone"))
        return job

    async def cancel(self, job_id: int, actor: Actor) -> Job:
        """Cancel a job that has not started: its requester, or a moderator of its own server."""
        job = await self.storage.get_job(job_id)
        decision = access.may_cancel(actor, job) if job is not None else None
        if job is None or (decision is not None and decision.reason in (Reason.OTHER_SERVER, Reason.CHANNEL_HIDDEN)):
            raise NotFound(msg("job-no-such", job=str(job_id)))
        if not decision:
            raise Forbidden(msg("job-cancel-not-yours"))
        if job.status is not JobStatus.QUEUED:
            raise InputError(
                msg("job-cancel-too-late", job=str(job_id), status=msg("job-status", status=str(job.status)))
            )
        cancelled = await self.storage.cancel_job(job_id, settlement.cancelled(job))
        if cancelled is None:
            raise InputError(msg("job-cancel-just-started", job=str(job_id)))
        self.scheduler.discard(job_id)
        await self.scheduler.refresh()
        return cancelled
