"""Storage fixtures: the backend contract suite runs once per available backend.

``backend`` yields an opened ``Storage`` of each kind; ``make_backend`` builds more (un-opened) ones
on the same database, as further processes would have. Contract tests use only the ``Storage``
protocol (and ``files``); SQLite-only tests use ``storage``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import Storage
from storage.sqlite import SqliteStorage
from tests.storage_support import Clock, make_storage

BACKENDS = ["sqlite"]

MakeBackend = Callable[..., Storage]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStorage]:
    """An opened SQLite storage, for the tests of SQLite itself."""
    async with make_storage(tmp_path, clock) as opened:
        yield opened


@pytest.fixture(params=BACKENDS)
def make_backend(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[MakeBackend]:
    """Builds un-opened backends of one kind, all on one fresh database, with the test's clock.

    Options: ``pin_seconds`` (the file store's). Files live under ``tmp_path`` for every backend."""

    def make(**options: Any) -> Storage:
        return make_storage(tmp_path, clock, **options)

    yield make


@pytest.fixture
async def backend(make_backend: MakeBackend) -> AsyncIterator[Storage]:
    opened = make_backend()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
