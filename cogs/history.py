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
from bot.i18n import msg
from bot.imaging import thumbnail_async
from bot.store import Job
from cogs import render
from cogs.common import actor_of, bot_of, origin_of, respond
from cogs.errors import guarded

if TYPE_CHECKING:
    from bot.app import InpaintBot
    from bot.store import QuotaStatus

PAGE_SIZE = 5
THUMB_SIDE = 160
SEARCH_IN_ID = 60  # custom ids are at most 100 characters; the search text rides along, cut to this


class HistoryPage(
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
    if not jobs:
        text = "No edits match that search." if search else "You have no edits yet. Try `/edit`!"
        if edit:
            await interaction.edit_original_response(content=text, embeds=[], attachments=[], view=None)
        else:
            await respond(interaction, text)
        return
    embeds, files = [], []
    for job in jobs:
        link = None if job.private else render.jump_url(job)  # a private result has no message to open
        embed = discord.Embed(description=render.history_line(job, link), colour=render.COLOUR)
        thumb = await _thumbnail(bot, job)
        if thumb is not None:
            files.append(thumb)
            embed.set_thumbnail(url=f"attachment://{thumb.filename}")
        embeds.append(embed)
    last = min(offset + PAGE_SIZE, total)
    header = f"Your edits {offset + 1}–{last} of {total}" + (f" matching “{search}”" if search else "")
    view = discord.ui.View(timeout=None)
    view.add_item(HistoryPage(user_id, max(offset - PAGE_SIZE, 0), search or "", "◀ Newer", disabled=offset == 0))
    view.add_item(HistoryPage(user_id, offset + PAGE_SIZE, search or "", "Older ▶", disabled=last >= total))
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
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"hdel:(?P<user>\d+):(?P<job>\d+|all):(?P<choice>yes|no)",
):
    """The Delete / Keep answer to ``/history delete``; like every button, it survives restarts."""

    def __init__(self, user_id: int, job_id: int | None, confirm: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label="Delete" if confirm else "Keep",
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
        if not self.confirm:
            await interaction.response.edit_message(content="Nothing was deleted.", view=None)
            return
        await interaction.response.defer()
        history = bot_of(interaction).history
        if self.job_id is None:
            count, kept = await history.delete_all(self.user_id)
            text = f"Deleted your whole history ({count} edits)."
            if kept:
                text += f" {kept} edits still queued or running were kept."
        else:
            outcome, job = await history.delete(actor_of(interaction), self.job_id)
            if outcome is Deleted.GONE or job is None:
                text = f"Edit #{self.job_id} is not in your history any more."
            elif outcome is Deleted.ACTIVE:
                text = f"Edit #{self.job_id} is {job.status}; cancel it or wait for it first."
            else:
                text = f"Deleted edit #{self.job_id} from your history."
        await interaction.edit_original_response(content=text, view=None)


def confirm_view(user_id: int, job_id: int | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmDelete(user_id, job_id, True))
    view.add_item(ConfirmDelete(user_id, job_id, False))
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
                found.requester, channel_id=here.channel_id, thread_id=here.thread_id, guild_id=here.guild_id
            ),
            reply_token=interaction.token,
        )
        message = await self.bot.notifier.post_results(relocated, repost=True)
        await respond(interaction, f"Posted edit #{job} again: {message.jump_url}" if message else "Posted.")

    @history.command(name="delete", description="Delete one edit, or your whole history")
    @app_commands.describe(job="The edit's number; leave empty to delete everything")
    async def delete(self, interaction: discord.Interaction, job: int | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if job is not None:
            await self.bot.history.check_delete(actor_of(interaction), job)
            question = f"Delete edit #{job} and its images from your history?"
        else:
            count = await self.bot.history.count(interaction.user.id)
            if count == 0:
                await respond(interaction, "You have no edits to delete.")
                return
            question = f"Delete all {count} of your edits and their images? This cannot be undone."
        await respond(interaction, question, view=confirm_view(interaction.user.id, job))

    @app_commands.command(name="quota", description="How many images you can still make, and when limits reset")
    async def quota(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        status = await self.bot.history.quota(origin_of(interaction))
        await respond(interaction, embed=quota_embed(status))


def quota_embed(status: QuotaStatus) -> discord.Embed:
    limits = status.limits
    embed = discord.Embed(title="Your image quota", colour=render.COLOUR)
    if limits.exempt:
        embed.description = "Your role is exempt from the per-user limits."
    else:
        window_left = max(limits.window_images - status.window_used, 0)
        frees = f"; the next frees up {render.ts(status.window_frees_at)}" if status.window_frees_at else ""
        embed.add_field(
            name=f"Every {limits.window_seconds // 60} minutes",
            value=f"{window_left} of {limits.window_images} images left{frees}",
            inline=False,
        )
        embed.add_field(
            name="Today",
            value=f"{max(limits.daily_images - status.daily_used, 0)} of {limits.daily_images} images left; "
            f"resets {render.ts(status.daily_resets_at)}",
            inline=False,
        )
        embed.add_field(
            name="At once", value=f"{status.active_jobs} of {limits.max_active_jobs} edits queued or running"
        )
    if status.guild_daily_used is not None:
        embed.add_field(
            name="This server today",
            value=f"{max(limits.guild_daily_images - status.guild_daily_used, 0)} of "
            f"{limits.guild_daily_images} images left",
            inline=False,
        )
    return embed


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(HistoryCog(bot))
