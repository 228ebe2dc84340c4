"""What only the PostgreSQL backend has: its migrations, the factory, locks across pools (processes)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.errors import ConfigError, NotFound, QuotaExceeded
from bot.settings import Settings
from bot.store import EffectiveLimits, JobStatus
from storage import pg_locks, pg_submissions
from storage.factory import open_storage
from storage.files import LocalFileStore
from storage.postgres import Migration, PostgresStorage, apply_migrations, load_migrations
from tests.required import unavailable
from tests.storage_support import PG_TOTALS_DRIFT, T0, UNLIMITED, Clock, cancel, fail, finish, gid, new_job, submit, uid


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
    await empty_tables(postgres_url)
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


async def empty_tables(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("TRUNCATE jobs, job_images, usage_ledger RESTART IDENTITY")
    finally:
        await conn.close()


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


def gate_watch(observer: asyncpg.Connection) -> Callable[[int], Callable[[], Awaitable[bool]]]:
    """``at_gate(n)``: a check that ``n`` transactions wait at ``GATE``."""

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

    return at_gate


async def test_a_submission_frees_its_locks_before_its_wal_flush_and_answers_after_it(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush is held at a gate (an advisory lock this test holds) to look inside it: by then the
    job is visible and every quota lock, the bot-wide budget's too, is free, so a second submission of
    the same member in the same server goes through; neither caller is answered before its flush."""
    monkeypatch.setattr(pg_locks, "FLUSH_WAL", f"SELECT pg_advisory_xact_lock_shared({GATE}); {pg_locks.FLUSH_WAL}")
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    observer = await asyncpg.connect(postgres_url)
    gatekeeper = await asyncpg.connect(postgres_url)
    at_gate = gate_watch(observer)
    try:
        await empty_tables(postgres_url)
        await gatekeeper.execute("SELECT pg_advisory_lock($1)", GATE)
        async with PostgresStorage(postgres_url, files, clock=Clock()) as storage:
            try:
                first_job = await new_job(storage, data=b"first")
                first = asyncio.create_task(storage.submit_job(first_job, BUDGETED, T0))
                await until(at_gate(1), "the first submission reached its flush")
                assert not first.done()
                assert await observer.fetchval("SELECT COUNT(*) FROM jobs") == 1  # committed, visible
                requester = first_job.requester
                for key in pg_submissions.quota_keys(requester, requester.user_id, BUDGETED):
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


async def test_the_daily_totals_follow_every_change_to_the_ledger(postgres_url: str, tmp_path: Path) -> None:
    """Submissions (servers and DMs, over two days), a full charge, a partial charge, a refund, a
    cancel, history deletion, retention and a TRUNCATE: after each, the totals the server cap and the
    budget read equal the ledger's sums, and a server's cap still counts from them."""
    observer = await asyncpg.connect(postgres_url)
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    clock = Clock()
    try:
        await empty_tables(postgres_url)
        assert await observer.fetchval("SELECT COUNT(*) FROM bot_usage_days") == 0

        async def drift() -> list[asyncpg.Record]:
            return await observer.fetch(PG_TOTALS_DRIFT)

        async with PostgresStorage(postgres_url, files, clock=clock) as storage:
            jobs = [
                await submit(
                    storage, UNLIMITED, T0 + timedelta(hours=n * 7), user=uid(n), guild=guild, images=1 + n % 3
                )
                for n, guild in enumerate([gid(1), gid(2), None, gid(1), gid(2), None, gid(1), gid(1)])
            ]
            assert await drift() == []
            assert await observer.fetchval("SELECT COUNT(DISTINCT day) FROM bot_usage_days") == 3
            await finish(storage, jobs[0])  # charged what it reserved: no change
            await finish(storage, jobs[1], delivered=1)  # 2 reserved, 1 charged
            await fail(storage, jobs[2], refund=True)
            await cancel(storage, jobs[3])
            assert await drift() == []
            assert await storage.delete_user_history(uid(0)) == 1  # the ledger stays: the quota still counts
            assert await drift() == []
            limits = replace(UNLIMITED, guild_daily_images=jobs[6].images_requested + jobs[7].images_requested)
            with pytest.raises(QuotaExceeded):  # gid(1)'s third day is full, read from its total
                await submit(storage, limits, T0 + timedelta(hours=49), user=uid(20), guild=gid(1))
            clock.now = T0 + timedelta(days=30)
            for job in jobs[4:]:
                await fail(storage, job, refund=False)
            await storage.cleanup(T0 + timedelta(hours=20))  # the first day's settled usage goes
            assert await drift() == []
            assert await observer.fetchval("SELECT COUNT(*) FROM usage_ledger") < len(jobs)
        await observer.execute("TRUNCATE usage_ledger")
        assert await observer.fetchval("SELECT COUNT(*) FROM bot_usage_days") == 0
        assert await observer.fetchval("SELECT COUNT(*) FROM guild_usage_days") == 0
    finally:
        await observer.close()


