"""Members read refusals in their own language: zh-CN gets Chinese, en-US in the same server English."""

from __future__ import annotations

from pathlib import Path

from bot.settings import LimitDefaults
from tests.bot_harness import IMAGE_SIZE, make_world, reply, sample_image, sample_mask

W, H = IMAGE_SIZE
NO_IMAGES_TODAY = LimitDefaults(user_daily_images=0)


def attachments(mask: bool) -> dict:
    files: dict = {"image": (sample_image(W, H), "in.png")}
    if mask:
        files["mask"] = (sample_mask(W, H), "mask.png")
    return files


async def test_a_missing_mask_is_explained_in_the_members_language(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        chinese = await world.sim.slash("edit", {"prompt": "红帽子"}, attachments=attachments(False), locale="zh-CN")
        shown = await reply(world, chinese)
        assert shown.ephemeral and "请用以下三种方式之一告诉我要修改哪一部分" in shown.content, shown.content
        english = await world.sim.slash("edit", {"prompt": "a red hat"}, attachments=attachments(False), locale="en-US")
        shown = await reply(world, english)
        assert shown.ephemeral and shown.content.startswith("Tell me which part to change"), shown.content
        british = await world.sim.slash("edit", {"prompt": "a red hat"}, attachments=attachments(False), locale="en-GB")
        assert (await reply(world, british)).content.startswith("Tell me which part to change")


async def test_a_quota_refusal_is_in_the_members_language(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(limits=NO_IMAGES_TODAY)
        chinese = await world.sim.slash("edit", {"prompt": "帽子"}, attachments=attachments(True), locale="zh-CN")
        shown = await reply(world, chinese)
        assert shown.ephemeral and "你在这里的图片编辑已被关闭" in shown.content, shown.content
        traditional = await world.sim.slash("edit", {"prompt": "hat"}, attachments=attachments(True), locale="zh-TW")
        shown = await reply(world, traditional)  # no zh-TW catalogue: English, never simplified Chinese
        assert "Image edits are switched off for you here" in shown.content, shown.content
        assert len(world.api.edit_requests) == 0
