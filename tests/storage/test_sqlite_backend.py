"""What only the SQLite backend has: its single writer and the aiosqlite internals it relies on."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import aiosqlite
import pytest

import storage.sqlite as sqlite_module
from bot.store import JobStatus
from storage.sqlite import SqliteStorage
from tests.storage_support import T0, UNLIMITED, finish, new_job, submit, uid


async def test_a_caller_cancelled_before_its_turn_is_not_run(storage: SqliteStorage) -> None:
    first, second = await new_job(storage, user=uid(1)), await new_job(storage, user=uid(2))
    a = asyncio.create_task(storage.submit_job(first, UNLIMITED))
    b = asyncio.create_task(storage.submit_job(second, UNLIMITED))
    await asyncio.sleep(0)  # both are queued for the writer, which has not run yet
    b.cancel()
    assert (await a).requester.user_id == uid(1)
    with pytest.raises(asyncio.CancelledError):
        await b
    assert [j.requester.user_id for j in await storage.jobs_with_status(JobStatus.QUEUED)] == [uid(1)]


def test_the_aiosqlite_internals_we_rely_on_exist() -> None:
    """``SqliteStorage._on_thread`` runs whole transactions on aiosqlite's thread through these."""
    assert callable(aiosqlite.Connection._execute)
    assert isinstance(aiosqlite.Connection._conn, property)


async def test_retention_deletes_in_bounded_transactions_along_indexes(
    storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each retention transaction deletes at most a chunk (jobs or settled ledger rows), and the query
    that picks each chunk reads an index, never the whole table, so no chunk holds the writer for long."""
    monkeypatch.setattr(sqlite_module, "DELETE_CHUNK", 4)
    monkeypatch.setattr(sqlite_module, "LEDGER_CHUNK", 5)
    for n in range(11):
        await finish(storage, await submit(storage, data=f"old {n}".encode()))
    writes: list[tuple[str, int]] = []
    real_write = storage._write

    async def counting_write(fn: Any, *args: Any, **kwargs: Any) -> Any:
        result = await real_write(fn, *args, **kwargs)
        rows = result[0] if isinstance(result, tuple) else result
        writes.append((fn.__name__, rows))
        return result

    monkeypatch.setattr(storage, "_write", counting_write)
    report = await storage.cleanup(T0 + timedelta(days=40))
    assert report.jobs_removed == 11
    jobs = [rows for name, rows in writes if name == "_delete_chunk"]
    ledger = [rows for name, rows in writes if name == "_prune_ledger"]
    assert jobs == [4, 4, 3] and sum(jobs) == 11
    assert ledger == [5, 5, 1]

    def plans(conn: sqlite3.Connection) -> list[str]:
        chunk = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE finished_at < ?"
            f" AND +status IN ({sqlite_module._DELETABLE_SQL}) ORDER BY finished_at LIMIT ?",
            (0, 4),
        ).fetchall()
        prune = conn.execute(
            "EXPLAIN QUERY PLAN SELECT job_id FROM usage_ledger WHERE reserved = 0 AND created_at < ?"
            " ORDER BY created_at LIMIT ?",
            (0, 5),
        ).fetchall()
        return [" ".join(row[-1] for row in chunk), " ".join(row[-1] for row in prune)]

    chunk_plan, prune_plan = await storage._read(plans)
    assert "jobs_finished_at" in chunk_plan and "TEMP B-TREE" not in chunk_plan
    assert "usage_ledger_settled" in prune_plan and "TEMP B-TREE" not in prune_plan
