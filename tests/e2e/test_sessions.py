"""End to end: editing sessions in threads (the real bot, the Discord simulation, the fake Ideogram).

A session is opened with 🧵 on a result (or ``/edit … thread:true``); everyone edits its head in the
thread, branches with ``/session revert`` and "Make head", compares versions, and the owner locks it,
pays for it or closes it. Every check is on what Discord and the API received, or on storage.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

from bot.settings import LimitDefaults
from bot.store import JobStatus, QuotaStatus, Requester, Session
from tests.bot_harness import (
    EPHEMERAL,
    MASK_BOX,
    ROOMY,
    H,
    W,
    World,
    decode,
    make_world,
    outside_mask_unchanged,
    reply,
    sample_image,
    sample_mask,
    text_of,
)
from tests.discord_sim import CallbackType, ChannelType, SimChannel, SimInteraction, SimMessage, SimUser

TOP = (0, 0, W, H // 2)  # region:top, as a box


# --- helpers ---------------------------------------------------------------------------------------


async def private_reply(world: World, inter: SimInteraction, contains: str) -> SimMessage:
    message = await reply(world, inter, contains)
    assert message.flags & EPHEMERAL, message.content
    return message


def job_id_of(message: SimMessage) -> int:
    return int(message.embeds[0]["title"].removeprefix("Edit #"))


def is_result(world: World, message: SimMessage) -> bool:
    return (
        message.author.id == world.sim.bot_user.id
        and bool(message.attachments)
        and bool(message.embeds)
        and (message.embeds[0].get("title") or "").startswith("Edit #")
    )


def last_id(world: World, channel: SimChannel) -> int:
    return max((m.id for m in world.sim.messages_in(channel)), default=0)


async def result_in(world: World, channel: SimChannel, after: int) -> SimMessage:
    return await world.sim.wait_for_message(
        channel, lambda m: m.id > after and is_result(world, m) and not m.ephemeral, timeout=10
    )


async def first_result(world: World, prompt: str = "a red hat", **options) -> SimMessage:
    after = last_id(world, world.sim.channel)
    await world.edit(prompt, mask=sample_mask(W, H), **options)
    return await result_in(world, world.sim.channel, after)


async def open_session(world: World, result: SimMessage, *, user: SimUser | None = None) -> tuple[SimChannel, Session]:
    """Press 🧵 on ``result``: the thread exists, its intro is posted, storage has the session."""
    click = await world.sim.click(result, f"res:thread:{job_id_of(result)}", user=user)
    await private_reply(world, click, "Started editing session")
    thread = world.sim.channels[world.sim.message(result.id).thread_id]
    await world.sim.wait_for_message(thread, lambda m: "Editing session" in m.content)
    session = await world.bot.storage.session_by_thread(thread.id)
    assert session is not None
    return thread, session


async def thread_edit(
    world: World, thread: SimChannel, prompt: str, *, user: SimUser | None = None, **options
) -> SimMessage:
    """``/edit`` in the thread without an image; returns the new version's result message."""
    after = last_id(world, thread)
    await world.edit(prompt, image=False, channel=thread, user=user, **options)
    return await result_in(world, thread, after)


async def refused_edit(world: World, thread: SimChannel, user: SimUser, contains: str) -> str:
    """``/edit`` in the thread is refused privately, and nothing is queued or sent to the API."""
    jobs_before, requests_before = await job_count(world), len(world.api.edit_requests)
    inter = await world.edit("should not happen", image=False, channel=thread, user=user)
    message = await private_reply(world, inter, contains)
    assert await job_count(world) == jobs_before and len(world.api.edit_requests) == requests_before
    return message.content


async def slash_session(world: World, sub: str, thread: SimChannel, user: SimUser | None = None, **options):
    return await world.sim.slash("session", options, subcommand=sub, channel=thread, user=user)


async def session_now(world: World, thread: SimChannel) -> Session:
    session = await world.bot.storage.session_by_thread(thread.id)
    assert session is not None
    return session


