"""How the bot's data paths grow with the queue and the history (issue 11). A plain script, not CI:

    .venv/bin/python benchmarks/bench_scale.py [--max-size 1000000] [--max-queue 100000] [--samples 200]

Two worlds, each at sizes 10³, 10⁴, … up to the maxima, on a fresh SQLite database in a temp directory,
generated directly with ``executemany`` (not through the bot: the API would take days):

* **Queue**: N queued jobs from 1,000 users in 50 servers (the target is at N = 10,000), the
  scheduler started on them with every image slot busy (``capacity`` 8, the API never answers), then:
  - *dispatch decision*: ``Scheduler.refresh()``, the pass that runs after every submission, cancel
    and finished job (read the queue, fair order, fill/backfill); target p99 < 5 ms;
  - *slot freed → next job started*: one running job's API call answers, until the scheduler's own
    loop has claimed the next job (info; the same pass as above plus a claim);
  - ``/queue show``'s data path (``QueueService.snapshot``): ``jobs_with_status(RUNNING, guild_id)`` +
    ``Scheduler.guild_queue`` (the first 15 entries of the server the viewer may see, and counts),
    after a change (no cached view); target < 100 ms;
  - a progress message's own position: ``Scheduler.entry`` for a job half-way down the queue, after
    a change (info).
* **History**: N finished jobs from 1,000 users in 50 servers over the last 40 days (a quarter of them
  older than the 30-day retention), three image rows each (distinct shas) and a ledger row; then:
  - ``/history list`` data path: ``count_history`` + ``history(limit=5)``; target p99 < 20 ms;
  - ``/quota`` data path: ``quota_status``; target p99 < 20 ms;
  - a submission: ``submit_job`` (limits checked, images reserved, job inserted); target p99 < 10 ms;
  - a retention pass (``cleanup`` of what finished over 30 days ago) while a probe task keeps writing
    (``set_progress_message``, one at a time): the probe's worst latency is the longest time the
    writer was held; target < 50 ms.

Ids are realistic 17–19 digit snowflakes. Timed calls use only the ``Storage`` protocol and the
``Scheduler``'s public API. The growth table prints each figure per size and its growth exponent
(log-log slope over the last decade measured: 0 is flat, 1 is linear).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import EditResult
from bot.options import EditOptions
from bot.scheduler import Scheduler
from bot.store import EffectiveLimits, JobAction, JobStatus, NewJob, Requester
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage

USERS = 1000
GUILDS = 50
CAPACITY = 8
PAGE = 5  # cogs/history.py PAGE_SIZE
SHOWN = 15  # bot/queue_service.py SHOWN
RETENTION_DAYS = 30
SPAN_DAYS = 40
LIMITS = EffectiveLimits(
    window_images=10**9, window_seconds=600, daily_images=10**9, max_active_jobs=10**9, guild_daily_images=10**9
)
TARGETS_MS = {
    "dispatch decision (refresh) p99": 5.0,
    "/queue show data path p99": 100.0,
    "/history list data path p99": 20.0,
    "/quota data path p99": 20.0,
    "submission (check+reserve+insert) p99": 10.0,
    "retention: longest writer hold": 50.0,
}
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
    "0000000a4944415478da63f80f00010101001bb6ee560000000049454e44ae426082"
)


def snowflakes(rng: random.Random, count: int) -> list[int]:
    """Distinct ids shaped like Discord's: 17–19 digits (timestamp << 22 | worker/sequence bits)."""
    ids: set[int] = set()
    while len(ids) < count:
        ids.add(rng.randrange(10**16, 2**63))
    return sorted(ids)


@dataclass
class World:
    users: list[int]
    guilds: list[int]
    channels: list[int]

    @classmethod
    def make(cls, seed: int = 11) -> World:
        rng = random.Random(seed)
        return cls(snowflakes(rng, USERS), snowflakes(rng, GUILDS), snowflakes(rng, GUILDS))

    def guild_of(self, user_index: int) -> int:
        return user_index % GUILDS

    def requester(self, user_index: int) -> Requester:
        g = self.guild_of(user_index)
        return Requester(user_id=self.users[user_index], guild_id=self.guilds[g], channel_id=self.channels[g])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return seconds * 1000


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


# --- generation (SQL straight into the database) ------------------------------------------------------

