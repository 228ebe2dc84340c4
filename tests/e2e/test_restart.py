"""Restarts of the REAL bot process (``python -m bot``) against the Discord simulation and the fake API.

The bot is SIGKILLed with edits queued and running, and stopped with SIGTERM, then started again on
the same ``DATA_DIR``. Afterwards every edit must have ended in exactly one posted result or exactly
one failure notice, and no image may still be reserved: the test opens the bot's SQLite database
itself once the process has exited.

Waits are event-driven (the sim's waiters) except for the fake API's in-flight counter, which is
polled; every subprocess is killed in ``finally``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.quota import resolve_limits
from bot.settings import LimitDefaults, Settings
from bot.store import Job, JobStatus, Requester
from storage.factory import open_storage
from tests import REPO_ROOT
from tests.discord_sim import DiscordSim, RecordedCall, SimChannel, SimInteraction, SimMessage, SimUser
from tests.fakes.ideogram import FakeIdeogram, sample_image, sample_mask

TOKEN = "MTAxMDEw.sim-bot-token.RestartTests0123456789"
SLOW_S = 60.0  # an edit that is "running" until the process goes away
FAST_S = 0.05
START_TIMEOUT_S = 30.0  # generous: two cores shared with whatever else is running
LIMITS = {"USER_MAX_ACTIVE_JOBS": "10", "USER_WINDOW_IMAGES": "100", "USER_DAILY_IMAGES": "100"}


@dataclass
class Edit:
    prompt: str
    user: SimUser
    interaction: SimInteraction
    job_id: int
    images: int = 1


@dataclass
class BotRunner:
    """Starts ``python -m bot`` processes on one data directory and remembers them for clean-up."""

    sim: DiscordSim
    api: FakeIdeogram
    tmp_path: Path
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.tmp_path / "data"

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO_ROOT),
            "HOME": str(self.tmp_path),
            "DISCORD_TOKEN": TOKEN,
            "IDEOGRAM_API_KEY": self.api.api_key,
            "IDEOGRAM_BASE_URL": self.api.base_url,
            "DISCORD_API_BASE": self.sim.api_base,
            "DISCORD_GATEWAY_URL": self.sim.gateway_url,
            "DATA_DIR": str(self.data_dir),
            "WEB_PORT": "0",  # the web server always runs: any free port, never a collision
            "MAX_IMAGES_IN_FLIGHT": "2",
            "SHUTDOWN_GRACE_S": "20",
            "IDEOGRAM_MAX_RETRIES": "0",
            **LIMITS,
            **overrides,
        }

    async def start(self, *, shard: int | None = None, **env: str) -> asyncio.subprocess.Process:
        """A gateway process, once connected (with ``shard``: once that shard identified once more)."""
        n = len(self.procs) + 1
        if shard is None:
            connected = self.sim.wait_ready(identifies=n, timeout=START_TIMEOUT_S)
        else:
            again = self.sim.dispatcher.identifies_by_shard.get(shard, 0) + 1
            connected = self.sim.wait_ready(shard=shard, identifies=again, timeout=START_TIMEOUT_S)
        with (self.tmp_path / f"bot{n}.log").open("wb") as log:  # the child keeps its own descriptor
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.tmp_path, env=self.env(**env), stdout=log, stderr=log
            )
        self.procs.append(proc)
        ready = asyncio.ensure_future(connected)
        exited = asyncio.ensure_future(proc.wait())
        await asyncio.wait([ready, exited], return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise AssertionError(f"bot {n} exited with {proc.returncode} during start-up:\n{self.log(n)}")
        exited.cancel()
        ready.result()
        return proc

    async def kill(self, proc: asyncio.subprocess.Process) -> None:
        proc.kill()
        await proc.wait()
        await self.sim.wait_disconnected(timeout=START_TIMEOUT_S)

    async def terminate(self, proc: asyncio.subprocess.Process) -> int:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), START_TIMEOUT_S)
        await self.sim.wait_disconnected(timeout=START_TIMEOUT_S)
        return code

    def log(self, n: int) -> str:
        return (self.tmp_path / f"bot{n}.log").read_text(errors="replace")[-4000:]

    async def cleanup(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    # --- what the user does and sees --------------------------------------------------------------

    async def edit(self, prompt: str, user: SimUser, *, count: int = 1, channel: SimChannel | None = None) -> Edit:
        attachments = {"image": (sample_image(96, 64), "in.png"), "mask": (sample_mask(96, 64), "mask.png")}
        inter = await self.sim.slash(
            "edit", {"prompt": prompt, "count": count}, user=user, channel=channel, attachments=attachments
        )
        message = await self.sim.wait_for_message(
            predicate=lambda m: m.interaction_id == inter.id and "Edit #" in m.content, timeout=START_TIMEOUT_S
        )
        found = re.search(r"Edit #(\d+)", message.content)
        assert found is not None
        return Edit(prompt, user, inter, int(found[1]), count)

    def results(self, edit: Edit) -> list[SimMessage]:
        """Public result posts of this edit in its channel (the nonce is derived from the job id)."""
        channel = edit.interaction.channel_id
        return [m for m in self.sim.messages_in(channel) if m.nonce == f"job-{edit.job_id}"]

    def failure_notices(self, edit: Edit) -> list[SimMessage]:
        marker = f"Edit #{edit.job_id} failed"
        return [m for m in self.sim.messages.values() if not m.deleted and marker in (m.content or "")]

    async def result_posted(self, edit: Edit) -> SimMessage:
        # waits for the POST, not the message: the sim stores a message (and wakes message waiters)
        # before it records the message's nonce
        call = await self.sim.wait_for_call(
            predicate=lambda c: c.method == "POST" and c.ok and (c.json or {}).get("nonce") == f"job-{edit.job_id}",
            timeout=START_TIMEOUT_S,
        )
        assert call.message_id is not None
        return self.sim.message(call.message_id)

    async def failure_noticed(self, edit: Edit) -> SimMessage:
        marker = f"Edit #{edit.job_id} failed"
        return await self.sim.wait_for_message(predicate=lambda m: marker in m.content, timeout=START_TIMEOUT_S)

    def api_calls(self, edit: Edit) -> int:
        return sum(1 for r in self.api.edit_requests if r.field("prompt") == edit.prompt)

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        """Poll a condition on the fake API (it has no waiters of its own)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not condition():
            if loop.time() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)

    async def running(self, images: int, requests: int) -> None:
        await self.until(
            lambda: self.api.in_flight_images == images and len(self.api.edit_requests) == requests,
            f"{images} images in flight after {requests} requests",
        )

    # --- the database, read once the bot has stopped ----------------------------------------------

    async def jobs(self) -> dict[int, Job]:
        storage = open_storage(Settings(data_dir=self.data_dir))
        await storage.open()
        try:
            return {j.id: j for j in await storage.jobs_with_status(*JobStatus)}
        finally:
            await storage.close()

    async def quota(self, user: SimUser) -> tuple[int, int]:
        """(images counted in the window, active jobs) for a member."""
        storage = open_storage(Settings(data_dir=self.data_dir))
        await storage.open()
        try:
            limits = resolve_limits(LimitDefaults(user_window_images=100, user_daily_images=100), None, ())
            status = await storage.quota_status(Requester(user.id, self.sim.guild.id), limits)
            return status.window_used, status.active_jobs
        finally:
            await storage.close()

    def reserved_images(self) -> int:
        with sqlite3.connect(self.data_dir / "bot.sqlite3") as db:
            return db.execute("SELECT COALESCE(SUM(reserved), 0) FROM usage_ledger").fetchone()[0]


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[BotRunner]:
    async with FakeIdeogram(latency_s=SLOW_S) as api, DiscordSim() as sim:
        bob = sim.add_user("bob")
        sim.add_member(sim.guild, bob)
        runner = BotRunner(sim, api, tmp_path)
        try:
            yield runner
        finally:
            await runner.cleanup()


