"""Process-wide interpreter settings that keep the event loop's thread responsive (issue 11).

The bot's one event loop acknowledges every interaction, while Pillow work (``bot.imaging.executor``),
file writes and SQLite run in threads. Two interpreter defaults stalled the loop under a burst of edits:

* **The GIL hand-back.** After each of its own system calls (``select``, every socket send and read)
  the loop's thread must take the GIL back from whichever worker thread took it meanwhile; a worker
  running Python code gives it up only after the switch interval, 5 ms by default, and a burst's
  acknowledgement needs several such hand-backs. ``prefer_the_event_loop`` lowers the interval to
  ``SWITCH_INTERVAL_S`` (workers spend most of their time in C code that releases the GIL anyway, so
  they lose next to nothing).
* **Full garbage collections.** A gen-2 collection walks every tracked object: ~100,000 of them after
  start-up (discord.py, the Fluent catalogues, the command tree), 50 ms of CPU on the loop's thread
  at a time. ``freeze_startup_heap`` moves what start-up built into the permanent generation (CPython's
  ``gc.freeze``), so later collections only walk what was allocated since.
"""

from __future__ import annotations

import gc
import logging
import sys

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001  # CPython's default is 0.005


def prefer_the_event_loop() -> None:
    """Call once at start-up, before the loop and the worker threads start."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def freeze_startup_heap() -> int:
    """Collect once, then exempt every surviving object from later collections; returns how many were
    frozen. Call when start-up is over and before the first request (after ``login``: the services,
    cogs and catalogues exist, nothing is in flight): what start-up made is kept for the process's
    life, so never walking it again loses nothing, whereas an object of a request in flight frozen
    with it could never be collected once it became garbage."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("froze %d start-up objects out of garbage collection", frozen)
    return frozen
