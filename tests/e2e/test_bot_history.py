"""End to end: ``/history list|show|delete`` and ``/quota`` with the real bot, the Discord simulation and the
fake Ideogram. Everything a user's history shows is private (ephemeral); paging and confirmation buttons
keep working after restarts and refuse anyone but the person they were shown to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.store import ImageKind
from cogs import delivery
from tests.bot_harness import EPHEMERAL, ROOMY, H, W, World, decode, is_result, make_world, reply, sample_mask, text_of
from tests.discord_sim import CallbackType, SimInteraction, SimMessage


async def make_edits(world: World, prompts: list[str], *, user=None, **options) -> list[SimMessage]:
    """Run edits one after another; each is fully delivered (posted and recorded) before the next."""
    results = []
    for prompt in prompts:
        inter = await world.edit(prompt, user=user, mask=sample_mask(W, H), **options)
        await reply(world, inter, "is ready")  # the progress line links the result once it is recorded
        results.append(
            await world.sim.wait_for_message(
                None, lambda m, p=prompt: bool(m.attachments) and bool(m.embeds) and m.embeds[0]["description"] == p
            )
        )
    return results


def job_id_of(message: SimMessage) -> int:
    return int(message.embeds[0]["title"].removeprefix("Edit #"))


def button(message: SimMessage, label: str) -> dict:
    return next(c for c in message.iter_components() if c.get("type") == 2 and label in (c.get("label") or ""))


async def history_list(world: World, user=None, **options) -> tuple[SimInteraction, SimMessage]:
    inter = await world.sim.slash("history", options, subcommand="list", user=user)
    ack = await world.sim.wait_for_ack(inter)
    assert ack.json["type"] == CallbackType.DEFERRED_CHANNEL_MESSAGE and ack.json["data"]["flags"] & EPHEMERAL
    page = await reply(world, inter)
    assert page.flags & EPHEMERAL
    return inter, page


async def page_changed(world: World, page: SimMessage, header: str) -> SimMessage:
    return await world.sim.wait_for_message(None, lambda m: m.id == page.id and m.content.startswith(header))


# --- /history list -----------------------------------------------------------------------------------


async def test_history_list_is_private_paged_with_thumbnails_and_links(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        results = await make_edits(world, [f"hat number {i}" for i in range(1, 8)])  # 7 edits: two pages
        by_job = {job_id_of(m): m for m in results}

        _, page = await history_list(world)
        assert page.content.startswith("Your edits 1–5 of 7")
        assert len(page.embeds) == 5 and len(page.attachments) == 5
        shown = [int(re.search(r"\*\*#(\d+)\*\*", e["description"])[1]) for e in page.embeds]
        assert shown == [7, 6, 5, 4, 3]  # newest first
        for embed, job in zip(page.embeds, shown, strict=True):
            description = embed["description"]
            assert f"hat number {job}" in description
            assert re.search(r"<t:\d+:R>", description)  # the date, in each reader's own time zone
            assert "succeeded" in description
            result = by_job[job]
            assert f"/{result.channel_id}/{result.id})" in description  # a link to the posted result
            thumb = embed["thumbnail"]["url"].removeprefix("attachment://")
            attachment = next(a for a in page.attachments if a.filename == thumb)
            assert decode(attachment.data).size[0] > 0
        assert button(page, "Newer").get("disabled") is True
        older = button(page, "Older")
        assert not older.get("disabled")

        click = await world.sim.click(page, older["custom_id"])
        assert (await world.sim.wait_for_ack(click)).json["type"] == CallbackType.DEFERRED_UPDATE_MESSAGE
        page = await page_changed(world, page, "Your edits 6–7 of 7")
        shown = [int(re.search(r"\*\*#(\d+)\*\*", e["description"])[1]) for e in page.embeds]
        assert shown == [2, 1] and len(page.attachments) == 2
        assert button(page, "Older").get("disabled") is True

        await world.sim.click(page, button(page, "Newer")["custom_id"])
        page = await page_changed(world, page, "Your edits 1–5 of 7")
        assert len(page.embeds) == 5


async def test_history_search_and_paging_after_restart_refuse_other_users(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)
        await make_edits(world, [*(f"Blue hat {i}" for i in range(6)), "red scarf"])

        _, found = await history_list(world, search="BLUE")  # case-insensitive
        assert found.content.startswith("Your edits 1–5 of 6 matching")
        assert all("blue hat" in e["description"].lower() for e in found.embeds)

        _, only = await history_list(world, search="scarf")
        assert only.content.startswith("Your edits 1–1 of 1") and "red scarf" in only.embeds[0]["description"]
        _, none = await history_list(world, search="umbrella")
        assert "No edits match" in none.content

        _, bobs = await history_list(world, user=bob)
        assert "no edits yet" in bobs.content  # nobody sees anyone else's edits

        await world.restart_bot()
        older = button(found, "Older")["custom_id"]
        refused = await world.sim.click(found, older, user=bob)
        refusal = await reply(world, refused, "someone else's edits")
        assert refusal.flags & EPHEMERAL
        assert found.content.startswith("Your edits 1–5")  # untouched

        await world.sim.click(found, older)
        found = await page_changed(world, found, "Your edits 6–6 of 6 matching")
        assert "blue hat" in found.embeds[0]["description"].lower()


async def test_history_private_entries_and_paging_after_deletions(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        await make_edits(world, [f"public {i}" for i in range(5)])
        [secret] = await make_edits(world, ["secret hat"], private=True)
        assert secret.flags & EPHEMERAL

        _, page = await history_list(world)
        assert page.content.startswith("Your edits 1–5 of 6")
        private_entry, public_entry = page.embeds[0]["description"], page.embeds[1]["description"]
        assert "secret hat" in private_entry and "[result](" not in private_entry  # nothing public to open
        assert "[result](" in public_entry

        # the Older button points past the end once an edit is deleted: show the last page instead
        assert await world.bot.storage.delete_job(1)
        await world.sim.click(page, button(page, "Older")["custom_id"])
        page = await page_changed(world, page, "Your edits 1–5 of 5")
        assert button(page, "Older").get("disabled") is True

        # a moderator may re-post someone's public edit, never a private one
        private_job = job_id_of(secret)
        refused = await world.sim.slash("history", {"job": private_job}, subcommand="show", user=world.sim.mod)
        await reply(world, refused, f"You have no edit #{private_job}")
        shown = await world.sim.slash("history", {"job": 2}, subcommand="show", user=world.sim.mod)
        await reply(world, shown, "Posted edit #2 again")


# --- /history show ----------------------------------------------------------------------------------


async def test_history_show_reposts_stored_images_with_buttons(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)
        [original] = await make_edits(world, ["a red hat"])
        job = job_id_of(original)

        show = await world.sim.slash("history", {"job": job}, subcommand="show", channel=world.sim.other_channel)
        assert (await world.sim.wait_for_ack(show)).json["data"]["flags"] & EPHEMERAL
        repost = await world.result_message(world.sim.other_channel)
        assert [a.data for a in repost.attachments] == [a.data for a in original.attachments]
        assert repost.custom_ids() == original.custom_ids()
        assert repost.embeds[0]["title"] == f"Edit #{job}"
        note = await reply(world, show, f"Posted edit #{job} again")
        assert note.flags & EPHEMERAL and str(repost.id) in note.content

        # the re-posted buttons act on the stored job
        await world.sim.click(repost, f"res:reroll:{job}")
        rerolled = await world.result_message(world.sim.other_channel, after=repost.id)
        assert world.api.edit_requests[-1].files["image"].data == world.api.edit_requests[0].files["image"].data
        assert job_id_of(rerolled) != job

        refused = await world.sim.slash("history", {"job": job}, subcommand="show", user=bob)
        refusal = await reply(world, refused, f"You have no edit #{job}")
        assert refusal.flags & EPHEMERAL
        missing = await world.sim.slash("history", {"job": 999}, subcommand="show")
        await reply(world, missing, "You have no edit #999")
        assert len([m for m in world.sim.messages_in(world.sim.channel) if is_result(m)]) == 1


async def test_history_show_of_a_private_edit_answers_in_that_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit's own interaction token is dead by now; the one of ``/history show`` lives: the result
    comes as that command's private follow-up, not as a DM."""
    async with make_world(tmp_path) as world:
        bot = await world.start_bot(limits=ROOMY)
        [secret] = await make_edits(world, ["secret hat"], private=True)
        job = job_id_of(secret)
        made = (await bot.jobs.find(job)).created_at
        monkeypatch.setattr(delivery, "token_alive", lambda created_at, now=None: created_at > made)
        show = await world.sim.slash("history", {"job": job}, subcommand="show")
        repost = await reply(world, show, lambda m: bool(m.embeds) and bool(m.attachments))
        assert repost.flags & EPHEMERAL and repost.embeds[0]["title"] == f"Edit #{job}"
        assert world.sim.messages_in(world.sim.dm_channel(world.sim.user)) == []


