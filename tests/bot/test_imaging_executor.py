"""Pillow work runs on its own sized pool, not on the default executor that does file I/O."""

from __future__ import annotations

import contextvars
import os
import sys
import threading

import pytest

from bot.imaging import executor, thumbnail_async
from tests.imaging_samples import encode, photo

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def test_pipeline_wrappers_run_on_the_pillow_pool(monkeypatch) -> None:
    seen: list[str] = []
    original = executor.pillow_pool

    def spy():
        seen.append("used")
        return original()

    monkeypatch.setattr(executor, "pillow_pool", spy)
    thumb = await thumbnail_async(encode(photo((256, 256)), "JPEG"), 64)
    assert seen == ["used"] and max(thumb.width, thumb.height) == 64


async def test_runs_in_a_pillow_thread_with_the_callers_context() -> None:
    request_id.set("job-1234")

    def where() -> tuple[str, str]:
        return threading.current_thread().name, request_id.get()

    name, rid = await executor.run_pillow(where)
    assert name.startswith("pillow") and rid == "job-1234"


def test_pool_is_sized_from_the_usable_cpus() -> None:
    assert executor.default_workers() == min(executor.MAX_WORKERS, executor.usable_cpus()) >= 1
    executor.shutdown_pillow_pool()
    pool = executor.pillow_pool()
    assert pool._max_workers == executor.default_workers()
    executor.shutdown_pillow_pool()
    assert executor.pillow_pool() is not pool  # a fresh pool after shutdown


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
async def test_pillow_threads_give_way_to_the_event_loop_for_the_cpu() -> None:
    """Under CPU contention the loop's thread (every acknowledgement) must win a core over a decode."""

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    executor.shutdown_pillow_pool()  # a fresh pool: its threads start with the initializer
    try:
        loop_thread = nice()
        assert await executor.run_pillow(nice) == min(19, loop_thread + executor.NICENESS) > loop_thread
        assert nice() == loop_thread  # the caller's own priority is untouched
    finally:
        executor.shutdown_pillow_pool()
