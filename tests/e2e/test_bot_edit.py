"""``/edit`` end to end: the real bot against the Discord simulation and the fake Ideogram.

Each test starts a fresh world (own data directory, own sim, own fake API) and drives the bot only the
way Discord and a user would; assertions are on what Discord and the API actually received.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from discord.utils import escape_markdown, escape_mentions
from PIL import Image

from bot.errors import OPERATOR_NOTICE
from bot.i18n import text as catalogue_text
from bot.settings import LimitDefaults
from bot.store import JobStatus, QuotaStatus, Requester
from cogs import delivery
from tests.bot_harness import (
    BOT_TOKEN,
    EPHEMERAL,
    IMAGE_SIZE,
    MASK_BOX,
    H,
    W,
    World,
    decode,
    is_result,
    make_world,
    outside_mask_unchanged,
    reply,
    sample_image,
    sample_mask,
    text_of,
)
from tests.discord_sim import SimAttachment, SimChannel, SimInteraction, SimMessage, SimUser

pytestmark = pytest.mark.usefixtures("no_secrets_in_logs")


# --- helpers -------------------------------------------------------------------------------------------


@asynccontextmanager
async def running(tmp_path: Path, **settings: Any) -> AsyncIterator[World]:
    """A world with the bot started; on the way out, no secret may appear in anything sent to Discord."""
    async with make_world(tmp_path, **settings) as world:
        await world.start_bot()
        yield world
        assert_no_secrets_sent(world)


def assert_no_secrets_sent(world: World) -> None:
    """Neither secret, nor a link to the API's result files, ever reaches Discord."""
    forbidden = (world.api.api_key, BOT_TOKEN, world.api.base_url)
    for call in world.sim.calls:
        blob = json.dumps(call.json) + call.path + json.dumps(call.query)
        for text in forbidden:
            assert text not in blob, f"{text!r} was sent to Discord in {call!r}"


async def assert_deferred(world: World, inter: SimInteraction) -> None:
    """The first answer is a private "thinking" deferral (type 5, flag 64), sent promptly."""
    ack = await world.sim.wait_for_ack(inter)
    assert ack.json["type"] == 5, ack.json
    assert ack.json.get("data", {}).get("flags", 0) & EPHEMERAL
    assert inter.ack_latency is not None and inter.ack_latency < 2.0


async def refusal(world: World, inter: SimInteraction) -> str:
    """The bot refused the command: deferred, then one private message; returns its text."""
    await assert_deferred(world, inter)
    message = await reply(world, inter)
    assert message.ephemeral, message.content
    answers = [m for m in world.sim.messages_in(inter.channel_id) if m.interaction_id == inter.id]
    assert len(answers) == 1, [m.content for m in answers]
    return message.content


async def quota(world: World, user: SimUser | None = None) -> QuotaStatus:
    """What ``/quota`` would show ``user`` (default: alice) in the sim's guild."""
    assert world.bot is not None
    user = user or world.sim.user
    requester = Requester(user_id=user.id, guild_id=world.sim.guild.id)
    limits = await world.bot.jobs.limits_for(requester, ())
    return await world.bot.storage.quota_status(requester, limits)


async def assert_nothing_charged(world: World, user: SimUser | None = None) -> None:
    status = await quota(world, user)
    assert (status.window_used, status.daily_used, status.active_jobs) == (0, 0, 0), status


async def assert_nothing_queued(world: World) -> None:
    assert world.bot is not None
    assert await world.bot.storage.jobs_with_status(*JobStatus) == []
    assert world.api.edit_requests == []
    await assert_nothing_charged(world)


def public_posts(world: World, channel: SimChannel | None = None) -> list[SimMessage]:
    channel = channel or world.sim.channel
    return [
        m
        for m in world.sim.messages_in(channel, include_ephemeral=False)
        if m.author.id == world.sim.bot_user.id and m.interaction_id is None
    ]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def box_pixels(box: tuple[int, int, int, int]) -> set[tuple[int, int]]:
    x1, y1, x2, y2 = box
    return {(x, y) for y in range(y1, y2) for x in range(x1, x2)}


