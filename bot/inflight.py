"""A process-wide cap on images in flight at the image API, counted in images, not requests.

Ideogram limits concurrent work per organisation by the number of images being generated
(``num_images`` summed over running requests), so a plain request semaphore is the wrong unit: one
8-image edit must wait for the same room as eight 1-image edits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(eq=False, slots=True)
class _Waiter:
    size: int
    future: asyncio.Future[None] = field(repr=False)


class ImageSlots:
    """A weighted, FIFO-fair asyncio semaphore measured in images.

    Fairness: a waiter is granted only when every earlier waiter has been granted, so a large
    request at the head of the queue is never overtaken (and starved) by a stream of small ones.
    The price is head-of-line blocking, which is what we want for a shared API quota.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1 (got {capacity})")
        self._capacity = capacity
        self._in_use = 0
        self._peak = 0
        self._waiters: deque[_Waiter] = deque()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def peak(self) -> int:
        """The highest ``in_use`` ever observed (tests and benchmarks assert the cap with it)."""
        return self._peak

    @property
    def waiting(self) -> int:
        """How many callers are queued (for status displays)."""
        return sum(1 for w in self._waiters if not w.future.done())

    def __repr__(self) -> str:
        return f"ImageSlots(in_use={self._in_use}/{self._capacity}, waiting={self.waiting})"

    async def acquire(self, n: int) -> None:
        """Wait until ``n`` images fit under the cap, then take them."""
        self._check(n)
        if not self._waiters and self._in_use + n <= self._capacity:
            self._take(n)
            return
        waiter = _Waiter(n, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                self.release(n)  # granted just as we were cancelled: give it back
            else:
                self._discard(waiter)
                self._wake()  # we may have been the head blocking smaller waiters
            raise

    def release(self, n: int) -> None:
        if n > self._in_use:
            raise RuntimeError(f"releasing {n} images but only {self._in_use} are held")
        self._in_use -= n
        self._wake()

    @asynccontextmanager
    async def hold(self, n: int) -> AsyncIterator[None]:
        """``async with slots.hold(n):`` keeps ``n`` images reserved for the block."""
        await self.acquire(n)
        try:
            yield
        finally:
            self.release(n)

    def _check(self, n: int) -> None:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"image count must be a positive whole number (got {n!r})")
        if n > self._capacity:
            raise ValueError(f"{n} images can never fit under the cap of {self._capacity}")

    def _take(self, n: int) -> None:
        self._in_use += n
        self._peak = max(self._peak, self._in_use)

    def _discard(self, waiter: _Waiter) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _wake(self) -> None:
        """Grant waiters strictly in order while the head fits."""
        while self._waiters:
            head = self._waiters[0]
            if head.future.done():  # cancelled while queued
                self._waiters.popleft()
                continue
            if self._in_use + head.size > self._capacity:
                return
            self._waiters.popleft()
            self._take(head.size)
            head.future.set_result(None)
