"""What only the PostgreSQL backend has: its migrations, the factory, locks across pools (processes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from bot.errors import ConfigError, QuotaExceeded
from bot.settings import Settings
from bot.store import EffectiveLimits
from storage.factory import open_storage
from storage.files import LocalFileStore
from storage.postgres import Migration, PostgresStorage, apply_migrations, load_migrations
from tests.storage_support import T0, Clock, new_job, uid


def test_postgres_migrations_are_package_data_numbered_in_order() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    # numbers are reserved per branch, so a branch may have gaps until the others are merged
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert migrations[0].name == "initial"


async def test_migrations_are_recorded_and_never_applied_twice(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [m.version for m in load_migrations()]
        assert await apply_migrations(conn, load_migrations()) == []
        with pytest.raises(RuntimeError, match="newer than this bot knows"):
            await apply_migrations(conn, [Migration(0, "older", "SELECT 1")])
    finally:
        await conn.close()


def test_the_factory_builds_an_unopened_postgres_storage(tmp_path: Path) -> None:
    for url in ("postgresql://bot:s3cret@db.example:5432/bot", "postgres://bot:s3cret@db.example/bot"):
        storage = open_storage(Settings(data_dir=tmp_path, database_url=url))
        assert isinstance(storage, PostgresStorage)
        assert storage.files.root == tmp_path / "images"
        assert "s3cret" not in repr(storage)  # the URL's password never reaches a log
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings(data_dir=tmp_path, database_url="mysql://x/y")


async def test_two_pools_never_overshoot_a_shared_limit(postgres_url: str, tmp_path: Path) -> None:
    """Two processes' pools submitting for one user at once: the advisory locks still serialise."""
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    limits = EffectiveLimits(
        window_images=9, window_seconds=600, daily_images=25, max_active_jobs=1000, guild_daily_images=200
    )
    conn = await asyncpg.connect(postgres_url)
    await conn.execute("TRUNCATE jobs, job_images, usage_ledger RESTART IDENTITY")
    await conn.close()
    async with (
        PostgresStorage(postgres_url, files, clock=Clock()) as one,
        PostgresStorage(postgres_url, files, clock=Clock()) as two,
    ):
        jobs = [await new_job(one, data=f"image {n}".encode(), images=1 + n % 2) for n in range(60)]
        results = await asyncio.gather(
            *((one if n % 2 else two).submit_job(job, limits, T0) for n, job in enumerate(jobs)),
            return_exceptions=True,
        )
        accepted = [r for r in results if not isinstance(r, BaseException)]
        assert all(isinstance(r, QuotaExceeded) for r in results if isinstance(r, BaseException))
        assert sum(j.images_requested for j in accepted) == 9
        status = await one.quota_status(jobs[0].requester, limits, T0)
        assert status.window_used == 9 and jobs[0].requester.user_id == uid(1)