def changed_pixels(before: bytes, after: bytes) -> set[tuple[int, int]]:
    a, b = decode(before), decode(after)
    assert a.size == b.size
    return {(x, y) for y in range(a.height) for x in range(a.width) if a.getpixel((x, y)) != b.getpixel((x, y))}


async def failure_notice(world: World, inter: SimInteraction) -> SimMessage:
    """An edit that was queued and then failed: the private progress message says so."""
    await assert_deferred(world, inter)
    notice = await reply(world, inter, lambda m: "failed" in m.content, timeout=15)
    assert notice.ephemeral
    assert public_posts(world) == []
    return notice


@dataclass(eq=False)
class DeclaredAttachment(SimAttachment):
    """An attachment whose metadata claims ``declared`` bytes (what Discord reports before download)."""

    declared: int = 0

    @property
    def size(self) -> int:
        return self.declared


# --- the happy path --------------------------------------------------------------------------------------


async def test_edit_happy_path(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        image = sample_image(96, 64)
        inter = await world.edit("a red hat", mask=sample_mask(96, 64), seed=7)
        ack = await world.sim.wait_for_ack(inter)
        assert ack.json["type"] == 5
        message = await world.result_message()
        assert len(message.attachments) == 1
        assert outside_mask_unchanged(image, message.attachments[0].data)


async def test_result_post_embed_mentions_and_progress(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        user = world.sim.user
        inter = await world.edit("a red hat", mask=sample_mask(W, H), seed=7, count=2, magic_prompt="ON")
        await assert_deferred(world, inter)
        message = await world.result_message()

        # two attachments, uploaded by the bot (not links to the API's result URLs), mask honoured
        assert len(message.attachments) == 2
        for attachment in message.attachments:
            assert outside_mask_unchanged(sample_image(W, H), attachment.data)
            assert attachment.url.startswith(world.sim.base_url)
        assert world.api.base_url not in json.dumps([message.content, message.embeds])
        # the embed: prompt, prompt used by the API, seeds, options, requester
        (embed,) = message.embeds
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert embed["description"] == "a red hat"
        assert "enhanced by MagicPrompt" in fields["Prompt used by the API"]
        assert "`7`" in fields["Seeds"] and "`8`" in fields["Seeds"]
        assert "magic prompt ON" in fields["Options"]
        assert fields["Requested by"] == f"<@{user.id}>"
        # the requester is named and is the only one who may be pinged; a nonce guards against doubles
        assert f"<@{user.id}>" in message.content
        post = next(c for c in world.sim.calls if c.message_id == message.id and c.method == "POST")
        assert post.json["allowed_mentions"] == {"parse": [], "users": [user.id]}
        assert message.nonce and post.json.get("enforce_nonce") is True
        # progress: the private deferred response is edited into the final state
        progress = await reply(world, inter, lambda m: "is ready" in m.content)
        assert progress.ephemeral and f"/{message.id}" in progress.content
        assert len(public_posts(world)) == 1


async def test_prompts_render_literally_in_results_and_history(tmp_path: Path) -> None:
    """A prompt is member-typed text: no masked link, no formatting, no ping wherever it is shown."""
    prompt = "[Free Nitro](https://evil.example) **now** @everyone"
    async with running(tmp_path) as world:
        await world.edit(prompt, mask=sample_mask(W, H))
        message = await world.result_message()
        (embed,) = message.embeds
        assert embed["description"].startswith("\\[Free Nitro](https://evil.example) \\*\\*now\\*\\*")
        assert "@everyone" not in embed["description"]  # escaped with a zero-width space
        listing = await world.sim.slash("history", {}, subcommand="list")
        shown = await reply(world, listing, lambda m: "Free Nitro" in text_of(m))
        assert "\\[Free Nitro](https://evil.example)" in text_of(shown)


async def test_private_results_are_ephemeral(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        inter = await world.edit(mask=sample_mask(W, H), private=True)
        await assert_deferred(world, inter)
        result = await reply(world, inter, is_result)
        assert result.ephemeral
        assert outside_mask_unchanged(sample_image(W, H), result.attachments[0].data)
        await reply(world, inter, lambda m: "sent to you privately" in m.content)
        assert public_posts(world) == []


async def test_progress_shows_queue_position_then_done(tmp_path: Path) -> None:
    async with running(tmp_path, max_images_in_flight=1) as world:
        world.api.latency_s = 0.5  # the first edit is still running when the second arrives
        bob = world.sim.add_user("bob")
        first = await world.edit("first", mask=sample_mask(W, H))
        await reply(world, first, lambda m: "being generated" in m.content)
        second = await world.edit("second", user=bob, mask=sample_mask(W, H))
        await assert_deferred(world, second)
        await reply(world, second, lambda m: "is ready" in m.content, timeout=15)
        assert second.original_message_id is not None
        progress = world.sim.message(second.original_message_id)
        shown = [edit.get("content") or "" for edit in progress.edits]
        assert "queued — position 1 of 1" in shown[0]
        assert "is ready" in shown[-1]
        assert len(shown) <= 4, shown  # throttled: a handful of edits, not one per event
        assert progress.ephemeral
        assert progress.find_component("job:cancel:2") is None  # the Cancel button left with the queue


async def test_progress_throttled_updates_are_shown_late_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued job that starts within the throttle window still shows "being generated" later."""
    monkeypatch.setattr(delivery, "PROGRESS_EVERY_S", 0.4)
    async with running(tmp_path, max_images_in_flight=1) as world:
        world.api.latency_s = 0.6
        first = await world.edit("first", mask=sample_mask(W, H))
        await reply(world, first, lambda m: "being generated" in m.content)
        world.api.latency_s = 1.0
        second = await world.edit("second", user=world.sim.add_user("bob"), mask=sample_mask(W, H))
        await reply(world, second, lambda m: "is ready" in m.content, timeout=15)
        assert second.original_message_id is not None
        shown = [edit.get("content") or "" for edit in world.sim.message(second.original_message_id).edits]
        steps = [
            next(i for i, text in enumerate(shown) if needle in text)
            for needle in ("queued", "being generated", "is ready")
        ]
        assert steps == sorted(steps), shown


# --- every way of saying what to change -----------------------------------------------------------------


def inverted(mask: bytes) -> bytes:
    return png(Image.eval(Image.open(io.BytesIO(mask)).convert("L"), lambda v: 255 - v))


def alpha_mask() -> bytes:
    """Opaque black everywhere (would mean "edit all" by colour), transparent in the box: alpha wins."""
    mask = Image.new("RGBA", IMAGE_SIZE, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), MASK_BOX)
    return png(mask)


def grey_mask() -> bytes:
    """Dark grey to change, light grey to keep, with a soft 1-pixel edge."""
    mask = Image.new("L", IMAGE_SIZE, 230)
    x1, y1, x2, y2 = MASK_BOX
    mask.paste(140, (x1 - 1, y1 - 1, x2 + 1, y2 + 1))  # anti-aliased edge: above the threshold, kept
    mask.paste(40, MASK_BOX)
    return png(mask)


def big_mask() -> bytes:
    x1, y1, x2, y2 = MASK_BOX
    return sample_mask(2 * W, 2 * H, box=(2 * x1, 2 * y1, 2 * x2, 2 * y2))


@pytest.mark.parametrize(
    ("mask", "options", "box"),
    [
        pytest.param(lambda: sample_mask(W, H), {}, MASK_BOX, id="mask-black-is-edit"),
        pytest.param(lambda: inverted(sample_mask(W, H)), {"invert_mask": True}, MASK_BOX, id="mask-white-inverted"),
        pytest.param(alpha_mask, {}, MASK_BOX, id="mask-transparency"),
        pytest.param(grey_mask, {}, MASK_BOX, id="mask-grey-antialiased"),
        pytest.param(big_mask, {}, MASK_BOX, id="mask-resized"),
        pytest.param(None, {"region": "top"}, (0, 0, W, H // 2), id="region-top"),
        pytest.param(None, {"box": "10,10,60,50"}, (9, 6, 58, 32), id="box"),
    ],
)
async def test_mask_inputs(tmp_path: Path, mask: Callable[[], bytes] | None, options: dict, box: tuple) -> None:
    async with running(tmp_path) as world:
        inter = await world.edit("a red hat", mask=mask() if mask else None, **options)
        await assert_deferred(world, inter)
        message = await world.result_message()
        changed = changed_pixels(sample_image(W, H), message.attachments[0].data)
        assert changed and changed <= box_pixels(box)
        sent_mask = decode(world.api.edit_requests[0].files["mask"].data).convert("L")
        black = {(x, y) for y in range(H) for x in range(W) if sent_mask.getpixel((x, y)) == 0}
        assert black == box_pixels(box)


async def test_transparent_pixels_are_the_mask(tmp_path: Path) -> None:
    rgba = Image.open(io.BytesIO(sample_image(W, H))).convert("RGBA")
    rgba.paste((0, 0, 0, 0), MASK_BOX)
    async with running(tmp_path) as world:
        inter = await world.edit("a window", image=png(rgba))
        await assert_deferred(world, inter)
        message = await world.result_message()
        assert outside_mask_unchanged(sample_image(W, H), message.attachments[0].data)


async def test_no_mask_explains_the_three_ways(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        text = await refusal(world, await world.edit("a red hat"))
        assert "mask" in text and "invert_mask" in text and "transparent" in text
        assert "region" in text and "box" in text
        assert len(text) < 700
        await assert_nothing_queued(world)


# --- bad input is refused privately, before anything is queued or charged ---------------------------


TOP = {"region": "top"}
TRUNCATED = sample_image(W, H)[: len(sample_image(W, H)) // 2]


@pytest.mark.parametrize(
    ("attachments", "options", "expected"),
    [
        pytest.param({"image": (b"just some notes, not a picture\n" * 4, "photo.png")}, TOP, "text file", id="text"),
        pytest.param({"image": (TRUNCATED, "cut.png")}, TOP, "damaged", id="truncated"),
        pytest.param({"mask": (sample_mask(64, 64), "square.png")}, {}, "64×64", id="mask-aspect"),
        pytest.param({}, {"region": "top", "box": "0,0,50,50"}, "not both", id="region-and-box"),
        pytest.param({}, {"box": "10,10,sixty,50"}, "not a number", id="bad-box"),
        pytest.param({}, {"box": "10,10,60"}, "four numbers", id="short-box"),
        pytest.param({"mask": (png(Image.new("L", IMAGE_SIZE, 255)), "white.png")}, {}, "no black", id="empty-mask"),
    ],
)
async def test_bad_input_is_refused(tmp_path: Path, attachments: dict, options: dict, expected: str) -> None:
    async with running(tmp_path) as world:
        files: dict[str, Any] = {"image": (sample_image(W, H), "in.png"), **attachments}
        inter = await world.sim.slash("edit", {"prompt": "a hat", **options}, attachments=files)
        text = await refusal(world, inter)
        assert expected in text, text
        await assert_nothing_queued(world)


@pytest.mark.parametrize("which", ["image", "mask"])
async def test_oversized_attachment_is_refused_without_download(tmp_path: Path, which: str) -> None:
    async with running(tmp_path) as world:
        data = sample_image(W, H) if which == "image" else sample_mask(W, H)
        huge = DeclaredAttachment(world.sim.snowflake(), "huge.png", data, "image/png", W, H, declared=41 * 2**20)
        files: dict[str, Any] = {"image": (sample_image(W, H), "in.png"), "mask": (sample_mask(W, H), "m.png")}
        files[which] = huge
        inter = await world.sim.slash("edit", {"prompt": "a hat"}, attachments=files)
        text = await refusal(world, inter)
        assert f"The {which} is 41.0 MB" in text and "40 MB" in text
        assert world.sim.cdn_requests == []  # neither attachment was fetched
        await assert_nothing_queued(world)


async def test_missing_image_is_refused_before_any_download(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        text = await refusal(world, await world.edit(image=False, mask=sample_mask(W, H)))  # type: ignore[arg-type]
        assert "Attach the image" in text
        assert world.sim.cdn_requests == []
        await assert_nothing_queued(world)


async def test_non_image_attachment_type_is_refused_before_download(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        files = {"image": (b"hello", "notes.txt")}
        text = await refusal(world, await world.sim.slash("edit", {"prompt": "a", **TOP}, attachments=files))
        assert "`notes.txt` is not an image" in text
        assert world.sim.cdn_requests == []
        await assert_nothing_queued(world)


async def test_user_limit_refusal_names_the_limit(tmp_path: Path) -> None:
    limits = LimitDefaults(user_window_images=1, user_window_minutes=10)
    async with running(tmp_path, limits=limits) as world:
        first = await world.edit(mask=sample_mask(W, H))
        await world.result_message()
        await reply(world, first, lambda m: "is ready" in m.content)
        fetched = len(world.sim.cdn_requests)
        text = await refusal(world, await world.edit("again", mask=sample_mask(W, H)))
        assert "1 image per 10 minutes" in text and "<t:" in text, text
        assert len(world.sim.cdn_requests) == fetched  # refused before downloading anything
        assert len(world.api.edit_requests) == 1
        assert (await quota(world)).window_used == 1


async def test_missing_permissions_refused_and_nothing_queued(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.sim.restrict_bot(world.sim.channel)
        text = await refusal(world, await world.edit(mask=sample_mask(W, H)))
        assert "Send Messages" in text and "Attach Files" in text
        assert world.sim.cdn_requests == []
        await assert_nothing_queued(world)


# --- the image API failing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected", "attempts"),
    [
        pytest.param(lambda api: api.fail_next(400), "rejected the request", 1, id="400"),
        pytest.param(lambda api: api.fail_next(402), "out of credits", 1, id="402"),
        pytest.param(lambda api: api.fail_next(422, {"error": "Prompt flagged."}), "Prompt flagged", 1, id="422"),
        pytest.param(lambda api: api.fail_next(503, times=2), "HTTP 503", 2, id="503-persistent"),
        pytest.param(lambda api: api.malformed_next(), "could not understand", 1, id="malformed"),
    ],
)
async def test_api_errors_fail_privately_and_refund(
    tmp_path: Path, fault: Callable, expected: str, attempts: int
) -> None:
    async with running(tmp_path, ideogram_max_retries=1) as world:
        fault(world.api)
        notice = await failure_notice(world, await world.edit(mask=sample_mask(W, H)))
        assert expected in notice.content, notice.content
        assert len(world.api.edit_requests) == attempts  # only 429/5xx/network errors are retried
        await assert_nothing_charged(world)


async def test_quota_command_shows_the_refund(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.api.fail_next(400)
        await failure_notice(world, await world.edit(mask=sample_mask(W, H)))
        inter = await world.sim.slash("quota")
        await assert_deferred(world, inter)
        answer = await reply(world, inter, lambda m: bool(m.embeds))
        fields = {f["name"]: f["value"] for f in answer.embeds[0]["fields"]}
        assert answer.ephemeral and fields["Every 10 minutes"].startswith("5 of 5 images left"), fields


async def test_refusal_after_token_expiry_arrives_by_dm(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        expired = {"code": 50027, "message": "Invalid Webhook Token"}
        world.sim.inject("/webhooks/*/*", method="POST", status=401, body=expired)
        inter = await world.edit("a hat")  # no mask: refused
        await assert_deferred(world, inter)
        dm = world.sim.dm_channel(world.sim.user)
        notice = await world.sim.wait_for_message(dm, lambda m: "three ways" in m.content)
        assert notice.author.id == world.sim.bot_user.id
        assert public_posts(world) == []
        await assert_nothing_queued(world)


@pytest.mark.parametrize(
    ("status", "notice", "logged"),
    [
        (401, catalogue_text(OPERATOR_NOTICE), "IDEOGRAM_API_KEY"),
        (403, catalogue_text(OPERATOR_NOTICE), "no access to this endpoint"),
        (402, "out of credits", "top up credits"),
    ],
)
async def test_api_operator_problems(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, status: int, notice: str, logged: str
) -> None:
    async with running(tmp_path) as world:
        world.api.fail_next(status)
        text = (await failure_notice(world, await world.edit(mask=sample_mask(W, H)))).content
        assert notice in text and "operator has the details" in text, text
        assert str(status) not in text and len(text) < 300
        await assert_nothing_charged(world)
        assert logged in caplog.text and f"answered {status}" in caplog.text


async def test_api_rate_limit_is_retried(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.api.fail_next(429, headers={"Retry-After": "0"})
        inter = await world.edit(mask=sample_mask(W, H))
        message = await world.result_message()
        assert outside_mask_unchanged(sample_image(W, H), message.attachments[0].data)
        assert [r.status for r in world.api.edit_requests] == [429, 200]
        await reply(world, inter, lambda m: "is ready" in m.content)


async def test_api_timeout(tmp_path: Path) -> None:
    async with running(tmp_path, ideogram_timeout_s=0.6) as world:
        world.api.latency_s = 5.0
        notice = await failure_notice(world, await world.edit(mask=sample_mask(W, H)))
        assert "took too long" in notice.content or "did not finish" in notice.content, notice.content
        await assert_nothing_charged(world)


async def test_safety_withheld_image_is_named(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.api.unsafe_indices = frozenset({1})
        inter = await world.edit(mask=sample_mask(W, H), count=2)
        message = await world.result_message()
        assert len(message.attachments) == 1
        fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
        assert "Image 2 was withheld by the safety filter" in fields["Withheld"]
        progress = await reply(world, inter, lambda m: "is ready" in m.content)
        assert "1 image withheld" in progress.content


# --- mentions, expiry, permissions, places ----------------------------------------------------------------


async def test_prompt_mentions_never_ping(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        role = world.sim.add_role(world.sim.guild, "artists")
        prompt = f"@everyone @here <@&{role.id}> <@{world.sim.mod.id}> a hat"
        inter = await world.edit(prompt, mask=sample_mask(W, H))
        message = await world.result_message()
        await reply(world, inter, lambda m: "is ready" in m.content)
        # shown literally (escaped: no mention renders), and pings are blocked on every send as well
        assert message.embeds[0]["description"] == escape_mentions(escape_markdown(prompt))
        sent = [c for c in world.sim.calls if isinstance(c.json, dict) and "content" in c.json]
        assert sent
        for call in sent:
            mentions = call.json.get("allowed_mentions")
            assert mentions is not None, call
            assert mentions.get("parse") == [] and not mentions.get("roles"), call
            assert set(mentions.get("users", [])) <= {world.sim.user.id}, call


async def test_results_arrive_after_token_expiry(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.api.latency_s = 1.0
        inter = await world.edit(mask=sample_mask(W, H))
        await reply(world, inter, lambda m: "being generated" in m.content)
        world.sim.expire_token(inter)
        message = await world.result_message()
        assert outside_mask_unchanged(sample_image(W, H), message.attachments[0].data)
        assert f"<@{world.sim.user.id}>" in message.content


async def test_private_results_arrive_by_dm_after_token_expiry(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.api.latency_s = 1.0
        inter = await world.edit(mask=sample_mask(W, H), private=True)
        await reply(world, inter, lambda m: "being generated" in m.content)
        world.sim.expire_token(inter)
        dm = await world.result_message(world.sim.dm_channel(world.sim.user))
        assert outside_mask_unchanged(sample_image(W, H), dm.attachments[0].data)
        assert public_posts(world) == []


async def test_failure_after_token_expiry_is_sent_by_dm(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.api.fail_next(400, after_s=1.0)  # rejected only after the token has expired
        inter = await world.edit(mask=sample_mask(W, H))
        await reply(world, inter, lambda m: "queued" in m.content or "being generated" in m.content)
        await world.api.wait_for_requests(1)  # the job is at the API
        world.sim.expire_token(inter)
        dm_channel = world.sim.dm_channel(world.sim.user)
        notice = await world.sim.wait_for_message(dm_channel, lambda m: "failed" in m.content, timeout=10)
        assert "rejected the request" in notice.content
        assert public_posts(world) == []
        await assert_nothing_charged(world)


async def test_dismissed_progress_message_does_not_lose_the_edit(tmp_path: Path) -> None:
    """The user dismissed the private "thinking" message: the bot cannot show progress, but the job is
    queued and must neither fail nor be reported as "nothing was charged"."""
    async with running(tmp_path) as world:
        world.api.latency_s = 0.2
        unknown = {"code": 10008, "message": "Unknown Message"}
        world.sim.inject("/webhooks/*/*/messages/@original", method="PATCH", status=404, body=unknown)
        inter = await world.edit(mask=sample_mask(W, H))
        await assert_deferred(world, inter)
        message = await world.result_message()
        assert outside_mask_unchanged(sample_image(W, H), message.attachments[0].data)
        said = [m.content for m in world.sim.messages_in(world.sim.channel) if m.interaction_id == inter.id]
        assert not any("wrong" in text or "Nothing was charged" in text for text in said), said
        assert (await quota(world)).daily_used == 1


async def test_edit_in_dm(tmp_path: Path) -> None:
    async with running(tmp_path, allow_dms=True) as world:  # DMs are off by default (issue 10)
        dm = world.sim.dm_channel(world.sim.user)
        inter = await world.edit(mask=sample_mask(W, H), channel=dm)
        await assert_deferred(world, inter)
        message = await world.result_message(dm)
        assert outside_mask_unchanged(sample_image(W, H), message.attachments[0].data)
        assert public_posts(world) == []


async def test_edit_in_thread_posts_in_the_thread(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        thread = world.sim.add_thread(world.sim.channel, "hats")
        inter = await world.edit(mask=sample_mask(W, H), channel=thread)
        await assert_deferred(world, inter)
        outcome = await world.sim.wait_for_message(
            None,
            lambda m: (
                (m.channel_id == thread.id and is_result(m))
                or (m.interaction_id == inter.id and ("❌" in m.content or "wrong" in m.content))
            ),
            timeout=10,
        )
        assert outcome.attachments, outcome.content
        assert outside_mask_unchanged(sample_image(W, H), outcome.attachments[0].data)
        assert public_posts(world) == []


async def test_large_result_is_reencoded_to_fit_the_upload_limit(tmp_path: Path) -> None:
    limit = 6_000
    async with running(tmp_path) as world:
        assert world.bot is not None
        world.sim.guild.upload_limit = limit
        world.api.output_size = (384, 256)
        inter = await world.edit(mask=sample_mask(W, H))
        message = await world.result_message(timeout=15)
        (output,) = [i for i in await world.bot.storage.job_images(1) if i.sha and i.kind == "output"]
        assert len(await world.bot.storage.files.get(output.sha)) > limit  # the API's PNG did not fit
        (attachment,) = message.attachments
        assert attachment.size <= limit
        assert decode(attachment.data).size[0] >= 96
        assert len(world.api.edit_requests) == 1
        await reply(world, inter, lambda m: "is ready" in m.content)


async def test_result_refitted_when_discord_rejects_its_size(tmp_path: Path) -> None:
    """The limit the interaction reported no longer holds when the result is posted: a 413 makes the
    bot re-encode smaller and post again instead of losing the result."""
    async with running(tmp_path) as world:
        world.api.output_size = (384, 256)
        inter = await world.edit(mask=sample_mask(W, H))
        world.sim.guild.upload_limit = 6_000  # after the interaction said 10 MiB
        message = await world.result_message(timeout=15)
        assert message.attachments[0].size <= 6_000
        rejected = [c for c in world.sim.calls_to("/channels/*/messages", "POST") if c.status == 413]
        assert rejected, "the first, too large, upload should have been refused"
        await reply(world, inter, lambda m: "is ready" in m.content)


async def test_all_images_withheld_is_said_privately(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        world.api.unsafe_indices = frozenset({0})
        inter = await world.edit(mask=sample_mask(W, H))
        progress = await reply(world, inter, lambda m: "withheld" in m.content)
        assert progress.ephemeral and "1 image withheld by the safety filter" in progress.content
