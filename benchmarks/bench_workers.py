"""Makespan of a burst of jobs with 1, 2 and 4 worker processes on one PostgreSQL database (issue 14).
A plain script, not CI:

    .venv/bin/python benchmarks/bench_workers.py [--jobs 200] [--workers 1,2,4] [--per-worker 8]

Each level: a throwaway database on ``TEST_DATABASE_URL`` (default the local server), the Discord
simulation and the fake API (1 s per call, its own cap unlimited), N ``python -m bot worker``
processes (real subprocesses) with ``MAX_IMAGES_IN_FLIGHT=32`` across them and ``WORKER_MAX_IMAGES``
each (what one process is allowed to hold, so adding workers adds throughput until the global cap
binds). Once every worker is up, the jobs (one image each, 200 users in 10 servers) are inserted
through ``Storage.submit_job``; the makespan runs from the first insert until the last job has
succeeded. The floor is ``ceil(jobs / min(32, N × per-worker)) × 1 s``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.quota import resolve_limits
from bot.settings import LimitDefaults, Settings
from bot.store import JobAction, JobStatus, NewJob, Requester
from storage.factory import open_storage
from tests.discord_sim import DiscordSim
from tests.fakes.ideogram import FakeIdeogram, sample_image, sample_mask
from tests.storage_support import DEFAULT_TEST_DATABASE_URL, with_database

REPO = Path(__file__).resolve().parents[1]
CAP = 32
API_S = 1.0
TOKEN = "MTAxMDEw.sim-bot-token.BenchWorkers0123456789"
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


async def level(workers: int, jobs: int, per_worker: int, root: Path) -> float:
    name = f"bench_workers_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except BaseException:
        await admin.close()
        raise
    url = with_database(ADMIN_URL, name)
    data_dir = root / f"data-{workers}"
    procs: list[asyncio.subprocess.Process] = []
    try:
        async with FakeIdeogram(latency_s=API_S) as api, DiscordSim() as sim:
            settings = Settings(data_dir=data_dir, database_url=url)
            storage = open_storage(settings)
            await storage.open()  # migrates before the workers start
            env = {
                "PATH": os.environ.get("PATH", ""),
                "PYTHONPATH": str(REPO),
                "HOME": str(root),
                "DISCORD_TOKEN": TOKEN,
                "IDEOGRAM_API_KEY": api.api_key,
                "IDEOGRAM_BASE_URL": api.base_url,
                "DISCORD_API_BASE": sim.api_base,
                "DISCORD_GATEWAY_URL": sim.gateway_url,
                "DATA_DIR": str(data_dir),
                "DATABASE_URL": url,
                "MAX_IMAGES_IN_FLIGHT": str(CAP),
                "WORKER_MAX_IMAGES": str(per_worker),
                "QUEUE_POLL_S": "0.2",
                "WEB_PORT": "0",  # every process runs its health/metrics server: any free port
                "LOG_LEVEL": "INFO",  # the start-up line "running the queue" is awaited below
            }
            logs = []
            for n in range(workers):
                log = root / f"worker-{workers}-{n}.log"
                logs.append(log)
                with log.open("wb") as out:
                    procs.append(
                        await asyncio.create_subprocess_exec(
                            sys.executable,
                            "-m",
                            "bot",
                            "worker",
                            cwd=root,
                            env={**env, "WORKER_ID": f"w{n}"},
                            stdout=out,
                            stderr=out,
                        )
                    )
            deadline = time.monotonic() + 60
            while not all("running the queue" in p.read_text(errors="replace") for p in logs):
                if time.monotonic() > deadline:
                    raise RuntimeError("workers did not start")
                await asyncio.sleep(0.05)

            image, mask = await storage.files.put(sample_image(96, 64)), await storage.files.put(sample_mask(96, 64))
            limits = resolve_limits(LimitDefaults(user_window_images=1000, user_daily_images=1000), None, ())
            start = time.monotonic()
            for i in range(jobs):
                requester = Requester(10**17 + i % 200, 10**17 + 10**6 + i % 10, 10**17 + 10**7, None)
                options = {"num_images": 1, "style_type": "AUTO"}
                new = NewJob(requester, JobAction.EDIT, f"job {i}", options, 1, image, mask)
                await storage.submit_job(new, limits)
            while True:
                done = await storage.jobs_with_status(JobStatus.SUCCEEDED, JobStatus.FAILED)
                if len(done) == jobs:
                    break
                await asyncio.sleep(0.05)
            makespan = time.monotonic() - start
            failed = sum(1 for j in done if j.status is JobStatus.FAILED)
            if failed:
                raise RuntimeError(f"{failed} jobs failed")
            if api.peak_in_flight_images > CAP:
                raise RuntimeError(f"the cap was exceeded: {api.peak_in_flight_images} images in flight")
            await storage.close()
            return makespan
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--per-worker", type=int, default=8, help="WORKER_MAX_IMAGES of each worker")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    rows = []
    with TemporaryDirectory() as tmp:
        for n in counts:
            rows.append((n, await level(n, args.jobs, args.per_worker, Path(tmp))))
    base = rows[0][1]
    print(
        f"\n{args.jobs} jobs of 1 image, API {API_S:.0f} s, MAX_IMAGES_IN_FLIGHT={CAP}, "
        f"WORKER_MAX_IMAGES={args.per_worker}"
    )
    print(f"{'workers':>7}  {'makespan':>9}  {'floor':>6}  {'×floor':>6}  {'speed-up':>8}  {'ideal':>5}")
    for n, makespan in rows:
        floor = math.ceil(args.jobs / min(CAP, n * args.per_worker)) * API_S
        ideal = min(CAP, n * args.per_worker) / min(CAP, counts[0] * args.per_worker)
        print(
            f"{n:>7}  {makespan:>8.1f}s  {floor:>5.0f}s  {makespan / floor:>6.2f}  "
            f"{base / makespan:>7.2f}×  {ideal:>4.1f}×"
        )


if __name__ == "__main__":
    asyncio.run(main())
