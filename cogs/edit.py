"""``/edit`` and the "Edit image" message context menu."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.errors import InputError, MaskMissing
from bot.i18n import Message, UserText, msg
from bot.imaging import parse_box
from bot.jobs import Origin, Submitted
from bot.models import MaskSpec, Region, check_area_choice
from bot.options import EditOptions, MagicPrompt, RenderingSpeed, StyleType
from bot.store import JobAction, TooLarge
from cogs.common import (
    AREA_HINT,
    acknowledge,
    actor_of,
    bot_of,
    origin_of,
    parse_area,
    parse_image_number,
    require_post_permissions,
    respond,
    session_origin,
    settled,
)
from cogs.editor import offer_editor
from cogs.forms import Field, build_form, form_handler
from cogs.render import MASK_HELP, MENU_MASK_HELP
from cogs.text import private_locale
from cogs.text import render as say

if TYPE_CHECKING:
    from bot.app import InpaintBot

REGION_CHOICES = [
    app_commands.Choice(name=label, value=region.value)
    for label, region in [
        ("Top half", Region.TOP),
        ("Bottom half", Region.BOTTOM),
        ("Left half", Region.LEFT),
        ("Right half", Region.RIGHT),
        ("Centre", Region.CENTER),
        ("Border", Region.BORDER),
    ]
]
STYLE_CHOICES = [app_commands.Choice(name=s.value.title(), value=s.value) for s in StyleType]
SPEED_CHOICES = [
    app_commands.Choice(name=s.value.title(), value=s.value)
    for s in (RenderingSpeed.TURBO, RenderingSpeed.DEFAULT, RenderingSpeed.QUALITY)
]
MAGIC_CHOICES = [app_commands.Choice(name=m.value.title(), value=m.value) for m in MagicPrompt]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def is_image(attachment: discord.Attachment) -> bool:
    if attachment.content_type:
        return attachment.content_type.startswith("image/")
    return attachment.filename.lower().endswith(IMAGE_SUFFIXES)


def check_size(attachment: discord.Attachment, what: str) -> None:
    """Refuse from the attachment's metadata, before a single byte is fetched."""
    if attachment.size > limits.MAX_INPUT_BYTES:
        raise _too_large(attachment.size, what)


async def download(attachment: discord.Attachment, what: str) -> bytes:
    """Size is checked from the attachment's metadata before a single byte is fetched."""
    check_size(attachment, what)
    try:
        return await attachment.read()
    except discord.HTTPException as exc:
        raise InputError(msg("upload-download-failed", what=what, status=str(exc.status))) from None


DOWNLOAD_CHUNK = 256 * 1024


