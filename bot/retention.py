"""Retention: finished jobs and the images only they used are deleted after ``RETENTION_DAYS``."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.interactions import forget_old
from bot.store import CleanupReport, JobStatus, Storage

log = logging.getLogger(__name__)

# Only finished jobs are ever deleted (by the user, or by retention): a queued or running job still
# holds a reservation and will post a result, so deleting it would lose both. Backends apply this in
# the deleting statement itself, so a job claimed a moment earlier is never deleted.
DELETABLE = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)

CLEANUP_EVERY_S = 6 * 3600  # retention is counted in days; a few runs a day keep the disk in check


async def clean_once(storage: Storage, retention_days: int, now: datetime | None = None) -> CleanupReport:
    """Old jobs and files; also acknowledged-interaction records a day old (their tokens died long ago)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    report = await storage.cleanup(cutoff)
    await forget_old(storage, now)
    return report


async def retention_loop(storage: Storage, retention_days: int, every_s: float = CLEANUP_EVERY_S) -> None:
    """Runs for the bot's lifetime; a failed run is logged and retried at the next interval."""
    while True:
        try:
            report = await clean_once(storage, retention_days)
            log.info("retention: removed %d jobs and %d files", report.jobs_removed, report.files_removed)
        except Exception:
            log.exception("retention clean-up failed; will retry")
        await asyncio.sleep(every_s)