def bob_of(runner: BotRunner) -> SimUser:
    return next(u for u in runner.sim.users.values() if u.username == "bob")


async def test_sigkill_with_edits_queued_and_running_then_restart(runner: BotRunner) -> None:
    sim, bob = runner.sim, bob_of(runner)
    first = await runner.start()
    edits = [
        await runner.edit("one: alice", sim.user),
        await runner.edit("two: bob", bob),
        await runner.edit("three: alice", sim.user),
        await runner.edit("four: mod", sim.mod),
        await runner.edit("five: bob, two images", bob, count=2),
    ]
    once, twice, *rest = edits
    await runner.running(images=2, requests=2)  # edits one and two hold the two images
    await runner.kill(first)

    second = await runner.start()  # re-runs the two interrupted edits (their second attempt)
    await runner.running(images=2, requests=4)
    assert runner.api_calls(once) == runner.api_calls(twice) == 2
    await runner.kill(second)

    runner.api.latency_s = FAST_S
    third = await runner.start()  # interrupted twice: failed with a refund; the rest run
    for edit in rest:
        await runner.result_posted(edit)
    for edit in (once, twice):
        notice = await runner.failure_noticed(edit)
        assert "restarted twice" in notice.content and notice.interaction_id == edit.interaction.id
    assert await runner.terminate(third) == 0

    jobs = await runner.jobs()
    for edit in rest:
        job = jobs[edit.job_id]
        posts = runner.results(edit)
        assert job.status is JobStatus.SUCCEEDED and len(posts) == 1, (edit.prompt, job.status, posts)
        assert job.result_message_id == posts[0].id and len(posts[0].attachments) == edit.images
        assert runner.failure_notices(edit) == [] and runner.api_calls(edit) == 1
    for edit in (once, twice):
        job = jobs[edit.job_id]
        assert job.status is JobStatus.FAILED and job.error_code == "restart" and job.attempts == 2
        assert runner.results(edit) == [] and len(runner.failure_notices(edit)) == 1
        assert job.result_message_id == edit.interaction.original_message_id  # the notice is recorded
        assert runner.api_calls(edit) == 2, "re-run at most once"
    assert runner.reserved_images() == 0
    assert await runner.quota(sim.user) == (1, 0)  # "three" charged; "one" refunded
    assert await runner.quota(bob) == (2, 0)  # "five" (two images) charged; "two" refunded
    assert await runner.quota(sim.mod) == (1, 0)


