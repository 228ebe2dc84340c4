"""End to end: the buttons on results (and Cancel on queued progress messages), before and after restarts.

The real bot runs against the Discord simulation and the fake Ideogram (``tests/bot_harness.py``).
Every answer the bot gives to a button is checked for what the user sees: a private reply (flag 64),
a form (modal) or a new public result; and what reached the API: the image, mask, prompt and seed.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from bot.settings import LimitDefaults
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
from tests.discord_sim import CallbackType, SimInteraction, SimMessage

# --- helpers ---------------------------------------------------------------------------------------


async def edit_and_wait(world: World, prompt: str = "a red hat", *, user=None, after: int = 0, **options) -> SimMessage:
    await world.edit(prompt, user=user, mask=sample_mask(W, H), **options)
    return await world.result_message(after=after)


def job_id_of(message: SimMessage) -> int:
    return int(message.embeds[0]["title"].removeprefix("Edit #"))


def modal_inputs(inter: SimInteraction) -> dict[str, dict]:
    """The text inputs of the modal the bot opened, by custom id (rows or labels)."""
    found: dict[str, dict] = {}

    def walk(items: list[dict]) -> None:
        for item in items:
            if item.get("type") == 4:
                found[item["custom_id"]] = item
            for key in ("components", "component"):
                child = item.get(key)
                if isinstance(child, list):
                    walk(child)
                elif isinstance(child, dict):
                    walk([child])

    assert inter.modal is not None
    walk(inter.modal.get("components", []))
    return found


async def open_modal(world: World, message: SimMessage, custom_id: str, *, user=None) -> SimInteraction:
    click = await world.sim.click(message, custom_id, user=user)
    ack = await world.sim.wait_for_ack(click)
    assert ack.json["type"] == CallbackType.MODAL, ack.json
    return click


def png_pixels(data: bytes) -> bytes:
    return decode(data).tobytes()


def mask_of_request(request) -> Image.Image:
    return Image.open(io.BytesIO(request.files["mask"].data)).convert("L")


# --- Reroll, Edit again, Use as base -----------------------------------------------------------------


async def test_reroll_same_input_and_mask_new_seed(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        image = sample_image(W, H)
        first = await edit_and_wait(world, seed=7)
        assert len(world.api.edit_requests) == 1

        click = await world.sim.click(first, f"res:reroll:{job_id_of(first)}")
        ack = await world.sim.wait_for_ack(click)
        assert ack.json["type"] == CallbackType.DEFERRED_CHANNEL_MESSAGE
        assert ack.json["data"]["flags"] & EPHEMERAL  # progress is private
        second = await world.result_message(after=first.id)
        done = await reply(world, click, "is ready")  # the private progress message links the result
        assert done.flags & EPHEMERAL and str(second.id) in done.content

        original, rerolled = world.api.edit_requests
        assert rerolled.files["image"].data == original.files["image"].data
        assert rerolled.files["mask"].data == original.files["mask"].data
        assert rerolled.field("prompt") == original.field("prompt") == "a red hat"
        assert original.field("seed") == "7"
        assert rerolled.field("seed") not in (None, "7")
        assert job_id_of(second) != job_id_of(first)
        assert "reroll" in text_of(second) and f"#{job_id_of(first)}" in text_of(second)
        assert outside_mask_unchanged(image, second.attachments[0].data, MASK_BOX)
        assert second.attachments[0].data != first.attachments[0].data

        # the result names the requester and pings nobody else
        post = next(c for c in world.sim.calls_to("/channels/*/messages", "POST") if c.message_id == second.id)
        mentions = post.json["allowed_mentions"]
        assert mentions.get("parse", []) == [] and [int(u) for u in mentions.get("users", [])] == [world.sim.user.id]
        assert not mentions.get("roles") and not mentions.get("replied_user")


async def test_buttons_refuse_privately_where_results_cannot_be_posted(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        first = await edit_and_wait(world)
        world.sim.restrict_bot(world.sim.channel)  # e.g. an admin took Attach Files away afterwards
        click = await world.sim.click(first, f"res:reroll:{job_id_of(first)}")
        refusal = await reply(world, click, "I can't post results here")
        assert refusal.flags & EPHEMERAL and "Attach Files" in refusal.content
        assert len(world.api.edit_requests) == 1  # nothing queued, nothing sent


async def test_edit_again_prefills_old_prompt_and_uses_the_new_one(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        first = await edit_and_wait(world, "a red hat")
        click = await open_modal(world, first, f"res:again:{job_id_of(first)}")
        inputs = modal_inputs(click)
        assert inputs["prompt"]["value"] == "a red hat"

        submit = await world.sim.submit_modal(f"form:again:{job_id_of(first)}", {"prompt": "a blue scarf"})
        ack = await world.sim.wait_for_ack(submit)
        assert ack.json["type"] == CallbackType.DEFERRED_CHANNEL_MESSAGE and ack.json["data"]["flags"] & EPHEMERAL
        second = await world.result_message(after=first.id)

        original, again = world.api.edit_requests
        assert again.field("prompt") == "a blue scarf"
        assert again.files["image"].data == original.files["image"].data
        assert again.files["mask"].data == original.files["mask"].data
        assert second.embeds[0]["description"] == "a blue scarf"
        assert outside_mask_unchanged(sample_image(W, H), second.attachments[0].data)


async def test_use_as_base_edits_the_chosen_result_image(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        first = await edit_and_wait(world, "two hats", count=2)
        assert len(first.attachments) == 2
        job = job_id_of(first)

        click = await open_modal(world, first, f"res:base:{job}")
        inputs = modal_inputs(click)
        assert set(inputs) == {"prompt", "image", "area"}
        assert "(1-2)" in inputs["image"]["label"] and inputs["image"]["value"] == "1"
        assert inputs["area"].get("required") is False

        await world.sim.submit_modal(f"form:base:{job}", {"prompt": "a gold crown", "image": "2", "area": ""})
        second = await world.result_message(after=first.id)
        request = world.api.edit_requests[-1]
        assert request.field("prompt") == "a gold crown"
        # the new job's input is result image 2, pixel for pixel, and the mask is the old one
        assert png_pixels(request.files["image"].data) == png_pixels(first.attachments[1].data)
        assert png_pixels(request.files["image"].data) != png_pixels(first.attachments[0].data)
        assert mask_of_request(request).tobytes() == mask_of_request(world.api.edit_requests[0]).tobytes()
        assert outside_mask_unchanged(first.attachments[1].data, second.attachments[0].data)

        assert len(second.attachments) == 2  # the parent's options (count included) are kept


async def test_use_as_base_numbers_images_as_shown_when_one_was_withheld(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        world.api.unsafe_indices = frozenset({1})  # the safety filter withholds image 2 of 3
        first = await edit_and_wait(world, "three hats", count=3)
        assert [a.filename.rsplit(".", 1)[0] for a in first.attachments] == [
            f"edit-{job_id_of(first)}-1",
            f"edit-{job_id_of(first)}-3",
        ]
        world.api.unsafe_indices = frozenset()
        job = job_id_of(first)
        click = await open_modal(world, first, f"res:base:{job}")
        assert "(1, 3)" in modal_inputs(click)["image"]["label"]
        await world.sim.submit_modal(f"form:base:{job}", {"prompt": "a crown", "image": "3", "area": ""})
        await world.result_message(after=first.id)
        assert png_pixels(world.api.edit_requests[-1].files["image"].data) == png_pixels(first.attachments[1].data)


async def test_use_as_base_single_image_with_a_new_area(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        first = await edit_and_wait(world, "a hat")
        job = job_id_of(first)
        click = await open_modal(world, first, f"res:base:{job}")
        assert set(modal_inputs(click)) == {"prompt", "area"}  # one image: no image number asked
        await world.sim.submit_modal(f"form:base:{job}", {"prompt": "sky", "area": "top"})
        second = await world.result_message(after=first.id)
        request = world.api.edit_requests[-1]
        assert png_pixels(request.files["image"].data) == png_pixels(first.attachments[0].data)
        mask = mask_of_request(request)
        assert mask.getpixel((W // 2, 2)) == 0 and mask.getpixel((W // 2, H - 2)) == 255  # top half changes
        assert outside_mask_unchanged(first.attachments[0].data, second.attachments[0].data, (0, 0, W, H // 2))


async def test_use_as_base_bad_image_number_is_refused_privately(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        first = await edit_and_wait(world, count=2)
        job = job_id_of(first)
        await open_modal(world, first, f"res:base:{job}")
        submit = await world.sim.submit_modal(f"form:base:{job}", {"prompt": "x", "image": "3"})
        refusal = await reply(world, submit, "images 1 to 2")
        assert refusal.flags & EPHEMERAL
        await open_modal(world, first, f"res:base:{job}")
        submit = await world.sim.submit_modal(f"form:base:{job}", {"prompt": "x", "image": "two"})
        refusal = await reply(world, submit, "not an image number")
        assert refusal.flags & EPHEMERAL
        assert len(world.api.edit_requests) == 1


# --- Delete ---------------------------------------------------------------------------------------------


async def test_delete_requester_or_manage_messages_only(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)
        first = await edit_and_wait(world)
        job = job_id_of(first)

        refused = await world.sim.click(first, f"res:delete:{job}", user=bob)
        text = await reply(world, refused, "Only the person who asked")
        assert text.flags & EPHEMERAL
        assert not world.sim.message(first.id).deleted

        done = await world.sim.click(first, f"res:delete:{job}")  # alice, the requester
        confirmation = await reply(world, done, f"Deleted the result of edit #{job}")
        assert confirmation.flags & EPHEMERAL
        assert world.sim.message(first.id).deleted
        assert await world.bot.storage.get_job(job) is not None  # still in /history

        second = await edit_and_wait(world, after=first.id)
        by_mod = await world.sim.click(second, f"res:delete:{job_id_of(second)}", user=world.sim.mod)
        await reply(world, by_mod, "Deleted the result")
        assert world.sim.message(second.id).deleted


async def test_delete_still_works_after_the_job_left_the_history(tmp_path: Path) -> None:
    """Deleting an edit from /history keeps its posted message; its Delete button must still work."""
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)
        first = await edit_and_wait(world)
        job = job_id_of(first)
        assert await world.bot.storage.delete_job(job)

        refused = await world.sim.click(first, f"res:delete:{job}", user=bob)
        await reply(world, refused, "Only the person who asked")
        assert not world.sim.message(first.id).deleted
        done = await world.sim.click(first, f"res:delete:{job}")
        await reply(world, done, "Deleted")
        assert world.sim.message(first.id).deleted


async def test_private_result_buttons_stay_private_and_delete_removes_it(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        await world.edit("a secret hat", mask=sample_mask(W, H), private=True)
        first = await world.result_message()
        assert first.flags & EPHEMERAL
        job = job_id_of(first)
        assert f"res:thread:{job}" not in first.custom_ids()  # no public thread for a private edit

        await world.sim.click(first, f"res:reroll:{job}")
        second = await world.result_message(after=first.id)
        assert second.flags & EPHEMERAL  # a reroll of a private edit stays private
        public = world.sim.messages_in(world.sim.channel, include_ephemeral=False)
        assert not any(m.attachments for m in public)

        click = await world.sim.click(first, f"res:delete:{job}")
        await reply(world, click, f"Deleted the result of edit #{job}")
        assert world.sim.message(first.id).deleted
        assert not world.sim.message(second.id).deleted


# --- after a restart ----------------------------------------------------------------------------------------


async def test_every_button_works_on_an_old_message_after_restart(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        old = await edit_and_wait(world, "a red hat", count=2)
        job = job_id_of(old)
        assert old.custom_ids() == [f"res:{a}:{job}" for a in ("reroll", "again", "base", "thread", "delete")]
        await world.restart_bot()
        latest = old.id

        reroll = await world.sim.click(old, f"res:reroll:{job}")
        assert (await world.sim.wait_for_ack(reroll)).json["type"] == CallbackType.DEFERRED_CHANNEL_MESSAGE
        rerolled = await world.result_message(after=latest)
        latest = rerolled.id
        assert world.api.edit_requests[-1].files["image"].data == world.api.edit_requests[0].files["image"].data
        assert world.api.edit_requests[-1].field("seed") != world.api.edit_requests[0].field("seed")

        again = await open_modal(world, old, f"res:again:{job}")
        assert modal_inputs(again)["prompt"]["value"] == "a red hat"
        await world.sim.submit_modal(f"form:again:{job}", {"prompt": "a green hat"})
        latest = (await world.result_message(after=latest)).id
        assert world.api.edit_requests[-1].field("prompt") == "a green hat"

        await open_modal(world, old, f"res:base:{job}")
        await world.sim.submit_modal(f"form:base:{job}", {"prompt": "a crown", "image": "1", "area": ""})
        latest = (await world.result_message(after=latest)).id
        assert png_pixels(world.api.edit_requests[-1].files["image"].data) == png_pixels(old.attachments[0].data)

        await world.restart_bot()
        delete = await world.sim.click(old, f"res:delete:{job}")
        await reply(world, delete, "Deleted the result")
        assert world.sim.message(old.id).deleted
        assert len(world.api.edit_requests) == 4


async def test_form_opened_before_restart_is_handled_after_it(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=ROOMY)
        first = await edit_and_wait(world, "a red hat", count=2)
        job = job_id_of(first)
        await open_modal(world, first, f"res:again:{job}")
        await open_modal(world, first, f"res:base:{job}")
        await world.restart_bot()

        submit = await world.sim.submit_modal(f"form:again:{job}", {"prompt": "a straw hat"})
        ack = await world.sim.wait_for_ack(submit)
        assert ack.json["type"] == CallbackType.DEFERRED_CHANNEL_MESSAGE
        second = await world.result_message(after=first.id)
        assert world.api.edit_requests[-1].field("prompt") == "a straw hat"
        assert second.embeds[0]["description"] == "a straw hat"

        await world.sim.submit_modal(f"form:base:{job}", {"prompt": "a crown", "image": "2", "area": ""})
        await world.result_message(after=second.id)
        assert png_pixels(world.api.edit_requests[-1].files["image"].data) == png_pixels(first.attachments[1].data)


# --- Cancel ------------------------------------------------------------------------------------------


async def test_cancel_a_queued_job_refunds_and_shows_cancelled(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        world.api.latency_s = 30.0  # the first edit holds the only slot until the bot stops
        await world.start_bot(max_images_in_flight=1, shutdown_grace_s=0.1, limits=LimitDefaults())
        bob = world.sim.add_user("bob")
        world.sim.add_member(world.sim.guild, bob)

        running = await world.edit("first", mask=sample_mask(W, H))
        await world.sim.wait_for_response(
            running, "edit_original", predicate=lambda c: "being generated" in str(c.json)
        )
        queued = await world.edit("second", mask=sample_mask(W, H))
        progress = await world.sim.wait_for_message(
            None, lambda m: m.interaction_id == queued.id and any(c.startswith("job:cancel:") for c in m.custom_ids())
        )
        assert progress.flags & EPHEMERAL and "queued" in progress.content
        cancel_id = next(c for c in progress.custom_ids() if c.startswith("job:cancel:"))
        job_id = int(cancel_id.rsplit(":", 1)[1])

        quota = await world.sim.slash("quota")
        before = await reply(world, quota, "Every 10 minutes")
        assert "3 of 5 images left" in text_of(before)  # two reserved

        busy = await world.sim.slash("history", {"job": job_id}, subcommand="delete")
        await reply(world, busy, f"Edit #{job_id} is still queued")  # history keeps waiting jobs

        stranger = await world.sim.click(progress, cancel_id, user=bob)
        refusal = await reply(world, stranger, "Only the person who asked")
        assert refusal.flags & EPHEMERAL
        assert (await world.bot.storage.get_job(job_id)).status == "queued"

        click = await world.sim.click(progress, cancel_id)
        await world.sim.wait_for_ack(click)
        shown = await world.sim.wait_for_message(None, lambda m: m.id == progress.id and "cancelled" in m.content)
        assert f"Edit #{job_id} was cancelled" in shown.content and "refunded" in shown.content
        assert shown.custom_ids() == []  # no Cancel button left
        assert (await world.bot.storage.get_job(job_id)).status == "cancelled"

        quota = await world.sim.slash("quota")
        after = await reply(world, quota, "Every 10 minutes")
        assert "4 of 5 images left" in text_of(after)
        assert len(world.api.edit_requests) == 1  # the cancelled job never reached the API


async def test_cancel_button_after_restart_and_token_expiry(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        world.api.latency_s = 30.0
        await world.start_bot(max_images_in_flight=1, shutdown_grace_s=0.1)
        running = await world.edit("first", mask=sample_mask(W, H))
        first_progress = await world.sim.wait_for_message(
            None, lambda m: m.interaction_id == running.id and "being generated" in m.content
        )
        queued = await world.edit("second", mask=sample_mask(W, H))
        progress = await world.sim.wait_for_message(
            None, lambda m: m.interaction_id == queued.id and any(c.startswith("job:cancel:") for c in m.custom_ids())
        )
        cancel_id = next(c for c in progress.custom_ids() if c.startswith("job:cancel:"))
        job_id = int(cancel_id.rsplit(":", 1)[1])
        await world.restart_bot()  # job 1 is requeued and runs again; job 2 still waits behind it
        world.sim.expire_token(queued)  # a long wait: the /edit's own token is no longer usable

        click = await world.sim.click(progress, cancel_id)
        await world.sim.wait_for_message(None, lambda m: m.id == progress.id and "cancelled" in m.content)
        assert (await world.bot.storage.get_job(job_id)).status == "cancelled"
        assert click.acked
        assert first_progress.id != progress.id
        assert world.sim.message(progress.id).custom_ids() == []
