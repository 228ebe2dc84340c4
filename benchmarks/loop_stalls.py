"""Where the bot's event loop stalls: ``bench_bot.py --stalls`` starts the bot through this script.

    python benchmarks/loop_stalls.py REPORT [bot arguments…]   # then runs ``python -m bot …``

A task on the bot's event loop wakes every ``BEAT_S``; a watchdog thread samples the loop thread's
stack every millisecond while that task is more than ``STALL_S`` late. At exit, ``REPORT`` gets the
stalls (when, how long), the stacks sampled during the longest ones (innermost frames, with what the
other threads were doing) and every garbage collection over ``GC_REPORT_S``.

Reading it: the watchdog needs the GIL to take a sample. A stall where the loop thread runs Python
(its own work) yields few samples, in that work; one where it waits for the GIL or for a CPU yields
many, all at the system call it returned from (``select``, a socket ``send``/``recv``); then the
other threads' stacks say who held the GIL. Not for production: the watchdog costs a little CPU.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import gc
import os
import re
import runpy
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from types import FrameType

BEAT_S = 0.002
STALL_S = 0.020
GC_REPORT_S = 0.005
SHOWN_STALLS = 12
FRAMES = 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
STDLIB = re.compile(r"^.*/lib/python3\.\d+/")
IDLE = ("threading.py", "queue.py", "selectors.py", "concurrent/futures/thread.py", "aiosqlite/core.py")


@dataclass
class Stall:
    began: float  # when the late beat began, time.monotonic()
    length: float = 0.0
    loop: collections.Counter[str] = field(default_factory=collections.Counter)
    others: collections.Counter[str] = field(default_factory=collections.Counter)


class Watch:
    def __init__(self) -> None:
        self.beat: float | None = None
        self.started = False
        self.stalls: list[Stall] = []
        self.collections: list[tuple[float, int, float]] = []  # (at, generation, seconds)
        self.loop_thread = threading.main_thread().ident
        self._gc_began = 0.0

    async def heartbeat(self) -> None:
        while True:
            self.beat = time.monotonic()
            await asyncio.sleep(BEAT_S)

    def watchdog(self) -> None:
        current: Stall | None = None
        while True:
            time.sleep(0.001)
            beat = self.beat
            if beat is None or (late := time.monotonic() - beat - BEAT_S) < STALL_S:
                continue
            if current is None or current.began != beat:
                current = Stall(beat)
                self.stalls.append(current)
            current.length = late
            frames = sys._current_frames()
            loop_frame = frames.get(self.loop_thread)  # type: ignore[arg-type]
            if loop_frame is not None:
                current.loop[_stack(loop_frame)] += 1
            for ident, frame in frames.items():
                if ident not in (self.loop_thread, threading.get_ident()) and not _idle(frame):
                    current.others[_stack(frame, depth=4)] += 1

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.monotonic()
        elif (took := time.monotonic() - self._gc_began) > GC_REPORT_S:
            self.collections.append((self._gc_began, info["generation"], took))

    def report(self, path: str) -> None:
        lengths = sorted((s.length for s in self.stalls), reverse=True)
        lines = [
            f"loop stalls over {STALL_S * 1000:.0f} ms: {len(lengths)}; longest (ms): "
            + ", ".join(f"{x * 1000:.0f}" for x in lengths[:20]),
            "garbage collections over 5 ms (at, generation, ms): "
            + ", ".join(f"({at:.2f}, {g}, {s * 1000:.0f})" for at, g, s in self.collections),
            "",
        ]
        for stall in sorted(self.stalls, key=lambda s: -s.length)[:SHOWN_STALLS]:
            lines.append(f"== {stall.length * 1000:.0f} ms from {stall.began:.3f} (time.monotonic)")
            lines += [f"  loop thread ×{n}:\n{stack}" for stack, n in stall.loop.most_common(3)]
            lines += [f"  other thread ×{n}:\n{stack}" for stack, n in stall.others.most_common(3)]
        with open(path, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def _stack(frame: FrameType, depth: int = FRAMES) -> str:
    return "".join(
        f"    {_short(f.filename)}:{f.lineno} {f.name}\n" for f in traceback.extract_stack(frame)[-depth:][::-1]
    )


def _short(filename: str) -> str:
    """Paths relative to the repository, site-packages or the standard library."""
    if filename.startswith(ROOT):
        return filename[len(ROOT) :]
    return STDLIB.sub("", filename.split("site-packages/", 1)[-1])


def _idle(frame: FrameType) -> bool:
    """A worker thread waiting for work (its innermost Python frame is in a queue or lock wait)."""
    return frame.f_code.co_filename.endswith(IDLE)


def install(report_path: str) -> None:
    """Start watching the first event loop that runs (the bot's), and write the report at exit."""
    watch = Watch()
    run_forever = asyncio.base_events.BaseEventLoop.run_forever

    def watched_run_forever(loop: asyncio.AbstractEventLoop) -> None:
        if not watch.started:
            watch.started = True
            loop.call_soon(lambda: loop.create_task(watch.heartbeat()))
            threading.Thread(target=watch.watchdog, name="loop-stalls", daemon=True).start()
        try:
            run_forever(loop)  # type: ignore[arg-type]
        finally:
            watch.beat = None  # the loop stopped (shutdown joins threads): nothing more to watch

    asyncio.base_events.BaseEventLoop.run_forever = watched_run_forever  # type: ignore[method-assign]
    gc.callbacks.append(watch.on_gc)
    atexit.register(watch.report, report_path)


if __name__ == "__main__":
    install(sys.argv[1])
    sys.argv = ["bot", *sys.argv[2:]]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)
