"""The operator's allow-list applied to membership: the bot leaves every server it does not serve, at
start-up and when it is invited. discord.py reports every server of a new session (start-up, and a
reconnect that could not resume) as ``on_guild_available`` before ``on_ready``, and an invitation as
``on_guild_join``: those two listeners are the whole rule (``on_ready`` walking the servers again
left each one twice, the second time an error).
With no ``ALLOWED_GUILD_IDS`` the start-up log warns that any server that invites the bot is served, and
it warns whenever the application's "Public Bot" switch is on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from bot.app import InpaintBot

log = logging.getLogger(__name__)


class OperatorCog(commands.Cog):
    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot
        if bot.settings.allowed_guild_ids is None:
            log.warning(
                "ALLOWED_GUILD_IDS is not set: the bot serves every server that invites it, and each one "
                "spends your image budget. Set ALLOWED_GUILD_IDS to your server ids and switch off "
                "'Public Bot' in the Developer Portal."
            )

    async def leave_if_unserved(self, guild: discord.Guild) -> None:
        if self.bot.settings.serves(guild.id):
            return
        log.warning("leaving server %s (%s): it is not in ALLOWED_GUILD_IDS", guild.id, guild.name)
        try:
            await guild.leave()
        except discord.HTTPException as exc:
            log.error("could not leave server %s: %s", guild.id, exc)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        app = self.bot.application  # fetched at login
        if app is not None and app.bot_public:
            log.warning(
                "'Public Bot' is on in the Developer Portal: anyone can invite this bot. Switch it off "
                "(Developer Portal > Bot > Public Bot)%s.",
                "" if self.bot.settings.allowed_guild_ids else " and set ALLOWED_GUILD_IDS",
            )
        served = sum(1 for guild in self.bot.guilds if self.bot.settings.serves(guild.id))
        log.info("start-up checks done: serving %d server(s)", served)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.leave_if_unserved(guild)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """discord.py reports a join whose GUILD_CREATE says ``unavailable: false`` (and a server back
        from an outage) as "available", not as a join: the same rule applies."""
        await self.leave_if_unserved(guild)


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(OperatorCog(bot))
