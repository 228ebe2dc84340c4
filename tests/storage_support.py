"""Helpers for tests that use a storage backend (the fixtures are in ``tests/storage/conftest.py``, and
``postgres_url`` in ``tests/conftest.py``).

Everything here goes through the ``Storage`` protocol, so the same helpers drive every backend.
Discord ids are realistic 19-digit snowflakes: small ids once hid a real bug.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot import settlement
from bot.store import EffectiveLimits, Job, JobAction, NewJob, OutputImage, Requester, Storage
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage

T0 = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
LIMITS = EffectiveLimits(
    window_images=5, window_seconds=600, daily_images=25, max_active_jobs=3, guild_daily_images=200
)
UNLIMITED = EffectiveLimits(
    window_images=10**6, window_seconds=600, daily_images=10**6, max_active_jobs=10**6, guild_daily_images=10**6
)


# Distinct realistic ids per kind (a user id never equals a guild id by accident), ``n`` ms apart.
def uid(n: int) -> int:
    """A user id (19 digits)."""
    return 1_101_234_567_890_123_456 + (n << 22)


def gid(n: int) -> int:
    """A guild id."""
    return 1_202_345_678_901_234_567 + (n << 22)


def cid(n: int) -> int:
    """A channel, thread or message id."""
    return 1_303_456_789_012_345_678 + (n << 22)


def rid(n: int) -> int:
    """A role id."""
    return 1_404_567_890_123_456_789 + (n << 22)


@dataclass
class Clock:
    """A settable clock for the storage's own timestamps (started/finished, audit, ...)."""

    now: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def make_storage(tmp_path: Path, clock: Clock | None = None, **options: Any) -> SqliteStorage:
    files = LocalFileStore(tmp_path / "images", pin_seconds=options.pop("pin_seconds", 0.0))
    return SqliteStorage(tmp_path / "bot.sqlite3", files, clock=clock or Clock(), **options)


async def new_job(
    storage: Storage,
    *,
    user: int = uid(1),
    guild: int | None = gid(10),
    images: int = 1,
    prompt: str = "a red bicycle",
    data: bytes = b"input image",
    mask: bytes = b"mask image",
    **fields: Any,
) -> NewJob:
    """A NewJob whose input and mask files are stored, as callers must do before submitting."""
    input_sha = await storage.files.put(data)
    mask_sha = await storage.files.put(mask)
    return NewJob(
        requester=Requester(user_id=user, guild_id=guild, channel_id=cid(100), thread_id=None),
        action=fields.pop("action", JobAction.EDIT),
        prompt=prompt,
        options=fields.pop("options", {"num_images": images, "style_type": "AUTO"}),
        images_requested=images,
        input_sha=input_sha,
        mask_sha=mask_sha,
        **fields,
    )


async def submit(
    storage: Storage, limits: EffectiveLimits = UNLIMITED, now: datetime | None = None, **kwargs: Any
) -> Job:
    return await storage.submit_job(await new_job(storage, **kwargs), limits, now)


async def outputs(storage: Storage, job: Job, delivered: int, withheld: int = 0) -> list[OutputImage]:
    """``delivered`` stored images, then ``withheld`` ones the safety filter kept back."""
    result = []
    for index in range(delivered + withheld):
        sha = await storage.files.put(f"output {job.id}/{index}".encode()) if index < delivered else None
        result.append(
            OutputImage(
                index=index,
                sha=sha,
                seed=1000 + index,
                is_safe=sha is not None,
                prompt_used=f"{job.prompt}, detailed",
                resolution="1024x1024",
                width=1024 if sha else None,
                height=1024 if sha else None,
                mime="image/png" if sha else None,
            )
        )
    return result


async def complete(storage: Storage, job: Job, produced: list[OutputImage]) -> Job:
    """``complete_job`` with the settlement the core would pass (what the scheduler does)."""
    return await storage.complete_job(job.id, produced, settlement.succeeded(job, produced))


async def finish(storage: Storage, job: Job, delivered: int | None = None, withheld: int = 0) -> Job:
    """Claim and complete a job with ``delivered`` images (all it asked for by default)."""
    assert await storage.claim_job(job.id) is not None
    count = job.images_requested - withheld if delivered is None else delivered
    return await complete(storage, job, await outputs(storage, job, count, withheld))


async def fail(
    storage: Storage, job: Job, *, refund: bool, code: str = "api_error", message: str = "boom"
) -> Job | None:
    return await storage.fail_job(job.id, code, message, settlement.failed(job, refund=refund))


async def cancel(storage: Storage, job: Job) -> Job | None:
    return await storage.cancel_job(job.id, settlement.cancelled(job))


# The per-day totals (migration 008) against the ledger they summarise, per bot day and per server day.
PG_TOTALS_DRIFT = """
WITH ledger_bot AS (
    SELECT created_at - created_at % 86400000 AS day, SUM(reserved + charged) AS images
    FROM usage_ledger GROUP BY 1 HAVING SUM(reserved + charged) <> 0
), totals_bot AS (
    SELECT day, SUM(images) AS images FROM bot_usage_days GROUP BY 1 HAVING SUM(images) <> 0
), ledger_guild AS (
    SELECT guild_id, created_at - created_at % 86400000 AS day, SUM(reserved + charged) AS images
    FROM usage_ledger WHERE guild_id IS NOT NULL GROUP BY 1, 2 HAVING SUM(reserved + charged) <> 0
), totals_guild AS (
    SELECT guild_id, day, images FROM guild_usage_days WHERE images <> 0
)
SELECT 'bot', day, NULL::bigint, images FROM ((TABLE ledger_bot EXCEPT TABLE totals_bot)
    UNION ALL (TABLE totals_bot EXCEPT TABLE ledger_bot)) AS d
UNION ALL
SELECT 'guild', day, guild_id, images FROM ((TABLE ledger_guild EXCEPT TABLE totals_guild)
    UNION ALL (TABLE totals_guild EXCEPT TABLE ledger_guild)) AS d
"""


# --- PostgreSQL test databases (``TEST_DATABASE_URL``) ---------------------------------------------------

DEFAULT_TEST_DATABASE_URL = "postgresql://127.0.0.1:5432/test"
TABLES = (
    "jobs, job_images, usage_ledger, guild_settings, role_limits, audit_log, sessions, drafts, interactions, fair_turns"
)
MakeBackend = Callable[..., Storage]
T = TypeVar("T")


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous fixture code (on its own thread and loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()  # type: ignore[arg-type]


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"
