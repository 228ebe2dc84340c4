"""``/queue``: what is waiting on this server, and cancelling a queued edit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs import render
from cogs.common import actor_of, respond

if TYPE_CHECKING:
    from bot.app import InpaintBot

SHOWN = 15


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
        lines = [
            f"🎨 **#{r.job.id}** <@{r.job.requester.user_id}> — {render.short(r.job.prompt, 60)}"
            f" (running {render.duration(r.seconds)})"
            for r in snapshot.running
        ]
        lines += [
            f"⏳ {e.position}. **#{e.job.id}** <@{e.job.requester.user_id}> — {render.short(e.job.prompt, 60)}"
            f" (starts in about {render.duration(e.eta_seconds)})"
            for e in waiting[:SHOWN]
        ]
        hidden = snapshot.running_total - len(snapshot.running) + snapshot.waiting_total - len(waiting)
        if len(waiting) > SHOWN:
            lines.append(f"… and {len(waiting) - SHOWN} more.")
        if hidden:
            lines.append(f"… and {hidden} private or from channels you can't see.")
        embed = discord.Embed(
            title=f"Queue — {snapshot.running_total} running, {snapshot.waiting_total} waiting",
            description="\n".join(lines) or "Nothing is waiting. 🎉",
            colour=render.COLOUR,
        )
        if actor.manage_messages:
            embed.set_footer(text="Cancel a waiting edit with /queue cancel job:<number>.")
        await respond(interaction, embed=embed)

    @queue.command(name="cancel", description="Cancel an edit that has not started (yours, or any as a moderator)")
    @app_commands.describe(job="The edit's number (#123)")
    async def cancel(self, interaction: discord.Interaction, job: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        cancelled = await self.bot.queue.cancel(actor_of(interaction), job)
        await self.bot.notifier.render(cancelled.id)
        if cancelled.requester.user_id != interaction.user.id:
            await self.bot.notifier.tell(
                cancelled, f"🚫 Your edit #{cancelled.id} was cancelled by a moderator; its images were refunded."
            )
        await respond(interaction, render.finished_line(cancelled, None))


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(QueueCog(bot))
