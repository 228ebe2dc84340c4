"""Operations end to end: ``/healthz``, ``/livez``, ``/readyz`` and ``/metrics`` of the real bot on the
Discord simulation and the fake API, scraped with a real HTTP client and parsed with prometheus_client's
own parser. Counters are process-wide (``bot.metrics.METRICS``), so tests compare before and after."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import InpaintBot
from bot.health import ApiReachable
from bot.metrics import CONTENT_TYPE
from bot.settings import LimitDefaults
from bot.web import ops_server
from tests.bot_harness import H, W, World, make_world, reply, sample_mask
from tests.fakes.ideogram import FakeIdeogram
from tests.storage_support import make_storage

pytestmark = pytest.mark.usefixtures("no_secrets_in_logs")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@asynccontextmanager
async def running(tmp_path: Path, **settings: Any) -> AsyncIterator[World]:
    async with make_world(tmp_path, **settings) as world:
        await world.start_bot()
        yield world


def base(world: World) -> str:
    assert world.bot is not None and world.bot.web is not None
    return f"http://127.0.0.1:{world.bot.web.port}"


async def get(world: World, path: str) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
    async with aiohttp.ClientSession() as session, session.get(base(world) + path) as response:
        return response.status, await response.text(), response.headers


async def scrape(world: World) -> Samples:
    status, body, headers = await get(world, "/metrics")
    assert status == 200 and headers["Content-Type"] == CONTENT_TYPE, (status, headers)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_web_server_runs_without_public_url_and_the_editor_stays_off(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        assert world.settings.public_url is None and world.bot is not None and world.bot.web is not None
        assert world.bot.web.port not in (None, 0, 8080)  # WEB_PORT=0 in the harness: any free port
        status, _, _ = await get(world, "/e/some-token")
        assert status == 404


async def test_healthz_reports_each_check_and_503_when_the_database_is_gone(tmp_path: Path) -> None:
    async with running(tmp_path) as world:
        assert world.bot is not None
        status, body, headers = await get(world, "/healthz")
        answer = json.loads(body)
        assert status == 200, body
        assert answer["status"] == "ok" and headers["Cache-Control"] == "no-store"
        assert set(answer["checks"]) == {"loop", "database", "gateway"}
        assert all(check["ok"] for check in answer["checks"].values()), answer
        assert answer["checks"]["loop"]["lag_s"] >= 0

        status, body, _ = await get(world, "/livez")
        assert status == 200 and set(json.loads(body)["checks"]) == {"loop"}

        await world.bot.storage.close()  # the database goes away: alive, but not ready
        status, body, _ = await get(world, "/readyz")
        answer = json.loads(body)
        assert status == 503 and answer["status"] == "fail", body
        assert answer["checks"]["database"] == {"ok": False, "error": "RuntimeError"}
        assert answer["checks"]["gateway"]["ok"] and answer["checks"]["loop"]["ok"]
        assert (await get(world, "/livez"))[0] == 200
        samples = await scrape(world)  # the scrape still answers, and says the database is down
        assert value(samples, "inpaint_database_up") == 0

        bot = world.bot
        assert bot.gateway_connected()
        await world.stop_bot()
        assert not bot.gateway_connected()
        assert not InpaintBot(world.settings).gateway_connected()  # not connected yet


async def test_metrics_move_after_an_edit(tmp_path: Path) -> None:
    async with running(tmp_path, max_images_in_flight=3) as world:
        before = await scrape(world)
        assert value(before, "inpaint_images_in_flight_limit") == 3
        assert value(before, "inpaint_jobs", status="succeeded") == 0
        assert value(before, "inpaint_daily_images_used") == 0
        assert value(before, "inpaint_daily_image_budget") == world.settings.daily_image_budget

        world.api.fail_next(503, headers={"Retry-After": "0"})
        inter = await world.edit(mask=sample_mask(W, H), count=2)
        await world.result_message()
        await reply(world, inter, lambda m: "is ready" in m.content)
        after = await scrape(world)

        assert value(after, "inpaint_jobs", status="succeeded") == 1
        assert value(after, "inpaint_queue_depth") == 0 and value(after, "inpaint_images_in_flight") == 0
        assert value(after, "inpaint_daily_images_used") == 2
        for name, labels in (
            ("inpaint_api_request_seconds_count", {"endpoint": "edit"}),
            ("inpaint_api_errors_total", {"status": "503"}),
        ):
            moved = value(after, name, **labels) - value(before, name, **labels)
            assert moved >= 1, (name, moved)
        assert (
            value(after, "inpaint_api_request_seconds_count", endpoint="edit")
            - value(before, "inpaint_api_request_seconds_count", endpoint="edit")
            == 2
        )  # the 503, then the answer
        assert value(after, "inpaint_ack_seconds_count") - value(before, "inpaint_ack_seconds_count") == 1
        assert inter.ack_latency is not None
        assert value(after, "inpaint_ack_seconds_bucket", le="+Inf") >= 1


async def test_metrics_show_queue_depth_and_images_in_flight_while_jobs_wait(tmp_path: Path) -> None:
    roomy = LimitDefaults(user_window_images=100, user_daily_images=100, user_max_active_jobs=10)
    async with running(tmp_path, max_images_in_flight=1, limits=roomy) as world:
        world.api.latency_s = 3.0
        for n in range(3):
            await world.edit(f"hat {n}", mask=sample_mask(W, H))
        deadline = asyncio.get_running_loop().time() + 15
        while True:  # polled: the three submissions and the first call happen in the bot's own time
            samples = await scrape(world)
            if value(samples, "inpaint_queue_depth") == 2 and world.api.in_flight_images == 1:
                break
            assert asyncio.get_running_loop().time() < deadline, samples
            await asyncio.sleep(0.05)
        assert value(samples, "inpaint_images_in_flight") == 1
        assert value(samples, "inpaint_jobs", status="running") == 1
        assert value(samples, "inpaint_jobs", status="queued") == 2
        assert value(samples, "inpaint_daily_images_used") == 3  # reserved counts as used


async def test_refusals_are_counted_by_limit(tmp_path: Path) -> None:
    limits = LimitDefaults(user_window_images=1, user_window_minutes=10)
    async with running(tmp_path, limits=limits) as world:
        first = await world.edit(mask=sample_mask(W, H))
        await world.result_message()
        await reply(world, first, lambda m: "is ready" in m.content)
        before = await scrape(world)
        refused = await world.edit("again", mask=sample_mask(W, H))
        await reply(world, refused, lambda m: "10 minutes" in m.content)
        after = await scrape(world)
        assert (
            value(after, "inpaint_refusals_total", limit="window")
            - value(before, "inpaint_refusals_total", limit="window")
            == 1
        )


async def test_a_worker_process_is_ready_when_the_database_and_the_image_api_answer(tmp_path: Path) -> None:
    """``ops_server`` without a gateway (``python -m bot worker``): readiness checks the image API."""
    async with FakeIdeogram() as api, make_storage(tmp_path) as storage:
        server = ops_server(api.settings(web_port=0), storage, lambda: 0)
        await server.start()
        try:
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{server.port}"
                async with session.get(url + "/healthz") as response:
                    answer = await response.json()
                    assert response.status == 200, answer
                assert set(answer["checks"]) == {"loop", "database", "api"}
                gone = api.base_url
                await api.stop()
                server.health.set_ready_check("api", ApiReachable(gone, timeout_s=1))  # no cached answer
                async with session.get(url + "/readyz") as response:
                    answer = await response.json()
                    assert response.status == 503 and answer["checks"]["api"]["ok"] is False, answer
        finally:
            await server.stop()


async def test_probes_and_scrapes_are_logged_at_debug_other_requests_at_info(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(tmp_path) as world:
        caplog.set_level(logging.DEBUG, logger="bot.web.access")
        await get(world, "/healthz")
        await scrape(world)
        await get(world, "/e/some-token")
        levels = {r.getMessage().split()[1]: r.levelno for r in caplog.records if r.name == "bot.web.access"}
        assert levels == {"/healthz": logging.DEBUG, "/metrics": logging.DEBUG, "/e/[token]": logging.INFO}