JOB_COLUMNS = (
    "id, user_id, guild_id, channel_id, action, prompt, prompt_folded, options, status, attempts,"
    " images_requested, images_delivered, payer_user_id, created_at, started_at, finished_at,"
    " result_channel_id, result_message_id"
)


def generate(path: Path, world: World, n: int, *, queued: bool, input_sha: str, mask_sha: str) -> None:
    """N jobs: queued now (``queued``) or finished over the last SPAN_DAYS days, in batches."""
    now = int(datetime.now(UTC).timestamp() * 1000)
    span = SPAN_DAYS * 86_400_000
    options = json.dumps(EditOptions().to_json(), separators=(",", ":"), sort_keys=True)
    rng = random.Random(n)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    batch = 50_000
    with conn:
        for start in range(1, n + 1, batch):
            ids = range(start, min(n, start + batch - 1) + 1)
            jobs, images, ledger = [], [], []
            for i in ids:
                u = rng.randrange(USERS)
                g = world.guild_of(u)
                images_requested = 1 + i % 4
                prompt = f"prompt {i} a red bicycle"
                if queued:
                    at = now - (n - i) * 10  # submitted in id order over the last minutes
                    row = (i, world.users[u], world.guilds[g], world.channels[g], "edit", prompt, prompt, options,
                           "queued", 0, images_requested, 0, world.users[u], at, None, None, None, None)  # fmt: skip
                    images += [(i, "input", input_sha), (i, "mask", mask_sha)]
                    ledger.append((i, world.users[u], world.guilds[g], images_requested, 0, at))
                else:
                    at = now - span + span * i // (n + 1)  # oldest first, up to now
                    row = (i, world.users[u], world.guilds[g], world.channels[g], "edit", prompt, prompt, options,
                           "succeeded", 1, images_requested, images_requested, world.users[u], at, at + 1000,
                           at + 9000, world.channels[g], 10**18 + i)  # fmt: skip
                    images += [(i, "input", f"{i:064x}"), (i, "mask", f"{i + 10**9:064x}"),
                               (i, "output", f"{i + 2 * 10**9:064x}")]  # fmt: skip
                    ledger.append((i, world.users[u], world.guilds[g], 0, images_requested, at))
                jobs.append(row)
            conn.executemany(f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({', '.join('?' * 18)})", jobs)
            conn.executemany("INSERT INTO job_images (job_id, kind, idx, sha) VALUES (?, ?, 0, ?)", images)
            conn.executemany(
                "INSERT INTO usage_ledger (job_id, user_id, guild_id, reserved, charged, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ledger,
            )
    conn.execute("ANALYZE")  # what a long-running database has (the bot runs PRAGMA optimize at close)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    # written with synchronous=OFF: flush it now, as a long-running database would be, so the first
    # fsync the bot makes (a checkpoint during a timed call) does not pay for the whole generation
    for name in (path, Path(f"{path}-wal")):
        if name.exists():
            with name.open("rb") as written:
                os.fsync(written.fileno())


async def fresh_storage(root: Path) -> tuple[SqliteStorage, str, str]:
    storage = SqliteStorage(root / "scale.sqlite3", LocalFileStore(root / "images"))
    await storage.open()
    input_sha = await storage.files.put(PNG_1PX)
    mask_sha = await storage.files.put(PNG_1PX + b"\0")  # distinct bytes, same tiny image
    await storage.close()
    return storage, input_sha, mask_sha


# --- the queue ------------------------------------------------------------------------------------------


class HangingService:
    """The API: every call waits until the benchmark answers it."""

    def __init__(self) -> None:
        self.pending: list[asyncio.Future[EditResult]] = []

    async def send(
        self, image: object, mask: object, prompt: str, options: object, *, store: object = None
    ) -> EditResult:
        future: asyncio.Future[EditResult] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return await future


class QuietNotifier:
    async def job_started(self, job: object) -> None:
        pass

    async def deliver(self, job: object) -> None:
        pass

    async def queue_changed(self, scheduler: object) -> None:
        pass

    async def restarted(self, interactions: object) -> None:
        pass


@dataclass
class Figures:
    size: int
    values: dict[str, float] = field(default_factory=dict)  # metric -> ms


async def measure_queue(root: Path, world: World, n: int, samples: int) -> Figures:
    storage, input_sha, mask_sha = await fresh_storage(root)
    generate(storage.path, world, n, queued=True, input_sha=input_sha, mask_sha=mask_sha)
    await storage.open()
    service = HangingService()
    scheduler = Scheduler(storage, service, QuietNotifier(), capacity=CAPACITY)  # type: ignore[arg-type]
    figures = Figures(n)
    try:
        await scheduler.start()
        while scheduler.images_running < CAPACITY - 3:  # noqa: ASYNC110 (jobs take 1-4 images: all slots taken)
            await asyncio.sleep(0.01)
        first = await timed(scheduler.refresh)
        count = max(5, min(samples, int(20 / max(first, 1e-4))))  # about 20 s per metric at most
        decisions = [await timed(scheduler.refresh) for _ in range(count)]
        figures.values["dispatch decision (refresh) p99"] = ms(pct(decisions, 99))

        guild = world.guilds[0]

        async def queue_show() -> None:
            await storage.jobs_with_status(JobStatus.RUNNING, guild_id=guild)
            scheduler.guild_queue(guild, lambda job: job.id % 3 != 0, SHOWN)  # a viewer who sees 2 in 3

        shows = []
        for _ in range(count):
            await scheduler.refresh()  # a change: the cached view is gone, as after any submission
            shows.append(await timed(queue_show))
        figures.values["/queue show data path p99"] = ms(pct(shows, 99))

        middle = n // 2  # a job half-way down (queued ids are 1..n)
        positions = []
        for _ in range(count):
            await scheduler.refresh()
            positions.append(await timed(lambda: asyncio.sleep(0, scheduler.entry(middle))))
        figures.values["progress position, mid-queue job p99 (info)"] = ms(pct(positions, 99))

        frees = []
        for _ in range(max(3, min(count, 50))):
            deadline = time.perf_counter() + 60
            while all(f.done() for f in service.pending) and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # a pass is still starting the next jobs
            started = len(service.pending)
            future = next((f for f in service.pending if not f.done()), None)
            if future is None:
                break
            t0 = time.perf_counter()
            future.set_result(EditResult(images=()))
            while len(service.pending) == started and time.perf_counter() - t0 < 10:  # noqa: ASYNC110
                await asyncio.sleep(0)  # the scheduler loop claims the next job
            if len(service.pending) > started:  # (nothing starts when the freed images fit no job)
                frees.append(time.perf_counter() - t0)
        if frees:
            figures.values["slot freed → next job started p99"] = ms(pct(frees, 99))
    finally:
        await scheduler.stop(grace=0)
        await storage.close()
    return figures


# --- the history -----------------------------------------------------------------------------------------


async def measure_history(root: Path, world: World, n: int, samples: int) -> Figures:
    storage, input_sha, mask_sha = await fresh_storage(root)
    generate(storage.path, world, n, queued=False, input_sha=input_sha, mask_sha=mask_sha)
    await storage.open()
    figures = Figures(n)
    rng = random.Random(7)
    try:

        async def history_list(user: int) -> None:
            await storage.count_history(user)
            await storage.history(user, limit=PAGE, offset=0)

        lists = [await timed(lambda: history_list(rng.choice(world.users))) for _ in range(samples)]
        figures.values["/history list data path p99"] = ms(pct(lists, 99))
        searches = [
            await timed(lambda: storage.history(rng.choice(world.users), search="bicycle 7", limit=PAGE))
            for _ in range(max(5, samples // 4))
        ]
        figures.values["/history search p99 (info)"] = ms(pct(searches, 99))

        quotas = [
            await timed(lambda: storage.quota_status(world.requester(rng.randrange(USERS)), LIMITS))
            for _ in range(samples)
        ]
        figures.values["/quota data path p99"] = ms(pct(quotas, 99))

        options = EditOptions().to_json()

        async def submit() -> None:
            requester = world.requester(rng.randrange(USERS))
            await storage.submit_job(
                NewJob(requester, JobAction.EDIT, "a red bicycle", options, 1, input_sha, mask_sha), LIMITS
            )

        submits = [await timed(submit) for _ in range(samples)]
        figures.values["submission (check+reserve+insert) p99"] = ms(pct(submits, 99))

        probe_ms: list[float] = []
        running = True

        async def probe() -> None:
            while running:
                probe_ms.append(ms(await timed(lambda: storage.set_progress_message(1, 1, 1))))
                await asyncio.sleep(0.001)

        prober = asyncio.create_task(probe())
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        report = await storage.cleanup(datetime.now(UTC) - timedelta(days=RETENTION_DAYS))
        figures.values["retention pass total (info)"] = ms(time.perf_counter() - t0)
        running = False
        await prober
        figures.values["retention: longest writer hold"] = max(probe_ms)
        figures.values["retention: jobs removed (count)"] = float(report.jobs_removed)
    finally:
        await storage.close()
    return figures


# --- report ---------------------------------------------------------------------------------------------


def growth(points: list[tuple[int, float]]) -> str:
    """Log-log slope over the last decade measured (fixed costs hide the trend at small sizes):
    ~0 flat, ~1 linear."""
    if len(points) < 2:
        return "-"
    (n0, v0), (n1, v1) = points[-2], points[-1]
    if v0 <= 0 or v1 <= 0 or n1 == n0:
        return "-"
    slope = math.log(v1 / v0) / math.log(n1 / n0)
    shape = "flat" if slope < 0.15 else "log-ish" if slope < 0.4 else "LINEAR" if slope > 0.7 else "sub-linear"
    return f"{slope:+.2f} {shape}"


def print_tables(all_figures: list[Figures], target_size: dict[str, int]) -> None:
    metrics: dict[str, list[tuple[int, float]]] = {}
    for fig in all_figures:
        for metric, value in fig.values.items():
            metrics.setdefault(metric, []).append((fig.size, value))
    sizes = sorted({f.size for f in all_figures})
    print("\nTargets (at the issue's size: queue 10⁴, history 10⁶; or the largest size run)\n")
    print(f"| {'figure':<40} | {'size':>9} | {'value':>10} | {'target':>8} | ratio |")
    print(f"|{'-' * 42}|{'-' * 11}|{'-' * 12}|{'-' * 10}|-------|")
    for metric, target in TARGETS_MS.items():
        points = dict(metrics.get(metric, []))
        if not points:
            continue
        size = target_size[metric] if target_size[metric] in points else max(points)
        ratio = points[size] / target
        verdict = f"{ratio:.2f}" + ("" if ratio <= 1 else " MISSED")
        print(f"| {metric:<40} | {size:>9,} | {points[size]:>7.2f} ms | < {target:>3.0f} ms | {verdict} |")
    print("\nGrowth (ms per call; growth = slope of log(value) over log(size), last decade: 0 flat, 1 linear)\n")
    head = "".join(f" {s:>9,} |" for s in sizes)
    print(f"| {'figure':<40} |{head} growth |")
    print(f"|{'-' * 42}|" + "-----------|" * len(sizes) + "--------|")
    for metric, points in metrics.items():
        by_size = dict(points)
        cells = "".join(
            f" {by_size[s]:>9.2f} |" if s in by_size and "(count)" not in metric else
            f" {by_size[s]:>9,.0f} |" if s in by_size else f" {'':>9} |"
            for s in sizes
        )  # fmt: skip
        print(f"| {metric:<40} |{cells} {growth(points) if '(count)' not in metric else ''} |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-size", type=int, default=1_000_000, help="largest history (finished jobs)")
    parser.add_argument("--max-queue", type=int, default=100_000, help="largest queue (queued jobs)")
    parser.add_argument("--samples", type=int, default=200, help="timed calls per figure (fewer when slow)")
    args = parser.parse_args()
    print(f"command: {' '.join(['python', *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {USERS} users in {GUILDS} servers, capacity {CAPACITY} images"
    )
    world = World.make()
    sizes = [10**k for k in range(3, 8)]
    figures: list[Figures] = []
    for n in [s for s in sizes if s <= args.max_queue]:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            began = time.monotonic()
            figures.append(await measure_queue(Path(tmp), world, n, args.samples))
            print(f"  queue {n:,}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    for n in [s for s in sizes if s <= args.max_size]:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            began = time.monotonic()
            figures.append(await measure_history(Path(tmp), world, n, args.samples))
            print(f"  history {n:,}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    target_size = {m: (10_000 if "queue" in m or "dispatch" in m else 1_000_000) for m in TARGETS_MS}
    print_tables(figures, target_size)


if __name__ == "__main__":
    asyncio.run(main())
