"""Hostile users across two servers: nothing of one server can be seen, cancelled, steered or paid for
from another, and forged button or form ids are refused (the real bot, the simulation, the fake API).

Server A is the simulation's default guild; server B is another community the bot is also in. Alice
is a member of both; Mallory moderates B (Manage Server, Messages and Threads there) and nothing in A.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import LimitDefaults
from bot.store import JobStatus
from tests.bot_harness import World, make_world, reply, sample_mask, text_of
from tests.discord_sim import InteractionType, Perm, SimChannel, SimGuild, SimInteraction, SimMessage, SimUser
from tests.discord_sim.interaction_payloads import modal_submission

W, H = 96, 64
ROOMY = LimitDefaults(user_window_images=100, user_daily_images=100, user_max_active_jobs=10)
GUILD_B_ID = 1174229812345678901
CHANNEL_B_ID = 1174229812987654321
MALLORY_ID = 987654321098765432


@dataclass
class Servers:
    world: World
    guild_b: SimGuild
    channel_b: SimChannel
    mallory: SimUser  # moderator of B only

    @property
    def sim(self):
        return self.world.sim


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[Servers]:
    async with make_world(tmp_path) as world:
        sim = world.sim
        guild_b = sim.world.add_guild("Other Community", id=GUILD_B_ID)
        channel_b = sim.world.add_channel(guild_b, "general", id=CHANNEL_B_ID)
        mods_b = sim.add_role(guild_b, "Mods", Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES | Perm.MANAGE_THREADS)
        mallory = sim.add_user("mallory", id=MALLORY_ID)
        sim.add_member(guild_b, mallory, roles=[mods_b])
        sim.add_member(guild_b, sim.user)  # alice is in both servers
        await world.start_bot(limits=ROOMY)
        yield Servers(world, guild_b, channel_b, mallory)


def job_id_of(message: SimMessage) -> int:
    return int(message.embeds[0]["title"].removeprefix("Edit #"))


async def result_in(servers: Servers, channel: SimChannel, prompt: str, **options) -> SimMessage:
    after = max((m.id for m in servers.sim.messages_in(channel)), default=0)
    user = options.pop("user", None)
    await servers.world.edit(prompt, mask=sample_mask(W, H), channel=channel, user=user, **options)
    return await servers.sim.wait_for_message(
        channel,
        lambda m: m.id > after and bool(m.attachments) and bool(m.embeds) and not m.ephemeral,
        timeout=10,
    )


async def refused(servers: Servers, inter: SimInteraction, says: str) -> SimMessage:
    message = await reply(servers.world, inter, says)
    assert message.ephemeral, text_of(message)
    return message


async def forge_click(servers: Servers, message: SimMessage, custom_id: str, user: SimUser) -> SimInteraction:
    """A raw component interaction naming ``custom_id`` on ``message`` (a modified client can send
    any custom id; the simulation's ``click`` only presses buttons that exist)."""
    return await servers.sim.dispatch_interaction(
        InteractionType.MESSAGE_COMPONENT,
        {"custom_id": custom_id, "component_type": 2},
        user=user,
        channel=servers.sim.channels[message.channel_id],
        message=message,
        name=custom_id,
    )


async def test_history_show_of_another_servers_edit_is_refused(servers: Servers) -> None:
    sim = servers.sim
    theirs = await result_in(servers, sim.channel, "a red hat in server A")
    job = job_id_of(theirs)
    requests = len(servers.world.api.edit_requests)
    inter = await sim.slash("history", {"job": job}, subcommand="show", user=servers.mallory, channel=servers.channel_b)
    await refused(servers, inter, f"You have no edit #{job}")
    assert not any(m.embeds for m in sim.messages_in(servers.channel_b) if not m.ephemeral)  # nothing re-posted
    # the same moderator rights in server A would do: A's own moderator may re-post it there
    ok = await sim.slash("history", {"job": job}, subcommand="show", user=sim.mod)
    await reply(servers.world, ok, f"Posted edit #{job} again")
    assert len(servers.world.api.edit_requests) == requests


async def test_queue_cancel_and_show_of_another_servers_job_are_refused(servers: Servers) -> None:
    sim, world = servers.sim, servers.world
    world.api.latency_s = 3.0
    first = await world.edit("the running one", mask=sample_mask(W, H))
    second = await world.edit("a secret plan in server A", mask=sample_mask(W, H))
    await reply(world, first, "")
    await reply(world, second, "")
    queued = await world.bot.storage.jobs_with_status(JobStatus.QUEUED, JobStatus.RUNNING)
    assert queued
    target = max(j.id for j in queued)

    cancel = await sim.slash(
        "queue", {"job": target}, subcommand="cancel", user=servers.mallory, channel=servers.channel_b
    )
    await refused(servers, cancel, f"There is no job #{target}")
    assert (await world.bot.storage.get_job(target)).status.active

    shown = await sim.slash("queue", subcommand="show", user=servers.mallory, channel=servers.channel_b)
    view = await reply(world, shown, "Queue")
    assert "secret plan" not in text_of(view) and "0 running, 0 waiting" in text_of(view)
    world.api.latency_s = 0.0


async def test_queue_show_hides_private_edits_and_unreadable_channels(servers: Servers) -> None:
    sim, world = servers.sim, servers.world
    world.api.latency_s = 6.0
    hidden = sim.world.add_channel(sim.guild, "staff-only")
    bob = sim.add_user("bob", id=876543210987654321)
    sim.add_member(sim.guild, bob)
    sim.world.set_overwrite(hidden, bob, deny=Perm.VIEW_CHANNEL)  # bob cannot read #staff-only
    await world.edit("a public hat", mask=sample_mask(W, H))
    await world.edit("a private diary", mask=sample_mask(W, H), private=True)
    await world.edit("a staff secret", mask=sample_mask(W, H), channel=hidden, user=sim.mod)
    for _ in range(50):
        active = await world.bot.storage.jobs_with_status(JobStatus.QUEUED, JobStatus.RUNNING)
        if len(active) == 3:
            break
        await asyncio.sleep(0.1)
    shown = await sim.slash("queue", subcommand="show", user=bob)
    text = text_of(await reply(world, shown, "Queue"))
    assert "a public hat" in text
    assert "private diary" not in text and "staff secret" not in text
    mine = await sim.slash("queue", subcommand="show")  # alice sees her own private edit
    assert "a private diary" in text_of(await reply(world, mine, "Queue"))
    world.api.latency_s = 0.0


async def test_session_buttons_from_another_server_are_refused(servers: Servers) -> None:
    sim, world = servers.sim, servers.world
    v1 = await result_in(servers, sim.channel, "a castle in server A", thread=True)
    job = job_id_of(v1)
    for _ in range(50):
        session = await world.bot.storage.session_by_root(job)
        if session is not None:
            break
        await asyncio.sleep(0.1)
    assert session is not None
    # alice may re-post her own version anywhere, e.g. in server B ...
    shown = await sim.slash("history", {"job": job}, subcommand="show", channel=servers.channel_b)
    await reply(world, shown, f"Posted edit #{job} again")
    repost = await sim.wait_for_message(servers.channel_b, lambda m: bool(m.embeds) and bool(m.attachments))
    assert f"res:head:{job}" in repost.custom_ids()
    # ... but server B's members cannot steer the session in A from there
    head = await sim.click(repost, f"res:head:{job}", user=servers.mallory)
    await refused(servers, head, "belongs to another thread")
    requests = len(world.api.edit_requests)
    lock = await forge_click(servers, repost, f"ses:lock:{session.id}", servers.mallory)
    await refused(servers, lock, "does not belong to this message")
    again = await sim.click(repost, f"res:reroll:{job}", user=servers.mallory)
    await refused(servers, again, "another thread")
    after = await world.bot.storage.get_session(session.id)
    assert (after.locked, after.owner_pays, after.head_job_id) == (False, False, session.head_job_id)
    assert len(world.api.edit_requests) == requests


async def test_forged_button_and_form_ids_are_refused(servers: Servers) -> None:
    sim, world = servers.sim, servers.world
    theirs = await result_in(servers, sim.channel, "alice's hat in server A")
    their_job = job_id_of(theirs)
    mine = await result_in(servers, servers.channel_b, "mallory's own hat", user=servers.mallory)
    my_job = job_id_of(mine)
    requests = len(world.api.edit_requests)

    # a button naming a job that is not the message carrying it
    forged = await forge_click(servers, mine, f"res:reroll:{their_job}", servers.mallory)
    await refused(servers, forged, "does not belong to this message")
    forged_delete = await forge_click(servers, mine, f"res:delete:{their_job}", servers.mallory)
    await refused(servers, forged_delete, "does not belong to this message")
    assert not sim.message(theirs.id).deleted

    # a form id naming another server's job, submitted from a real form on mallory's own result
    opener = await sim.click(mine, f"res:again:{my_job}", user=servers.mallory)
    await sim.wait_for_ack(opener)
    layout = sim.world.interactions[opener.id].modal["components"]
    custom_id = f"form:again:{their_job}"
    form = await sim.dispatch_interaction(
        InteractionType.MODAL_SUBMIT,
        {"custom_id": custom_id, "components": modal_submission(layout, {"prompt": "steal it"})},
        user=servers.mallory,
        channel=servers.channel_b,
        message=mine,
        name=custom_id,
    )
    await refused(servers, form, "no longer in the bot's history")

    # the context-menu form naming a message of another server's channel
    ctx_id = f"form:ctx:{theirs.channel_id}:{theirs.id}"
    ctx = await sim.dispatch_interaction(
        InteractionType.MODAL_SUBMIT,
        {"custom_id": ctx_id, "components": modal_submission(layout, {"prompt": "steal it"})},
        user=servers.mallory,
        channel=servers.channel_b,
        message=None,
        name=ctx_id,
    )
    await refused(servers, ctx, "can't read that message")
    assert len(world.api.edit_requests) == requests  # nothing was sent to the API, nothing charged


async def test_only_the_requester_opens_a_session_and_owns_it(servers: Servers) -> None:
    sim, world = servers.sim, servers.world
    bob = sim.add_user("bob", id=876543210987654321)
    sim.add_member(sim.guild, bob)
    result = await result_in(servers, sim.channel, "alice's portrait")
    job = job_id_of(result)
    grab = await sim.click(result, f"res:thread:{job}", user=bob)
    await refused(servers, grab, "who asked for this edit")
    assert sim.message(result.id).thread_id is None and await world.bot.storage.session_by_root(job) is None
    by_mod = await sim.click(result, f"res:thread:{job}", user=sim.mod)  # Manage Threads may open it ...
    await reply(world, by_mod, "Started editing session")
    session = await world.bot.storage.session_by_root(job)
    assert session is not None and session.owner_id == sim.user.id  # ... but the requester owns it