async def test_crash_between_posting_and_recording_does_not_post_twice(runner: BotRunner) -> None:
    runner.api.latency_s = FAST_S
    first = await runner.start()
    posts: list[RecordedCall] = []

    def kill_on_post(call: RecordedCall) -> bool:
        """Runs inside the sim as the result POST is handled: the bot dies before it hears back."""
        if call.method == "POST" and call.path.endswith("/messages") and (call.json or {}).get("nonce"):
            posts.append(call)
            if len(posts) == 1:
                first.kill()
            return True
        return False

    waiting = asyncio.ensure_future(runner.sim.wait_for(kill_on_post, kind="call", timeout=START_TIMEOUT_S))
    edit = await runner.edit("posted once", runner.sim.user)
    await waiting
    await first.wait()
    await runner.sim.wait_disconnected(timeout=START_TIMEOUT_S)
    crashed = (await runner.jobs())[edit.job_id]
    assert crashed.status is JobStatus.SUCCEEDED and not crashed.posted, "the crash hit the window"
    assert len(runner.results(edit)) == 1

    second = await runner.start()  # re-delivers; Discord (the sim) answers the same nonce with the same message
    repeat = await runner.sim.wait_for_call(
        predicate=lambda c: (
            c.method == "POST" and (c.json or {}).get("nonce") == f"job-{edit.job_id}" and c is not posts[0]
        ),
        timeout=START_TIMEOUT_S,
    )
    assert await runner.terminate(second) == 0
    [message] = runner.results(edit)
    assert repeat.json.get("enforce_nonce") is True and repeat.message_id == message.id
    assert (await runner.jobs())[edit.job_id].result_message_id == message.id
    public = runner.sim.messages_in(runner.sim.channel, include_ephemeral=False)
    assert [m.id for m in public if m.attachments] == [message.id]
    assert runner.api_calls(edit) == 1


async def test_sigterm_finishes_or_requeues_running_edits_and_loses_nothing(runner: BotRunner) -> None:
    sim, bob = runner.sim, bob_of(runner)
    runner.api.latency_s = 1.0
    first = await runner.start(SHUTDOWN_GRACE_S="20")
    edits = [
        await runner.edit("one", sim.user),
        await runner.edit("two", bob),
        await runner.edit("three", sim.user),
        await runner.edit("four", bob),
    ]
    await runner.running(images=2, requests=2)
    assert await runner.terminate(first) == 0  # the two running edits finish within the grace
    jobs = await runner.jobs()
    for edit in edits[:2]:
        assert jobs[edit.job_id].status is JobStatus.SUCCEEDED and len(runner.results(edit)) == 1
    for edit in edits[2:]:
        assert jobs[edit.job_id].status is JobStatus.QUEUED and jobs[edit.job_id].attempts == 0
    assert len(runner.api.edit_requests) == 2, "nothing new starts once SIGTERM arrived"

    runner.api.latency_s = SLOW_S
    second = await runner.start(SHUTDOWN_GRACE_S="0.5")
    await runner.running(images=2, requests=4)
    assert await runner.terminate(second) == 0  # the grace runs out: both go back to the queue
    jobs = await runner.jobs()
    for edit in edits[2:]:
        assert (
            jobs[edit.job_id].status is JobStatus.QUEUED and jobs[edit.job_id].attempts == 0
        )  # not counted: clean stop
    assert runner.reserved_images() == 2, "requeued edits keep their reservation"

    runner.api.latency_s = FAST_S
    third = await runner.start()
    for edit in edits[2:]:
        await runner.result_posted(edit)
    assert await runner.terminate(third) == 0
    jobs = await runner.jobs()
    for edit in edits:
        posts = runner.results(edit)
        assert jobs[edit.job_id].status is JobStatus.SUCCEEDED and len(posts) == 1
        assert jobs[edit.job_id].result_message_id == posts[0].id
        assert runner.failure_notices(edit) == []
    assert runner.reserved_images() == 0
    assert await runner.quota(sim.user) == (2, 0) and await runner.quota(bob) == (2, 0)


