from __future__ import annotations

import asyncio
import random

import pytest

from bot.inflight import ImageSlots


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_hold_counts_images_and_peak() -> None:
    slots = ImageSlots(8)
    assert (slots.capacity, slots.in_use, slots.peak) == (8, 0, 0)
    async with slots.hold(3):
        assert slots.in_use == 3
        async with slots.hold(5):
            assert slots.in_use == 8
    assert slots.in_use == 0
    assert slots.peak == 8


@pytest.mark.parametrize("n", [0, -1, 9])
async def test_rejects_impossible_sizes(n: int) -> None:
    slots = ImageSlots(8)
    with pytest.raises(ValueError):
        async with slots.hold(n):
            pass
    assert slots.in_use == 0


def test_rejects_bad_capacity() -> None:
    with pytest.raises(ValueError):
        ImageSlots(0)


async def test_waits_until_room() -> None:
    slots = ImageSlots(4)
    await slots.acquire(3)
    waiter = asyncio.create_task(slots.acquire(2))
    await _settle()
    assert not waiter.done() and slots.waiting == 1
    slots.release(3)
    await asyncio.wait_for(waiter, 1)
    assert slots.in_use == 2


async def test_fifo_big_request_is_not_starved() -> None:
    """A 1-image request that would fit must still queue behind an earlier 4-image one."""
    slots = ImageSlots(4)
    order: list[str] = []
    await slots.acquire(3)

    async def take(name: str, n: int) -> None:
        await slots.acquire(n)
        order.append(name)

    big = asyncio.create_task(take("big", 4))
    await _settle()
    small = asyncio.create_task(take("small", 1))
    await _settle()
    assert order == [] and slots.in_use == 3
    slots.release(3)
    await asyncio.wait_for(big, 1)
    await _settle()
    assert order == ["big"] and not small.done()
    slots.release(4)
    await asyncio.wait_for(small, 1)
    assert order == ["big", "small"]


async def test_cancelled_waiter_unblocks_those_behind_it() -> None:
    slots = ImageSlots(4)
    await slots.acquire(3)
    big = asyncio.create_task(slots.acquire(4))
    await _settle()
    small = asyncio.create_task(slots.acquire(1))
    await _settle()
    assert not small.done()
    big.cancel()
    await asyncio.wait_for(small, 1)
    assert slots.in_use == 4
    assert big.cancelled()


async def test_cancel_after_grant_gives_images_back() -> None:
    slots = ImageSlots(2)
    await slots.acquire(2)
    task = asyncio.create_task(slots.acquire(2))
    await _settle()
    slots.release(2)  # grants the waiter (future resolved) ...
    task.cancel()  # ... but it is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slots.in_use == 0


async def test_many_concurrent_holders_never_exceed_cap() -> None:
    slots = ImageSlots(8)
    rng = random.Random(7)
    current = 0
    seen_max = 0

    async def worker(n: int) -> None:
        nonlocal current, seen_max
        async with slots.hold(n):
            current += n
            seen_max = max(seen_max, current)
            await asyncio.sleep(rng.random() / 500)
            current -= n

    await asyncio.wait_for(asyncio.gather(*(worker(rng.randint(1, 8)) for _ in range(200))), 10)
    assert seen_max <= 8 and slots.peak <= 8
    assert slots.peak == 8
    assert slots.in_use == 0 and slots.waiting == 0


def test_release_more_than_held_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        ImageSlots(2).release(1)
