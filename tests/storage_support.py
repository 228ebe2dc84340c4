"""Shared helpers for the storage tests (not a test module)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.store import EffectiveLimits, Job, JobAction, NewJob, OutputImage, Requester
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage

T0 = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
LIMITS = EffectiveLimits(
    window_images=5, window_seconds=600, daily_images=25, max_active_jobs=3, guild_daily_images=200
)
UNLIMITED = EffectiveLimits(
    window_images=10**6, window_seconds=600, daily_images=10**6, max_active_jobs=10**6, guild_daily_images=10**6
)


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
    storage: SqliteStorage,
    *,
    user: int = 1,
    guild: int | None = 10,
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
        requester=Requester(user_id=user, guild_id=guild, channel_id=100, thread_id=None),
        action=fields.pop("action", JobAction.EDIT),
        prompt=prompt,
        options=fields.pop("options", {"num_images": images, "style_type": "AUTO"}),
        images_requested=images,
        input_sha=input_sha,
        mask_sha=mask_sha,
        **fields,
    )


async def submit(
    storage: SqliteStorage, limits: EffectiveLimits = UNLIMITED, now: datetime | None = None, **kwargs: Any
) -> Job:
    return await storage.submit_job(await new_job(storage, **kwargs), limits, now)


async def outputs(storage: SqliteStorage, job: Job, delivered: int, withheld: int = 0) -> list[OutputImage]:
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


async def finish(storage: SqliteStorage, job: Job, delivered: int | None = None, withheld: int = 0) -> Job:
    """Claim and complete a job with ``delivered`` images (all it asked for by default)."""
    assert await storage.claim_job(job.id) is not None
    count = job.images_requested - withheld if delivered is None else delivered
    return await storage.complete_job(job.id, await outputs(storage, job, count, withheld))
