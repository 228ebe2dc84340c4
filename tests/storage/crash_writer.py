"""Writes jobs as fast as it can until it is killed: the subject of ``test_storage_crash.py``.

Usage: ``python tests/crash_writer.py DATA_DIR SEED``. Prints ``ready`` once the database is open,
then runs several concurrent workers that store files, submit (some refused), claim, complete, fail
(with and without refund), cancel, leave jobs queued or running, and delete finished jobs.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot import settlement
from bot.errors import QuotaExceeded
from bot.store import EffectiveLimits, JobAction, NewJob, OutputImage, Requester
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage

LIMITS = EffectiveLimits(
    window_images=40, window_seconds=600, daily_images=10**6, max_active_jobs=10**6, guild_daily_images=10**6
)
WORKERS = 8
GUILDS = [None, 1_202_345_678_901_234_567, 1_202_345_678_901_234_568]  # realistic snowflakes; None: DMs
CHANNEL = 1_303_456_789_012_345_678


async def worker(storage: SqliteStorage, rng: random.Random) -> None:
    while True:
        user = 1_101_234_567_890_123_456 + rng.randint(1, 30)  # realistic snowflakes
        data = b"shared input" if rng.random() < 0.3 else rng.randbytes(32)
        input_sha = await storage.files.put(data)
        mask_sha = await storage.files.put(b"mask " + data[:4])
        job = NewJob(
            requester=Requester(
                user,
                rng.choice(GUILDS),
                CHANNEL,
            ),
            action=JobAction.EDIT,
            prompt=f"prompt {rng.random()}",
            options={"num_images": 1},
            images_requested=rng.randint(1, 4),
            input_sha=input_sha,
            mask_sha=mask_sha,
            payer_user_id=rng.choice([None, None, 99]),
        )
        try:
            submitted = await storage.submit_job(job, LIMITS)
        except QuotaExceeded:
            continue
        roll = rng.random()
        if roll < 0.1:
            await storage.cancel_job(submitted.id, settlement.cancelled(submitted))
            continue
        if roll < 0.15:
            continue  # stays queued
        if await storage.claim_job(submitted.id) is None:
            continue
        if roll < 0.2:
            continue  # stays running
        if roll < 0.35:
            await storage.fail_job(submitted.id, "api_error", "boom", settlement.failed(submitted, refund=roll < 0.3))
            continue
        produced = rng.randint(1, submitted.images_requested)
        outputs = []
        for index in range(produced):
            withheld = rng.random() < 0.2
            sha = None if withheld else await storage.files.put(rng.randbytes(48))
            outputs.append(OutputImage(index, sha, index, not withheld, "used", "1024x1024", 1024, 1024, "image/png"))
        await storage.complete_job(submitted.id, outputs, settlement.succeeded(submitted, outputs))
        if roll > 0.9:
            await storage.delete_job(submitted.id)


async def main(data_dir: Path, seed: int) -> None:
    storage = SqliteStorage(data_dir / "bot.sqlite3", LocalFileStore(data_dir / "images", pin_seconds=0))
    await storage.open()
    print("ready", flush=True)
    rngs = [random.Random(seed * 100 + n) for n in range(WORKERS)]
    await asyncio.gather(*(worker(storage, rng) for rng in rngs))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
