"""Storage throughput and latency: reserve-and-insert (``submit_job``) and settle (claim + complete).

A plain script, not run by CI:  ``.venv/bin/python benchmarks/bench_storage.py [--ops N] [--sync FULL]``
PostgreSQL: ``--database-url postgresql://127.0.0.1:5432/test`` (a throwaway database is created on that
server for each level and dropped afterwards).

Each concurrency level gets a fresh database in a temp directory, pre-filled with ``--prefill`` finished
jobs from yesterday (so indexes have realistic depth without the rows counting towards today's limits).
Submissions go round-robin to ``--users`` members spread over ``--guilds`` servers, the shape of real
traffic (a member's limits keep their own rows few; a server's daily rows grow with its traffic: the
defaults make 1,000 images per server per day). Limits are set high enough never to refuse, but every
one is checked (nobody is exempt). Target: ≥ 1,000 ops/s and p99 < 10 ms.

Two load shapes. *Closed loop*: each task issues its next operation as soon as the last returns; this
measures the maximum throughput, and its latency is pure queueing (Little's law: latency = tasks /
throughput, so 50 tasks can only see p99 < 10 ms above ~5,000 ops/s). *Open loop*: the tasks together
offer ``--rate`` operations per second on a fixed schedule, and latency is measured from each
operation's scheduled start (so a stall is not hidden by the schedule slipping); this answers "at the
target rate, how long does an operation take?".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import settlement
from bot.runtime import freeze_startup_heap
from bot.store import EffectiveLimits, Job, JobAction, NewJob, OutputImage, Requester
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage
from tests.storage_support import cid, gid, uid

try:
    import asyncpg

    from storage.postgres import PostgresStorage
except ImportError:  # only needed for --database-url
    asyncpg = None

TARGET_OPS = 1000.0
TARGET_P99_MS = 10.0
LIMITS = EffectiveLimits(
    window_images=10**9, window_seconds=600, daily_images=10**9, max_active_jobs=10**9, guild_daily_images=10**9
)


PREFILL_SQL = (
    "INSERT INTO jobs (id, user_id, guild_id, action, prompt, prompt_folded, options, status, attempts,"
    " images_requested, images_delivered, payer_user_id, created_at, started_at, finished_at)"
    " VALUES (?, ?, ?, 'edit', 'old prompt', 'old prompt', '{}', 'succeeded', 1, 1, 1, ?, ?, ?, ?)",
    "INSERT INTO job_images (job_id, kind, idx, sha) VALUES (?, ?, 0, ?)",
    "INSERT INTO usage_ledger (job_id, user_id, guild_id, reserved, charged, created_at) VALUES (?, ?, ?, 0, 1, ?)",
)


def prefill_rows(jobs: int, sha: str) -> list[list[tuple]]:
    """Old finished jobs, written directly (the API would take longer than the benchmark)."""
    yesterday = int((datetime.now(UTC) - timedelta(days=1)).timestamp() * 1000)
    ids = range(1, jobs + 1)
    return [
        [
            (i, uid(10_000 + i % 500), gid(i % 10), uid(10_000 + i % 500), yesterday + i, yesterday + i, yesterday + i)
            for i in ids
        ],
        [(i, kind, sha) for i in ids for kind in ("input", "mask", "output")],
        [(i, uid(10_000 + i % 500), gid(i % 10), yesterday + i) for i in ids],
    ]


def prefill(path: Path, jobs: int, sha: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for sql, rows in zip(PREFILL_SQL, prefill_rows(jobs, sha), strict=True):
            conn.executemany(sql, rows)
    conn.close()


async def prefill_postgres(url: str, jobs: int, sha: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            for sql, rows in zip(PREFILL_SQL, prefill_rows(jobs, sha), strict=True):
                numbered = sql
                for n in range(1, sql.count("?") + 1):
                    numbered = numbered.replace("?", f"${n}", 1)
                await conn.executemany(numbered, rows)
            await conn.execute("SELECT setval(pg_get_serial_sequence('jobs', 'id'), $1)", jobs)
        # Planner statistics, as autovacuum keeps them on a database in use: without them the day's
        # bot-wide sum (the budget) is planned as a scan of the whole ledger.
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def postgres_server(url: str) -> str:
    """The server's version and commit durability, for the table's heading."""
    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SHOW server_version")
        commit = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    return f"{version.split()[0]}, synchronous_commit={commit}"


async def postgres_database(admin_url: str, name: str, *, drop: bool = False) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{admin_url.rpartition('/')[0]}/{name}"


Row = tuple[str, str, int, int, float, list[float]]


async def run_level(root: Path, tasks: int, ops: int, rate: float | None, args: argparse.Namespace) -> list[Row]:
    files = LocalFileStore(root / "images")
    database = f"bench_storage_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    if args.database_url:
        url = await postgres_database(args.database_url, database)
        storage = PostgresStorage(url, files, max_pool=args.pool)
    else:
        storage = SqliteStorage(root / "bench.sqlite3", files, synchronous=args.sync)
    await storage.open()
    input_sha = await storage.files.put(b"input image bytes")
    mask_sha = await storage.files.put(b"mask image bytes")
    output_sha = await storage.files.put(b"output image bytes")
    if args.database_url:
        await prefill_postgres(url, args.prefill, input_sha)
    else:
        await storage.close()
        prefill(storage.path, args.prefill, input_sha)
        await storage.open()
    per_task = max(ops // tasks, 1)
    created: dict[int, list[Job]] = {t: [] for t in range(tasks)}
    limits = replace(LIMITS, bot_daily_images=args.budget or None)  # every submission counts against it

    output = [OutputImage(0, output_sha, 1, True, "a red bicycle", "1024x1024", 1024, 1024, "image/png")]

    def new_job(user: int) -> NewJob:
        requester = Requester(user_id=uid(1_000 + user), guild_id=gid(user % args.guilds), channel_id=cid(5))
        return NewJob(requester, JobAction.EDIT, "a red bicycle", {"num_images": 1}, 1, input_sha, mask_sha)

    async def submit(t: int, i: int) -> None:
        created[t].append(await storage.submit_job(new_job((t * per_task + i) % args.users), limits))

    async def settle_job(job: Job) -> None:
        await storage.claim_job(job.id)
        await storage.complete_job(job.id, output, settlement.succeeded(job, output))

    async def settle(t: int, i: int) -> None:
        await settle_job(created[t][i])

    async def worker(op, t: int, latencies: list[float], origin: float) -> None:
        for i in range(per_task):
            if rate is None:
                start = time.perf_counter()
            else:  # open loop: slot (i * tasks + t) of a schedule at ``rate`` per second
                start = origin + (i * tasks + t) / rate
                if (delay := start - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
            await op(t, i)
            latencies.append(time.perf_counter() - start)

    # Not measured: as in a bot that has been running, every pooled connection is open and has its
    # statements prepared (asyncpg opens them on demand and prepares on first use), and the start-up
    # heap is out of garbage collection (as the bot does once it has started: bot/runtime.py).
    warm = await asyncio.gather(*(storage.submit_job(new_job(args.users + n), limits) for n in range(args.pool)))
    await asyncio.gather(*(settle_job(job) for job in warm))
    freeze_startup_heap()

    shape = "closed" if rate is None else f"open {rate:,.0f}/s"
    results: list[Row] = []
    for name, op in (("reserve+insert (submit_job)", submit), ("settle (claim+complete)", settle)):
        latencies: list[float] = []
        start = time.perf_counter()
        await asyncio.gather(*(worker(op, t, latencies, start) for t in range(tasks)))
        elapsed = time.perf_counter() - start
        results.append((name, shape, tasks, len(latencies), len(latencies) / elapsed, latencies))
    await storage.close()
    if args.database_url:
        await postgres_database(args.database_url, database, drop=True)
    return results


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=5000, help="operations per phase and level")
    parser.add_argument("--prefill", type=int, default=20000, help="old finished jobs in the database")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--guilds", type=int, default=5)
    parser.add_argument("--sync", default="FULL", help="SQLite's PRAGMA synchronous (FULL is what the bot uses)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument(
        "--budget", type=int, default=10**9, help="the bot's daily budget (0: none, as before issue 10)"
    )
    parser.add_argument("--database-url", help="benchmark PostgreSQL on this server instead of SQLite")
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL connection pool size")
    parser.add_argument("--rate", type=float, default=TARGET_OPS, help="offered ops/s in the open-loop runs (0: skip)")
    parser.add_argument("--open-only", action="store_true", help="skip the closed-loop runs")
    args = parser.parse_args()
    rows: list[Row] = []
    levels = [] if args.open_only else [(tasks, None) for tasks in args.concurrency]
    if args.rate:
        levels += [(max(args.concurrency), args.rate)]
    for tasks, rate in levels:
        with tempfile.TemporaryDirectory() as tmp:
            ops = args.ops if rate is None else min(args.ops, int(args.rate * 3))
            rows += await run_level(Path(tmp), tasks, ops, rate, args)
    if args.database_url:
        engine = f"PostgreSQL {await postgres_server(args.database_url)}, pool={args.pool}"
    else:
        engine = f"SQLite {sqlite3.sqlite_version}, synchronous={args.sync}"
    budget = f"a daily budget of {args.budget:,} images (one bot-wide count)" if args.budget else "no daily budget"
    print(f"{engine}, prefill={args.prefill} jobs, {args.users} users in {args.guilds} guilds, {budget}")
    print(f"target: ≥ {TARGET_OPS:,.0f} ops/s and p99 < {TARGET_P99_MS:.0f} ms; ratios are measured ÷ target\n")
    header = (
        f"| {'operation':<28} | {'load':<13} | tasks | ops   |   ops/s | ÷ {TARGET_OPS:,.0f} | p50 ms | p99 ms"
        f" | ÷ {TARGET_P99_MS:.0f} ms | target |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for name, shape, tasks, count, rate, latencies in rows:
        p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000
        ok = "met" if rate >= TARGET_OPS * 0.98 and p99 < TARGET_P99_MS else "MISSED"
        cells = (
            f"{name:<28} | {shape:<13} | {tasks:>5} | {count:<5} | {rate:>7,.0f} | {rate / TARGET_OPS:>7.2f}"
            f" | {p50:>6.2f} | {p99:>6.2f} | {p99 / TARGET_P99_MS:>7.2f}"
        )
        print(f"| {cells} | {ok:<6} |")


if __name__ == "__main__":
    asyncio.run(main())
