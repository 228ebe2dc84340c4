"""``python -m bot migrate --to postgresql://…``: a populated SQLite install copied into PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from bot.cli import main
from bot.store import JobStatus, Requester, RoleLimits
from storage.postgres import PostgresStorage
from storage.transfer import TABLES, TargetNotEmpty, copy_sqlite_to_postgres
from tests.storage_support import (
    LIMITS,
    PG_TOTALS_DRIFT,
    T0,
    Clock,
    cancel,
    cid,
    fail,
    finish,
    gid,
    make_storage,
    rid,
    submit,
    uid,
)
from tests.storage_support import TABLES as ALL_TABLES


async def populate(tmp_path: Path) -> list[int]:
    """Every table gets rows: finished, failed, cancelled, queued and deleted jobs, a session, limits."""
    async with make_storage(tmp_path, Clock()) as storage:
        root = await finish(storage, await submit(storage, LIMITS, T0, images=2))
        where = {"guild_id": gid(10), "channel_id": cid(100), "thread_id": cid(900)}
        session = await storage.create_session(**where, owner_id=uid(1), root_job_id=root.id, head_index=0)
        await storage.attach_job_to_session(root.id, session.id)
        version = await submit(storage, LIMITS, T0, session_id=session.id, parent_job_id=root.id)
        await finish(storage, version)
        await storage.mark_posted(version.id, cid(900), cid(5000))
        await fail(storage, await submit(storage, LIMITS, T0, user=uid(2)), refund=False)
        await cancel(storage, await submit(storage, LIMITS, T0, user=uid(3)))
        await submit(storage, LIMITS, T0, user=uid(4), images=3, private=True, reply_token="token")  # still queued
        newest = await finish(storage, await submit(storage, LIMITS, T0, user=uid(5)))
        assert await storage.delete_job(newest.id)  # its id must never be handed out again
        await storage.update_guild_config(gid(10), uid(1), daily_images=40, window_minutes=30)
        await storage.set_role_limits(gid(10), uid(1), RoleLimits(rid(7), window_images=9, exempt=True), rid(7))
        return [j.id for j in await storage.jobs_with_status(*JobStatus)]


async def empty(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {ALL_TABLES} RESTART IDENTITY")
    finally:
        await conn.close()


async def test_a_populated_sqlite_database_moves_to_postgres(tmp_path: Path, postgres_url: str) -> None:
    job_ids = await populate(tmp_path)
    await empty(postgres_url)
    async with make_storage(tmp_path) as before:
        jobs = [await before.get_job(i) for i in job_ids]
        images = [await before.job_images(i) for i in job_ids]
        status = await before.quota_status(Requester(uid(1), gid(10)), LIMITS, T0)
        config, audit = await before.guild_config(gid(10)), await before.audit_log(gid(10))
        session = await before.session_by_thread(cid(900))
    files = make_storage(tmp_path).files

    counts = await copy_sqlite_to_postgres(tmp_path / "bot.sqlite3", postgres_url, files)
    assert counts == {
        "jobs": 5,
        "job_images": 5 * 2 + 3,
        "usage_ledger": 6,  # the deleted job's usage still counts
        "guild_settings": 1,
        "role_limits": 1,
        "audit_log": 3,
        "sessions": 1,
    }
    assert set(counts) == set(TABLES)

    async with PostgresStorage(postgres_url, files, clock=Clock()) as after:
        assert [await after.get_job(i) for i in job_ids] == jobs
        assert [await after.job_images(i) for i in job_ids] == images
        assert await after.quota_status(Requester(uid(1), gid(10)), LIMITS, T0) == status
        assert (await after.guild_config(gid(10)), await after.audit_log(gid(10))) == (config, audit)
        assert await after.session_by_thread(cid(900)) == session
        assert (await after.job_by_message(cid(900), cid(5000))).id == session.head_job_id
        conn = await asyncpg.connect(postgres_url)
        try:  # the COPY fired the ledger's triggers: the day's totals are there (migration 008)
            assert await conn.fetch(PG_TOTALS_DRIFT) == []
            assert await conn.fetchval("SELECT SUM(images) FROM bot_usage_days") > 0
        finally:
            await conn.close()
        fresh = await submit(after, LIMITS, T0, user=uid(6))
        assert fresh.id == max(job_ids) + 2  # past the deleted job's id too

    with pytest.raises(TargetNotEmpty):  # a second run would mix two installs
        await copy_sqlite_to_postgres(tmp_path / "bot.sqlite3", postgres_url, files)


async def test_the_migrate_command(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await populate(tmp_path)
    await empty(postgres_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    env = tmp_path / "none.env"
    assert await _run(main, ["--env-file", str(env), "migrate", "--to", postgres_url]) == 0
    assert "jobs: 5 rows copied and verified" in capsys.readouterr().out
    assert await _run(main, ["--env-file", str(env), "migrate", "--to", postgres_url]) == 1
    assert "Refused" in capsys.readouterr().out


async def _run(fn: Callable[[list[str]], int], argv: list[str]) -> int:
    """The command runs its own event loop, so it runs on a thread here."""
    return await asyncio.to_thread(fn, argv)
