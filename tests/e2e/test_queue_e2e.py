"""The queue as members see it, with the real bot in-process against the Discord simulation.

One image at a time (``MAX_IMAGES_IN_FLIGHT=1``) and a slow fake API keep the first edit running, so
the edits behind it stay queued while the test looks at positions, presses Cancel, and uses
``/queue show`` and ``/queue cancel``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.quota import resolve_limits
from bot.store import JobStatus, Requester
from tests.bot_harness import World, make_world, sample_mask
from tests.discord_sim import SimInteraction, SimMessage, SimUser

SLOW_API_S = 30.0  # the running edit outlasts every test; shutdown re-queues it (grace below)
PROGRESS_EVERY_S = 0.2  # progress edits are throttled to one per 5 s; the tests need not wait that long


@dataclass
class Queued:
    interaction: SimInteraction
    job_id: int

    @property
    def progress_id(self) -> int:
        assert self.interaction.original_message_id is not None
        return self.interaction.original_message_id


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    monkeypatch.setattr("cogs.delivery.PROGRESS_EVERY_S", PROGRESS_EVERY_S)
    async with make_world(tmp_path, max_images_in_flight=1, shutdown_grace_s=0.1) as world:
        world.api.latency_s = SLOW_API_S
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)
        world.extra["bob"] = bob
        await world.start_bot()
        yield world


async def submit(world: World, prompt: str, user: SimUser) -> Queued:
    """``/edit`` and wait for its progress message (which names the job)."""
    inter = await world.edit(prompt, user=user, mask=sample_mask(96, 64))
    message = await progress(world, inter, lambda text: "Edit #" in text)
    found = re.search(r"Edit #(\d+)", message.content)
    assert found is not None
    return Queued(inter, int(found[1]))


async def progress(world: World, inter: SimInteraction, check, timeout: float = 10.0) -> SimMessage:
    """The interaction's progress message, once its text passes ``check``."""
    return await world.sim.wait_for_message(
        predicate=lambda m: m.interaction_id == inter.id and check(m.content or ""), timeout=timeout
    )


async def answer(world: World, inter: SimInteraction) -> str:
    """What the bot finally told the user who ran a command (text or first embed)."""
    call = await world.sim.wait_for_response(inter, "followup", timeout=10)
    body = call.json or {}
    embeds = body.get("embeds") or []
    return body.get("content") or (embeds[0].get("description", "") if embeds else "")


async def status(world: World, job_id: int) -> JobStatus:
    assert world.bot is not None
    job = await world.bot.storage.get_job(job_id)
    assert job is not None
    return job.status


async def images_used(world: World, user: SimUser) -> tuple[int, int]:
    """(images counted in the window, active jobs) for a member, as ``/quota`` sees them."""
    assert world.bot is not None
    limits = resolve_limits(world.settings.limits, None, ())
    quota = await world.bot.storage.quota_status(Requester(user.id, world.sim.guild.id), limits)
    return quota.window_used, quota.active_jobs


async def test_progress_shows_position_and_estimate_and_cancel_refunds(world: World) -> None:
    sim, bob = world.sim, world.extra["bob"]
    first = await submit(world, "a red hat", sim.user)
    second = await submit(world, "a blue scarf", bob)
    await progress(world, second.interaction, lambda t: re.search(r"position 1 of 1, starting in about \d+ s", t))
    third = await submit(world, "green boots", sim.user)
    assert await status(world, first.job_id) is JobStatus.RUNNING

    shown = await progress(world, third.interaction, lambda t: "position 2 of 2" in t)
    assert f"job:cancel:{third.job_id}" in shown.custom_ids()
    await progress(world, second.interaction, lambda t: "position 1 of 2" in t)
    assert await images_used(world, sim.user) == (2, 2)

    click = await sim.click(shown, f"job:cancel:{third.job_id}")
    assert (await sim.wait_for_ack(click)).json["type"] == 6  # deferred update of the progress message
    cancelled = await progress(world, third.interaction, lambda t: "was cancelled" in t)
    assert cancelled.custom_ids() == []
    assert await status(world, third.job_id) is JobStatus.CANCELLED
    assert await images_used(world, sim.user) == (1, 1), "the cancelled edit's image is refunded"
    assert await status(world, second.job_id) is JobStatus.QUEUED


