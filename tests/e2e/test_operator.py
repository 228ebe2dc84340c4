"""The operator's controls against hostile server admins and unlisted servers, on the simulation with
two servers (issue 10): ceilings on what admins may set, ``ALLOWED_GUILD_IDS`` (leaving and refusing —
commands, buttons and forms — with no download and no API call), DMs refused by default, and "owner
pays" that charges the owner without lending the owner's exemption to the editors.

Server A is the simulation's default guild; server B another community. Mallory moderates B only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.settings import LimitDefaults
from bot.store import JobStatus
from tests.bot_harness import World, make_world, reply, sample_image, sample_mask, text_of
from tests.discord_sim import CallbackType, Perm, SimChannel, SimGuild, SimInteraction, SimUser
from tests.e2e.test_sessions import (
    add_member,
    first_result,
    open_session,
    private_reply,
    quota,
    refused_edit,
    thread_edit,
)

W, H = 96, 64
ROOMY = LimitDefaults(user_window_images=100, user_daily_images=100, user_max_active_jobs=10)
GUILD_B_ID = 1174229812345678901
CHANNEL_B_ID = 1174229812987654321
MALLORY_ID = 987654321098765432
NOT_HERE = "not available in this server"


async def refused(world: World, inter: SimInteraction, says: str) -> str:
    message = await reply(world, inter, says)
    assert message.ephemeral, text_of(message)
    return text_of(message)


async def refused_at_the_door(world: World, inter: SimInteraction) -> None:
    """Refused as the interaction's first and only answer: nothing deferred, nothing ran before it."""
    await refused(world, inter, NOT_HERE)
    ack = await world.sim.wait_for_ack(inter)
    assert ack.json["type"] == CallbackType.CHANNEL_MESSAGE, ack.json


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path) as world:
        sim = world.sim
        guild_b = sim.world.add_guild("Other Community", id=GUILD_B_ID)
        sim.world.add_channel(guild_b, "general", id=CHANNEL_B_ID)
        mods_b = sim.add_role(guild_b, "Mods", Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES | Perm.MANAGE_THREADS)
        mallory = sim.add_user("mallory", id=MALLORY_ID)
        sim.add_member(guild_b, mallory, roles=[mods_b])
        sim.add_member(guild_b, sim.user)  # alice is in both servers
        world.extra.update(guild_b=guild_b, mallory=mallory, mods_b=mods_b)
        yield world


def guild_b(world: World) -> SimGuild:
    return world.extra["guild_b"]


def channel_b(world: World) -> SimChannel:
    return world.sim.channels[CHANNEL_B_ID]


def mallory(world: World) -> SimUser:
    return world.extra["mallory"]


async def left(world: World, guild_id: int) -> None:
    await world.sim.wait_for_call(f"/users/@me/guilds/{guild_id}", method="DELETE", predicate=lambda c: c.status == 204)
    assert world.sim.bot_user.id not in world.sim.world.guilds[guild_id].members


# --- ceilings --------------------------------------------------------------------------------------------


async def test_a_server_admin_cannot_set_limits_above_the_operators_ceilings(world: World) -> None:
    sim = world.sim
    await world.start_bot(allowed_guild_ids=frozenset({sim.guild.id, GUILD_B_ID}), max_guild_daily_images=300)
    cases = [
        ("set", {"limit": "guild_daily_images", "value": 100_000}, "can be at most 300", "MAX_GUILD_DAILY_IMAGES"),
        ("set", {"limit": "daily_images", "value": 5000}, "can be at most 100", "MAX_USER_DAILY_IMAGES"),
        ("role", {"role": world.extra["mods_b"], "daily_images": 101}, "at most 100", "MAX_USER"),
    ]
    for sub, options, says, setting in cases:
        inter = await sim.slash("limits", options, subcommand=sub, user=mallory(world), channel=channel_b(world))
        text = await refused(world, inter, says)
        assert setting in text, text
    config = await world.bot.storage.guild_config(GUILD_B_ID)
    assert (config.guild_daily_images, config.daily_images, config.roles) == (None, None, ())
    ok = await sim.slash(
        "limits",
        {"limit": "guild_daily_images", "value": 300},
        subcommand="set",
        user=mallory(world),
        channel=channel_b(world),
    )
    await reply(world, ok, "Set")
    assert (await world.bot.storage.guild_config(GUILD_B_ID)).guild_daily_images == 300


