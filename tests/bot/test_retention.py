from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.retention import clean_once, retention_loop
from bot.store import AckedInteraction, EffectiveLimits, JobAction, NewJob, OutputImage, Requester
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage
from tests.ids import ALICE, CHANNEL, GUILD
from tests.storage_support import complete

LIMITS = EffectiveLimits(100, 600, 100, 10, 1000)


async def _finished_job(storage: SqliteStorage, data: bytes) -> int:
    sha = await storage.files.put(data)
    mask = await storage.files.put(b"mask-" + data)
    job = await storage.submit_job(
        NewJob(Requester(ALICE, GUILD, CHANNEL), JobAction.EDIT, "p", {}, 1, input_sha=sha, mask_sha=mask), LIMITS
    )
    await storage.claim_job(job.id)
    out = await storage.files.put(b"out-" + data)
    await complete(storage, job, [OutputImage(0, out, 1, True, "p", "1x1")])
    return job.id


async def test_clean_once_uses_the_retention_period(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "db.sqlite3", LocalFileStore(tmp_path / "images")) as storage:
        job_id = await _finished_job(storage, b"image")
        # 29 days later the job is kept, 31 days later it is gone
        kept = await clean_once(storage, 30, now=datetime.now(UTC) + timedelta(days=29))
        assert kept.jobs_removed == 0 and await storage.get_job(job_id) is not None
        gone = await clean_once(storage, 30, now=datetime.now(UTC) + timedelta(days=31))
        assert gone.jobs_removed == 1 and await storage.get_job(job_id) is None


async def test_retention_loop_survives_a_failing_run(tmp_path: Path) -> None:
    calls = []

    class Flaky:
        async def cleanup(self, older_than: datetime):
            calls.append(older_than)
            if len(calls) == 1:
                raise RuntimeError("disk hiccup")
            raise asyncio.CancelledError  # stop the loop after the second run

    try:
        await retention_loop(Flaky(), 30, every_s=0)  # type: ignore[arg-type]
    except asyncio.CancelledError:
        pass
    assert len(calls) == 2


async def test_the_file_scan_runs_neither_on_the_loop_nor_on_the_database_thread(tmp_path: Path) -> None:
    """Stat-ing every old file is slow on a big disk: the database thread must keep serving edits."""
    scans: list[threading.Thread] = []
    db_threads: set[threading.Thread] = set()

    class Recording(LocalFileStore):
        def stale_files(self, older_than: float):
            scans.append(threading.current_thread())
            return super().stale_files(older_than)

        def pinned(self, sha: str) -> bool:  # called by the deletion, on the database thread
            db_threads.add(threading.current_thread())
            return super().pinned(sha)

    async with SqliteStorage(tmp_path / "db.sqlite3", Recording(tmp_path / "images")) as storage:
        await _finished_job(storage, b"image")
        report = await clean_once(storage, 30, now=datetime.now(UTC) + timedelta(days=31))
    assert report.jobs_removed == 1 and report.files_removed == 3
    assert scans and db_threads
    assert scans[0] is not threading.main_thread() and scans[0] not in db_threads


async def test_clean_once_forgets_acknowledged_interactions_after_a_day(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "db.sqlite3", LocalFileStore(tmp_path / "images")) as storage:
        now = datetime.now(UTC)
        for n, age in ((1, timedelta(hours=25)), (2, timedelta(hours=23))):
            await storage.record_interaction(
                AckedInteraction(CHANNEL + n, CHANNEL, ALICE, GUILD, CHANNEL, "en-US", now - age, token=f"t{n}")
            )
        await clean_once(storage, 30, now=now)
        assert [i.interaction_id for i in await storage.open_interactions(now - timedelta(days=2))] == [CHANNEL + 2]
