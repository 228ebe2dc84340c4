"""Storage fixtures: the backend contract suite runs once per backend, SQLite and PostgreSQL.

``backend`` yields an opened ``Storage`` of each kind; ``make_backend`` builds more (un-opened) ones
on the same database, as further processes would have. Contract tests use only the ``Storage``
protocol (and ``files``); SQLite-only tests use ``storage``.

PostgreSQL: ``TEST_DATABASE_URL`` (default ``postgresql://127.0.0.1:5432/test``) names a server and a
database to connect to; each test session creates its own throwaway database there (so parallel runs
never collide) and drops it at the end, and each test starts from empty tables. Without a reachable
server the PostgreSQL tests are skipped with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.store import Storage
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage
from tests.storage_support import TABLES, Clock, MakeBackend, make_storage, run_sync

T = TypeVar("T")
BACKENDS = ["sqlite", "postgres"]


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
    """Builds un-opened backends of one kind, all on one empty database, with the test's clock.

    Options: ``pin_seconds`` (the file store's). Files live under ``tmp_path`` for every backend."""
    if request.param == "sqlite":

        def make(**options: Any) -> Storage:
            return make_storage(tmp_path, clock, **options)

        yield make
        return

    import asyncpg

    from storage.postgres import PostgresStorage

    url = request.getfixturevalue("postgres_url")

    async def empty() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
        finally:
            await conn.close()

    run_sync(empty)

    def make_pg(**options: Any) -> Storage:
        files = LocalFileStore(tmp_path / "images", pin_seconds=options.pop("pin_seconds", 0.0))
        return PostgresStorage(url, files, clock=clock, **options)

    yield make_pg


@pytest.fixture
async def backend(make_backend: MakeBackend) -> AsyncIterator[Storage]:
    opened = make_backend()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
