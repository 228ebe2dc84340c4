"""The editor flow over plain HTTP, on the Discord simulation and the fake API (the browser tests in
``test_editor_browser.py`` drive the same routes through the real page)."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from aiohttp import ClientSession, FormData
from PIL import Image

from bot.settings import LimitDefaults
from bot.store import JobStatus
from tests.bot_harness import BOT_TOKEN, IMAGE_SIZE, World, is_result, reply, sample_image, text_of
from tests.web.support import box_mask_png, editor_link, editor_world, link_in

W, H = IMAGE_SIZE
BOX = (10, 8, 50, 40)


async def post(url: str, path: str, mask: bytes, prompt: str = "a red hat") -> tuple[int, dict]:
    form = FormData()
    form.add_field("prompt", prompt)
    form.add_field("mask", mask, filename="mask.png", content_type="image/png")
    async with ClientSession() as http, http.post(f"{url}/{path}", data=form) as response:
        body = await response.json() if response.content_type == "application/json" else {}
        return response.status, body


async def get_status(url: str) -> int:
    async with ClientSession() as http, http.get(url) as response:
        return response.status


async def jobs(world: World) -> list:
    assert world.bot is not None
    return await world.bot.storage.jobs_with_status(*JobStatus)


async def test_edit_without_area_offers_the_editor_and_confirm_queues_it(tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with editor_world(tmp_path) as world:
        inter = await world.edit("a red hat")
        url = await editor_link(world, inter)
        assert url.startswith(world.extra["base"] + "/e/")
        assert not await jobs(world) and not world.api.edit_requests  # nothing queued, nothing charged
        assert await get_status(url) == 200

        status, body = await post(url, "preview", box_mask_png(IMAGE_SIZE, BOX))
        assert status == 200, body
        status, body = await post(url, "confirm", box_mask_png(IMAGE_SIZE, BOX), prompt="a blue hat")
        assert status == 200 and body["place"] == "#general", body

        result = await world.result_message()
        assert is_result(result) and "a blue hat" in text_of(result)
        sent = world.api.edit_requests[0]
        mask = Image.open(io.BytesIO(sent.files["mask"].data)).convert("L")
        expected = Image.open(io.BytesIO(box_mask_png(IMAGE_SIZE, BOX))).convert("L")
        assert mask.tobytes() == expected.tobytes()
        assert sent.field("prompt") == "a blue hat"
        # progress went to the command's own private response, which now says the edit is ready
        await reply(world, inter, f"Edit #{body['job_id']} is ready")

        # single use: the same link queues nothing more
        assert (await post(url, "confirm", box_mask_png(IMAGE_SIZE, BOX)))[0] == 409
        assert await get_status(url) == 409
        assert len(await jobs(world)) == 1 and len(world.api.edit_requests) == 1
    signature = url.rsplit(".", 1)[1]
    leaks = [line for line in caplog.text.splitlines() if signature in line or BOT_TOKEN in line]
    assert not leaks, leaks[:3]


async def test_bad_masks_and_links_are_refused_without_a_job(tmp_path) -> None:
    async with editor_world(tmp_path) as world:
        url = await editor_link(world, await world.edit("a red hat"))
        white = box_mask_png(IMAGE_SIZE, (0, 0, 0, 0))
        status, body = await post(url, "confirm", white)
        assert status == 422 and "nothing to change" in body["message"]
        status, body = await post(url, "confirm", box_mask_png((W * 2, H), (0, 0, 10, 10)))
        assert status == 422 and "reload" in body["message"]
        status, body = await post(url, "confirm", b"not a png at all")
        assert status == 422
        tampered = url[:-1] + ("A" if url[-1] != "A" else "B")
        assert (await post(tampered, "confirm", box_mask_png(IMAGE_SIZE, BOX)))[0] == 403
        assert world.bot is not None
        later = world.bot.editor.expiry() + timedelta(minutes=1)
        world.bot.editor._clock = lambda: later
        status, body = await post(url, "confirm", box_mask_png(IMAGE_SIZE, BOX))
        assert status == 410 and "again" in body["message"]
        assert not await jobs(world) and not world.api.edit_requests


async def test_quota_refusal_is_shown_and_the_link_stays_usable(tmp_path) -> None:
    limits = LimitDefaults(user_window_images=1, user_window_minutes=10)
    async with editor_world(tmp_path, limits=limits) as world:
        first = await editor_link(world, await world.edit("a red hat"))
        second = await editor_link(world, await world.edit("a green hat"))
        assert (await post(first, "confirm", box_mask_png(IMAGE_SIZE, BOX)))[0] == 200
        status, body = await post(second, "confirm", box_mask_png(IMAGE_SIZE, BOX))
        assert status == 429 and "retry_at" in body and body["message"]
        assert len(await jobs(world)) == 1
        assert await get_status(second) == 200  # refused, not used up


async def test_draw_mask_on_a_result_starts_from_its_mask_and_edits_that_image(tmp_path) -> None:
    from tests.bot_harness import sample_mask

    async with editor_world(tmp_path) as world:
        first = await world.edit("a red hat", mask=sample_mask(W, H))
        result = await world.result_message()
        job_id = int(result.custom_ids()[0].rsplit(":", 1)[1])
        assert f"draw:{job_id}" in result.custom_ids()
        click = await world.sim.click(result, f"draw:{job_id}")
        url = await editor_link(world, click)
        async with ClientSession() as http, http.get(f"{url}/mask") as response:
            start = Image.open(io.BytesIO(await response.read())).convert("L")
        expected = Image.open(io.BytesIO(sample_mask(W, H))).convert("L")
        assert start.size == (W, H) and start.tobytes() == expected.tobytes()
        status, body = await post(url, "confirm", box_mask_png(IMAGE_SIZE, BOX), prompt="now a blue hat")
        assert status == 200, body
        second = await world.result_message(after=result.id)
        assert "now a blue hat" in text_of(second)
        job = await world.bot.storage.get_job(body["job_id"])  # type: ignore[union-attr]
        assert job is not None and job.parent_job_id == job_id and job.action == "use_as_base"
        del first


async def test_editor_off_says_how_to_turn_it_on(tmp_path) -> None:
    from tests.bot_harness import make_world

    async with make_world(tmp_path) as world:
        await world.start_bot()
        inter = await world.edit("a red hat", image=sample_image(W, H))
        message = await reply(world, inter, "PUBLIC_URL")
        assert "mask" in text_of(message).lower()


async def test_context_menu_with_an_empty_area_offers_the_editor(tmp_path) -> None:
    async with editor_world(tmp_path) as world:
        photo = world.sim.add_message(
            world.sim.channel, "my photo", author=world.sim.user, attachments=[(sample_image(W, H), "photo.png")]
        )
        opener = await world.sim.message_context("Edit image", photo)
        await world.sim.wait_for_ack(opener)
        assert opener.modal is not None
        form = await world.sim.submit_modal(
            opener.modal["custom_id"], {"prompt": "a blue sky", "area": ""}, opened_by=opener
        )
        url = await editor_link(world, form)
        status, body = await post(url, "confirm", box_mask_png(IMAGE_SIZE, BOX), prompt="a blue sky")
        assert status == 200, body
        result = await world.result_message()
        assert "a blue sky" in text_of(result)
        await reply(world, form, f"Edit #{body['job_id']} is ready")  # progress in the form's own reply


async def test_draw_mask_on_a_two_image_result_asks_which(tmp_path) -> None:
    from tests.bot_harness import sample_mask

    async with editor_world(tmp_path) as world:
        await world.edit("a red hat", mask=sample_mask(W, H), count=2)
        result = await world.result_message()
        job_id = int(result.custom_ids()[0].rsplit(":", 1)[1])
        click = await world.sim.click(result, f"draw:{job_id}")
        assert (await world.sim.wait_for_ack(click)).json["type"] == 9  # a form: which image?
        form = await world.sim.submit_modal(f"form:draw:{job_id}", {"image": "2"}, opened_by=click)
        url = await editor_link(world, form)
        async with ClientSession() as http, http.get(f"{url}/image") as response:
            shown = await response.read()
        second = next(a for a in result.attachments if a.filename == f"edit-{job_id}-2.png")
        assert Image.open(io.BytesIO(shown)).tobytes() == Image.open(io.BytesIO(second.data)).tobytes()
        status, body = await post(url, "confirm", box_mask_png(IMAGE_SIZE, BOX))
        assert status == 200, body
        job = await world.bot.storage.get_job(body["job_id"])  # type: ignore[union-attr]
        assert job is not None and job.parent_job_id == job_id


async def test_draw_mask_on_a_session_version_posts_a_new_version_in_the_thread(tmp_path) -> None:
    from tests.bot_harness import sample_mask

    async with editor_world(tmp_path) as world:
        assert world.bot is not None
        await world.edit("a castle", mask=sample_mask(W, H))
        root = await world.result_message()
        root_id = int(root.custom_ids()[0].rsplit(":", 1)[1])
        await reply(world, await world.sim.click(root, f"res:thread:{root_id}"), "Started editing session")
        thread = world.sim.channels[world.sim.message(root.id).thread_id]
        session = await world.bot.storage.session_by_thread(thread.id)
        assert session is not None

        click = await world.sim.click(world.sim.message(root.id), f"draw:{root_id}")
        url = await editor_link(world, click)
        async with ClientSession() as http, http.get(f"{url}/draft") as response:
            assert "thread" in (await response.json())["place"]
        status, body = await post(url, "confirm", box_mask_png(IMAGE_SIZE, BOX), prompt="a flag on the castle")
        assert status == 200, body
        version = await world.result_message(thread)
        assert "a flag on the castle" in text_of(version)
        job = await world.bot.storage.get_job(body["job_id"])
        assert job is not None and job.session_id == session.id

        # a link made before the session was closed adds nothing to it afterwards
        late = await editor_link(world, await world.sim.click(world.sim.message(root.id), f"draw:{root_id}"))
        await world.bot.storage.update_session(session.id, closed=True)
        status, body = await post(late, "confirm", box_mask_png(IMAGE_SIZE, BOX))
        assert status == 422 and "closed" in body["message"]
        assert len(await jobs(world)) == 2


async def test_the_editor_page_is_in_the_drafts_language(tmp_path) -> None:
    """The member's Discord language is stored with the draft; the page, its script's sentences and
    its error answers use it. English pages keep the accessible names the browser tests use."""
    async with editor_world(tmp_path) as world:
        attachments = {"image": (sample_image(W, H), "in.png")}
        chinese = await world.sim.slash("edit", {"prompt": "红帽子"}, attachments=attachments, locale="zh-CN")
        link_message = await reply(world, chinese, lambda m: link_in(m) is not None)
        assert "在编辑器中标出要修改的区域" in link_message.content
        assert [c.get("label") for c in link_message.iter_components() if c.get("url")] == ["画出区域"]
        url = link_in(link_message)
        async with ClientSession() as http, http.get(url) as response:
            page = await response.text()
        assert (
            '<html lang="zh-CN">' in page and 'aria-label="画笔"' in page and "<title>画出要修改的区域</title>" in page
        )
        assert "Brush" not in page and "{{" not in page
        assert '"web-queued": "✅ 编辑 #{job} 已加入队列' in page  # the script's sentences, with its slots
        async with ClientSession() as http:
            form = FormData()
            form.add_field("prompt", "x")
            form.add_field("mask", box_mask_png((W * 2, H), (0, 0, 10, 10)), filename="m.png")
            async with http.post(f"{url}/confirm", data=form, headers={"Accept-Language": "zh-CN"}) as response:
                body = await response.json()
        assert response.status == 422 and "蒙版" in body["message"], body

        english = await world.edit("a red hat")
        url = await editor_link(world, english)
        async with ClientSession() as http, http.get(url) as response:
            page = await response.text()
        assert '<html lang="en-US">' in page and 'aria-label="Brush"' in page and "画笔" not in page