# --- every acknowledged interaction gets a final answer, crashes included (issue 10) -----------------
# SIGKILL at the two moments the issue measured: (a) after /edit was deferred but before its job was
# saved (it was downloading the image), (b) after the job was saved but before its progress message
# was sent. After the restart the member's original response ("thinking…") shows a final state.

ATTACHMENTS = {"image": (sample_image(96, 64), "in.png"), "mask": (sample_mask(96, 64), "mask.png")}


async def original_shows(runner: BotRunner, inter: SimInteraction, text: str) -> str:
    """Waits until the interaction's original response contains ``text``; returns its content."""
    message = await runner.sim.wait_for_message(
        None, lambda m: m.id == inter.original_message_id and text in (m.content or ""), timeout=START_TIMEOUT_S
    )
    return message.content


def recorded_interactions(runner: BotRunner) -> list[tuple[int, int | None, int]]:
    with sqlite3.connect(runner.data_dir / "bot.sqlite3") as db:
        return db.execute("SELECT id, job_id, answered FROM interactions").fetchall()


async def test_kill_after_the_defer_before_the_job_is_saved(runner: BotRunner) -> None:
    sim = runner.sim
    runner.api.latency_s = FAST_S
    first = await runner.start()
    sim.cdn_hold = asyncio.Event()  # the image download never ends: the bot is between defer and save
    inter = await sim.slash("edit", {"prompt": "cut short"}, user=sim.user, attachments=ATTACHMENTS)
    await sim.wait_for_ack(inter)
    await runner.until(lambda: bool(sim.cdn_requests), "the image download")
    await runner.kill(first)
    assert (await runner.jobs()) == {}, "killed before the job was saved"
    assert [row[0] for row in recorded_interactions(runner)] == [inter.id], "recorded at the defer"
    sim.cdn_hold.set()

    second = await runner.start()
    content = await original_shows(runner, inter, "interrupted by a restart")
    assert "nothing was charged" in content
    assert await runner.terminate(second) == 0
    assert recorded_interactions(runner) == [(inter.id, None, 1)], "settled: a later restart leaves it alone"
    assert (await runner.jobs()) == {} and runner.api.edit_requests == []
    assert await runner.quota(sim.user) == (0, 0)


async def test_kill_after_the_job_is_saved_before_its_progress_message(runner: BotRunner) -> None:
    sim = runner.sim
    runner.api.latency_s = FAST_S
    first = await runner.start()

    def kill_on_progress(call: RecordedCall) -> bool:
        """The progress edit of the original response: the bot dies before it is shown."""
        if call.method == "PATCH" and call.path.endswith("/messages/@original"):
            first.kill()
            return True
        return False

    # answered with an error, so the placeholder stays "thinking…" as after a real crash at this point
    sim.inject("/webhooks/*/*/messages/@original", method="PATCH", status=503, count=1)
    killed = asyncio.ensure_future(sim.wait_for(kill_on_progress, kind="call", timeout=START_TIMEOUT_S))
    inter = await sim.slash("edit", {"prompt": "saved then killed"}, user=sim.user, attachments=ATTACHMENTS)
    await killed
    await first.wait()
    await sim.wait_disconnected(timeout=START_TIMEOUT_S)
    [job] = (await runner.jobs()).values()
    assert job.progress_message_id is None and not job.finished_at, "the crash hit the window"
    # the scheduler may have started the job in the same instant: an interrupted call is re-run once
    before = len(runner.api.edit_requests)
    assert not (sim.message(inter.original_message_id).content or "").strip(), "still thinking…"

    second = await runner.start()  # runs the job, posts it, and ends the original response in its final state
    content = await original_shows(runner, inter, "is ready")
    assert f"Edit #{job.id}" in content
    assert await runner.terminate(second) == 0
    done = (await runner.jobs())[job.id]
    posts = [m for m in sim.messages_in(sim.channel) if m.nonce == f"job-{job.id}"]
    assert done.status is JobStatus.SUCCEEDED and len(posts) == 1 and done.result_message_id == posts[0].id
    assert done.progress_message_id == inter.original_message_id
    assert len(runner.api.edit_requests) == before + 1, "run once after the restart"
    assert await runner.quota(sim.user) == (1, 0), "charged once"
    assert runner.reserved_images() == 0
