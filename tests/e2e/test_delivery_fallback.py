"""No silent failure when a result cannot be posted (issue 10), on the Discord simulation.

The channel is deleted or the thread closed while the edit is queued, DMs are closed, the token has
expired, Discord answers 5xx: the requester is always told where to read the result (the private
follow-up with the images while the token lives, else a DM, else the log), and the progress message
always ends in a final state. Transient failures are retried first; permanent ones are not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.delivery import RetryPolicy
from bot.store import JobStatus
from tests.bot_harness import H, W, World, make_world, reply
from tests.discord_sim import Perm, SimInteraction, SimMessage
from tests.fakes.ideogram import sample_mask

pytestmark = pytest.mark.usefixtures("no_secrets_in_logs")

FAST_RETRIES = RetryPolicy((0.05, 0.1))  # three attempts in all, without the production pauses


@asynccontextmanager
async def running(tmp_path: Path, **settings: Any) -> AsyncIterator[World]:
    async with make_world(tmp_path, **settings) as world:
        bot = await world.start_bot()
        bot.notifier.retry = FAST_RETRIES
        world.api.latency_s = 1.0  # long enough to break the destination while the edit runs
        yield world


async def started(world: World, channel=None) -> SimInteraction:
    inter = await world.edit(mask=sample_mask(W, H), channel=channel)
    await reply(world, inter, lambda m: "being generated" in m.content or "queued" in m.content)
    return inter


def result_posts(world: World) -> list[Any]:
    return [c for c in world.sim.calls if c.method == "POST" and (c.json or {}).get("nonce", "").startswith("job-")]


async def job_of(world: World, inter: SimInteraction):
    assert world.bot is not None
    [job] = [j for j in await world.bot.storage.jobs_with_status(*JobStatus) if j.reply_token == inter.token]
    return job


async def recorded_as(world: World, inter: SimInteraction, message_id: int) -> None:
    """The job records the message that carries its result (right after Discord answered the post)."""
    for _ in range(200):
        if (await job_of(world, inter)).result_message_id == message_id:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the job never recorded message {message_id}")


async def fallback_message(world: World, inter: SimInteraction) -> SimMessage:
    message = await reply(world, inter, "where you asked for it")
    assert message.ephemeral and len(message.attachments) == 1 and message.embeds
    return message


async def final_progress(world: World, inter: SimInteraction) -> SimMessage:
    """The original response ends in "ready (sent to you privately)", never "being generated"."""
    original = await world.sim.wait_for_message(
        None,
        lambda m: m.id == inter.original_message_id and "privately" in m.content,
        timeout=10,
    )
    assert "being generated" not in original.content
    return original


async def test_channel_deleted_while_queued_sends_the_result_privately(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        inter = await started(world)
        world.sim.channel.deleted = True
        message = await fallback_message(world, inter)
        assert "no longer exists" in message.content
        await final_progress(world, inter)
        assert len(result_posts(world)) == 1, "a 404 is permanent: not retried"
        await recorded_as(world, inter, message.id)
        assert (await job_of(world, inter)).status is JobStatus.SUCCEEDED


async def test_thread_closed_while_queued_sends_the_result_privately(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        sim = world.sim
        thread = sim.world.add_thread(sim.channel, "ideas", owner=sim.user)
        inter = await started(world, channel=thread)
        sim.world.set_overwrite(sim.channel, sim.world.bot_user, deny=Perm.MANAGE_THREADS)
        thread.archived = thread.locked = True  # what /session close does
        message = await fallback_message(world, inter)
        assert "archived or locked" in message.content
        await final_progress(world, inter)
        assert len(result_posts(world)) == 1, "a 400 is permanent: not retried"


async def test_token_expired_falls_back_to_a_dm(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        inter = await started(world)
        world.sim.channel.deleted = True
        world.sim.expire_token(inter)
        dm = await world.sim.wait_for_message(
            world.sim.dm_channel(world.sim.user), lambda m: "where you asked for it" in m.content, timeout=10
        )
        assert len(dm.attachments) == 1
        await recorded_as(world, inter, dm.id)


async def test_dms_closed_and_token_expired_are_logged_and_the_bot_carries_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(tmp_path) as world:
        inter = await started(world)
        world.sim.channel.deleted = True
        world.sim.expire_token(inter)
        world.sim.user.accepts_dms = False
        await world.sim.wait_for_call(
            predicate=lambda c: c.method == "POST" and "/channels/" in c.path and c.status == 403, timeout=10
        )
        for _ in range(100):
            if "could not be told" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "could not be told" in caplog.text and "kept in history" in caplog.text
        job = await job_of(world, inter)
        assert job.status is JobStatus.SUCCEEDED and not job.posted  # still in /history; re-tried on restart
        world.sim.channel.deleted = False
        world.sim.user.accepts_dms = True
        after = await world.edit(mask=sample_mask(W, H))  # the queue goes on
        await world.result_message()
        assert after.id != inter.id
    assert any(r.levelno == logging.WARNING and "could not be told" in r.getMessage() for r in caplog.records)


async def test_a_5xx_on_post_is_retried_and_posted_once(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.sim.inject("/channels/*/messages", method="POST", status=503, count=1)
        inter = await started(world)
        message = await world.result_message()
        posts = result_posts(world)
        assert [c.status for c in posts] == [503, 200]
        assert len({c.json["nonce"] for c in posts}) == 1, "the retry carries the same nonce"
        await recorded_as(world, inter, message.id)
        await world.sim.wait_for_message(
            None, lambda m: m.id == inter.original_message_id and "is ready" in m.content, timeout=10
        )


async def test_a_persistent_5xx_falls_back_after_bounded_retries(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.sim.inject("/channels/*/messages", method="POST", status=503, count=10)
        inter = await started(world)
        message = await fallback_message(world, inter)
        assert "kept failing" in message.content
        await final_progress(world, inter)
        assert [c.status for c in result_posts(world)] == [503, 503, 503], "three attempts, then the fallback"


async def test_a_fallback_opens_the_images_once_and_closes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The follow-up is refused, the DM takes the result: one set of uploads for both, closed after."""
    uploads: list[discord.File] = []

    class Recorded(discord.File):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.filename.startswith("edit-"):
                uploads.append(self)

    monkeypatch.setattr(discord, "File", Recorded)
    async with running(tmp_path) as world:
        inter = await started(world)
        world.sim.channel.deleted = True
        world.sim.inject("/webhooks/*/*", method="POST", status=403, count=1)  # the private follow-up
        dm = await world.sim.wait_for_message(
            world.sim.dm_channel(world.sim.user), lambda m: "where you asked for it" in m.content, timeout=10
        )
        assert len(dm.attachments) == 1
        await recorded_as(world, inter, dm.id)
        assert all(file.fp.closed for file in uploads)
        assert len(uploads) == 2, "one for the refused channel post, one for the follow-up and the DM"
