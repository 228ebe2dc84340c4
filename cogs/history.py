"""``/history`` (list, show, delete) and ``/quota``: a user's own past edits and remaining limits."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import Forbidden
from bot.history import Deleted
from bot.i18n import DEFAULT_LOCALE, Moment, UserText, msg
from bot.imaging import thumbnail_async
from bot.store import Job
from cogs import render
from cogs.common import actor_of, bot_of, origin_of, respond
from cogs.errors import guarded
from cogs.served import Served
from cogs.text import private_locale
from cogs.text import render as say

if TYPE_CHECKING:
    from bot.app import InpaintBot
    from bot.store import QuotaStatus

PAGE_SIZE = 5
THUMB_SIDE = 160
SEARCH_IN_ID = 60  # custom ids are at most 100 characters; the search text rides along, cut to this


class HistoryPage(
    Served,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"hist:(?P<user>\d+):(?P<offset>\d+):(?P<search>.*)",
):
    """Paging buttons; the page lives in the custom id, so they work after restarts too."""

    def __init__(self, user_id: int, offset: int, search: str, label: str, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"hist:{user_id}:{offset}:{search[:SEARCH_IN_ID]}",
            )
        )
        self.user_id, self.offset, self.search = user_id, offset, search

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> HistoryPage:
        return cls(int(match["user"]), int(match["offset"]), match["search"], item.label or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        async def page() -> None:
            if interaction.user.id != self.user_id:
                raise Forbidden(msg("history-someone-elses"))
            await interaction.response.defer()
            await show_page(interaction, self.offset, self.search or None, edit=True)

        await guarded(interaction, page())


async def show_page(interaction: discord.Interaction, offset: int, search: str | None, *, edit: bool) -> None:
    bot = bot_of(interaction)
    user_id = interaction.user.id
    page = await bot.history.page(user_id, search, offset, PAGE_SIZE)
    jobs, total, offset = page.jobs, page.total, page.offset
    locale = private_locale(interaction)
    if not jobs:
        text = say("history-no-match" if search else "history-empty", locale)
        if edit:
            await interaction.edit_original_response(content=text, embeds=[], attachments=[], view=None)
        else:
            await respond(interaction, text)
        return
    embeds, files = [], []
    for job in jobs:
        link = None if job.private else render.jump_url(job)  # a private result has no message to open
        embed = discord.Embed(description=render.history_line(job, link, locale), colour=render.COLOUR)
        thumb = await _thumbnail(bot, job)
        if thumb is not None:
            files.append(thumb)
            embed.set_thumbnail(url=f"attachment://{thumb.filename}")
        embeds.append(embed)
    last = min(offset + PAGE_SIZE, total)
    counts = dict(first=offset + 1, last=last, total=total)
    if search:
        header = say("history-header-search", locale, search=UserText(search), **counts)
    else:
        header = say("history-header", locale, **counts)
    newer, older = say("history-newer", locale), say("history-older", locale)
    view = discord.ui.View(timeout=None)
    view.add_item(HistoryPage(user_id, max(offset - PAGE_SIZE, 0), search or "", newer, disabled=offset == 0))
    view.add_item(HistoryPage(user_id, offset + PAGE_SIZE, search or "", older, disabled=last >= total))
    if edit:
        await interaction.edit_original_response(content=header, embeds=embeds, attachments=files, view=view)
    else:
        await respond(interaction, header, embeds=embeds, files=files, view=view)


async def _thumbnail(bot: InpaintBot, job: Job) -> discord.File | None:
    source = await bot.history.thumbnail_source(job)
    if source is None:
        return None
    thumb = await thumbnail_async(source, THUMB_SIDE)
    return discord.File(io.BytesIO(thumb.data), filename=f"thumb-{job.id}.{thumb.extension}")


class ConfirmDelete(
    Served,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"hdel:(?P<user>\d+):(?P<job>\d+|all):(?P<choice>yes|no)",
):
    """The Delete / Keep answer to ``/history delete``; like every button, it survives restarts."""

    def __init__(self, user_id: int, job_id: int | None, confirm: bool, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(
            discord.ui.Button(
                label=say("button-delete" if confirm else "button-keep", locale),
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                custom_id=f"hdel:{user_id}:{job_id if job_id is not None else 'all'}:{'yes' if confirm else 'no'}",
            )
        )
        self.user_id, self.job_id, self.confirm = user_id, job_id, confirm

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ConfirmDelete:
        job = None if match["job"] == "all" else int(match["job"])
        return cls(int(match["user"]), job, match["choice"] == "yes")

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self.answer(interaction))

    async def answer(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise Forbidden(msg("history-confirm-not-yours"))
        locale = private_locale(interaction)
        if not self.confirm:
            await interaction.response.edit_message(content=say("history-nothing-deleted", locale), view=None)
            return
        await interaction.response.defer()
        history = bot_of(interaction).history
        if self.job_id is None:
            count, kept = await history.delete_all(self.user_id)
            text = say("history-deleted-all", locale, count=count, kept=kept)
        else:
            outcome, job = await history.delete(actor_of(interaction), self.job_id)
            job_no = str(self.job_id)
            if outcome is Deleted.GONE or job is None:
                text = say("history-delete-gone", locale, job=job_no)
            elif outcome is Deleted.ACTIVE:
                status = msg("job-status", status=str(job.status))
                text = say("history-still-active", locale, job=job_no, status=status)
            else:
                text = say("history-deleted-one", locale, job=job_no)
        await interaction.edit_original_response(content=text, view=None)


def confirm_view(user_id: int, job_id: int | None, locale: str = DEFAULT_LOCALE) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmDelete(user_id, job_id, True, locale))
    view.add_item(ConfirmDelete(user_id, job_id, False, locale))
    return view


class HistoryCog(commands.Cog):
    history = app_commands.Group(name="history", description="Your past edits")

    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot
        bot.add_dynamic_items(HistoryPage, ConfirmDelete)

    @history.command(name="list", description="Your edits, newest first")
    @app_commands.describe(search="Only edits whose prompt contains this")
    async def list_(
        self, interaction: discord.Interaction, search: app_commands.Range[str, 1, SEARCH_IN_ID] | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await show_page(interaction, 0, search, edit=False)

    @history.command(name="show", description="Post a past edit again, with its buttons")
    @app_commands.describe(job="The edit's number (#123)")
    async def show(self, interaction: discord.Interaction, job: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        # your own edit anywhere; a moderator: someone's public edit of this server (bot.access)
        found = await self.bot.history.for_repost(actor_of(interaction), job)
        here = origin_of(interaction).requester  # re-post where the command was used
        relocated = replace(
            found,
            requester=replace(
                found.requester,
                channel_id=here.channel_id,
                thread_id=here.thread_id,
                guild_id=here.guild_id,
                locale=here.locale,  # posted again here: in this server's language
                guild_locale=here.guild_locale,
            ),
            reply_token=interaction.token,
            created_at=interaction.created_at,  # its token's age: told privately by it while it lives
        )
        message = await self.bot.notifier.post_results(relocated, repost=True)
        locale = private_locale(interaction)
        posted = say("history-reposted", locale, job=str(job), url=message.jump_url) if message else None
        await respond(interaction, posted or say("history-reposted-privately", locale))

    @history.command(name="delete", description="Delete one edit, or your whole history")
    @app_commands.describe(job="The edit's number; leave empty to delete everything")
    async def delete(self, interaction: discord.Interaction, job: int | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = private_locale(interaction)
        if job is not None:
            await self.bot.history.check_delete(actor_of(interaction), job)
            question = say("history-delete-one-question", locale, job=str(job))
        else:
            count = await self.bot.history.count(interaction.user.id)
            if count == 0:
                await respond(interaction, say("history-nothing-to-delete", locale))
                return
            question = say("history-delete-all-question", locale, count=count)
        await respond(interaction, question, view=confirm_view(interaction.user.id, job, locale))

    @app_commands.command(name="quota", description="How many images you can still make, and when limits reset")
    async def quota(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        status = await self.bot.history.quota(origin_of(interaction))
        await respond(interaction, embed=quota_embed(status, private_locale(interaction)))


def quota_embed(status: QuotaStatus, locale: str = DEFAULT_LOCALE) -> discord.Embed:
    limits = status.limits
    embed = discord.Embed(title=say("quota-title", locale), colour=render.COLOUR)
    if limits.exempt:
        embed.description = say("quota-exempt", locale)
    else:
        window_left = max(limits.window_images - status.window_used, 0)
        frees = msg("quota-window-frees", at=Moment(status.window_frees_at)) if status.window_frees_at else ""
        embed.add_field(
            name=say("quota-window-name", locale, minutes=limits.window_seconds // 60),
            value=say("quota-window-left", locale, left=window_left, allowed=limits.window_images, frees=frees),
            inline=False,
        )
        embed.add_field(
            name=say("quota-today-name", locale),
            value=say(
                "quota-today-left",
                locale,
                left=max(limits.daily_images - status.daily_used, 0),
                allowed=limits.daily_images,
                resets=Moment(status.daily_resets_at),
            ),
            inline=False,
        )
        embed.add_field(
            name=say("quota-at-once-name", locale),
            value=say("quota-at-once", locale, active=status.active_jobs, allowed=limits.max_active_jobs),
        )
    shared = (  # the server's cap; the operator's budget for the whole bot (None: not set)
        ("quota-server-name", status.guild_daily_used, limits.guild_daily_images),
        ("quota-bot-name", status.bot_daily_used, limits.bot_daily_images),
    )
    for name, used, allowed in shared:
        if used is not None and allowed is not None:
            left = max(allowed - used, 0)
            embed.add_field(
                name=say(name, locale), value=say("quota-images-left", locale, left=left, allowed=allowed), inline=False
            )
    return embed


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(HistoryCog(bot))
