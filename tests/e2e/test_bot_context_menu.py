"""The "Edit image" message context menu end to end: menu → form (modal) → queued edit → result.

A modal must be the first answer to the menu, so the bot opens the form at once and does its I/O when
the form comes back; forms are routed by ``custom_id`` so a form opened before a restart still works.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.limits import BOX_EXAMPLE
from bot.store import JobAction, JobStatus
from tests.bot_harness import (
    EPHEMERAL,
    MASK_BOX,
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
from tests.discord_sim import SimInteraction, SimMessage

pytestmark = pytest.mark.usefixtures("no_secrets_in_logs")
MENU = "Edit image"
TOP_HALF = (0, 0, W, H // 2)


async def open_form(world: World, target: SimMessage) -> tuple[SimInteraction, dict]:
    """Use the menu on ``target``; the bot must answer with its form (callback 9) straight away."""
    inter = await world.sim.message_context(MENU, target)
    ack = await world.sim.wait_for_ack(inter)
    assert ack.json["type"] == 9, ack.json
    assert inter.ack_latency is not None and inter.ack_latency < 2.0
    assert inter.modal is not None
    assert inter.modal["custom_id"] == f"form:ctx:{target.channel_id}:{target.id}"
    return inter, inter.modal


def form_inputs(modal: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}
    stack = list(modal.get("components", []))
    while stack:
        item = stack.pop()
        if "custom_id" in item and item.get("type") == 4:
            found[item["custom_id"]] = item
        stack += item.get("components", []) + ([item["component"]] if "component" in item else [])
    return found


async def submit(world: World, opener: SimInteraction, **fields: str) -> SimInteraction:
    assert opener.modal is not None
    inter = await world.sim.submit_modal(opener.modal["custom_id"], fields, opened_by=opener)
    ack = await world.sim.wait_for_ack(inter)
    assert ack.json["type"] == 5 and ack.json["data"]["flags"] & EPHEMERAL, ack.json
    assert inter.ack_latency is not None and inter.ack_latency < 2.0
    return inter


async def private_reply(world: World, inter: SimInteraction) -> str:
    message = await world.sim.wait_for_message(None, lambda m: m.interaction_id == inter.id and bool(m.content))
    assert message.ephemeral
    return message.content


def photo_post(world: World, *images: tuple[bytes, str]) -> SimMessage:
    return world.sim.add_message(world.sim.channel, "my photo", author=world.sim.user, attachments=images)


def changed_pixels(before: bytes, after: bytes) -> set[tuple[int, int]]:
    a, b = decode(before), decode(after)
    assert a.size == b.size
    return {(x, y) for y in range(a.height) for x in range(a.width) if a.getpixel((x, y)) != b.getpixel((x, y))}


def within(box: tuple[int, int, int, int]) -> set[tuple[int, int]]:
    x1, y1, x2, y2 = box
    return {(x, y) for y in range(y1, y2) for x in range(x1, x2)}


async def test_menu_on_a_photo_with_a_region(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        photo = photo_post(world, (sample_image(W, H), "photo.png"))
        opener, modal = await open_form(world, photo)
        inputs = form_inputs(modal)
        assert set(inputs) == {"prompt", "area"}  # one image: no "which image" field
        assert "transparent" in inputs["area"]["label"]
        inter = await submit(world, opener, prompt="a blue sky", area="top")
        result = await world.result_message()
        changed = changed_pixels(sample_image(W, H), result.attachments[0].data)
        assert changed and changed <= within(TOP_HALF)
        assert result.embeds[0]["description"] == "a blue sky"
        progress = await world.sim.wait_for_message(
            None, lambda m: m.interaction_id == inter.id and "is ready" in m.content
        )
        assert progress.ephemeral


async def test_menu_picks_one_of_several_images(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        second = sample_image(128, 96)
        photo = photo_post(world, (sample_image(W, H), "a.png"), (second, "b.png"))
        opener, modal = await open_form(world, photo)
        assert "image" in form_inputs(modal)
        await submit(world, opener, prompt="a cat", image="2", area="10,10,50,50")
        result = await world.result_message()
        changed = changed_pixels(second, result.attachments[0].data)
        assert changed and changed <= within((12, 9, 64, 48))


async def test_menu_without_area_on_an_opaque_photo_explains(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        opener, _ = await open_form(world, photo_post(world, (sample_image(W, H), "photo.png")))
        text = await private_reply(world, await submit(world, opener, prompt="a cat", area=""))
        assert "Area" in text and "transparent" in text and BOX_EXAMPLE in text
        assert world.api.edit_requests == []
        assert world.bot is not None and await world.bot.storage.jobs_with_status(*JobStatus) == []


async def test_menu_on_a_photo_with_transparency_needs_no_area(tmp_path: Path) -> None:
    rgba = Image.open(io.BytesIO(sample_image(W, H))).convert("RGBA")
    rgba.paste((0, 0, 0, 0), MASK_BOX)
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    async with make_world(tmp_path) as world:
        await world.start_bot()
        opener, _ = await open_form(world, photo_post(world, (buffer.getvalue(), "cut-out.png")))
        await submit(world, opener, prompt="a window")
        result = await world.result_message()
        assert outside_mask_unchanged(sample_image(W, H), result.attachments[0].data)


async def test_menu_on_a_message_without_image(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        note = world.sim.add_message(world.sim.channel, "just words", author=world.sim.user)
        inter = await world.sim.message_context(MENU, note)
        ack = await world.sim.wait_for_ack(inter)
        assert ack.json["type"] == 4 and ack.json["data"]["flags"] & EPHEMERAL
        assert "no image" in ack.json["data"]["content"]
        assert ack.json["data"]["allowed_mentions"] == {"parse": []}


async def test_menu_in_a_channel_where_the_bot_cannot_post(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        photo = photo_post(world, (sample_image(W, H), "photo.png"))
        world.sim.restrict_bot(world.sim.channel)
        opener, _ = await open_form(world, photo)
        text = await private_reply(world, await submit(world, opener, prompt="a cat", area="top"))
        assert "Send Messages" in text and "Attach Files" in text
        assert world.sim.cdn_requests == [] and world.api.edit_requests == []


async def test_menu_on_a_result_reuses_its_mask(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        bot = await world.start_bot()
        original = sample_image(W, H)
        await world.edit("a red hat", mask=sample_mask(W, H))
        first = await world.result_message()
        first_image = first.attachments[0].data
        opener, modal = await open_form(world, first)
        assert "same mask" in form_inputs(modal)["area"]["label"]
        await submit(world, opener, prompt="a green scarf", area="")
        second = await world.result_message(after=first.id)
        # the first result is the new input; only the original mask's area changed, twice
        assert outside_mask_unchanged(first_image, second.attachments[0].data)
        assert outside_mask_unchanged(original, second.attachments[0].data)
        job = await bot.storage.get_job(2)
        assert job is not None and job.action is JobAction.USE_AS_BASE and job.parent_job_id == 1
        assert world.api.edit_requests[1].files["mask"].data == world.api.edit_requests[0].files["mask"].data


async def test_form_submitted_after_a_restart(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        opener, _ = await open_form(world, photo_post(world, (sample_image(W, H), "photo.png")))
        await world.restart_bot()
        await submit(world, opener, prompt="a blue sky", area="top")
        result = await world.result_message()
        changed = changed_pixels(sample_image(W, H), result.attachments[0].data)
        assert changed and changed <= within(TOP_HALF)


async def test_menu_in_a_dm(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(allow_dms=True)  # DMs are off by default (issue 10)
        dm = world.sim.dm_channel(world.sim.user)
        photo = world.sim.add_message(dm, "", author=world.sim.user, attachments=[(sample_image(W, H), "p.png")])
        opener, _ = await open_form(world, photo)
        await submit(world, opener, prompt="a blue sky", area="top")
        result = await world.result_message(dm)
        changed = changed_pixels(sample_image(W, H), result.attachments[0].data)
        assert changed and changed <= within(TOP_HALF)


async def test_menu_in_a_dm_without_allow_dms_is_refused_before_the_message_is_fetched(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()  # DMs are off by default (issue 10)
        dm = world.sim.dm_channel(world.sim.user)
        photo = world.sim.add_message(dm, "", author=world.sim.user, attachments=[(sample_image(W, H), "p.png")])
        opener, _ = await open_form(world, photo)
        text = await private_reply(world, await submit(world, opener, prompt="a blue sky", area="top"))
        assert "not available in direct messages" in text, text
        assert world.sim.calls_to(f"/channels/{dm.id}/messages/{photo.id}", method="GET") == []
        assert world.sim.cdn_requests == [] and world.api.edit_requests == []
        assert world.bot is not None and await world.bot.storage.jobs_with_status(*JobStatus) == []


async def test_a_menu_edit_waiting_for_memory_says_so(tmp_path: Path) -> None:
    """The menu's edits go the way of /edit's: a preparation that waits for memory shows its place."""
    async with make_world(tmp_path) as world:
        bot = await world.start_bot()
        blocker = bot.memory.request(bot.memory.capacity)  # all memory taken: the preparation must wait
        await blocker.wait()
        opener, _ = await open_form(world, photo_post(world, (sample_image(W, H), "photo.png")))
        inter = await submit(world, opener, prompt="a blue sky", area="top")
        assert "position 1" in text_of(await reply(world, inter, "Waiting for memory"))
        blocker.release()
        await world.result_message()


@pytest.mark.parametrize(
    ("area", "expected"),
    [("upper", "not an area I know"), ("10,10,60", "four numbers"), ("60,10,10,50", "left edge")],
)
async def test_menu_with_a_bad_area(tmp_path: Path, area: str, expected: str) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        opener, _ = await open_form(world, photo_post(world, (sample_image(W, H), "photo.png")))
        text = await private_reply(world, await submit(world, opener, prompt="a cat", area=area))
        assert expected in text, text
        assert world.sim.cdn_requests == [] and world.api.edit_requests == []
