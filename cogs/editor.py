"""The mask editor in Discord: the "🖌️ Draw the area" link and the persistent **Draw mask** button.

The editor itself is core (``bot.editor``) and served by ``bot.web``; this adapter creates drafts from
interactions, answers with the signed link, and — when the page confirms — turns the command's own
private response into the job's progress message through its interaction token (``track``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.editor import NOT_ENABLED
from bot.errors import Forbidden, InputError, MaskMissing
from bot.i18n import CATALOGUE, DEFAULT_LOCALE, Message, msg
from bot.jobs import Origin
from bot.options import EditOptions
from cogs import render
from cogs.common import (
    NO_MENTIONS,
    actor_of,
    bot_of,
    origin_of,
    parse_image_number,
    require_post_permissions,
    session_origin,
)
from cogs.errors import guarded
from cogs.forms import Field, build_form, form_handler
from cogs.served import Served
from cogs.text import private_locale
from cogs.text import render as render_text
from cogs.views import FORGED, RESULT_EXTRAS, carries

if TYPE_CHECKING:
    from bot.app import InpaintBot
    from bot.models import PreparedEdit
    from bot.store import Draft, Job

LINK_EMOJI = "🖌️"


def link_view(url: str, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    label = render_text("editor-link-button", locale)
    view.add_item(discord.ui.Button(label=label, emoji=LINK_EMOJI, url=url, style=discord.ButtonStyle.link))
    return view


def place_of(interaction: discord.Interaction, origin: Origin) -> str:
    """Where the result will be posted, in words for the web page (no Discord markup there), in the
    member's language (the page is theirs)."""
    locale = private_locale(interaction)
    if origin.private:
        return ""
    if origin.session_id is not None:
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.id == origin.requester.thread_id:
            return CATALOGUE.format("editor-place-thread", locale, name=channel.name)
        return CATALOGUE.format("editor-place-session-thread", locale)
    name = getattr(interaction.channel, "name", None)
    return f"#{name}" if name else CATALOGUE.format("editor-place-command-channel", locale)


async def show_link(interaction: discord.Interaction, url: str) -> None:
    minutes = bot_of(interaction).settings.editor_link_minutes
    locale = private_locale(interaction)
    await interaction.edit_original_response(
        content=render_text("editor-link-text", locale, minutes=minutes),
        view=link_view(url, locale),
        allowed_mentions=NO_MENTIONS,
    )


async def offer_editor(
    interaction: discord.Interaction,
    origin: Origin,
    image: bytes,
    prompt: str,
    options: EditOptions,
    help_text: Message,
) -> None:
    """An image but no area: answer with the editor link; with the editor off, the usual advice plus
    how to turn it on (raised, so the command's error handling shows it)."""
    bot = bot_of(interaction)
    if not bot.editor.enabled:
        raise MaskMissing(msg("mask-help-editor-off", help=help_text, editor=NOT_ENABLED)) from None
    url = await bot.editor.draft_for_upload(
        origin, image, prompt, options, place=place_of(interaction, origin), application_id=interaction.application_id
    )
    await show_link(interaction, url)


class DrawMaskButton(Served, discord.ui.DynamicItem[discord.ui.Button], template=r"draw:(?P<job>\d+)"):
    """On every result: edit that result's image in the editor, starting from its mask."""

    def __init__(self, job_id: int, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(
            discord.ui.Button(
                label=render_text("button-draw-mask", locale),
                emoji="🖌️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"draw:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> DrawMaskButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, choose_image(interaction, self.job_id))


def add_draw_button(view: discord.ui.View, job: Job, locale: str) -> None:
    """Registered in ``cogs.views.RESULT_EXTRAS`` while the editor is on: a **Draw mask** button."""
    view.add_item(DrawMaskButton(job.id, locale))


async def choose_image(interaction: discord.Interaction, job_id: int) -> None:
    """A result with several images asks which one first (a modal must be the first answer); the
    numbers come from the job's stored images, like Use as base."""
    if not carries(interaction.message, f"draw:{job_id}"):
        raise Forbidden(FORGED)
    bot = bot_of(interaction)
    job = await bot.jobs.for_follow_up(actor_of(interaction), job_id, shown_here=True)
    numbers = [i.index + 1 for i in render.outputs_of(await bot.jobs.images(job.id)) if i.sha]
    if len(numbers) < 2:
        await draw_mask(interaction, job_id, numbers[0] - 1 if numbers else None)
        return
    which = ", ".join(map(str, numbers))
    locale = private_locale(interaction)
    label = render_text("form-which-image", locale, images=which)
    field = Field("image", label, default=str(numbers[0]), max_length=2)
    title = render_text("form-draw-mask-title", locale)
    await interaction.response.send_modal(build_form(title, f"form:draw:{job_id}", [field]))


@form_handler(r"form:draw:(?P<job>\d+)")
async def submit_draw_form(interaction: discord.Interaction, match: re.Match[str], values: dict[str, str]) -> None:
    await draw_mask(interaction, int(match["job"]), parse_image_number(values.get("image")))


async def draw_mask(interaction: discord.Interaction, job_id: int, image_index: int | None = None) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    if not bot.editor.enabled:
        raise InputError(NOT_ENABLED)
    shown_here = carries(interaction.message, f"draw:{job_id}")
    parent = await bot.jobs.for_follow_up(actor_of(interaction), job_id, shown_here=shown_here)
    if not parent.private and parent.session_id is None:  # session versions are posted in their thread
        require_post_permissions(interaction)
    origin = await session_origin(interaction, origin_of(interaction, private=parent.private), parent.session_id)
    url = await bot.editor.draft_for_result(
        origin,
        parent,
        image_index=image_index,
        place=place_of(interaction, origin),
        application_id=interaction.application_id,
    )
    await show_link(interaction, url)


class DiscordDraftNotifier:
    """``bot.editor.DraftNotifier``: the command's private response becomes the progress message."""

    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot

    async def submitted(self, job: Job, draft: Draft, prepared: PreparedEdit | None) -> None:
        if draft.reply_token:
            await self.bot.notifier.track_stored(job, draft.reply_token, prepared)


class EditorCog(commands.Cog):
    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot
        bot.add_dynamic_items(DrawMaskButton)

    async def cog_load(self) -> None:
        self.bot.editor.notifier = DiscordDraftNotifier(self.bot)
        if self.bot.editor.enabled and add_draw_button not in RESULT_EXTRAS:
            RESULT_EXTRAS.append(add_draw_button)

    async def cog_unload(self) -> None:
        self.bot.editor.notifier = None
        if add_draw_button in RESULT_EXTRAS:
            RESULT_EXTRAS.remove(add_draw_button)


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(EditorCog(bot))