async def job_count(world: World) -> int:
    return len(await world.bot.storage.jobs_with_status(*JobStatus))


async def quota(world: World, user: SimUser) -> QuotaStatus:
    requester = Requester(user_id=user.id, guild_id=world.sim.guild.id)
    limits = await world.bot.jobs.limits_for(requester, ())
    return await world.bot.storage.quota_status(requester, limits)


def pixels(data: bytes) -> bytes:
    return decode(data).tobytes()


def sent_image(world: World, n: int = -1) -> bytes:
    return pixels(world.api.edit_requests[n].files["image"].data)


def sent_mask(world: World, n: int = -1) -> bytes:
    return Image.open(io.BytesIO(world.api.edit_requests[n].files["mask"].data)).convert("L").tobytes()


def add_member(world: World, name: str) -> SimUser:
    user = world.sim.add_user(name)
    world.sim.add_member(world.sim.guild, user)
    return user


def link_to(message: SimMessage) -> str:
    return f"/{message.channel_id}/{message.id})"


async def tree_text(world: World, thread: SimChannel, user: SimUser | None = None) -> str:
    inter = await slash_session(world, "tree", thread, user)
    message = await private_reply(world, inter, "versions")
    return message.embeds[0]["description"]


def tree_rows(description: str) -> list[tuple[int, int, int | None, bool]]:
    """(indent, version, parent version, is head) per version line of ``/session tree``."""
    rows = []
    for line in description.splitlines():
        found = re.match(r"^((?:　)*(?:└ )?)\[?v(\d+)\]?(?:\([^)]*\))?(?: ← v(\d+))? · ", line)
        if found:
            indent = found[1].count("　") + found[1].count("└")
            rows.append((indent, int(found[2]), int(found[3]) if found[3] else None, "📌 **head**" in line))
    return rows


# --- two users, one image ----------------------------------------------------------------------------


