"""A local Discord simulation for end-to-end tests of the real, unmodified discord.py client.

Typical in-process test (see ``tests/sim/test_discord_sim.py`` for complete, working examples)::

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
(re)start; ``await sim.wait_disconnected()`` after killing it. Sharded processes (IDENTIFY with
``shard: [id, count]``) each get their guilds' events only: wait for one with ``sim.wait_ready(shard=id,
identifies=n)``, for its end with ``sim.wait_disconnected(shard=id)``; ``sim.world.snowflake.on_shard(id,
count)`` mints a guild id on a given shard.

Modules, by concern:

* ``discord_types`` -- Discord's vocabulary: enums, permission bits, intents, error codes, snowflakes.
* ``entities`` -- the entities (``SimUser``, ``SimGuild``, ``SimChannel``, ``SimMessage``...) with
  their JSON, and Discord's permission algorithm.
* ``interaction_payloads`` -- the JSON of an interaction: typed options, ``resolved``, the envelope.
* ``world`` -- the state (users, guilds, roles, channels, threads, messages, attachments) and the
  operations that keep it consistent; ``SimConfig``, the knobs.
* ``records`` -- what was seen and answered (``RecordedCall``, ``GatewayEvent``, ``SimInteraction``)
  and the event-based waiting on it.
* ``gateway`` -- sessions and ordered dispatch (``Dispatcher``), the websocket protocol (``Gateway``).
* ``rest`` and ``routes/`` -- request recording, fault injection and routing; one route group per
  resource (users, guilds, application commands, interactions and webhooks, channels and messages,
  threads).
* ``interactions`` -- users acting: slash commands, context menus, clicks, modal submissions.
* ``server`` -- ``DiscordSim``, the composition root and the surface tests use.

Why composition: the parts have separate state and one direction of use (routes and the driver use
the world; the world queues events on the dispatcher; nothing uses the routes back), so each can be
read and changed alone, and a route group is found by the resource it serves. Mixins over one object
would share every attribute with every other part, which is what made the single 2,500-line class
hard to change. ``DiscordSim`` keeps the familiar one-object surface for tests as thin delegations.

Discord behaviours reproduced because bots must handle them: the 3 s window for the initial callback
(``callback_window``; 404 10062 after it), token expiry (``interaction_ttl``, 401 50027 on webhooks),
"already acknowledged" (400 40060), follow-ups before the ack (404 10015), upload limit (413 40005),
missing permissions (403 50013), DMs closed (403 50007), empty messages (400 50006), 2000-character
content (400 50035), archived/locked threads, command-name validation on sync, ``enforce_nonce``
deduplication, and the first follow-up after a "thinking" deferral filling that message. Only what a
bot can observe is simulated; no reactions, voice, presences or audit logs. Sharding is routed like
Discord (``gateway``: a guild's events to shard ``(guild_id >> 22) % count``, DMs to shard 0;
``GET /gateway/bot`` recommends ``SimConfig.shards``). Ids are current snowflakes (discord.py computes
an interaction's expiry from its id's timestamp).
"""

from __future__ import annotations

from typing import Any

from .discord_types import (
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
)
from .entities import SimAttachment, SimChannel, SimGuild, SimMember, SimMessage, SimRole, SimUser
from .records import ApiError, GatewayEvent, RecordedCall, RecordedFile, SimInteraction, path_matches
from .server import DiscordSim
from .world import SimConfig

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "ApiError",
    "CallbackType",
    "ChannelType",
    "CommandType",
    "DiscordSim",
    "ErrorCode",
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
    "SimConfig",
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
