"""Turning a request into a queued job: validate, prepare, store the inputs, reserve the images.

Everything a Discord command or button does to create work goes through here, so the order of checks
(cheap ones first, the quota reservation last) and their messages are the same everywhere.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot import limits, settlement
from bot.errors import Forbidden, InputError, NotFound, QuotaExceeded
from bot.models import MaskSpec, PreparedEdit
from bot.options import EditOptions
from bot.quota import ACTIVE, GUILD_DAILY, resolve_limits
from bot.scheduler import Scheduler
from bot.service import EditService
from bot.settings import Settings
from bot.store import EffectiveLimits, ImageKind, Job, JobAction, JobStatus, NewJob, Requester, Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Submitted:
    job: Job
    prepared: PreparedEdit | None  # None when the inputs were reused from an earlier job


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
    """A refusal from someone else's quota (an editing session's owner pays) names whose it is."""
    payer = origin.payer_user_id
    if payer is None or payer == origin.requester.user_id or refusal.limit in (ACTIVE, GUILD_DAILY):
        return refusal  # the requester's own limits (active jobs count per requester) or the server's
    text = refusal.user_message
    for mine, theirs in (
        ("You've", "They've"),
        ("You can edit again", "Edits here can continue"),
        ("Your ", "Their "),
        ("your ", "their "),
    ):
        text = text.replace(mine, theirs)
    message = (
        f"This session's owner <@{payer}> pays for its edits, and the owner's limit is reached. {text} "
        "The owner can switch 💳 Who pays so that each editor uses their own quota."
    )
    return QuotaExceeded(refusal.limit, refusal.retry_at, message)


def new_seed() -> int:
    return secrets.randbelow(limits.SEED_MAX + 1)


class JobService:
    def __init__(self, settings: Settings, storage: Storage, service: EditService, scheduler: Scheduler):
        self.settings = settings
        self.storage = storage
        self.service = service
        self.scheduler = scheduler

    async def limits_for(self, requester: Requester, role_ids: Iterable[int]) -> EffectiveLimits:
        if requester.guild_id is None:
            return resolve_limits(self.settings.limits, None, ())
        config = await self.storage.guild_config(requester.guild_id)
        return resolve_limits(self.settings.limits, config, role_ids)

    def check(self, prompt: str, options: EditOptions) -> str:
        """The checks that need no I/O; callers run them before downloading anything."""
        if options.num_images > self.settings.max_images_in_flight:
            raise InputError(
                f"This bot makes at most {self.settings.max_images_in_flight} images at a time; ask for fewer."
            )
        return self.service.validate(prompt, options)

    async def precheck(self, origin: Origin, images: int) -> None:
        """Refuse over-limit requests before any download (the reservation re-checks atomically)."""
        limits_ = await self.limits_for(origin.requester, origin.role_ids)
        try:
            await self.storage.precheck(origin.requester, origin.payer_user_id, images, limits_)
        except QuotaExceeded as exc:
            raise _for_payer(exc, origin) from None

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
                raise NotFound("That result has no image to edit (it was withheld or deleted).")
            chosen = next((i for i in outputs if i.index == image_index), None)
            if chosen is None:
                raise InputError(f"That result has images 1 to {len(outputs)}; pick one of those.")
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

    async def cancel(self, job_id: int, user_id: int, *, can_manage: bool) -> Job:
        """Cancel a job that has not started; the requester or a moderator may."""
        job = await self.storage.get_job(job_id)
        if job is None:
            raise NotFound(f"There is no job #{job_id}.")
        if job.requester.user_id != user_id and not can_manage:
            raise Forbidden("Only the person who asked for this edit (or a moderator) can cancel it.")
        if job.status is not JobStatus.QUEUED:
            raise InputError(f"Job #{job_id} is {job.status} and can no longer be cancelled.")
        cancelled = await self.storage.cancel_job(job_id, settlement.cancelled(job))
        if cancelled is None:
            raise InputError(f"Job #{job_id} has just started and can no longer be cancelled.")
        await self.scheduler.refresh()
        return cancelled