# --- /history delete -----------------------------------------------------------------------------------


async def test_history_delete_one_with_confirmation(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)
        first, _second = await make_edits(world, ["a red hat", "a blue hat"])
        job = job_id_of(first)
        storage = world.bot.storage
        images = await storage.job_images(job)
        output = next(i.sha for i in images if i.kind is ImageKind.OUTPUT)
        shared_input = next(i.sha for i in images if i.kind is ImageKind.INPUT)
        assert storage.files.exists(output) and storage.files.exists(shared_input)

        refused = await world.sim.slash("history", {"job": job}, subcommand="delete", user=bob)
        await reply(world, refused, f"You have no edit #{job}")

        ask = await world.sim.slash("history", {"job": job}, subcommand="delete")
        question = await reply(world, ask, f"Delete edit #{job}")
        assert question.flags & EPHEMERAL
        keep, delete = button(question, "Keep")["custom_id"], button(question, "Delete")["custom_id"]

        await world.sim.click(question, keep)
        await world.sim.wait_for_message(None, lambda m: m.id == question.id and "Nothing was deleted" in m.content)
        assert await storage.get_job(job) is not None

        ask = await world.sim.slash("history", {"job": job}, subcommand="delete")
        question = await reply(world, ask, f"Delete edit #{job}")
        delete = button(question, "Delete")["custom_id"]
        intruder = await world.sim.click(question, delete, user=bob)
        await reply(world, intruder, "Only the person who asked")
        assert await storage.get_job(job) is not None

        await world.restart_bot()  # the confirmation is a persistent button too
        storage = world.bot.storage
        await world.sim.click(question, delete)
        done = await world.sim.wait_for_message(
            None, lambda m: m.id == question.id and f"Deleted edit #{job}" in m.content
        )
        assert done.custom_ids() == []
        assert await storage.get_job(job) is None
        assert not storage.files.exists(output)  # nothing else used it
        assert storage.files.exists(shared_input)  # the other edit still uses the same input

        _, page = await history_list(world)
        assert page.content.startswith("Your edits 1–1 of 1") and f"**#{job}**" not in text_of(page)


