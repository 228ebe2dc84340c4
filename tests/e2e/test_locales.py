"""Members read refusals in their own language: zh-CN gets Chinese, en-US in the same server English."""

from __future__ import annotations

from pathlib import Path

from bot.settings import LimitDefaults
from bot.store import JobStatus
from tests.bot_harness import IMAGE_SIZE, make_world, reply, sample_image, sample_mask, text_of

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


# --- issue 13: whose language, everywhere ---------------------------------------------------------

ZH = "zh-CN"


def members(world):
    """Two members of the same server: one whose Discord is in Chinese, one in English."""
    li = world.sim.add_member(world.sim.guild, "li").user
    ann = world.sim.add_member(world.sim.guild, "ann").user
    return li, ann


async def test_a_bad_mask_is_refused_in_the_members_language(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        li, ann = members(world)
        wrong = {"image": (sample_image(W, H), "in.png"), "mask": (sample_mask(W * 2, H), "mask.png")}
        chinese = await world.sim.slash("edit", {"prompt": "帽子"}, attachments=wrong, user=li, locale=ZH)
        shown = await reply(world, chinese)
        assert shown.ephemeral and "蒙版是" in shown.content and "The mask" not in shown.content, shown.content
        wrong = {"image": (sample_image(W, H), "in.png"), "mask": (sample_mask(W * 2, H), "mask.png")}
        english = await world.sim.slash("edit", {"prompt": "hat"}, attachments=wrong, user=ann, locale="en-US")
        assert (await reply(world, english)).content.startswith("The mask is")
        assert len(world.api.edit_requests) == 0


async def test_quota_and_history_in_the_members_language(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        li, ann = members(world)
        quota = await world.sim.slash("quota", user=li, locale=ZH)
        shown = text_of(await reply(world, quota, "你的图片额度"))
        assert "今天" in shown and "剩余" in shown and "images left" not in shown, shown
        quota = await world.sim.slash("quota", user=ann, locale="en-US")
        assert "Today" in text_of(await reply(world, quota, "Your image quota"))

        empty = await world.sim.slash("history", {}, subcommand="list", user=li, locale=ZH)
        assert "你还没有任何编辑" in (await reply(world, empty)).content
        done = await world.sim.slash("edit", {"prompt": "红帽子"}, attachments=attachments(True), user=li, locale=ZH)
        await reply(world, done, lambda m: "已完成" in m.content, timeout=15)
        page = await world.sim.slash("history", {}, subcommand="list", user=li, locale=ZH)
        listed = await reply(world, page, "你的编辑")
        assert listed.content.startswith("你的编辑：第 1–1 条，共 1 条"), listed.content
        assert "已完成" in listed.embeds[0]["description"]  # the job's status, in Chinese
        labels = [c.get("label") for c in listed.iter_components() if c.get("type") == 2]
        assert "◀ 较新" in labels and "较旧 ▶" in labels, labels
        english = await world.sim.slash("history", {}, subcommand="list", user=ann, locale="en-US")
        assert "You have no edits yet" in (await reply(world, english)).content


async def test_progress_is_private_and_in_the_members_language_results_in_the_servers(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()  # the server's preferred locale is English
        li, _ = members(world)
        inter = await world.sim.slash("edit", {"prompt": "红帽子"}, attachments=attachments(True), user=li, locale=ZH)
        progress = await reply(world, inter, lambda m: "已完成" in m.content, timeout=15)
        assert progress.ephemeral and progress.content.startswith("✅ 编辑 #"), progress.content
        result = await world.result_message()
        embed = result.embeds[0]
        assert embed["title"].startswith("Edit #") and "your edit is ready" in result.content  # public: the server's
        labels = [c.get("label") for c in result.iter_components() if c.get("type") == 2]
        assert "Reroll" in labels


async def test_a_chinese_server_gets_its_public_results_in_chinese_even_after_a_restart(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        world.sim.guild.locale = ZH  # the server's "preferred locale" in its community settings
        await world.start_bot(max_images_in_flight=1)
        _, ann = members(world)
        inter = await world.sim.slash("edit", {"prompt": "a hat"}, attachments=attachments(True), user=ann)
        progress = await reply(world, inter, lambda m: "is ready" in m.content, timeout=15)
        assert progress.ephemeral  # ann's own language: English
        result = await world.result_message()
        embed = result.embeds[0]
        assert embed["title"].startswith("编辑 #") and "你的编辑完成了" in result.content, (embed, result.content)
        assert embed["footer"]["text"] == "使用下面的按钮重新生成、再次编辑或继续编辑。"
        labels = [c.get("label") for c in result.iter_components() if c.get("type") == 2]
        assert "重新生成" in labels and "Reroll" not in labels, labels
        # stored with the job: a result posted by the next process (a re-post here) keeps the language
        await world.restart_bot()
        job = (await world.bot.storage.jobs_with_status(*JobStatus))[0]
        assert (job.requester.locale, job.requester.guild_locale) == ("en-US", ZH)
        again = await world.bot.notifier.post_results(job, repost=True)
        assert again is not None and again.embeds[0].title.startswith("编辑 #")


async def test_a_failed_edit_is_explained_in_the_members_language(tmp_path: Path) -> None:
    """The failure reason is stored as a message id with arguments, not as English text."""
    async with make_world(tmp_path) as world:
        await world.start_bot()
        li, _ = members(world)
        world.api.fail_next(400)
        inter = await world.sim.slash("edit", {"prompt": "帽子"}, attachments=attachments(True), user=li, locale=ZH)
        notice = await reply(world, inter, lambda m: "失败" in m.content, timeout=15)
        assert notice.ephemeral and "图像服务" in notice.content and "rejected" not in notice.content, notice.content