async def test_migration_8_totals_an_existing_ledger(postgres_url: str) -> None:
    """Upgrading a database that already has usage: the totals start equal to its ledger."""
    admin = await asyncpg.connect(postgres_url)
    name = f"inpaint_m8_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(postgres_url.rpartition("/")[0] + f"/{name}")
        try:
            migrations = load_migrations()
            await apply_migrations(conn, migrations[:7])
            day = 86_400_000 * 20_000
            await conn.executemany(
                "INSERT INTO usage_ledger (job_id, user_id, guild_id, reserved, charged, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (n, uid(n % 4), gid(n % 3) if n % 5 else None, n % 2, 1 + n % 4, day + n * 3_600_000)
                    for n in range(1, 60)
                ],
            )
            await apply_migrations(conn, migrations)
            assert await conn.fetch(PG_TOTALS_DRIFT) == []
            assert await conn.fetchval("SELECT SUM(images) FROM bot_usage_days") == await conn.fetchval(
                "SELECT SUM(reserved + charged) FROM usage_ledger"
            )
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


# --- batches (storage/pg_submissions.py) --------------------------------------------------------------------


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch statement run, in order."""
    sizes: list[int] = []
    decide = pg_submissions.SubmissionBatcher._decide

    async def counted(conn: asyncpg.Connection, live: list, outcomes: dict) -> list:
        sizes.append(len(live))
        return await decide(conn, live, outcomes)

    monkeypatch.setattr(pg_submissions.SubmissionBatcher, "_decide", staticmethod(counted))
    return sizes


async def test_a_batch_decides_each_member_as_if_alone_in_arrival_order(
    postgres_url: str, tmp_path: Path, batches: list[int]
) -> None:
    """Six submissions arriving together go in one batch. The third would pass the member's window
    (3 images per 10 minutes) only without the first two, so it is refused, with the time the first
    leaves the window; the members after it are decided again without it: the fourth fits (1 image),
    the fifth (another member) too, the sixth not. Nothing of a refused one is left."""
    await empty_tables(postgres_url)
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    limits = EffectiveLimits(
        window_images=3, window_seconds=600, daily_images=50, max_active_jobs=50, guild_daily_images=1000
    )
    asks = [(uid(1), 1), (uid(1), 1), (uid(1), 2), (uid(1), 1), (uid(2), 3), (uid(1), 1)]
    async with PostgresStorage(postgres_url, files, clock=Clock()) as storage:
        jobs = [
            await new_job(storage, user=user, images=images, data=f"{n}".encode())
            for n, (user, images) in enumerate(asks)
        ]
        results = await asyncio.gather(
            *(storage.submit_job(job, limits, T0 + timedelta(seconds=n)) for n, job in enumerate(jobs)),
            return_exceptions=True,
        )
        assert batches == [6, 3]  # all six, then again from the 4th once the 3rd was refused
        refused = [n for n, result in enumerate(results) if isinstance(result, QuotaExceeded)]
        assert refused == [2, 5]
        assert results[2].limit == "window" and results[2].retry_at == T0 + timedelta(seconds=600)
        accepted = [result for result in results if not isinstance(result, BaseException)]
        observer = await asyncpg.connect(postgres_url)
        try:
            assert sorted(await observer.fetchval("SELECT array_agg(id) FROM jobs")) == sorted(j.id for j in accepted)
            assert await observer.fetchval("SELECT COUNT(*) FROM job_images") == 2 * len(accepted)
            assert await observer.fetchval("SELECT SUM(reserved) FROM usage_ledger") == 1 + 1 + 1 + 3
            assert await observer.fetch(PG_TOTALS_DRIFT) == []
        finally:
            await observer.close()
        status = await storage.quota_status(jobs[0].requester, limits, T0 + timedelta(seconds=10))
        assert status.window_used == 3


async def test_an_error_in_a_batch_fails_only_its_own_member(
    postgres_url: str, tmp_path: Path, batches: list[int]
) -> None:
    """A member whose parent job does not exist (a foreign key error) fails the batch's transaction;
    the others are then tried one by one and go through; a member whose mask file is gone is refused
    alone without failing the batch."""
    await empty_tables(postgres_url)
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    async with PostgresStorage(postgres_url, files, clock=Clock()) as storage:
        good = [await new_job(storage, user=uid(n), data=f"{n}".encode()) for n in range(3)]
        orphan = replace(await new_job(storage, user=uid(7), data=b"orphan"), parent_job_id=987_654_321_987_654_321)
        gone = await new_job(storage, user=uid(8), data=b"gone", mask=b"a mask that will be deleted")
        files.remove(gone.mask_sha)
        results = await asyncio.gather(
            *(storage.submit_job(job, BUDGETED, T0) for job in [good[0], orphan, good[1], gone, good[2]]),
            return_exceptions=True,
        )
        assert batches[0] == 4 and batches[1:] == [1, 1, 1, 1]  # the four with files, then one by one
        assert isinstance(results[1], asyncpg.ForeignKeyViolationError)
        assert isinstance(results[3], NotFound)
        assert [type(r).__name__ for n, r in enumerate(results) if n not in (1, 3)] == ["Job"] * 3
        observer = await asyncpg.connect(postgres_url)
        try:
            assert await observer.fetchval("SELECT COUNT(*) FROM jobs") == 3
            assert await observer.fetch(PG_TOTALS_DRIFT) == []
        finally:
            await observer.close()


async def test_a_caller_that_gives_up_before_its_batch_starts_leaves_no_job(postgres_url: str, tmp_path: Path) -> None:
    """The first batch waits for the bot-wide lock (held here); a second submission queues behind it
    and is cancelled: once the lock goes, the first is reserved and the cancelled one never is (a
    third, queued after it, shows the batcher has moved past it)."""
    await empty_tables(postgres_url)
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    holder = await asyncpg.connect(postgres_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", pg_locks.lock_key("budget", "daily"))
        async with PostgresStorage(postgres_url, files, clock=Clock()) as storage:
            first = asyncio.create_task(
                storage.submit_job(await new_job(storage, user=uid(1), data=b"1"), BUDGETED, T0)
            )
            await until(lambda: _waiting_for_a_lock(holder), "the first batch waits for the budget's lock")
            second = asyncio.create_task(
                storage.submit_job(await new_job(storage, user=uid(2), data=b"2"), BUDGETED, T0)
            )
            await asyncio.sleep(0.05)
            second.cancel()
            await holder.execute("SELECT pg_advisory_unlock_all()")
            assert (await first).id == 1
            with pytest.raises(asyncio.CancelledError):
                await second
            await storage.submit_job(await new_job(storage, user=uid(3), data=b"3"), BUDGETED, T0)  # queued after it
        assert await holder.fetchval("SELECT array_agg(user_id ORDER BY id) FROM jobs") == [uid(1), uid(3)]
    finally:
        await holder.close()


async def _waiting_for_a_lock(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    )


async def test_a_refund_frees_the_days_totals_before_its_wal_flush(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refund changes the server's (and the bot's) total of the day, rows every submission there
    also changes. Held at its flush (the gate), it has already let them go: a submission in the same
    server goes through, and the refund's caller is answered only after its flush."""
    files = LocalFileStore(tmp_path / "images", pin_seconds=0)
    observer = await asyncpg.connect(postgres_url)
    gatekeeper = await asyncpg.connect(postgres_url)
    at_gate = gate_watch(observer)
    try:
        await empty_tables(postgres_url)
        async with PostgresStorage(postgres_url, files, clock=Clock()) as storage:
            refunded = await submit(storage, BUDGETED, T0, user=uid(1), guild=gid(1), images=2)
            monkeypatch.setattr(
                pg_locks, "FLUSH_WAL", f"SELECT pg_advisory_xact_lock_shared({GATE}); {pg_locks.FLUSH_WAL}"
            )
            await gatekeeper.execute("SELECT pg_advisory_lock($1)", GATE)
            try:
                refund = asyncio.create_task(fail(storage, refunded, refund=True))
                await until(at_gate(1), "the refund reached its flush")
                assert await observer.fetchval("SELECT images FROM guild_usage_days WHERE guild_id = $1", gid(1)) == 0
                monkeypatch.undo()  # the next submission's flush is not gated
                other = await asyncio.wait_for(submit(storage, BUDGETED, T0, user=uid(2), guild=gid(1)), 5)
                assert not refund.done()
            finally:
                await gatekeeper.close()
            assert (await refund).status is JobStatus.FAILED
        assert await observer.fetchval("SELECT images FROM guild_usage_days WHERE guild_id = $1", gid(1)) == 1
        assert other.id == refunded.id + 1
    finally:
        await observer.close()