async def test_a_running_or_unknown_edit_cannot_be_cancelled(world: World) -> None:
    sim = world.sim
    first = await submit(world, "a red hat", sim.user)
    assert await status(world, first.job_id) is JobStatus.RUNNING
    attempt = await sim.slash("queue", {"job": first.job_id}, subcommand="cancel", user=sim.user)
    assert "can no longer be cancelled" in await answer(world, attempt)
    assert await status(world, first.job_id) is JobStatus.RUNNING
    assert await images_used(world, sim.user) == (1, 1)
    unknown = await sim.slash("queue", {"job": 9999}, subcommand="cancel", user=sim.mod)
    assert "There is no job #9999" in await answer(world, unknown)


async def test_queue_show_lists_running_and_waiting_edits(world: World) -> None:
    sim, bob = world.sim, world.extra["bob"]
    first = await submit(world, "a red hat", sim.user)
    second = await submit(world, "a blue scarf", bob)
    third = await submit(world, "green boots", sim.user)

    shown = await sim.slash("queue", {}, subcommand="show", user=sim.user)
    call = await sim.wait_for_response(shown, "followup", timeout=10)
    embed = call.json["embeds"][0]
    assert embed["title"] == "Queue — 1 running, 2 waiting"
    lines = embed["description"].splitlines()
    assert lines[0].startswith(f"🎨 **#{first.job_id}** <@{sim.user.id}> — a red hat (running")
    assert lines[1].startswith(f"⏳ 1. **#{second.job_id}** <@{bob.id}> — a blue scarf (starts in about")
    assert lines[2].startswith(f"⏳ 2. **#{third.job_id}** <@{sim.user.id}> — green boots (starts in about")
    assert "footer" not in embed, "plain members are not told how to cancel others' edits"

    as_mod = await sim.slash("queue", {}, subcommand="show", user=sim.mod)
    mod_embed = (await sim.wait_for_response(as_mod, "followup", timeout=10)).json["embeds"][0]
    assert "/queue cancel" in mod_embed["footer"]["text"]


async def test_moderator_cancels_a_queued_edit_and_the_requester_is_told(world: World) -> None:
    sim, bob = world.sim, world.extra["bob"]
    await submit(world, "a red hat", sim.user)
    victim = await submit(world, "a blue scarf", bob)
    behind = await submit(world, "green boots", sim.user)
    assert await images_used(world, bob) == (1, 1)

    attempt = await sim.slash("queue", {"job": victim.job_id}, subcommand="cancel", user=sim.user)
    assert "Only the person who asked" in await answer(world, attempt)
    assert await status(world, victim.job_id) is JobStatus.QUEUED, "a plain member cannot cancel others' edits"

    cancel = await sim.slash("queue", {"job": victim.job_id}, subcommand="cancel", user=sim.mod)
    assert f"Edit #{victim.job_id} was cancelled" in await answer(world, cancel)
    assert await status(world, victim.job_id) is JobStatus.CANCELLED
    told = await sim.wait_for_response(
        victim.interaction,
        "followup",
        predicate=lambda c: "cancelled by a moderator" in (c.json or {}).get("content", ""),
    )
    assert told.ok and told.json.get("flags", 0) & 64, "the requester is told privately"
    await progress(world, victim.interaction, lambda t: "was cancelled" in t)
    assert await images_used(world, bob) == (0, 0), "the moderator's cancel refunds the requester"
    await progress(world, behind.interaction, lambda t: "position 1 of 1" in t)

    own = await sim.slash("queue", {"job": behind.job_id}, subcommand="cancel", user=sim.user)
    assert f"Edit #{behind.job_id} was cancelled" in await answer(world, own)
    requester_calls = [c for c in sim.interaction_responses(behind.interaction) if c.kind == "followup"]
    assert not any("moderator" in (c.json or {}).get("content", "") for c in requester_calls)
