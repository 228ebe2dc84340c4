"""The memory budget admits by weight, in arrival order, and never refuses for memory alone."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from bot.memory import MB, PREPARATION_COPIES, MemoryBudget, TicketState, decoded_bytes, preparation_weight


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_admits_by_weight_and_queues_the_rest_in_order() -> None:
    budget = MemoryBudget(100)
    a, b = budget.request(60), budget.request(30)  # 90 fits
    c, d = budget.request(20), budget.request(5)  # c does not fit (110); d waits behind it (FIFO)
    assert (a.state, b.state) == (TicketState.ADMITTED, TicketState.ADMITTED)
    assert (c.state, d.state) == (TicketState.WAITING, TicketState.WAITING)
    assert (a.position, c.position, d.position) == (None, 1, 2)
    assert budget.in_use == 90 and budget.waiting == 2

    order: list[str] = []

    async def run(name: str, ticket) -> None:
        async with ticket:
            order.append(name)

    tasks = [asyncio.create_task(run("c", c)), asyncio.create_task(run("d", d))]
    await settle()
    assert order == []  # still nothing freed
    b.release()  # 60 in use: c (20) and then d (5) fit
    await asyncio.gather(*tasks)
    assert order == ["c", "d"]
    a.release()
    assert budget.in_use == 0 and budget.holders == 0


async def test_a_small_request_never_jumps_a_large_one_waiting() -> None:
    budget = MemoryBudget(100)
    held = budget.request(50)
    large = budget.request(80)
    small = budget.request(1)  # would fit (51), but the large one came first
    assert large.state is TicketState.WAITING and small.state is TicketState.WAITING
    held.release()
    assert large.state is TicketState.ADMITTED and small.state is TicketState.ADMITTED  # 81 fits


async def test_a_request_larger_than_the_budget_runs_alone() -> None:
    budget = MemoryBudget(100)
    first = budget.request(10)
    huge = budget.request(500)
    after = budget.request(1)
    assert huge.state is TicketState.WAITING  # not refused: it waits for the others to leave
    first.release()
    assert huge.state is TicketState.ADMITTED and after.state is TicketState.WAITING  # alone
    assert budget.in_use == 500
    huge.release()
    assert after.state is TicketState.ADMITTED


async def test_an_oversized_request_on_an_idle_budget_is_admitted_at_once() -> None:
    budget = MemoryBudget(100)
    async with budget.request(10**12) as ticket:
        assert ticket.state is TicketState.ADMITTED


async def test_positions_are_reported_as_the_queue_moves() -> None:
    budget = MemoryBudget(10)
    holder = budget.request(10)
    seen: dict[str, list[int]] = {"x": [], "y": []}
    x = budget.request(10, on_position=seen["x"].append)
    y = budget.request(10, on_position=seen["y"].append)
    assert seen == {"x": [1], "y": [2]}
    holder.release()  # x admitted, y moves up
    assert x.state is TicketState.ADMITTED
    assert seen == {"x": [1], "y": [2, 1]}
    assert y.position == 1


async def test_cancelled_waiter_leaves_the_queue_and_lets_the_next_in() -> None:
    budget = MemoryBudget(100)
    holder = budget.request(90)
    big = budget.request(50)
    small = budget.request(10)
    waiter = asyncio.create_task(big.wait())
    await settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert big.state is TicketState.DONE
    assert small.state is TicketState.ADMITTED  # the head changed to one that fits: 90 + 10
    assert budget.waiting == 0
    holder.release()
    small.release()
    assert budget.in_use == 0


async def test_release_on_error_inside_the_block() -> None:
    budget = MemoryBudget(100)
    with pytest.raises(RuntimeError):
        async with budget.request(70):
            raise RuntimeError("preparation failed")
    assert budget.in_use == 0 and budget.holders == 0


def test_weight_comes_from_the_header_before_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), "white").save(buffer, "JPEG")
    weight = preparation_weight(buffer.getvalue())
    assert weight == int(decoded_bytes(1200, 800, 3) * PREPARATION_COPIES) + 1200 * 800

    buffer = io.BytesIO()
    Image.new("LA", (300, 200)).save(buffer, "PNG")  # grey + alpha: converted to RGBA
    assert preparation_weight(buffer.getvalue()) == int(300 * 200 * 4 * PREPARATION_COPIES) + 300 * 200

    assert preparation_weight(b"not an image") == 0
    assert MemoryBudget.from_megabytes(256).capacity == 256 * MB


def test_decoded_bytes_is_width_height_bands() -> None:
    assert decoded_bytes(6000, 5000, 3) == 90_000_000
    assert decoded_bytes(10, 10, 3, bytes_per_sample=2) == 600
    with pytest.raises(ValueError):
        decoded_bytes(10, 10, 0)


def test_memory_budget_setting() -> None:
    from bot.errors import ConfigError
    from bot.settings import Settings

    assert Settings.from_mapping({}).memory_budget_mb == 256
    assert Settings.from_mapping({"MEMORY_BUDGET_MB": "512"}).memory_budget_mb == 512
    with pytest.raises(ConfigError, match="MEMORY_BUDGET_MB"):
        Settings.from_mapping({"MEMORY_BUDGET_MB": "8"})


async def test_prepare_edit_waits_for_its_weight_in_the_budget() -> None:
    from bot.imaging import prepare_edit
    from bot.models import MaskSpec, Region

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "white").save(buffer, "PNG")
    image = buffer.getvalue()
    weight = preparation_weight(image)
    budget = MemoryBudget(weight)  # room for exactly one
    holder = budget.request(1)  # someone else holds a little: this one must wait
    positions: list[int] = []
    task = asyncio.create_task(
        prepare_edit(image, MaskSpec(region=Region.CENTER), memory=budget, on_position=positions.append)
    )
    await settle()
    assert not task.done() and positions == [1] and budget.waiting == 1
    holder.release()
    prepared = await task
    assert prepared.image.width == 320
    assert budget.in_use == 0 and budget.waiting == 0


async def test_fit_for_upload_waits_for_memory_only_when_it_must_re_encode() -> None:
    from bot.imaging import fit_for_upload_async
    from bot.models import ImageFile

    buffer = io.BytesIO()
    Image.effect_noise((200, 200), 60).convert("RGB").save(buffer, "PNG")
    big = ImageFile(buffer.getvalue(), "image/png", 200, 200)
    budget = MemoryBudget(preparation_weight(big.data))
    holder = budget.request(1)
    small_enough = await fit_for_upload_async(big, len(big.data), memory=budget)  # fits: no admission
    assert small_enough is big
    task = asyncio.create_task(fit_for_upload_async(big, len(big.data) // 4, memory=budget))
    await settle()
    assert not task.done() and budget.waiting == 1
    holder.release()
    fitted = await task
    assert len(fitted.data) <= len(big.data) // 4 and budget.in_use == 0
