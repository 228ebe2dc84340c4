"""Memory-budget admission for image preparation: weighted by decoded size, first come first served.

Why not a plain count: one 30-megapixel photo decodes to ~90 MB, a 1024² one to 3 MB, so "at most N
preparations at once" is either too strict for small images or unbounded for large ones. Each request
is weighed from the image header *before* decoding (width × height × bands, see ``decoded_bytes``)
and waits until its weight fits in what is left of the budget.

Rules (what the README promises operators):

* **FIFO**: requests are admitted strictly in arrival order; a small request never jumps a large one
  waiting at the head, so a large image cannot starve behind a stream of small ones.
* **Never refused for memory alone**: a request heavier than the whole budget is admitted as soon as
  nothing else holds memory, and runs alone (nothing else is admitted until it leaves).
* **Visible**: a waiting ticket knows its queue position (1 = next), and can report every change, so
  progress can say "waiting for memory, position N".

Usage::

    ticket = budget.request(decoded_bytes(width, height, bands), on_position=show)
    async with ticket:  # waits for admission; releases on exit, on error and on cancellation
        prepare(...)

The budget is ``MEMORY_BUDGET_MB`` (``bot/settings.py``); see its comment for the default.
"""

from __future__ import annotations

import asyncio
import io
from collections import deque
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Self

MB = 1024 * 1024

# Preparation holds more than one decoded copy at its peak: the decoded image, its RGB(A) conversion
# or resized copy while the previous one is still referenced, plus a one-band mask. Weights passed to
# the budget are the decoded size times this factor, so the budget is in real bytes of the peak.
PREPARATION_COPIES = 2.5


class TicketState(Enum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    DONE = "done"  # released, or abandoned while waiting


def decoded_bytes(width: int, height: int, bands: int, *, bytes_per_sample: int = 1) -> int:
    """The size of the decoded pixels: width × height × bands (× 2 for 16-bit samples)."""
    if width < 0 or height < 0 or bands < 1 or bytes_per_sample < 1:
        raise ValueError("width, height ≥ 0 and bands, bytes_per_sample ≥ 1")
    return width * height * bands * bytes_per_sample


def preparation_weight(data: bytes | Path) -> int:
    """What preparing ``data`` (the bytes, or a file) will hold at its peak, from the header alone
    (no pixels decoded; from a file, only the header is read).

    Bands are at least 3 (4 with transparency): every image is converted to RGB(A) for the API, so a
    palette or grey image costs as much as its conversion. Unreadable headers weigh 0 (decoding refuses them at once,
    holding nothing)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:  # lazy: the header only
            width, height = im.size
            alpha = "A" in im.getbands() or "transparency" in im.info
            bands = max(4 if alpha else 3, len(im.getbands()))  # CMYK decodes to 4
            sample = 2 if im.mode.startswith("I;16") or im.mode in ("I", "F") else 1
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return 0
    return int(decoded_bytes(width, height, bands, bytes_per_sample=sample) * PREPARATION_COPIES) + width * height


class MemoryBudget:
    """Admits weighted requests while their total stays within ``capacity`` bytes (see the module doc)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1 byte")
        self.capacity = capacity
        self._in_use = 0
        self._holders = 0
        self._waiting: deque[MemoryTicket] = deque()

    @classmethod
    def from_megabytes(cls, megabytes: int) -> MemoryBudget:
        return cls(megabytes * MB)

    @property
    def in_use(self) -> int:
        """Bytes held by admitted tickets (may exceed ``capacity`` while one oversized ticket runs alone)."""
        return self._in_use

    @property
    def holders(self) -> int:
        return self._holders

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def request(self, weight: int, *, on_position: Callable[[int], None] | None = None) -> MemoryTicket:
        """Queue a request now (its position is known at once); ``async with`` the ticket to wait for it.

        ``on_position(n)`` is called whenever the ticket's waiting position changes (never once admitted)."""
        if weight < 0:
            raise ValueError("weight must be ≥ 0")
        ticket = MemoryTicket(self, weight, on_position)
        self._waiting.append(ticket)
        self._admit()
        if ticket.state is TicketState.WAITING:
            ticket._moved(len(self._waiting))
        return ticket

    def position(self, ticket: MemoryTicket) -> int | None:
        """1-based place among the waiting tickets; None once admitted or done."""
        if ticket.state is not TicketState.WAITING:
            return None
        return self._waiting.index(ticket) + 1

    def _fits(self, weight: int) -> bool:
        return self._holders == 0 or self._in_use + weight <= self.capacity

    def _admit(self) -> None:
        """Admit from the head while it fits (strict FIFO), then tell the rest their new positions."""
        admitted = 0
        while self._waiting and self._fits(self._waiting[0].weight):
            ticket = self._waiting.popleft()
            self._in_use += ticket.weight
            self._holders += 1
            ticket._grant()
            admitted += 1
        if admitted:
            self._announce()

    def _announce(self) -> None:
        for place, ticket in enumerate(self._waiting, start=1):
            ticket._moved(place)

    def _release(self, ticket: MemoryTicket) -> None:
        self._in_use -= ticket.weight
        self._holders -= 1
        self._admit()

    def _abandon(self, ticket: MemoryTicket) -> None:
        self._waiting.remove(ticket)
        self._announce()
        self._admit()  # the head may have changed to one that fits


class MemoryTicket:
    """One request's place in a :class:`MemoryBudget`; an async context manager."""

    def __init__(self, budget: MemoryBudget, weight: int, on_position: Callable[[int], None] | None) -> None:
        self.budget = budget
        self.weight = weight
        self.state = TicketState.WAITING
        self._on_position = on_position
        self._admitted = asyncio.Event()
        self._last_position: int | None = None

    @property
    def position(self) -> int | None:
        return self.budget.position(self)

    def _grant(self) -> None:
        self.state = TicketState.ADMITTED
        self._admitted.set()

    def _moved(self, place: int) -> None:
        if place != self._last_position:
            self._last_position = place
            if self._on_position is not None:
                self._on_position(place)

    async def wait(self) -> None:
        """Until admitted. Cancelled while waiting: the ticket leaves the queue (or, if it was admitted
        in the meantime, gives its memory back)."""
        if self.state is TicketState.DONE:
            raise RuntimeError("this ticket was already released")
        try:
            await self._admitted.wait()
        except asyncio.CancelledError:
            self.release()
            raise

    def release(self) -> None:
        """Give the memory back (or leave the queue). Idempotent."""
        state, self.state = self.state, TicketState.DONE
        if state is TicketState.ADMITTED:
            self.budget._release(self)
        elif state is TicketState.WAITING:
            self.budget._abandon(self)

    async def __aenter__(self) -> Self:
        await self.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<MemoryTicket {self.weight / MB:.1f} MB {self.state.value} position={self.position}>"


def release_freed_memory_promptly() -> bool:
    """On glibc, keep large image buffers out of the malloc arenas so freeing them returns the memory.

    glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MB), so after the
    first few images every decoded buffer comes from per-thread arenas that fragment and never shrink:
    the process keeps its high-water mark long after the work is done, and a burst piles up several.
    A fixed 1 MB threshold (large buffers are always mmapped, and unmapped when freed) and at most two
    arenas keep the RSS near what is actually in use. False where this is not glibc (nothing to do)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl, or no libc by that name
        return False
    m_mmap_threshold, m_arena_max = -3, -8  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, 1 << 20)) and bool(mallopt(m_arena_max, 2))
