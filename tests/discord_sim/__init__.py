"""A local Discord simulation for end-to-end tests of the real, unmodified discord.py client.

Typical in-process test (see ``tests/test_discord_sim.py`` for complete, working examples)::

    async with DiscordSim() as sim, use_sim_endpoints(sim):
        bot = MyBot(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        task = asyncio.create_task(bot.start("any-token"))
        await sim.wait_ready()                          # READY + GUILD_CREATE sent
        inter = await sim.slash("edit", {"prompt": "a cat"}, attachments={"image": (png, "cat.png")})
        ack = await sim.wait_for_ack(inter)             # the initial callback (type 5 = deferred)
        assert ack.json["type"] == 5 and inter.ack_latency < 1
        reply = await sim.wait_for_response(inter, "followup")
        image = sim.message(reply.message_id).attachments[0].data   # PNG bytes the bot uploaded
        await bot.close(); await task

For a bot in a subprocess, pass ``DISCORD_API_BASE=sim.api_base`` and ``DISCORD_GATEWAY_URL=
sim.gateway_url`` in its environment and use ``await sim.wait_ready(identifies=n)`` after each
(re)start; ``await sim.wait_disconnected()`` after killing it.
"""

from __future__ import annotations

from typing import Any

from .payloads import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    CallbackType,
    ChannelType,
    CommandType,
    ErrorCode,
    Intent,
    InteractionType,
    MessageFlag,
    OptionType,
    Perm,
    SimAttachment,
    SimChannel,
    SimGuild,
    SimMember,
    SimMessage,
    SimRole,
    SimUser,
)
from .server import (
    ApiError,
    DiscordSim,
    GatewayConnection,
    GatewayEvent,
    RecordedCall,
    RecordedFile,
    SimInteraction,
    path_matches,
)

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "ApiError",
    "CallbackType",
    "ChannelType",
    "CommandType",
    "DiscordSim",
    "ErrorCode",
    "GatewayConnection",
    "GatewayEvent",
    "Intent",
    "InteractionType",
    "MessageFlag",
    "OptionType",
    "Perm",
    "RecordedCall",
    "RecordedFile",
    "SimAttachment",
    "SimChannel",
    "SimGuild",
    "SimInteraction",
    "SimMember",
    "SimMessage",
    "SimRole",
    "SimUser",
    "path_matches",
    "use_sim_endpoints",
]


class use_sim_endpoints:  # lower case: used like a function, ``with use_sim_endpoints(sim):``
    """Point discord.py (process-wide) at ``sim`` with the bot's own ``apply_endpoints``, and restore
    the previous addresses on exit so other tests still see the library defaults.

    Works with ``with`` and ``async with`` (so it can share one ``async with`` line with the sim).
    Enter it after ``sim.start()``: the addresses include the sim's random port."""

    def __init__(self, sim: DiscordSim) -> None:
        self.sim = sim
        self._saved: tuple[str, Any] | None = None

    def __enter__(self) -> DiscordSim:
        import discord.http
        from discord.gateway import DiscordWebSocket

        from cogs.endpoints import apply_endpoints

        self._saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        apply_endpoints(self.sim.api_base, self.sim.gateway_url)
        return self.sim

    def __exit__(self, *exc: object) -> None:
        import discord.http
        from discord.gateway import DiscordWebSocket

        if self._saved is not None:
            discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    async def __aenter__(self) -> DiscordSim:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)
