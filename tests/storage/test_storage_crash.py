"""SIGKILL a process that is writing, several times, then check that nothing is half-written."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.store import JobStatus
from storage.files import LocalFileStore
from tests.storage_support import finish, make_storage, submit

WRITER = Path(__file__).with_name("crash_writer.py")
ROUNDS = 5

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def run_and_kill(data_dir: Path, seed: int, rng: random.Random) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(data_dir), str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the database is open (or the writer died)
        assert line.strip() == b"ready", proc.stderr.read().decode() if proc.stderr else line
        time.sleep(rng.uniform(0.1, 0.5))
        assert proc.poll() is None, "the writer stopped by itself"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def check_invariants(path: Path, files: LocalFileStore) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        jobs = conn.execute(
            "SELECT id, status, images_requested, images_delivered, images_withheld, payer_user_id, guild_id,"
            " started_at, finished_at FROM jobs"
        ).fetchall()
        images: dict[int, list[tuple[str, str | None]]] = {}
        for job_id, kind, sha in conn.execute("SELECT job_id, kind, sha FROM job_images"):
            images.setdefault(job_id, []).append((kind, sha))
        ledger = {
            row[0]: row[1:]
            for row in conn.execute("SELECT job_id, user_id, guild_id, reserved, charged FROM usage_ledger")
        }
        for job_id, status, requested, delivered, withheld, payer, guild, started, finished in jobs:
            rows = images.get(job_id, [])
            kinds = sorted(kind for kind, _ in rows)
            outs = [sha for kind, sha in rows if kind == "output"]
            assert kinds.count("input") == 1 and kinds.count("mask") == 1, f"job {job_id} lacks its inputs"
            user, ledger_guild, reserved, charged = ledger[job_id]
            assert (user, ledger_guild) == (payer, guild)
            if status in ("queued", "running"):
                assert (reserved, charged, outs) == (requested, 0, []), f"active job {job_id}"
                assert (started is not None) == (status == "running")
            elif status == "succeeded":
                assert len(outs) == delivered + withheld > 0, f"job {job_id} lacks outputs"
                assert sum(sha is None for sha in outs) == withheld
                assert (reserved, charged) == (0, delivered + withheld), f"job {job_id} is not settled"
            elif status == "failed":
                assert reserved == 0 and charged in (0, requested) and outs == []
            else:
                assert status == "cancelled" and (reserved, charged, outs) == (0, 0, [])
            assert (finished is not None) == (status in ("succeeded", "failed", "cancelled"))
        job_ids = {row[0] for row in jobs}
        for job_id, (_, _, reserved, _) in ledger.items():
            assert job_id in job_ids or reserved == 0, f"deleted job {job_id} still holds a reservation"
        for (sha,) in conn.execute("SELECT DISTINCT sha FROM job_images WHERE sha IS NOT NULL"):
            assert files.exists(sha), f"referenced file {sha} is missing"
        return {status: sum(1 for j in jobs if j[1] == status) for status in JobStatus}
    finally:
        conn.close()


async def test_sigkill_at_random_moments_leaves_a_consistent_database(tmp_path: Path) -> None:
    rng = random.Random(20300517)
    for seed in range(ROUNDS):
        run_and_kill(tmp_path, seed, rng)
        check_invariants(tmp_path / "bot.sqlite3", LocalFileStore(tmp_path / "images"))
    counts = check_invariants(tmp_path / "bot.sqlite3", LocalFileStore(tmp_path / "images"))
    assert counts["succeeded"] > 20 and counts["queued"] + counts["running"] > 0, counts

    async with make_storage(tmp_path) as storage:  # and the bot carries on where it stopped
        for job in await storage.jobs_with_status(JobStatus.RUNNING):
            assert await storage.requeue_job(job.id) is not None
        queued = await storage.jobs_with_status(JobStatus.QUEUED)
        assert (await finish(storage, queued[0])).status is JobStatus.SUCCEEDED
        assert (await submit(storage)).status is JobStatus.QUEUED
    check_invariants(tmp_path / "bot.sqlite3", LocalFileStore(tmp_path / "images"))
