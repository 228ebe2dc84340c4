"""``bot.metrics``: a fresh registry per ``Metrics``, the hooks' labels and the scrape-time state."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import REGISTRY

import bot.metrics as metrics_module
from bot.errors import ApiTimeout
from bot.limits import DAILY_IMAGE_BUDGET
from bot.metrics import Metrics, ScrapeSources, sample
from bot.store import JobStatus
from tests.storage_support import T0, finish, make_storage, submit, uid


def test_each_metrics_has_its_own_registry_never_the_global_one() -> None:
    first, second = Metrics(), Metrics()
    first.refused("daily")
    assert sample(first, "inpaint_refusals_total", {"limit": "daily"}) == 1
    assert math.isnan(sample(second, "inpaint_refusals_total", {"limit": "daily"}))
    assert REGISTRY.get_sample_value("inpaint_refusals_total", {"limit": "daily"}) is None


def test_api_attempts_by_endpoint_and_errors_by_status_or_code() -> None:
    m = Metrics()
    m.api_attempt("edit", 200, 4.0, None)
    m.api_attempt("task poll 9f2c", 200, 0.2, None)  # the task id never becomes a label
    m.api_attempt("edit", 429, 0.1, object())
    m.api_attempt("edit", None, 30.0, ApiTimeout("slow"))
    assert sample(m, "inpaint_api_request_seconds_count", {"endpoint": "edit"}) == 3
    assert sample(m, "inpaint_api_request_seconds_count", {"endpoint": "poll"}) == 1
    assert sample(m, "inpaint_api_request_seconds_bucket", {"endpoint": "edit", "le": "5.0"}) == 2
    assert sample(m, "inpaint_api_errors_total", {"status": "429"}) == 1
    assert sample(m, "inpaint_api_errors_total", {"status": ApiTimeout.code}) == 1


def test_ack_latency_from_the_creation_time_never_negative() -> None:
    m = Metrics()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    m.acknowledged(now - timedelta(milliseconds=120), now=now)
    m.acknowledged(now + timedelta(seconds=1), now=now)  # a clock ahead of ours
    assert sample(m, "inpaint_ack_seconds_count") == 2
    assert sample(m, "inpaint_ack_seconds_bucket", {"le": "0.025"}) == 1
    assert sample(m, "inpaint_ack_seconds_bucket", {"le": "0.15"}) == 2
    assert math.isclose(sample(m, "inpaint_ack_seconds_sum"), 0.12)


async def test_refresh_reads_the_database_and_the_budget(tmp_path: Path) -> None:
    m = Metrics()
    async with make_storage(tmp_path) as storage:
        await finish(storage, await submit(storage, now=T0, images=3))
        await submit(storage, now=T0, images=2, user=uid(2))
        await submit(storage, now=T0 - timedelta(days=1), images=4, user=uid(3))  # yesterday
        sources = ScrapeSources(storage, images_in_flight=lambda: 5, images_in_flight_limit=8, now=lambda: T0)
        await m.refresh(sources, loop_lag=0.01)
        assert sample(m, "inpaint_jobs", {"status": "succeeded"}) == 1
        assert sample(m, "inpaint_jobs", {"status": "queued"}) == 2
        assert sample(m, "inpaint_jobs", {"status": JobStatus.CANCELLED.value}) == 0
        assert sample(m, "inpaint_queue_depth") == 2
        assert sample(m, "inpaint_daily_images_used") == 5  # since midnight UTC of T0's day
        assert (sample(m, "inpaint_images_in_flight"), sample(m, "inpaint_images_in_flight_limit")) == (5, 8)
        assert sample(m, "inpaint_database_up") == 1 and sample(m, "inpaint_event_loop_lag_seconds") == 0.01
        assert sample(m, "inpaint_daily_image_budget") == DAILY_IMAGE_BUDGET  # the setting always has one

        sources.daily_image_budget = 40
        await m.refresh(sources)
        assert sample(m, "inpaint_daily_image_budget") == 40
    await m.refresh(sources)  # closed: the scrape still works
    assert sample(m, "inpaint_database_up") == 0 and sample(m, "inpaint_queue_depth") == 2
    text = m.render().decode()
    assert "# TYPE inpaint_api_request_seconds histogram" in text and "# TYPE inpaint_refusals_total counter" in text


async def test_a_stuck_database_does_not_hang_the_scrape(monkeypatch) -> None:
    class Stuck:
        async def ops_counts(self, since: datetime) -> None:
            await asyncio.sleep(60)

    monkeypatch.setattr(metrics_module, "SCRAPE_DB_TIMEOUT_S", 0.1)
    m = Metrics()
    await asyncio.wait_for(m.refresh(ScrapeSources(Stuck(), lambda: 0, 8)), 5)  # type: ignore[arg-type]
    assert sample(m, "inpaint_database_up") == 0
