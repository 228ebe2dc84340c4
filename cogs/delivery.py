"""The Discord side of the job queue: progress messages and result posting (the ``JobNotifier``).

Progress lives in the requester's private (ephemeral) response and is edited through the interaction
webhook, so it works from any process for the token's 15 minutes. Results are posted as the bot's own
channel message — public, and still possible after the token has expired — with a nonce derived
from the job id so Discord itself drops a duplicate if we crash between posting and recording it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import TYPE_CHECKING

import discord

from bot.imaging import fit_file_for_upload_async, preview_async
from bot.models import ImageFile, PreparedEdit
from bot.store import Job, JobStatus
from cogs import render
from cogs.common import NO_MENTIONS, token_expired
from cogs.views import cancel_view, result_view

if TYPE_CHECKING:
    from bot.app import InpaintBot
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 5.0  # Discord rate-limits message edits; a few seconds is plenty for a progress line
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
UPLOAD_ATTEMPTS = 4  # a 413 makes us re-encode smaller and try again, this many sends in all


class DiscordNotifier:
    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = {}
        self._shown: dict[int, str] = {}
        self._last_edit: dict[int, float] = {}
        self._tickers: dict[int, asyncio.Task[None]] = {}
        self._later: dict[int, asyncio.Task[None]] = {}  # a throttled update, shown when the wait is over
        self._upload_limits: dict[int, int] = {}  # job id -> the upload limit its interaction reported

    # --- JobNotifier ---------------------------------------------------------------------------

    async def job_started(self, job: Job) -> None:
        self._tickers[job.id] = asyncio.create_task(self._tick(job.id), name=f"progress-{job.id}")

    async def queue_changed(self, scheduler: Scheduler) -> None:
        entries = scheduler.queue()
        for entry in entries:
            if entry.job.progress_message_id is not None:
                await self.render(entry.job.id, throttle=True)

    async def deliver(self, job: Job) -> None:
        for tasks in (self._tickers, self._later):
            task = tasks.pop(job.id, None)
            if task is not None:
                task.cancel()
        async with self._lock(job.id):
            job = await self.bot.jobs.find(job.id) or job
            if job.posted:
                return
            if job.status is JobStatus.SUCCEEDED:
                message = await self.post_results(job)
            elif job.status is JobStatus.FAILED:
                message = await self._failure_notice(job)
            else:
                return
            if message is not None:
                await self.bot.jobs.mark_posted(job.id, message.channel.id, message.id)
                if job.status is JobStatus.SUCCEEDED and not job.private:
                    self.bot.dispatch("result_posted", job, message)
        await self.render(job.id)
        self._forget(job.id)

    # --- progress ------------------------------------------------------------------------------

    async def track(
        self,
        job: Job,
        interaction: discord.Interaction,
        prepared: PreparedEdit | None = None,
        *,
        preview: ImageFile | None = None,
    ) -> None:
        """Adopt the command's deferred response as the job's progress message; with ``prepared`` (or
        its ``preview``, already made), it also shows the input with the area that will change tinted,
        so a wrong mask is caught early."""
        attachments = []
        if prepared is not None or preview is not None:
            shown = preview if preview is not None else await preview_async(prepared)  # type: ignore[arg-type]
            attachments.append(discord.File(io.BytesIO(shown.data), filename=f"area-{job.id}.{shown.extension}"))
        limit = getattr(interaction, "filesize_limit", None)
        if limit:
            self._upload_limits[job.id] = int(limit)
        async with self._lock(job.id):
            text, view = await self._progress_content(job.id)
            try:
                message = await interaction.edit_original_response(
                    content=text, view=view, allowed_mentions=NO_MENTIONS, attachments=attachments
                )
            except discord.HTTPException as exc:
                # The job is queued and its results will be posted (failures go by DM), so the user must
                # not be told that the command failed; there is just no progress message to update.
                log.warning("job %d: could not show its progress (%s %s)", job.id, exc.status, exc.code)
                return
            await self.bot.jobs.set_progress_message(job.id, message.channel.id, message.id)
            self._shown[job.id] = text
            self._last_edit[job.id] = time.monotonic()

    async def render(self, job_id: int, *, throttle: bool = False) -> None:
        """Show the job's current state; serialised per job so a stale state never wins.

        ``throttle``: at most one edit per ``PROGRESS_EVERY_S``; an update that comes too soon is not
        dropped but shown when the wait is over (so "queued" does not linger once the job runs)."""
        async with self._lock(job_id):
            last = self._last_edit.get(job_id)
            if throttle and last is not None and (wait := last + PROGRESS_EVERY_S - time.monotonic()) > 0:
                self._render_later(job_id, wait)
                return
            job = await self.bot.jobs.find(job_id)
            if job is None or job.progress_message_id is None or not job.reply_token:
                return
            text, view = await self._progress_content(job_id, job)
            if self._shown.get(job_id) == text:
                return
            webhook = self._webhook(job.reply_token)
            try:
                await webhook.edit_message(
                    job.progress_message_id, content=text, view=view, allowed_mentions=NO_MENTIONS
                )
            except discord.HTTPException as exc:
                if not token_expired(exc) and exc.status != 404:
                    raise
                log.debug("progress message of job %d can no longer be edited", job_id)
            self._shown[job_id] = text
            self._last_edit[job_id] = time.monotonic()

    async def _progress_content(self, job_id: int, job: Job | None = None) -> tuple[str, discord.ui.View]:
        job = job or await self.bot.jobs.find(job_id)
        assert job is not None
        scheduler = self.bot.scheduler
        if job.status is JobStatus.QUEUED:
            waiting = len(scheduler.queue())
            entry = scheduler.entry(job.id)
            position = entry.position if entry else waiting + 1
            text = render.queued_line(job, position, max(waiting, position), entry.eta_seconds if entry else 0)
            return text, cancel_view(job.id)
        jump = None if job.private else render.jump_url(job)
        text = render.status_line(job, elapsed=scheduler.running_since(job.id), jump_url=jump)
        return text, discord.ui.View()

    async def _tick(self, job_id: int) -> None:
        """While a job runs: show "being generated" (throttled), then the time spent every few seconds."""
        while not self.bot.is_closed():
            try:
                await self.render(job_id, throttle=True)
            except Exception:
                log.debug("progress update failed", exc_info=True)
            await asyncio.sleep(PROGRESS_EVERY_S)

    def _render_later(self, job_id: int, delay: float) -> None:
        if job_id in self._later:
            return

        async def later() -> None:
            await asyncio.sleep(delay)
            self._later.pop(job_id, None)
            if self.bot.is_closed():
                return
            try:
                await self.render(job_id, throttle=True)
            except Exception:
                log.debug("progress update failed", exc_info=True)

        self._later[job_id] = asyncio.create_task(later(), name=f"progress-later-{job_id}")

    def _webhook(self, token: str) -> discord.Webhook:
        """The interaction's own (application-type) webhook, as ``Interaction.followup`` builds it:
        only that kind may send ephemeral messages, and it works from a restarted process."""
        data = {"id": self.bot.application_id, "type": 3, "token": token}
        return discord.Webhook.from_state(data, self.bot._connection)

    def _lock(self, job_id: int) -> asyncio.Lock:
        return self._locks.setdefault(job_id, asyncio.Lock())

    def _forget(self, job_id: int) -> None:
        for store in (self._shown, self._last_edit, self._locks, self._upload_limits):
            store.pop(job_id, None)

    # --- results ---------------------------------------------------------------------------------

    async def post_results(self, job: Job, *, repost: bool = False) -> discord.Message | None:
        """Post a job's images from storage; also used by ``/history show`` to re-post.

        Images are re-encoded to fit the upload limit: the one the interaction reported when known,
        else the guild's. Should Discord still answer 413 (a stale or unknown limit, e.g. after a
        restart), the images are fitted again to half the largest file and sent again."""
        images = await self.bot.jobs.images(job.id)
        limit = self._upload_limit(job)
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            files, largest = await self._files(job, images, limit)
            try:
                return await self._send_results(job, images, files, repost=repost)
            except discord.HTTPException as exc:
                if exc.status != 413 or attempt == UPLOAD_ATTEMPTS or largest <= 1:
                    raise
                limit = min(limit, largest) // 2
                log.info("job %d: results too large for the channel; re-encoding within %d bytes", job.id, limit)
            finally:
                for file in files:  # the ones read from disk are ours to close (a retry may reset them)
                    file.fp.close()
        raise AssertionError("unreachable")

    async def _send_results(
        self, job: Job, images, files: list[discord.File], *, repost: bool
    ) -> discord.Message | None:
        embed = render.result_embed(job, images)
        view = result_view(job)
        channel_id = job.requester.thread_id or job.requester.channel_id
        content = f"<@{job.requester.user_id}> your edit is ready." if not repost else None
        mention = discord.AllowedMentions(users=[discord.Object(job.requester.user_id)])
        if job.private or channel_id is None:
            return await self.tell(job, embed=embed, view=view, files=files)
        channel = self.bot.get_partial_messageable(channel_id, guild_id=job.requester.guild_id)
        try:
            return await channel.send(
                content,
                embed=embed,
                files=files,
                view=view,
                allowed_mentions=mention,
                nonce=None if repost else f"job-{job.id}",
            )
        except discord.Forbidden:
            log.warning("no permission to post job %d in channel %s", job.id, channel_id)
            for file in files:
                file.reset()
            return await self.tell(
                job,
                content="I could not post in that channel (missing permissions), so here is your edit:",
                embed=embed,
                view=view,
                files=files,
            )

    async def _files(self, job: Job, images, limit: int) -> tuple[list[discord.File], int]:
        """The job's images as uploads within ``limit`` bytes each, and the largest size."""
        files = []
        largest = 0
        for image in render.outputs_of(images):
            if image.sha is None:
                continue
            path = self.bot.jobs.image_path(image.sha)
            size = (await asyncio.to_thread(path.stat)).st_size
            if size <= limit:  # uploaded from disk as it is: aiohttp streams the open file
                extension = ImageFile(b"", image.mime or "image/png", 0, 0).extension
                name = f"edit-{job.id}-{image.index + 1}.{extension}"
                files.append(discord.File(open(path, "rb"), filename=name))  # noqa: ASYNC230 (opening is quick)
                largest = max(largest, size)
                continue
            fitted = await fit_file_for_upload_async(  # waits for its weight in the budget, then reads
                path, image.mime or "image/png", image.width or 0, image.height or 0, limit, memory=self.bot.memory
            )
            name = f"edit-{job.id}-{image.index + 1}.{fitted.extension}"
            files.append(discord.File(io.BytesIO(fitted.data), filename=name))
            largest = max(largest, len(fitted.data))
        return files, largest

    def _upload_limit(self, job: Job) -> int:
        known = self._upload_limits.get(job.id)
        if known:
            return known
        guild = self.bot.get_guild(job.requester.guild_id) if job.requester.guild_id else None
        return guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT

    async def tell(self, job: Job, content: str | None = None, **kwargs) -> discord.Message | None:
        """Something only the requester should see: an ephemeral follow-up while the token lives,
        a DM after that."""
        if job.reply_token:
            webhook = self._webhook(job.reply_token)
            try:
                return await webhook.send(content, ephemeral=True, wait=True, allowed_mentions=NO_MENTIONS, **kwargs)
            except discord.HTTPException as exc:
                if not token_expired(exc):
                    raise
                for file in kwargs.get("files") or ():
                    file.reset()
        user = await self.bot.fetch_user(job.requester.user_id)
        try:
            return await user.send(content, allowed_mentions=NO_MENTIONS, **kwargs)
        except discord.Forbidden:
            log.warning("user %d has DMs closed; job %d result kept in history", job.requester.user_id, job.id)
            return None

    async def _failure_notice(self, job: Job) -> discord.Message | None:
        """Failures are private: the progress message if it can still be edited, else a DM."""
        text = render.finished_line(job, None)
        if job.reply_token and job.progress_message_id:
            webhook = self._webhook(job.reply_token)
            try:
                message = await webhook.edit_message(
                    job.progress_message_id, content=text, view=None, allowed_mentions=NO_MENTIONS
                )
            except discord.HTTPException as exc:
                if not token_expired(exc) and exc.status != 404:
                    raise
            else:
                self._shown[job.id] = text  # the progress message already says it: no second edit
                return message
        return await self.tell(job, content=text)