# --- ALLOWED_GUILD_IDS ------------------------------------------------------------------------------------


async def test_unset_allow_list_serves_every_server_and_warns(world: World, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cogs.operator"):
        await world.start_bot(limits=ROOMY)
        for _ in range(1000):  # until the on_ready listener has finished (it logs last)
            if "start-up checks done" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert "start-up checks done: serving 2 server(s)" in caplog.text
    assert "ALLOWED_GUILD_IDS is not set" in caplog.text
    assert world.sim.bot_user.id in guild_b(world).members
    assert not world.sim.calls_to(r"/users/@me/guilds/\d+", method="DELETE")
    assert "'Public Bot' is on" not in caplog.text


async def test_a_public_bot_is_warned_about_at_start_up(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.sim.config.bot_public = True
    with caplog.at_level(logging.WARNING, logger="cogs.operator"):
        await world.start_bot(allowed_guild_ids=frozenset({world.sim.guild.id}))
        await asyncio.wait_for(world.bot.wait_until_ready(), 10)
        for _ in range(50):  # the on_ready listeners run just after
            if "Public Bot" in caplog.text:
                break
            await asyncio.sleep(0.1)
    assert "'Public Bot' is on in the Developer Portal" in caplog.text


async def test_the_bot_leaves_unlisted_servers_at_start_up_and_when_invited(world: World) -> None:
    sim = world.sim
    await world.start_bot(allowed_guild_ids=frozenset({sim.guild.id}))
    await left(world, GUILD_B_ID)
    intruder = sim.world.add_guild("Invited By A Stranger", id=1198765432109876543)
    await left(world, intruder.id)
    assert sim.bot_user.id in sim.guild.members  # its own server stays
    inter = await world.edit("still served", mask=sample_mask(W, H))
    await reply(world, inter, "")
    assert await world.result_message()
    assert len(sim.calls_to(rf"/users/@me/guilds/{GUILD_B_ID}", method="DELETE")) == 1  # left once, not twice


async def test_an_unlisted_servers_commands_buttons_and_forms_are_refused_before_anything_runs(world: World) -> None:
    sim = world.sim
    await world.start_bot(limits=ROOMY)  # served at first: a result with buttons and an open form in B
    after = max((m.id for m in sim.messages_in(channel_b(world))), default=0)
    await world.edit("made in B", mask=sample_mask(W, H), channel=channel_b(world))
    result = await sim.wait_for_message(
        channel_b(world), lambda m: m.id > after and bool(m.attachments) and bool(m.embeds) and not m.ephemeral
    )
    job_id = int(result.embeds[0]["title"].removeprefix("Edit #"))
    opener = await sim.click(result, f"res:again:{job_id}")
    assert (await sim.wait_for_ack(opener)).json["type"] == CallbackType.MODAL

    await world.stop_bot()
    await world.start_bot(allowed_guild_ids=frozenset({sim.guild.id}))
    await left(world, GUILD_B_ID)
    jobs = len(await world.bot.storage.jobs_with_status(*JobStatus))
    requests, downloads = len(world.api.edit_requests), len(sim.cdn_requests)

    slash = await world.edit(
        "a new edit in B", image=sample_image(W, H), mask=sample_mask(W, H), channel=channel_b(world)
    )
    await refused_at_the_door(world, slash)
    queue = await sim.slash("queue", subcommand="show", channel=channel_b(world))
    await refused_at_the_door(world, queue)
    for action in ("reroll", "base", "delete"):
        await refused_at_the_door(world, await sim.click(result, f"res:{action}:{job_id}"))
    form = await sim.submit_modal(f"form:again:{job_id}", {"prompt": "sneaky"}, opened_by=opener)
    await refused_at_the_door(world, form)
    zh = await world.sim.slash("quota", channel=channel_b(world), locale="zh-CN")
    await refused(world, zh, "本机器人在此服务器不可用")

    assert len(world.api.edit_requests) == requests and len(sim.cdn_requests) == downloads
    assert len(await world.bot.storage.jobs_with_status(*JobStatus)) == jobs
    assert (await world.bot.storage.get_job(job_id)) is not None  # the delete button did nothing


async def test_an_edit_waiting_in_a_server_taken_off_the_list_is_refunded_not_run(world: World) -> None:
    """Queued while B was served (a gateway alone: nothing runs), then the operator takes B off
    ``ALLOWED_GUILD_IDS`` and restarts with a worker: B's waiting edit never reaches the API, fails
    with its images given back, and A's runs."""
    sim = world.sim
    await world.start_bot(limits=ROOMY, run_worker=False)
    in_b = await world.edit("queued in B", mask=sample_mask(W, H), channel=channel_b(world))
    await reply(world, in_b, "")
    in_a = await world.edit("queued in A", mask=sample_mask(W, H))
    await reply(world, in_a, "")
    queued = await world.bot.storage.jobs_with_status(JobStatus.QUEUED)
    assert sorted(job.prompt for job in queued) == ["queued in A", "queued in B"]
    job_b = next(job for job in queued if job.requester.guild_id == GUILD_B_ID)

    await world.stop_bot()
    await world.start_bot(run_worker=True, allowed_guild_ids=frozenset({sim.guild.id}))
    await left(world, GUILD_B_ID)
    assert await world.result_message()  # A's edit ran

    async def refused_in_storage() -> bool:
        job = await world.bot.storage.get_job(job_b.id)
        return job is not None and job.status is JobStatus.FAILED

    for _ in range(500):
        if await refused_in_storage():
            break
        await asyncio.sleep(0.01)
    failed = await world.bot.storage.get_job(job_b.id)
    assert failed is not None and failed.status is JobStatus.FAILED and failed.error_code == "forbidden"
    assert [r.fields["prompt"] for r in world.api.edit_requests] == [["queued in A"]]
    limits = await world.bot.jobs.limits_for(job_b.requester, ())
    status = await world.bot.storage.quota_status(job_b.requester, limits)
    assert (status.daily_used, status.guild_daily_used) == (1, 0)  # only A's edit counts: B's was refunded


# --- DMs ----------------------------------------------------------------------------------------------------


async def test_edits_in_dms_are_refused_by_default_saying_where_they_work(world: World) -> None:
    sim = world.sim
    await world.start_bot(limits=ROOMY)
    dm = sim.dm_channel(sim.user)
    requests, downloads = len(world.api.edit_requests), len(sim.cdn_requests)
    inter = await world.edit("in a DM", mask=sample_mask(W, H), channel=dm)
    text = await refused(world, inter, "not available in direct messages")
    assert "`/edit` in a server" in text
    assert len(world.api.edit_requests) == requests and len(sim.cdn_requests) == downloads
    assert await world.bot.storage.jobs_with_status(*JobStatus) == []


# --- owner pays -----------------------------------------------------------------------------------------------


async def test_owner_pays_but_the_owners_exemption_is_not_lent_to_editors(world: World) -> None:
    sim = world.sim
    await world.start_bot(limits=LimitDefaults(user_window_images=100, user_daily_images=1, user_max_active_jobs=10))
    vip = sim.add_role(sim.guild, "VIP")
    alice, bob, carol = sim.user, add_member(world, "bob"), add_member(world, "carol")
    sim.add_member(sim.guild, alice, roles=[vip])
    sim.add_member(sim.guild, carol, roles=[vip])
    exempt = await sim.slash("limits", {"role": vip, "exempt": True}, subcommand="exempt", user=sim.mod)
    await reply(world, exempt, "exempt")

    v1 = await first_result(world)  # alice, exempt: her own daily limit of 1 does not bind her
    thread, session = await open_session(world, v1)
    intro = await sim.wait_for_message(thread, lambda m: "Editing session" in m.content)
    pay = await sim.click(intro, f"ses:pay:{session.id}")
    await private_reply(world, pay, f"<@{alice.id}> pays for every edit")

    # bob has no exemption of his own: his limit (1 a day) applies to the images alice pays for
    text = await refused_edit(world, thread, bob, "owner")
    assert f"<@{alice.id}>" in text and "used 1 of their 1 image" in text, text
    # carol's own exemption is hers: her edit goes through, charged to alice
    await thread_edit(world, thread, "carol's scarf", user=carol)
    assert (await quota(world, alice)).daily_used == 2
    assert (await quota(world, bob)).daily_used == 0 and (await quota(world, carol)).daily_used == 0
