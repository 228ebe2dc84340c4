"""Gateway sharding in the Discord simulation, driven by discord.py's REAL ``AutoShardedClient``.

Discord sends a guild's events to the session whose IDENTIFY said ``shard: [id, count]`` with
``(guild_id >> 22) % count == id``, and DMs to shard 0; a client without a shard count asks
``GET /gateway/bot`` for one and opens one websocket per shard. The bot's ``SHARD_COUNT``/``SHARD_IDS``
rely on exactly that, so the simulation must do it too (issue 14).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.discord_sim import DiscordSim, SimChannel, SimGuild, use_sim_endpoints
from tests.discord_sim.gateway import GatewayConnection
from tests.sim.test_discord_sim import GUILD_READY_TIMEOUT, running


class ShardClient(discord.AutoShardedClient):
    """Answers every interaction with its name, so a test sees which client got it."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=GUILD_READY_TIMEOUT, **options)
        self.name = name

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s pause between shards: that spacing is for Discord's identify rate limit."""

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(self.name)


@pytest.fixture
async def sim() -> AsyncIterator[DiscordSim]:
    async with DiscordSim() as s, use_sim_endpoints(s):
        yield s


def guild_on(sim: DiscordSim, shard: int, count: int = 2) -> tuple[SimGuild, SimChannel]:
    guild = sim.world.add_guild(f"Shard {shard} Server", id=sim.world.snowflake.on_shard(shard, count))
    assert (guild.id >> 22) % count == shard and 18 <= len(str(guild.id)) <= 19
    channel = sim.world.add_channel(guild, "general")
    sim.add_member(guild, sim.user)
    return guild, channel


def shard_of_connection(sim: DiscordSim, connection: int) -> list[int]:
    conn: GatewayConnection = next(c for c in sim.dispatcher.connections if c.id == connection)
    assert conn.session is not None
    return list(conn.session.shard)


def receivers(sim: DiscordSim, t: str, predicate: Any = lambda d: True) -> list[list[int]]:
    """The shards ([id, count]) an event was sent to."""
    return [
        shard_of_connection(sim, e.connection)
        for e in sim.dispatcher.gateway_log
        if e.kind == "send" and e.t == t and predicate(e.d)
    ]


async def answered_by(sim: DiscordSim, guild_channel: SimChannel) -> str:
    inter = await sim.slash("anything", channel=guild_channel)
    return (await sim.wait_for_ack(inter)).json["data"]["content"]


async def test_autosharded_client_takes_the_recommended_count_and_each_shard_gets_its_guilds(
    sim: DiscordSim,
) -> None:
    sim.config.shards = 2
    zero, zero_channel = guild_on(sim, 0)
    one, one_channel = guild_on(sim, 1)
    async with running(ShardClient("auto"), sim) as client:
        assert client.shard_count == 2 and sorted(client.shards) == [0, 1]
        assert sim.calls_to("/gateway/bot", "GET"), "the shard count came from GET /gateway/bot"
        assert {g.id: g.shard_id for g in client.guilds if g.id in (zero.id, one.id)} == {zero.id: 0, one.id: 1}
        ready = {tuple(e.d["shard"]): e.d for e in sim.dispatcher.gateway_log if e.kind == "send" and e.t == "READY"}
        assert set(ready) == {(0, 2), (1, 2)}
        for (shard, count), data in ready.items():  # READY lists only the shard's guilds
            assert {int(g["id"]) for g in data["guilds"]} == {
                g.id for g in sim.world.bot_guilds() if (g.id >> 22) % count == shard
            }
        assert receivers(sim, "GUILD_CREATE", lambda d: int(d["id"]) == one.id) == [[1, 2]]

        assert await answered_by(sim, one_channel) == "auto"
        assert receivers(sim, "INTERACTION_CREATE") == [[1, 2]]
        assert await answered_by(sim, zero_channel) == "auto"
        dm = await sim.slash("anything", channel=sim.dm_channel(sim.user))
        await sim.wait_for_ack(dm)
        assert receivers(sim, "INTERACTION_CREATE") == [[1, 2], [0, 2], [0, 2]], "a DM goes to shard 0"

        later = sim.world.add_guild("Joined Later", id=sim.world.snowflake.on_shard(1, 2))
        joined = await sim.wait_for(
            lambda e: e.kind == "send" and e.t == "GUILD_CREATE" and int(e.d["id"]) == later.id, kind="gateway"
        )
        assert shard_of_connection(sim, joined.connection) == [1, 2]
        assert receivers(sim, "GUILD_CREATE", lambda d: int(d["id"]) == later.id) == [[1, 2]]


async def test_two_processes_split_the_guilds_and_one_stopping_leaves_the_other_alone(sim: DiscordSim) -> None:
    """Two clients with ``shard_count=2`` and one shard each, as two ``SHARD_IDS`` processes run."""
    zero, zero_channel = guild_on(sim, 0)
    one, one_channel = guild_on(sim, 1)
    first = ShardClient("first", shard_count=2, shard_ids=[0])
    async with running(first, sim):
        async with running(ShardClient("second", shard_count=2, shard_ids=[1]), sim) as second:
            assert {g.id for g in first.guilds} >= {zero.id} and one.id not in {g.id for g in first.guilds}
            assert one.id in {g.id for g in second.guilds} and zero.id not in {g.id for g in second.guilds}
            assert await answered_by(sim, zero_channel) == "first"
            assert await answered_by(sim, one_channel) == "second"
        await sim.wait_disconnected(shard=1)
        with pytest.raises(RuntimeError, match="no gateway client"):  # Discord: "the application did not respond"
            await sim.slash("anything", channel=one_channel)
        assert await answered_by(sim, zero_channel) == "first", "shard 0 is undisturbed"
        async with running(ShardClient("third", shard_count=2, shard_ids=[1]), sim):
            await sim.wait_ready(shard=1, identifies=2)
            assert await answered_by(sim, one_channel) == "third"
            assert await answered_by(sim, zero_channel) == "first"
    assert sim.dispatcher.identifies_by_shard == {0: 1, 1: 2}


async def test_identify_with_an_impossible_shard_is_refused(sim: DiscordSim) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "sim-token", "intents": 1, "properties": {}, "shard": [2, 2]}})
        closed = await asyncio.wait_for(ws.receive(), 5)
        assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4010
