"""``/queue``: what is waiting on this server, and cancelling a queued edit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import Mention, UserText
from cogs import render
from cogs.common import actor_of, respond
from cogs.text import private_locale
from cogs.text import render as say

if TYPE_CHECKING:
    from bot.app import InpaintBot


class QueueCog(commands.Cog):
    queue = app_commands.Group(name="queue", description="Edits waiting on this server", guild_only=True)

    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot

    @queue.command(name="show", description="Edits running and waiting on this server")
    async def show(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = actor_of(interaction)
        snapshot = await self.bot.queue.snapshot(actor)  # only what this member may see (bot.access)
        waiting = snapshot.waiting
        locale = private_locale(interaction)  # /queue show answers privately
        lines = [
            say(
                "queue-running-line",
                locale,
                job=str(r.job.id),
                requester=Mention(r.job.requester.user_id),
                prompt=UserText(render.short(r.job.prompt, 60)),
                duration=render.duration(r.seconds, locale),
            )
            for r in snapshot.running
        ]
        lines += [
            say(
                "queue-waiting-line",
                locale,
                position=e.position,
                job=str(e.job.id),
                requester=Mention(e.job.requester.user_id),
                prompt=UserText(render.short(e.job.prompt, 60)),
                duration=render.duration(e.eta_seconds, locale),
            )
            for e in waiting
        ]
        hidden = snapshot.running_total - len(snapshot.running) + snapshot.waiting_total - snapshot.waiting_visible
        if snapshot.waiting_visible > len(waiting):
            lines.append(say("queue-more", locale, count=snapshot.waiting_visible - len(waiting)))
        if hidden:
            lines.append(say("queue-hidden", locale, count=hidden))
        embed = discord.Embed(
            title=say("queue-title", locale, running=snapshot.running_total, waiting=snapshot.waiting_total),
            description="\n".join(lines) or say("queue-empty", locale),
            colour=render.COLOUR,
        )
        if actor.manage_messages:
            embed.set_footer(text=say("queue-footer", locale))
        await respond(interaction, embed=embed)

    @queue.command(name="cancel", description="Cancel an edit that has not started (yours, or any as a moderator)")
    @app_commands.describe(job="The edit's number (#123)")
    async def cancel(self, interaction: discord.Interaction, job: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        cancelled = await self.bot.queue.cancel(actor_of(interaction), job)
        await self.bot.notifier.render(cancelled.id)
        if cancelled.requester.user_id != interaction.user.id:
            told = say("queue-cancelled-by-moderator", cancelled.requester.locale, job=str(cancelled.id))
            await self.bot.notifier.tell(cancelled, told)
        await respond(interaction, render.finished_line(cancelled, None, private_locale(interaction)))


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(QueueCog(bot))