async def test_two_users_edit_one_image_in_a_thread(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        sim, alice = world.sim, world.sim.user
        bob = add_member(world, "bob")
        v1 = await first_result(world, "a red hat on a cat")
        assert f"res:thread:{job_id_of(v1)}" in v1.custom_ids()

        thread, session = await open_session(world, v1)
        assert thread.type == ChannelType.PUBLIC_THREAD and thread.parent_id == sim.channel.id
        assert thread.name == "a red hat on a cat" and thread.id == v1.thread_id
        intro = await sim.wait_for_message(thread, lambda m: "Editing session" in m.content)
        assert f"owner <@{alice.id}>" in intro.content and "everyone here can edit" in intro.content
        assert intro.custom_ids() == [f"ses:{a}:{session.id}" for a in ("lock", "pay", "close")]
        assert (session.owner_id, session.root_job_id, session.head_job_id) == (alice.id, job_id_of(v1), job_id_of(v1))
        # the starting result is now v1: Make head and Compare instead of Open thread
        shown = sim.message(v1.id).custom_ids()
        assert f"res:head:{job_id_of(v1)}" in shown and f"res:thread:{job_id_of(v1)}" not in shown

        # alice: /edit in the thread, no image, no mask -> the head, with the head's mask
        v2 = await thread_edit(world, thread, "a blue scarf")
        assert sent_image(world) == pixels(v1.attachments[0].data)
        assert sent_mask(world) == sent_mask(world, 0)
        assert outside_mask_unchanged(v1.attachments[0].data, v2.attachments[0].data, MASK_BOX)
        assert f"res:head:{job_id_of(v2)}" in v2.custom_ids() and f"<@{alice.id}>" in text_of(v2)
        assert (await session_now(world, thread)).head_job_id == job_id_of(v2)

        # bob: a region given now replaces the mask; the head (v2) is the image
        v3 = await thread_edit(world, thread, "a starry sky", user=bob, region="top")
        assert sent_image(world) == pixels(v2.attachments[0].data)
        assert outside_mask_unchanged(v2.attachments[0].data, v3.attachments[0].data, TOP)
        assert f"Requested by: <@{bob.id}>" in text_of(v3)
        assert (await session_now(world, thread)).head_job_id == job_id_of(v3)

        versions = await world.bot.sessions.versions(await session_now(world, thread))
        assert [(v.number, v.parent, v.job.requester.user_id, v.job.prompt) for v in versions] == [
            (1, None, alice.id, "a red hat on a cat"),
            (2, 1, alice.id, "a blue scarf"),
            (3, 2, bob.id, "a starry sky"),
        ]
        assert all(v.job.session_id == session.id for v in versions)
        assert versions[1].job.mask_sha == versions[0].job.mask_sha != versions[2].job.mask_sha
        jobs = await job_count(world)
        private = await world.edit("just for me", image=False, channel=thread, user=bob, private=True)
        await private_reply(world, private, "leave out `private`")  # session edits are shared
        assert await job_count(world) == jobs
        stored = [i.seed for i in await world.bot.storage.job_images(job_id_of(v3)) if i.kind == "output"]
        assert stored and f"`{stored[0]}`" in text_of(v3)  # the seed is recorded and shown

        # each participant's /history lists their own edits, linked to the thread
        for user, mine in ((alice, [v2, v1]), (bob, [v3])):
            inter = await sim.slash("history", {}, subcommand="list", user=user)
            page = await private_reply(world, inter, "Your edits")
            assert page.content.startswith(f"Your edits 1–{len(mine)} of {len(mine)}")
            assert [int(re.search(r"\*\*#(\d+)\*\*", e["description"])[1]) for e in page.embeds] == [
                job_id_of(m) for m in mine
            ]
            for embed, message in zip(page.embeds, mine, strict=True):
                assert link_to(message) in embed["description"]
        assert link_to(v3).startswith(f"/{thread.id}/")


# --- branch, revert, Make head, Compare ------------------------------------------------------------------


async def test_branch_revert_make_head_and_compare(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        sim = world.sim
        v1 = await first_result(world)
        thread, _ = await open_session(world, v1)
        v2 = await thread_edit(world, thread, "a green hat")

        revert = await slash_session(world, "revert", thread, version=1)
        await private_reply(world, revert, f"v1 (edit #{job_id_of(v1)}) is the head again")
        assert (await session_now(world, thread)).head_job_id == job_id_of(v1)

        v3 = await thread_edit(world, thread, "a gold crown", seed=1234)  # a branch from v1
        assert sent_image(world) == pixels(v1.attachments[0].data)
        assert (await world.bot.storage.get_job(job_id_of(v3))).parent_job_id == job_id_of(v1)

        tree = await tree_text(world, thread)
        assert tree_rows(tree) == [(0, 1, None, False), (0, 2, 1, False), (1, 3, 1, True)]  # v3: a branch
        for message in (v1, v2, v3):
            assert link_to(message) in tree
        assert len(tree_rows(tree)) == len(tree.split("\n\n")[0].splitlines())  # every line parsed
        assert "Head: v1 → v3" in tree

        # Make head on v2 (a button on its result), then an edit continues v2's branch
        click = await sim.click(v2, f"res:head:{job_id_of(v2)}")
        await private_reply(world, click, f"Edit #{job_id_of(v2)} is now the head")
        assert (await session_now(world, thread)).head_job_id == job_id_of(v2)
        v4 = await thread_edit(world, thread, "a silver crown")
        assert sent_image(world) == pixels(v2.attachments[0].data)

        # a Reroll of v4 re-edits v2's image: in the tree it is v4's sibling
        after = last_id(world, thread)
        await sim.click(v4, f"res:reroll:{job_id_of(v4)}")
        v5 = await result_in(world, thread, after)
        assert sent_image(world) == pixels(v2.attachments[0].data)
        tree = await tree_text(world, thread)
        assert tree_rows(tree) == [
            (0, 1, None, False),
            (0, 2, 1, False),
            (0, 4, 2, False),
            (1, 5, 2, True),
            (1, 3, 1, False),
        ]
        assert "Head: v1 → v2 → v5" in tree

        bad = await slash_session(world, "revert", thread, version=9)
        await private_reply(world, bad, "versions 1 to 5")
        assert (await session_now(world, thread)).head_job_id == job_id_of(v5)

        # Compare on v3: its input (v1's image) and its result, side by side
        after = last_id(world, thread)
        click = await sim.click(v3, f"res:compare:{job_id_of(v3)}")
        await private_reply(world, click, "Posted the comparison")
        posted = await sim.wait_for_message(thread, lambda m: m.id > after and bool(m.attachments), timeout=10)
        assert f"edit #{job_id_of(v3)}" in posted.content and not is_result(world, posted)
        canvas = decode(posted.attachments[0].data)
        band = canvas.height - H - 8  # label band above, gap below: both panels keep the image height
        assert 2 * W < canvas.width <= 2 * W + 40 and 0 < band < 40, canvas.size
        left = canvas.crop((8, band, 8 + W, band + H))
        right = canvas.crop((16 + W, band, 16 + 2 * W, band + H))
        before, after_image = decode(v1.attachments[0].data), decode(v3.attachments[0].data)
        assert close(left, before) and close(right, after_image)
        assert not close(left, after_image) and not close(right, before)  # in the right order


def close(a: Image.Image, b: Image.Image) -> bool:
    """Nearly the same picture where the edit changed it (the comparison is a JPEG: compare luma)."""
    a, b = (im.crop(MASK_BOX).convert("L") for im in (a, b))
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0] < 6


# --- owner controls: lock ------------------------------------------------------------------------------


async def test_locked_session_refuses_others_but_owner_and_manage_threads(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        sim, alice, mod = world.sim, world.sim.user, world.sim.mod
        bob = add_member(world, "bob")
        v1 = await first_result(world)
        thread, session = await open_session(world, v1)
        intro = await sim.wait_for_message(thread, lambda m: "Editing session" in m.content)

        denied = await sim.click(intro, f"ses:lock:{session.id}", user=bob)
        await private_reply(world, denied, "Only the session's owner")
        assert not (await session_now(world, thread)).locked

        lock = await sim.click(intro, f"ses:lock:{session.id}")
        await private_reply(world, lock, "only <@")
        assert (await session_now(world, thread)).locked
        await sim.wait_for_message(thread, lambda m: m.id == intro.id and f"only <@{alice.id}> can edit" in m.content)

        text = await refused_edit(world, thread, bob, "This session is locked")
        assert f"<@{alice.id}>" in text
        for custom_id in (f"res:reroll:{job_id_of(v1)}", f"res:head:{job_id_of(v1)}"):
            jobs = await job_count(world)
            click = await sim.click(v1, custom_id, user=bob)
            await private_reply(world, click, "This session is locked")
            assert await job_count(world) == jobs
        revert = await slash_session(world, "revert", thread, bob, version=1)
        await private_reply(world, revert, "This session is locked")
        assert (await quota(world, bob)).daily_used == 0

        v2 = await thread_edit(world, thread, "the owner's edit")
        v3 = await thread_edit(world, thread, "a moderator's edit", user=mod)  # Manage Threads
        assert f"Requested by: <@{mod.id}>" in text_of(v3) and v2.id < v3.id

        settings = await slash_session(world, "settings", thread, locked=False)
        await private_reply(world, settings, "everyone here can edit")
        await sim.wait_for_message(thread, lambda m: m.id == intro.id and "everyone here can edit" in m.content)
        v4 = await thread_edit(world, thread, "bob at last", user=bob)
        assert (await session_now(world, thread)).head_job_id == job_id_of(v4)


# --- owner controls: who pays ---------------------------------------------------------------------------


async def test_owner_pays_charges_the_owner_until_the_owner_limit_refuses(tmp_path: Path) -> None:
    limits = LimitDefaults(user_window_images=100, user_daily_images=3, user_max_active_jobs=10)
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=limits)
        sim, alice = world.sim, world.sim.user
        bob = add_member(world, "bob")
        v1 = await first_result(world)
        thread, session = await open_session(world, v1)
        intro = await sim.wait_for_message(thread, lambda m: "Editing session" in m.content)

        pay = await sim.click(intro, f"ses:pay:{session.id}")
        await private_reply(world, pay, f"<@{alice.id}> pays for every edit")
        await sim.wait_for_message(thread, lambda m: m.id == intro.id and "pays for every edit" in m.content)

        await thread_edit(world, thread, "bob's hat", user=bob)
        await thread_edit(world, thread, "bob's scarf", user=bob, count=1)
        assert (await quota(world, bob)).daily_used == 0
        assert (await quota(world, alice)).daily_used == 3
        shown = await sim.slash("quota", user=bob)
        assert "3 of 3 images left" in text_of(await private_reply(world, shown, "Today"))

        text = await refused_edit(world, thread, bob, "owner")
        assert f"<@{alice.id}>" in text and "used 3 of their 3 images" in text, text
        jobs = await job_count(world)
        reroll = await sim.click(v1, f"res:reroll:{job_id_of(v1)}", user=bob)  # a button: the reservation refuses
        text = (await private_reply(world, reroll, "owner")).content
        assert f"<@{alice.id}>" in text and "used 3 of their 3 images" in text, text
        assert await job_count(world) == jobs
        assert (await quota(world, bob)).daily_used == 0 and (await quota(world, alice)).daily_used == 3

        # back to "each editor pays": bob's own quota is charged
        settings = await slash_session(world, "settings", thread, owner_pays=False)
        await private_reply(world, settings, "each editor pays")
        v4 = await thread_edit(world, thread, "bob pays himself", user=bob)
        assert (await world.bot.storage.get_job(job_id_of(v4))).payer_user_id == bob.id
        assert (await quota(world, bob)).daily_used == 1 and (await quota(world, alice)).daily_used == 3

        denied = await slash_session(world, "settings", thread, bob, owner_pays=True)
        await private_reply(world, denied, "Only the session's owner")
        assert not (await session_now(world, thread)).owner_pays


# --- owner controls: close ---------------------------------------------------------------------------


async def test_close_archives_the_thread_refuses_edits_and_keeps_the_tree(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        sim = world.sim
        bob = add_member(world, "bob")
        v1 = await first_result(world)
        thread, session = await open_session(world, v1)
        v2 = await thread_edit(world, thread, "before closing", user=bob)
        intro = await sim.wait_for_message(thread, lambda m: "Editing session" in m.content)

        denied = await sim.click(intro, f"ses:close:{session.id}", user=bob)
        await private_reply(world, denied, "Only the session's owner")
        assert not thread.archived and not (await session_now(world, thread)).closed

        close_click = await sim.click(intro, f"ses:close:{session.id}")
        await private_reply(world, close_click, "Session closed")
        await sim.wait_for_call(f"/channels/{thread.id}", method="PATCH", predicate=lambda c: c.status == 200)
        assert thread.archived and thread.locked
        assert (await session_now(world, thread)).closed

        await refused_edit(world, thread, bob, "This editing session is closed")
        jobs = await job_count(world)
        click = await sim.click(v2, f"res:again:{job_id_of(v2)}", user=bob)
        assert (await sim.wait_for_ack(click)).json["type"] == CallbackType.MODAL
        submit = await sim.submit_modal(f"form:again:{job_id_of(v2)}", {"prompt": "sneaky"}, user=bob)
        await private_reply(world, submit, "This editing session is closed")
        assert await job_count(world) == jobs

        tree = await tree_text(world, thread, bob)  # still readable from storage
        assert tree_rows(tree) == [(0, 1, None, False), (0, 2, 1, True)]


# --- /edit thread:true ----------------------------------------------------------------------------------


async def test_edit_with_thread_true_opens_a_session_on_the_result(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        sim = world.sim
        v1 = await first_result(world, "a castle on a hill", thread=True)
        call = await sim.wait_for_call(f"/channels/{sim.channel.id}/messages/{v1.id}/threads", method="POST")
        assert call.status == 201
        thread = sim.channels[v1.id]
        assert thread.name == "a castle on a hill"
        intro = await sim.wait_for_message(thread, lambda m: "Editing session" in m.content)
        session = await session_now(world, thread)
        assert (session.root_job_id, session.owner_id) == (job_id_of(v1), sim.user.id)
        assert f"ses:lock:{session.id}" in intro.custom_ids()
        v2 = await thread_edit(world, thread, "a moat")
        assert sent_image(world) == pixels(v1.attachments[0].data)
        assert (await session_now(world, thread)).head_job_id == job_id_of(v2)

        plain = await first_result(world, "no thread here")  # thread:false (the default) opens none
        assert sim.message(plain.id).thread_id is None
        assert f"res:thread:{job_id_of(plain)}" in plain.custom_ids()


# --- a restart in the middle ---------------------------------------------------------------------------


async def test_a_session_survives_a_restart(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        sim, alice = world.sim, world.sim.user
        bob = add_member(world, "bob")
        v1 = await first_result(world)
        thread, session = await open_session(world, v1)
        intro = await sim.wait_for_message(thread, lambda m: "Editing session" in m.content)
        v2 = await thread_edit(world, thread, "a blue hat", user=bob)

        await world.restart_bot()

        click = await sim.click(v1, f"res:head:{job_id_of(v1)}")  # a button on the message in the channel
        await private_reply(world, click, f"Edit #{job_id_of(v1)} is now the head")
        v3 = await thread_edit(world, thread, "after the restart", user=bob)  # from the head: v1
        assert sent_image(world) == pixels(v1.attachments[0].data)
        assert outside_mask_unchanged(v1.attachments[0].data, v3.attachments[0].data, MASK_BOX)

        # Use as base on v2, from its button: a version of the session, posted in the thread
        after = last_id(world, thread)
        base = await sim.click(v2, f"res:base:{job_id_of(v2)}")
        assert (await sim.wait_for_ack(base)).json["type"] == CallbackType.MODAL
        await sim.submit_modal(f"form:base:{job_id_of(v2)}", {"prompt": "a feather", "area": "left"})
        v4 = await result_in(world, thread, after)
        assert sent_image(world) == pixels(v2.attachments[0].data)
        assert outside_mask_unchanged(v2.attachments[0].data, v4.attachments[0].data, (0, 0, W // 2, H))

        # Edit again on v1's message in the parent channel: the new version is posted in the thread too
        after = last_id(world, thread)
        again = await sim.click(v1, f"res:again:{job_id_of(v1)}")
        assert (await sim.wait_for_ack(again)).json["type"] == CallbackType.MODAL
        await sim.submit_modal(f"form:again:{job_id_of(v1)}", {"prompt": "a purple hat"})
        v5 = await result_in(world, thread, after)
        assert sent_image(world) == pixels(sample_image(W, H))  # v1's own input: a sibling of v1
        assert (await session_now(world, thread)).head_job_id == job_id_of(v5)

        tree = await tree_text(world, thread)
        assert tree_rows(tree) == [
            (0, 1, None, False),
            (0, 2, 1, False),
            (0, 4, 2, False),
            (1, 3, 1, False),
            (0, 5, None, True),
        ]
        assert "Head: v5" in tree

        lock = await sim.click(intro, f"ses:lock:{session.id}")
        await private_reply(world, lock, f"only <@{alice.id}>")
        await world.restart_bot()
        await refused_edit(world, thread, bob, "This session is locked")
        assert len(await world.bot.sessions.versions(await session_now(world, thread))) == 5
