"""The Discord side of the job queue: progress messages and result posting (the ``JobNotifier``).

Progress lives in the requester's private (ephemeral) response and is edited through the interaction
webhook, so it works from any process for the token's 15 minutes. Results are posted as the bot's own
channel message — public, and still possible after the token has expired — with a nonce derived
from the job id so Discord itself drops a duplicate if we crash between posting and recording it.

A post that fails is never silent (rules in ``bot.delivery``): transient failures are retried with
backoff (same nonce), then the requester is told where to read the result — the interaction's
private follow-up with the images while the token lives, else a DM, else the log — and the progress
message always ends in a final state. After a restart, ``restarted`` answers every interaction the
dead process had acknowledged while its token lives.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.delivery import Fallback, GaveUp, RetryPolicy, fallbacks, token_alive
from bot.i18n import Mention, msg
from bot.imaging import fit_file_for_upload_async, preview_async
from bot.models import ImageFile, PreparedEdit, extension_of
from bot.store import AckedInteraction, Job, JobStatus
from cogs import render
from cogs.common import NO_MENTIONS, token_expired
from cogs.text import render as render_text
from cogs.text import result_locale
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
        self._fell_back: dict[int, str] = {}  # job id -> why its result could not go where it belonged
        self._told: set[int] = set()  # jobs whose requester got the result privately instead
        self.retry = RetryPolicy()

    # --- JobNotifier ---------------------------------------------------------------------------

    async def job_started(self, job: Job) -> None:
        self._tickers[job.id] = asyncio.create_task(self._tick(job.id), name=f"progress-{job.id}")

    async def queue_changed(self, scheduler: Scheduler) -> None:
        """New positions for the queued jobs whose member still sees a progress message (one was sent
        and its token lives): bounded by recent submissions, not by the length of the queue."""
        for job in scheduler.positions_shown():
            if job.progress_message_id is not None and job.reply_token and token_alive(job.created_at):
                await self.render(job.id, throttle=True)

    async def deliver(self, job: Job) -> None:
        for tasks in (self._tickers, self._later):
            task = tasks.pop(job.id, None)
            if task is not None:
                task.cancel()
        try:
            async with self._lock(job.id):
                job = await self.bot.jobs.find(job.id) or job
                if job.posted:
                    return
                if job.status is JobStatus.SUCCEEDED:
                    message = await self._post_or_fall_back(job)
                elif job.status is JobStatus.FAILED:
                    message = await self._failure_notice(job)
                else:
                    return
                if message is not None:
                    await self.bot.jobs.mark_posted(job.id, message.channel.id, message.id)
                    if job.status is JobStatus.SUCCEEDED and not job.private and job.id not in self._told:
                        self.bot.dispatch("result_posted", job, message)
        finally:  # the progress message ends in a final state, whatever happened above
            try:
                await self.render(job.id)
            except Exception:
                log.warning("job %d: could not show its final state", job.id, exc_info=True)
            self._forget(job.id)

    async def restarted(self, interactions: list[AckedInteraction]) -> None:
        """After a restart: answer what the dead process acknowledged, while the tokens live.

        One that never became a job is told it was interrupted (nothing was reserved, so nothing was
        charged); one that did gets its job's progress shown in its original response — adopted as
        the progress message if the crash came before that — which delivery then ends in a final state."""
        for acked in interactions:
            if not token_alive(acked.created_at):
                continue
            try:
                if acked.job_id is None:
                    await self._interrupted(acked)
                else:
                    await self._adopt(acked)
            except discord.HTTPException as exc:  # dismissed, or the token died meanwhile
                log.info("interaction %d: could not answer it after the restart (%s)", acked.interaction_id, exc.status)
            except Exception:  # one bad record must not keep the others unanswered
                log.warning("interaction %d: answering after the restart failed", acked.interaction_id, exc_info=True)

    async def _interrupted(self, acked: AckedInteraction) -> None:
        text = render_text("interaction-interrupted", acked.locale)
        webhook = self._webhook(acked.token, acked.application_id)
        await webhook.edit_message("@original", content=text, view=None, allowed_mentions=NO_MENTIONS)
        await self.bot.interactions.settle(acked.interaction_id)
        log.info("interaction %d: told its member it was interrupted by the restart", acked.interaction_id)

    async def _adopt(self, acked: AckedInteraction) -> None:
        assert acked.job_id is not None
        job = await self.bot.jobs.find(acked.job_id)
        if job is None:
            return
        async with self._lock(job.id):
            if job.progress_message_id is None:
                text, view = await self._progress_content(job.id, job)
                webhook = self._webhook(acked.token, acked.application_id)
                message = await webhook.edit_message("@original", content=text, view=view, allowed_mentions=NO_MENTIONS)
                await self.bot.jobs.set_progress_message(job.id, message.channel.id, message.id)
                self._shown[job.id] = text
                self._last_edit[job.id] = time.monotonic()
                log.info("job %d: its original response is its progress message again", job.id)
        await self.render(job.id)  # a job that finished before the crash shows its final state now

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
        if limit := getattr(interaction, "filesize_limit", None):
            self._upload_limits[job.id] = int(limit)
        await self.bot.interactions.link(interaction.id, job.id)
        await self._show_progress(job, interaction.edit_original_response, prepared, preview)

    async def track_stored(self, job: Job, token: str, prepared: PreparedEdit | None = None) -> None:
        """``track`` for a response known only by its stored interaction token (the editor's confirm
        comes from the web page, not from an interaction)."""
        original = functools.partial(self._webhook(token).edit_message, "@original")
        await self._show_progress(job, original, prepared, None)

    async def _show_progress(
        self,
        job: Job,
        edit_original: Callable[..., Awaitable[discord.Message]],
        prepared: PreparedEdit | None,
        preview: ImageFile | None,
    ) -> None:
        attachments = []
        if prepared is not None or preview is not None:
            shown = preview if preview is not None else await preview_async(prepared)  # type: ignore[arg-type]
            attachments.append(discord.File(io.BytesIO(shown.data), filename=f"area-{job.id}.{shown.extension}"))
        async with self._lock(job.id):
            text, view = await self._progress_content(job.id)
            try:
                message = await edit_original(
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
            waiting = scheduler.waiting_count
            entry = scheduler.entry(job.id)
            position = entry.position if entry else waiting + 1
            eta = entry.eta_seconds if entry else 0
            text = render.queued_line(job, position, max(waiting, position), eta, job.requester.locale)
            return text, cancel_view(job.id, job.requester.locale)
        if job.status is JobStatus.SUCCEEDED and not job.posted and job.id in self._fell_back:
            reason = msg("delivery-reason", reason=self._fell_back[job.id])
            return render_text(
                "progress-undelivered", job.requester.locale, job=str(job.id), reason=reason
            ), discord.ui.View()
        jump = None if job.private or job.id in self._told else render.jump_url(job)
        text = render.status_line(
            job, elapsed=scheduler.running_since(job.id), jump_url=jump, locale=job.requester.locale
        )
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

    def _webhook(self, token: str, application_id: int | None = None) -> discord.Webhook:
        """The interaction's own (application-type) webhook, as ``Interaction.followup`` builds it:
        only that kind may send ephemeral messages, and it works from a restarted process."""
        data = {"id": application_id or self.bot.application_id, "type": 3, "token": token}
        return discord.Webhook.from_state(data, self.bot._connection)

    def _lock(self, job_id: int) -> asyncio.Lock:
        return self._locks.setdefault(job_id, asyncio.Lock())

    def _forget(self, job_id: int) -> None:
        for store in (self._shown, self._last_edit, self._locks, self._upload_limits, self._fell_back):
            store.pop(job_id, None)
        self._told.discard(job_id)

    # --- results ---------------------------------------------------------------------------------

    async def _post_or_fall_back(self, job: Job) -> discord.Message | None:
        """Post the result where it belongs, retrying transient failures; else tell the requester."""
        try:
            return await self.retry.run(lambda: self.post_results(job), _status_of, what=f"job {job.id}: posting")
        except GaveUp as gave_up:
            reason = _reason(gave_up.cause)
            log.warning("job %d: result not posted (%s, %s); telling its requester", job.id, reason, gave_up)
            self._fell_back[job.id] = reason
            return await self._fall_back(job, reason)

    async def _fall_back(self, job: Job, reason: str) -> discord.Message | None:
        """The result, privately, with a word on why it is not where it was asked for."""
        images = await self.bot.jobs.images(job.id)
        async with self._uploads(job, images, self._upload_limit(job)) as (files, _):
            message = await self._tell_result(job, images, files, reason)
        if message is not None:
            self._told.add(job.id)
            self._fell_back.pop(job.id, None)
        return message

    async def post_results(self, job: Job, *, repost: bool = False) -> discord.Message | None:
        """Post a job's images from storage; also used by ``/history show`` to re-post.

        Images are re-encoded to fit the upload limit: the one the interaction reported when known,
        else the guild's. Should Discord still answer 413 (a stale or unknown limit, e.g. after a
        restart), the images are fitted again to half the largest file and sent again."""
        images = await self.bot.jobs.images(job.id)
        limit = self._upload_limit(job)
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            async with self._uploads(job, images, limit) as (files, largest):
                try:
                    return await self._send_results(job, images, files, repost=repost)
                except discord.HTTPException as exc:
                    if exc.status != 413 or attempt == UPLOAD_ATTEMPTS or largest <= 1:
                        raise
                    limit = min(limit, largest) // 2
                    log.info("job %d: results too large for the channel; re-encoding within %d bytes", job.id, limit)
        raise AssertionError("unreachable")

    async def _send_results(
        self, job: Job, images, files: list[discord.File], *, repost: bool
    ) -> discord.Message | None:
        channel_id = job.requester.thread_id or job.requester.channel_id
        if job.private or channel_id is None:
            return await self._tell_result(job, images, files)
        locale = result_locale(job)
        content = render_text("result-ready", locale, requester=Mention(job.requester.user_id)) if not repost else None
        mention = discord.AllowedMentions(users=[discord.Object(job.requester.user_id)])
        channel = self.bot.get_partial_messageable(channel_id, guild_id=job.requester.guild_id)
        try:
            return await channel.send(
                content,
                embed=render.result_embed(job, images, locale),
                files=files,
                view=result_view(job, locale),
                allowed_mentions=mention,
                nonce=None if repost else f"job-{job.id}",
            )
        except discord.Forbidden:
            if not repost:
                raise  # ``deliver`` falls back (bot.delivery)
            log.warning("no permission to post job %d in channel %s", job.id, channel_id)
            return await self._tell_result(job, images, files, "forbidden")

    async def _tell_result(
        self, job: Job, images, files: list[discord.File], reason: str | None = None
    ) -> discord.Message | None:
        """The result for its requester's eyes only, in their language; with ``reason`` (a
        ``delivery-reason`` key), a word on why it is not where it was asked for."""
        locale = job.requester.locale
        content = None
        if reason is not None:
            why = msg("delivery-reason", reason=reason)
            content = render_text("delivery-fallback", locale, job=str(job.id), reason=why)
        embed, view = render.result_embed(job, images, locale), result_view(job, locale)
        return await self.tell(job, content, embed=embed, view=view, files=files)

    @asynccontextmanager
    async def _uploads(self, job: Job, images, limit: int) -> AsyncIterator[tuple[list[discord.File], int]]:
        """``_files``, closed when the block ends whatever happened (sent, refused or never sent)."""
        files, largest = await self._files(job, images, limit)
        try:
            yield files, largest
        finally:
            for file in files:
                file.close()  # gives the file its own close back (discord.py stubs it until a send ends)
                file.fp.close()  # ours, opened by ``_files``: discord.py closes only the files it opened

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
                extension = extension_of(image.mime or "image/png")
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

    async def tell(
        self, job: Job, content: str | None = None, *, files: Sequence[discord.File] = (), **kwargs: Any
    ) -> discord.Message | None:
        """Something only the requester should see, where ``bot.delivery.fallbacks`` says: the
        interaction's private follow-up while its token lives, else a DM, else the log (the edit is kept
        in history). ``files`` are the caller's to open and close; a place that refuses them as too large
        (413) gets the message without them."""
        for place in fallbacks(bool(job.reply_token) and token_alive(job.created_at)):
            if place is Fallback.LOG:
                break
            try:
                send = await self._private_send(job, place)
            except discord.HTTPException as exc:
                log.info("job %d: no way to its requester by %s (%s %s)", job.id, place, exc.status, exc.code)
                continue
            for attached in (list(files), []) if files else ([],):
                for file in attached:
                    file.reset()  # a refused attempt read them
                try:
                    return await send(content, files=attached, allowed_mentions=NO_MENTIONS, **kwargs)
                except discord.HTTPException as exc:
                    log.info("job %d: could not reach its requester by %s (%s %s)", job.id, place, exc.status, exc.code)
                    if exc.status != 413:
                        break
        log.warning(
            "job %d: requester %d could not be told (token expired, DMs closed); the edit is kept in history",
            job.id,
            job.requester.user_id,
        )
        return None

    async def _private_send(self, job: Job, place: Fallback) -> Callable[..., Awaitable[discord.Message]]:
        """How to send privately at ``place``: the interaction's ephemeral follow-up, or a DM."""
        if place is Fallback.FOLLOW_UP:
            assert job.reply_token
            return functools.partial(self._webhook(job.reply_token).send, ephemeral=True, wait=True)
        return (await self.bot.fetch_user(job.requester.user_id)).send

    async def _failure_notice(self, job: Job) -> discord.Message | None:
        """Failures are private: the progress message if it can still be edited, else a DM."""
        text = render.finished_line(job, None, job.requester.locale)
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


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failed post for ``bot.delivery`` (None: no answer); anything else is a bug."""
    if isinstance(exc, discord.HTTPException):
        return exc.status
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return None
    raise exc


def _reason(exc: BaseException) -> str:
    """A ``delivery-reason`` key for a post that failed for good."""
    if isinstance(exc, discord.NotFound):
        return "gone"
    if isinstance(exc, discord.Forbidden):
        return "forbidden"
    if isinstance(exc, discord.HTTPException) and exc.status == 400:
        return "closed"  # e.g. 50083 thread archived, 40058 thread locked
    return "error"
