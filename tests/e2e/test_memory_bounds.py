"""Issue 11's memory mechanisms through the real bot: the budget admits preparations by weight and
queues the rest, a member's burst beyond their active-job limit is refused before any download, an
attachment reaches the disk in chunks, and a job's inputs go to the API from their files and its
results into the store in chunks. No timing: each test holds the budget to freeze the moment."""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from bot.memory import MB, preparation_weight
from bot.store import ImageKind, JobStatus
from tests.bot_harness import ROOMY, World, make_world, reply, sample_image, text_of

TOP = {"region": "top"}


def noise_png(width: int, height: int) -> bytes:
    """Random pixels: a PNG about as large as its pixels (a gradient would compress to a few KB)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), random.Random(11).randbytes(width * height * 3)).save(out, "PNG")
    return out.getvalue()


async def until(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def results(world: World, count: int) -> None:
    await until(lambda: len(world.api.edit_requests) >= count, f"{count} API calls", timeout=30)
    for _ in range(count):
        await world.result_message(timeout=30)


async def test_the_budget_admits_preparations_by_weight_and_queues_the_rest(tmp_path: Path) -> None:
    image = sample_image(1024, 1024)
    weight = preparation_weight(image)  # ~8.9 MB: three fit in 32 MB, four do not
    async with make_world(tmp_path, memory_budget_mb=32, limits=ROOMY) as world:
        bot = await world.start_bot()
        budget = bot.memory
        assert 3 * weight <= budget.capacity < 4 * weight
        blocker = budget.request(budget.capacity)  # all memory taken: every preparation must wait
        await blocker.wait()
        inters = [await world.edit(f"edit {n}", image=image, **TOP) for n in range(4)]
        await until(lambda: budget.waiting == 4, "four preparations waiting for memory")
        shown = [await reply(world, inter, "Waiting for memory") for inter in inters]
        assert {text_of(m).split("position ")[1][0] for m in shown} == {"1", "2", "3", "4"}
        assert len(world.sim.cdn_requests) == 4  # downloaded (to disk) while they wait
        blocker.release()
        assert (budget.holders, budget.waiting) == (3, 1)  # admitted by weight, in arrival order
        assert budget.in_use == 3 * weight
        await results(world, 4)
        assert (budget.holders, budget.waiting, budget.in_use) == (0, 0, 0)


async def test_a_burst_beyond_the_active_limit_is_refused_before_download(tmp_path: Path) -> None:
    async with make_world(tmp_path, limits=replace(ROOMY, user_max_active_jobs=2)) as world:
        bot = await world.start_bot()
        blocker = bot.memory.request(bot.memory.capacity)
        await blocker.wait()  # the accepted edits stay in preparation, so all four overlap
        inters = [await world.edit(f"edit {n}", image=sample_image(96 + n, 64), **TOP) for n in range(4)]
        refusals = [reply(world, inter, "the most you can have at once") for inter in inters]
        done, pending = await asyncio.wait([asyncio.ensure_future(r) for r in refusals], timeout=10)
        assert len(done) == 2, [text_of(t.result()) for t in done if not t.exception()]
        for task in pending:
            task.cancel()
        await until(lambda: bot.memory.waiting == 2, "two preparations waiting")
        downloaded = {attachment_id for attachment_id, _ in world.sim.cdn_requests}
        assert len(world.sim.cdn_requests) == len(downloaded) == 2  # the refused two were never fetched
        blocker.release()
        await results(world, 2)
        assert len(world.sim.cdn_requests) == 2


async def test_an_attachment_reaches_the_disk_in_chunks_and_is_not_kept(tmp_path: Path) -> None:
    image = noise_png(1024, 1024)  # ~3 MB: many download chunks
    async with make_world(tmp_path, limits=ROOMY) as world:
        bot = await world.start_bot()
        files = bot.storage.files
        chunks: list[int] = []
        staged: list[Path] = []
        real_stage = files.stage

        async def counting_stage(source: Any, **kwargs: Any) -> Path:
            async def counted() -> Any:
                async for chunk in source:
                    chunks.append(len(chunk))
                    yield chunk

            path = await real_stage(counted(), **kwargs)
            staged.append(path)
            return path

        files.stage = counting_stage  # type: ignore[method-assign]
        await world.edit("a red hat", image=image, **TOP)
        await results(world, 1)
        assert sum(chunks) == len(image) and len(chunks) > 1 and max(chunks) < len(image)
        assert [path.exists() for path in staged] == [False]  # read once, then removed (not stored raw)
        assert bot.memory.capacity == world.settings.memory_budget_mb * MB


async def test_a_job_sends_its_inputs_from_their_files_and_streams_its_results_into_the_store(
    tmp_path: Path,
) -> None:
    """Between submission and result nothing reads a stored image whole (``files.get``), the API gets
    the stored inputs byte for byte, and the results are the files ``put_stream`` wrote, not bytes
    stored afterwards (``put`` is only used for the prepared inputs)."""
    image = noise_png(512, 512)
    async with make_world(tmp_path, limits=ROOMY) as world:
        world.api.chunked_results = 16 * 1024  # results of unknown length: the cap is checked as they arrive
        bot = await world.start_bot()
        files = bot.storage.files
        calls: dict[str, list[str]] = {"get": [], "put": [], "put_stream": []}
        real = {name: getattr(files, name) for name in calls}

        def spy(name: str) -> Any:
            async def call(*args: Any, **kwargs: Any) -> Any:
                result = await real[name](*args, **kwargs)
                calls[name].append(result if name != "get" else args[0])
                return result

            return call

        for name in calls:
            setattr(files, name, spy(name))
        await world.edit("two kites", image=image, count=2, **TOP)
        await results(world, 1)
        [job] = await bot.storage.jobs_with_status(JobStatus.SUCCEEDED)
        outputs = [i for i in await bot.storage.job_images(job.id) if i.kind is ImageKind.OUTPUT]
        sent = world.api.edit_requests[0].files
    assert calls["get"] == []
    assert calls["put"] == [job.input_sha, job.mask_sha]
    assert sorted(calls["put_stream"]) == sorted(o.sha for o in outputs) and len(outputs) == 2
    for part, sha in (("image", job.input_sha), ("mask", job.mask_sha)):
        assert hashlib.sha256(sent[part].data).hexdigest() == sha
