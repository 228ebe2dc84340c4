from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.retention import clean_once, retention_loop
from bot.store import EffectiveLimits, JobAction, NewJob, OutputImage, Requester
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage
from tests.storage_support import complete

LIMITS = EffectiveLimits(100, 600, 100, 10, 1000)


async def _finished_job(storage: SqliteStorage, data: bytes) -> int:
    sha = await storage.files.put(data)
    mask = await storage.files.put(b"mask-" + data)
    job = await storage.submit_job(
        NewJob(Requester(1, 2, 3), JobAction.EDIT, "p", {}, 1, input_sha=sha, mask_sha=mask), LIMITS
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