async def test_history_delete_everything(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)
        mine = await make_edits(world, ["one", "two", "three"])
        [bobs] = await make_edits(world, ["bob's hat"], user=bob)
        storage = world.bot.storage
        outputs = [i.sha for m in mine for i in await storage.job_images(job_id_of(m)) if i.kind is ImageKind.OUTPUT]
        bob_output = next(i.sha for i in await storage.job_images(job_id_of(bobs)) if i.kind is ImageKind.OUTPUT)

        ask = await world.sim.slash("history", {}, subcommand="delete")
        question = await reply(world, ask, "Delete all 3 of your edits")
        await world.sim.click(question, button(question, "Delete")["custom_id"])
        await world.sim.wait_for_message(None, lambda m: m.id == question.id and "(3 edits)" in m.content)

        assert await storage.count_history(world.sim.user.id) == 0
        assert not any(storage.files.exists(sha) for sha in outputs)
        assert await storage.get_job(job_id_of(bobs)) is not None and storage.files.exists(bob_output)
        _, page = await history_list(world)
        assert "no edits yet" in page.content
        ask = await world.sim.slash("history", {}, subcommand="delete")
        await reply(world, ask, "You have no edits to delete")


# --- /quota --------------------------------------------------------------------------------------------


async def test_quota_shows_remaining_and_resets(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()  # defaults: 5 per 10 minutes, 25 a day, 3 at once, 200 per server
        inter = await world.sim.slash("quota")
        assert (await world.sim.wait_for_ack(inter)).json["data"]["flags"] & EPHEMERAL
        before = text_of(await reply(world, inter, "Your image quota"))
        assert "Every 10 minutes: 5 of 5 images left" in before
        assert re.search(r"Today: 25 of 25 images left; resets <t:\d+:R>", before)
        assert "0 of 3 edits queued or running" in before
        assert "This server today: 200 of 200 images left" in before

        await make_edits(world, ["a red hat"])
        inter = await world.sim.slash("quota")
        after = text_of(await reply(world, inter, "Your image quota"))
        assert re.search(r"Every 10 minutes: 4 of 5 images left; the next frees up <t:\d+:R>", after)
        assert "Today: 24 of 25 images left" in after
        assert "This server today: 199 of 200 images left" in after


async def test_quota_shows_what_is_left_of_the_operators_daily_budget(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(daily_image_budget=40)
        await make_edits(world, ["a red hat"])
        inter = await world.sim.slash("quota")
        text = text_of(await reply(world, inter, "Your image quota"))
        assert "This bot today, for everyone: 39 of 40 images left" in text
