"""What only the PostgreSQL backend has: its migrations, the factory, locks across pools (processes)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from bot.errors import ConfigError, QuotaExceeded
from bot.settings import Settings
from bot.store import EffectiveLimits
from storage import postgres
from storage.factory import open_storage
from storage.files import LocalFileStore
from storage.postgres import Migration, PostgresStorage, apply_migrations, load_migrations
from tests.required import unavailable
from tests.storage_support import T0, Clock, new_job, uid


def test_postgres_migrations_are_package_data_numbered_in_order() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    assert versions == list(range(1, len(versions) + 1))  # numbered 1..n, no gaps
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


# --- submissions: locks for the statements only, answered once durable (see storage/postgres.py) -----------

BUDGETED = EffectiveLimits(
    window_images=100,
    window_seconds=600,
    daily_images=100,
    max_active_jobs=100,
    guild_daily_images=1000,
    bot_daily_images=1000,  # so every submission also takes the bot-wide lock
)
GATE = 4_242_424_242  # an advisory lock key of these tests' own


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for a state another task reaches (bounded, so a broken mechanism fails instead of hanging)."""
    for _ in range(1000):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_submission_frees_its_locks_before_its_wal_flush_and_answers_after_it(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush is held at a gate (an advisory lock this test holds) to look inside it: by then the
    job is visible and every quota lock, the bot-wide budget's too, is free, so a second submission of
    the same member in the same server goes through; neither caller is answered before its flush."""
    monkeypatch.setattr(postgres, "_FLUSH_WAL", f"SELECT pg_advisory_xact_lock_shared({GATE}); {postgres._FLUSH_WAL}")
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    observer = await asyncpg.connect(postgres_url)
    gatekeeper = await asyncpg.connect(postgres_url)

    def at_gate(count: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            waiting = await observer.fetchval(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND (classid::bigint << 32 | objid::bigint) = $1",
                GATE,
            )
            return waiting == count

        return check

    try:
        await observer.execute("TRUNCATE jobs, job_images, usage_ledger RESTART IDENTITY")
        await gatekeeper.execute("SELECT pg_advisory_lock($1)", GATE)
        async with PostgresStorage(postgres_url, files, clock=Clock()) as storage:
            try:
                first_job = await new_job(storage, data=b"first")
                first = asyncio.create_task(storage.submit_job(first_job, BUDGETED, T0))
                await until(at_gate(1), "the first submission reached its flush")
                assert not first.done()
                assert await observer.fetchval("SELECT COUNT(*) FROM jobs") == 1  # committed, visible
                requester = first_job.requester
                for key in postgres._quota_keys(requester, requester.user_id, BUDGETED):
                    assert await observer.fetchval("SELECT pg_try_advisory_lock($1)", key)
                    await observer.execute("SELECT pg_advisory_unlock($1)", key)
                second_job = await new_job(storage, data=b"second")
                second = asyncio.create_task(storage.submit_job(second_job, BUDGETED, T0))
                await until(at_gate(2), "the second submission (same locks) reached its flush")
                assert await observer.fetchval("SELECT COUNT(*) FROM jobs") == 2
                assert not first.done() and not second.done()
            finally:
                await gatekeeper.close()  # opens the gate, also on a failure (or closing would wait forever)
            jobs = [await first, await second]
        assert [job.id for job in jobs] == [1, 2]
        assert await observer.fetchval("SELECT SUM(reserved) FROM usage_ledger") == 2
    finally:
        await observer.close()
        await gatekeeper.close()


async def test_a_submission_returns_only_once_its_commit_is_flushed(postgres_url: str, tmp_path: Path) -> None:
    """Right after each ``submit_job`` returns, the server's WAL flush position is past the job's commit
    record (found with ``pg_walinspect``). An asynchronous commit left alone, or a "flush" that writes
    no WAL (``SELECT pg_current_xact_id()``), leaves it behind until the WAL writer's next round."""
    inspector = await asyncpg.connect(postgres_url)
    try:
        try:
            await inspector.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        except asyncpg.PostgresError as exc:
            unavailable(
                f"pg_walinspect is not available to this role ({type(exc).__name__}: {exc})",
                in_ci="PostgreSQL 15 ships pg_walinspect and the test role may create it",
            )
        start = await inspector.fetchval("SELECT pg_current_wal_insert_lsn()")  # asyncpg: an int
        flushed_at: dict[int, int] = {}
        files = LocalFileStore(tmp_path / "images", pin_seconds=0)
        async with PostgresStorage(postgres_url, files, clock=Clock()) as storage:
            for n in range(20):
                job = await storage.submit_job(await new_job(storage, user=uid(n), data=f"{n}".encode()), BUDGETED)
                flushed_at[job.id] = await inspector.fetchval("SELECT pg_current_wal_flush_lsn()")
        xids = dict(
            await inspector.fetch("SELECT id, xmin::text FROM jobs WHERE id = ANY($1::bigint[])", list(flushed_at))
        )
        commit_ends = dict(
            await inspector.fetch(
                "SELECT xid::text, end_lsn"
                " FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_flush_lsn())"
                " WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT'",
                start,
            )
        )
        assert len(xids) == 20 and set(xids.values()) <= set(commit_ends)
        assert [job_id for job_id, flushed in flushed_at.items() if commit_ends[xids[job_id]] > flushed] == []
    finally:
        await inspector.close()
