"""Garbage collection that does not stall the event loop (``bot.runtime``)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.app
from bot.runtime import freeze_startup_heap
from tests.bot_harness import make_world


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.peer: Node = self


def test_start_up_objects_are_never_walked_again(unfrozen: None) -> None:
    """A full collection walks every object it tracks: what start-up built is taken out of them."""
    startup = {"catalogue": [[str(i)] for i in range(1000)]}
    cycle = weakref.ref(Node())  # start-up garbage that only a collection frees
    frozen = freeze_startup_heap()
    assert frozen == gc.get_freeze_count() > 1000
    assert cycle() is None  # collected first, not frozen for the process's life
    tracked = {id(obj) for obj in gc.get_objects()}  # every generation but the permanent one
    assert id(startup) not in tracked and id(startup["catalogue"][0]) not in tracked
    later = [["made after start-up"]]
    assert id(later) in {id(obj) for obj in gc.get_objects()}  # new objects are collected as usual


def test_start_up_ends_with_pillow_plugins_loaded_and_frozen() -> None:
    """Pillow imports its format plugins on the first image it opens: in a fresh process that would
    be the first burst's preparations, holding the GIL. ``bot.app`` loads them before freezing."""
    script = (
        "import gc, sys\n"
        "from PIL import Image\n"
        "import bot.app\n"
        "assert 'PIL.TiffImagePlugin' not in sys.modules\n"
        "bot.app._started()\n"
        "plugin = sys.modules['PIL.TiffImagePlugin']\n"
        "assert not any(obj is plugin.__dict__ for obj in gc.get_objects()), 'not frozen'\n"
        "print('ok', gc.get_freeze_count())\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("ok ")


async def test_the_heap_is_frozen_before_the_queue_claims_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process's bot ends start-up (``bot.app._started``) in ``setup_hook`` once the cogs are loaded
    and before its scheduler starts: a job the first pass claims is not frozen with the start-up heap."""
    seen: list[tuple[bool, bool]] = []
    async with make_world(tmp_path) as world:

        def started() -> None:
            assert world.bot is not None
            seen.append(("cogs.edit" in world.bot.extensions, world.bot.scheduler._loop_task is None))

        monkeypatch.setattr(bot.app, "_started", started)
        running = await world.start_bot(freeze_heap=True)
        assert seen == [(True, True)] and running.scheduler._loop_task is not None
        assert bot.app.build_bot(world.settings).freeze_heap  # the process's bot, not a test's
