"""A dedicated, sized thread pool for Pillow work (decode, convert, resize, encode).

Why its own pool: ``asyncio.to_thread`` shares the loop's default executor (``min(32, cpus + 4)``
threads) with file I/O and DNS. Pillow releases the GIL while it decodes, resizes and encodes, so
its threads really run in parallel, one per core; more threads than cores add no throughput, only
more decoded images alive at once (memory) and more contention that stalls the event loop's own
thread. So the pool has one thread per usable CPU (``os.sched_getaffinity``, i.e. what a container's
cpuset allows), at most ``MAX_WORKERS``; on a 2-core VPS that is 2. File reads and writes stay on the
default pool, so a slow disk never waits behind a decode and the reverse.

Its threads also run at a lower CPU priority than the rest of the process (``NICENESS`` more, a
per-thread nice value on Linux): when the cores are busy, the event loop's thread, which acknowledges
every interaction, gets a core as soon as it wakes instead of waiting for a decode's time slice to
end; idle cores still go to Pillow, so a lone preparation is as fast. Measured with ``bench_bot.py
--only ack`` on 2 cores under other load: acknowledgement p99 19 ms instead of 46 (median of 8 runs).

Memory is bounded separately, by ``bot.memory.MemoryBudget`` (a weighted admission in front of the
preparation); this pool only bounds CPU parallelism.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

MAX_WORKERS = 8  # beyond this a single process is better served by more processes than more threads
NICENESS = 10  # added to the process's nice value for the pool's threads (19 is the lowest priority)

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def usable_cpus() -> int:
    """CPUs this process may run on (respects affinity/cpusets), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    return min(MAX_WORKERS, usable_cpus())


def pillow_pool() -> ThreadPoolExecutor:
    """The process-wide pool, created on first use (so importing this module starts no threads)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=default_workers(), thread_name_prefix="pillow", initializer=lower_thread_priority
            )
        return _pool


def lower_thread_priority() -> None:
    """Make the calling thread ``NICENESS`` nicer than the process. Linux only: there a thread is a task
    with its own nice value, and raising it needs no privilege (elsewhere ``setpriority`` would apply to
    the whole process, so nothing is done)."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + NICENESS))
    except OSError:  # a sandbox that forbids it: run at the process's priority
        pass


async def run_pillow(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``asyncio.to_thread`` on the Pillow pool (context variables, e.g. log context, carried over)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await loop.run_in_executor(pillow_pool(), call)


def shutdown_pillow_pool(*, wait: bool = True) -> None:
    """For the app's shutdown; a later ``run_pillow`` creates a fresh pool."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=True)