def _too_large(size: float, what: str) -> InputError:
    return InputError(
        msg("upload-too-large", what=what, megabytes=size / 1_048_576, limit=limits.MAX_INPUT_BYTES // 1_048_576)
    )


class MemoryWait:
    """Shows "waiting for memory, position N" in the deferred response while a preparation waits for
    the memory budget (nothing is shown when it is admitted at once). ``settle`` before the progress
    message replaces it, so a late position update never overwrites the progress."""

    EVERY_S = 5.0  # a burst moves every waiting position at each admission: one edit per 5 s at most

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self._task: asyncio.Task[object] | None = None
        self._shown_at = -self.EVERY_S

    def show(self, position: int) -> None:
        now = time.monotonic()
        if now - self._shown_at < self.EVERY_S or (self._task is not None and not self._task.done()):
            return
        self._shown_at = now
        content = say(msg("progress-memory", position=position), private_locale(self.interaction))
        self._task = asyncio.ensure_future(self.interaction.edit_original_response(content=content))

    async def settle(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


class EditCog(commands.Cog):
    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Edit image", callback=self.edit_image_menu)
        bot.tree.add_command(self.menu)
        self._downloads: aiohttp.ClientSession | None = None

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        if self._downloads is not None:
            await self._downloads.close()

    @asynccontextmanager
    async def streamed(self, attachment: discord.Attachment, what: str) -> AsyncIterator[Path]:
        """Download an attachment to a temporary file chunk by chunk (never whole in memory while it
        waits for preparation), removed when the block ends. The size was checked from the metadata
        first, and the stream is cut off past the limit should Discord send more."""
        check_size(attachment, what)
        if self._downloads is None:
            self._downloads = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        try:
            async with self._downloads.get(attachment.url) as response:
                if response.status != 200:
                    raise InputError(msg("upload-download-failed", what=what, status=str(response.status)))
                chunks = response.content.iter_chunked(DOWNLOAD_CHUNK)
                path = await self.bot.jobs.stage(chunks, max_bytes=limits.MAX_INPUT_BYTES)
        except TooLarge:
            raise _too_large(limits.MAX_INPUT_BYTES + 1, what) from None
        except (aiohttp.ClientError, TimeoutError):
            raise InputError(msg("upload-download-failed", what=what, status="—")) from None
        try:
            yield path
        finally:
            await self.bot.jobs.unstage(path)

    @app_commands.command(name="edit", description="Change part of an image with a prompt")
    @app_commands.describe(
        prompt="What the changed area should show",
        image="The image to edit (optional inside an editing-session thread)",
        mask="Black = change, white = keep (or use invert_mask, transparency, region or box)",
        region="Change a whole part of the image instead of drawing a mask",
        box="Change a rectangle: x1,y1,x2,y2 in percent, e.g. 10,20,60,80",
        invert_mask="My mask is white where the image should change",
        seed="Repeat a result exactly (same inputs + same seed)",
        count="How many versions to make",
        magic_prompt="Let the API improve the prompt",
        style="Style of the edit",
        speed="Faster is cheaper; quality is slower",
        private="Only you see the results",
        thread="Open an editing-session thread on the result",
    )
    @app_commands.choices(region=REGION_CHOICES, style=STYLE_CHOICES, speed=SPEED_CHOICES, magic_prompt=MAGIC_CHOICES)
    async def edit(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, limits.PROMPT_MAX_CHARS],
        image: discord.Attachment | None = None,
        mask: discord.Attachment | None = None,
        region: app_commands.Choice[str] | None = None,
        box: str | None = None,
        invert_mask: bool = False,
        seed: app_commands.Range[int, limits.SEED_MIN, limits.SEED_MAX] | None = None,
        count: app_commands.Range[int, 1, limits.DISCORD_COUNT_MAX] = 1,
        magic_prompt: app_commands.Choice[str] | None = None,
        style: app_commands.Choice[str] | None = None,
        speed: app_commands.Choice[str] | None = None,
        private: bool = False,
        thread: bool = False,
    ) -> None:
        await acknowledge(interaction)  # before any I/O
        if not private:
            require_post_permissions(interaction, private_hint=True)
        options = EditOptions(
            num_images=count,
            seed=seed,
            magic_prompt=MagicPrompt(magic_prompt.value) if magic_prompt else None,
            style_type=StyleType(style.value) if style else None,
            rendering_speed=RenderingSpeed(speed.value) if speed else None,
        )
        self.bot.jobs.check(prompt, options)
        check_area_choice(mask=mask is not None, region=region is not None, box=bool(box))
        if image is not None and not is_image(image):
            raise InputError(msg("upload-not-an-image", name=UserText(image.filename)))
        for attachment, what in ((image, "image"), (mask, "mask")):
            if attachment is not None:
                check_size(attachment, what)  # both, before either is downloaded
        area_box = parse_box(box) if box else None
        origin = origin_of(interaction, private=private)
        session = await self.bot.sessions.for_thread(origin.requester.thread_id)
        if session is not None:
            origin = await session_origin(interaction, origin, session.id)
        elif thread:
            origin = replace(origin, open_thread=True)
        if image is None and session is None:
            raise InputError(msg("edit-image-missing"))
        # refuse over-limit before downloading; this edit counts as active while it is prepared
        async with self.bot.jobs.preparing(origin, options.num_images):
            spec = MaskSpec(
                mask=await download(mask, "mask") if mask is not None else None,
                invert=invert_mask,
                region=Region(region.value) if region else None,
                box=area_box,
            )
            if image is None:
                assert session is not None
                given = spec.mask is not None or spec.region is not None or spec.box is not None
                submitted = await self.bot.sessions.edit_head(session, origin, prompt, options, spec if given else None)
            else:
                submitted = await self.submit_upload(interaction, origin, image, spec, prompt, options, MASK_HELP)
        if submitted is not None:
            await self.bot.notifier.track(submitted.job, interaction, submitted.prepared, preview=submitted.preview)

    async def submit_upload(
        self,
        interaction: discord.Interaction,
        origin: Origin,
        image: discord.Attachment,
        spec: MaskSpec,
        prompt: str,
        options: EditOptions,
        mask_help: Message,
    ) -> Submitted | None:
        """Stream ``image`` in and queue its edit (the interaction's response shows a wait for memory);
        for the caller's ``preparing`` block, which must end before the job is tracked. None when the
        image says no area to change: the member got the editor's link instead, or ``mask_help`` and
        how to enable it (issue 12), and the interaction is settled."""
        async with self.streamed(image, "image") as path:
            try:
                waiting = MemoryWait(interaction)
                try:
                    return await self.bot.jobs.submit_stored(
                        origin, path, spec, prompt, options, on_position=waiting.show
                    )
                finally:
                    await waiting.settle()
            except MaskMissing:
                data = await asyncio.to_thread(path.read_bytes)
                await offer_editor(interaction, origin, data, prompt, options, mask_help)
                await settled(interaction)
                return None

    async def edit_image_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Opens a form at once (a modal must be the first answer, so nothing is fetched first)."""
        images = [a for a in message.attachments if is_image(a)]
        locale = private_locale(interaction)
        if not images:
            await respond(interaction, say("menu-no-image", locale))
            return
        is_result = self.bot.user is not None and message.author.id == self.bot.user.id
        fields = [Field("prompt", say("form-changed-area-shows", locale), long=True, max_length=2000)]
        if len(images) > 1:
            label = say("form-which-image", locale, images=f"1-{len(images)}")
            fields.append(Field("image", label, default="1", max_length=2))
        area = say("form-area-result" if is_result else "form-area-upload", locale)
        hint = say(AREA_HINT, locale)
        fields.append(Field("area", area, required=False, max_length=40, placeholder=hint))
        title = say("form-edit-image-title", locale)
        await interaction.response.send_modal(build_form(title, f"form:ctx:{message.channel.id}:{message.id}", fields))


@form_handler(r"form:ctx:(?P<channel>\d+):(?P<message>\d+)")
async def submit_context_edit(interaction: discord.Interaction, match: re.Match[str], values: dict[str, str]) -> None:
    await acknowledge(interaction)
    bot = bot_of(interaction)
    channel_id, message_id = int(match["channel"]), int(match["message"])
    if channel_id != interaction.channel_id:  # the menu is used on a message in this channel: forged
        raise InputError(msg("message-unreadable"))
    index = parse_image_number(values.get("image"))
    prompt = values.get("prompt", "")
    spec = parse_area(values.get("area"))
    origin = origin_of(interaction)
    session = await bot.sessions.for_thread(origin.requester.thread_id)
    origin = await session_origin(interaction, origin, session.id if session else None)
    require_post_permissions(interaction)
    parent = await bot.jobs.by_message(channel_id, message_id)
    if parent is not None:  # a result shown here: its requester may be anyone who can see this channel
        parent = await bot.jobs.for_follow_up(actor_of(interaction), parent.id, shown_here=True)
        submitted = await bot.jobs.submit_followup(
            origin, parent, JobAction.USE_AS_BASE, prompt=prompt, image_index=index, spec=spec
        )
        await bot.notifier.track(submitted.job, interaction, submitted.prepared)
        return
    options = EditOptions()
    # the place (DMs without ALLOW_DMS) and the limits are checked before the message is fetched
    async with bot.jobs.preparing(origin, options.num_images):
        channel = bot.get_partial_messageable(channel_id, guild_id=interaction.guild_id)
        try:
            message = await channel.fetch_message(message_id)
        except discord.HTTPException:
            raise InputError(msg("message-unreadable")) from None
        images = [a for a in message.attachments if is_image(a)]
        if index >= len(images):
            raise InputError(msg("message-images-range", count=len(images)))
        cog = bot.get_cog(EditCog.__cog_name__)  # this bot's: it holds the download session
        if not isinstance(cog, EditCog):
            raise RuntimeError("the Edit cog is not loaded")
        submitted = await cog.submit_upload(
            interaction, origin, images[index], spec or MaskSpec(), prompt, options, MENU_MASK_HELP
        )
    if submitted is not None:
        await bot.notifier.track(submitted.job, interaction, submitted.prepared, preview=submitted.preview)


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(EditCog(bot))
