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

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.store import Storage
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage
from tests.required import unavailable
from tests.storage_support import Clock, make_storage

T = TypeVar("T")
BACKENDS = ["sqlite", "postgres"]
DEFAULT_TEST_DATABASE_URL = "postgresql://127.0.0.1:5432/test"
TABLES = (
    "jobs, job_images, usage_ledger, guild_settings, role_limits, audit_log, sessions, drafts, interactions, fair_turns"
)

MakeBackend = Callable[..., Storage]


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous fixture code (on its own thread and loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()  # type: ignore[arg-type]


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway, migrated database for this test session; its URL."""
    import asyncpg

    from storage.postgres import PostgresStorage

    admin_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    name = f"inpaint_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_url, timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        run_sync(create)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(
            f"PostgreSQL at TEST_DATABASE_URL is not reachable or usable ({type(exc).__name__}: {exc})",
            in_ci="the machines run PostgreSQL 15 before CI",
        )
    url = with_database(admin_url, name)

    async def migrate() -> None:
        async with PostgresStorage(url, LocalFileStore(Path("/nonexistent-unused")), max_pool=1):
            pass

    async def drop() -> None:
        conn = await asyncpg.connect(admin_url, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        run_sync(migrate)
        yield url
    finally:
        run_sync(drop)


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
