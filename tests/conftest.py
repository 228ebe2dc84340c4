"""Fixtures shared across the test tree (pytest finds them by name; no import needed)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage
from tests.required import unavailable
from tests.storage_support import DEFAULT_TEST_DATABASE_URL, Clock, make_storage, run_sync, with_database


@pytest.fixture
def clock() -> Clock:
    """A settable clock for the storage's own timestamps, starting at ``storage_support.T0``."""
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStorage]:
    """An opened SQLite storage in ``tmp_path`` on the ``clock`` fixture."""
    async with make_storage(tmp_path, clock) as opened:
        yield opened


@pytest.fixture
def no_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Everything is logged at DEBUG; neither the fake Ideogram's API key nor the e2e bot token may
    appear anywhere. Use with ``pytestmark = pytest.mark.usefixtures("no_secrets_in_logs")``."""
    from tests.bot_harness import BOT_TOKEN
    from tests.fakes.ideogram import FakeIdeogram

    caplog.set_level(logging.DEBUG)
    yield
    for secret in (FakeIdeogram().api_key, BOT_TOKEN):
        assert secret not in caplog.text


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
