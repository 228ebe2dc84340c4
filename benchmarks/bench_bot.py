"""End-to-end figures of the real bot process against the Discord simulation and the fake API (not CI).

    .venv/bin/python benchmarks/bench_bot.py [--latency 1.0] [--quick] [--split] [--stalls]

Each scenario starts ``python -m bot`` as a subprocess (its own data directory, settings from the
environment as an operator would set them), drives it through ``tests/discord_sim`` and
``tests/fakes/ideogram.py`` running in this process, and measures from the outside:

* acknowledgement latency (interaction written → deferral received, ``SimInteraction.ack_latency``)
  of ``/edit`` and ``/queue show`` probes arriving at 20/s over the whole busy period: from the moment
  a burst of 50 edits arrives (while they download and prepare) until well after all are queued;
* bot overhead per job: end-to-end (interaction → result posted) minus the fake API's own time
  (its edit request and the result downloads), one job at a time, 1024² and 2048² JPEG photos
  (targets: p50 < 150 ms and < 300 ms);
* makespan of 100 jobs (1–4 images) from 20 users against the floor ceil(images / cap) × latency;
* fairness: how long a one-job user waits behind a user with 50 queued jobs (that user's limits are
  raised through the settings);
* peak RSS of the bot process (``VmHWM`` in ``/proc``) for bursts sent at once, through to every
  result posted: 50 × 2048² PNG (< 300 MB) and 20 users each sending a ≥ 30-megapixel JPEG over the
  API's 10 MB (< 400 MB; every interaction acknowledged within 3 s, every edit ending in a result).
  A sampler records when the peak happened: how many jobs had reached the API, been answered, and
  been posted by then (what was held in memory at that moment); ``--rss-trace DIR`` writes its
  samples (every 50 ms) to ``DIR/rss.tsv`` and ``DIR/rss-large.tsv``;
* image preparation vs a bare Pillow decode (``bench_imaging.py``'s pass-through cases).
* with ``--split``, the acknowledgement figure again with the gateway alone: ``RUN_WORKER=false`` and
  the queue in a separate ``python -m bot worker`` process, both on PostgreSQL (``TEST_DATABASE_URL``,
  a throwaway database), measured exactly as above (issue 14); and one process on that PostgreSQL,
  so that the backend's share and the split's can be told apart.

``--stalls`` runs each bot under ``loop_stalls.py`` and prints where its event loop stalled (stacks
sampled during each stall over 20 ms, garbage collections): for finding what delays acknowledgements.

The simulation and the fake share this process and the machine's cores with the bot, so the figures
are pessimistic for a real deployment, where Discord and Ideogram run elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_imaging  # noqa: E402  (a sibling script, not a package)
import discord  # noqa: E402
import PIL  # noqa: E402

from tests.discord_sim import DiscordSim, RecordedCall, SimInteraction, SimUser  # noqa: E402
from tests.fakes.ideogram import FakeIdeogram  # noqa: E402
from tests.storage_support import DEFAULT_TEST_DATABASE_URL, with_database  # noqa: E402

TOKEN = "MTAxMDEw.sim-bot-token.Benchmark0123456789"
CAP = 8
HIGH_LIMITS = {
    "USER_MAX_ACTIVE_JOBS": "200",
    "USER_WINDOW_IMAGES": "100000",
    "USER_DAILY_IMAGES": "100000",
    "GUILD_DAILY_IMAGES": "1000000",
    "DAILY_IMAGE_BUDGET": "1000000",  # the whole bot's daily budget (default 500) would stop a long run
}
WAIT_S = 600.0


# --- a bot process with its simulated world ---------------------------------------------------------


@dataclass
class Rig:
    """``python -m bot`` on a fresh data directory, with the sim, the fake API and some members."""

    latency_s: float
    users: int = 1
    env: dict[str, str] = field(default_factory=dict)
    sim: DiscordSim = field(init=False)
    api: FakeIdeogram = field(init=False)
    members: list[SimUser] = field(init=False, default_factory=list)
    proc: asyncio.subprocess.Process | None = field(init=False, default=None)
    process_env: dict[str, str] = field(init=False, default_factory=dict)  # what the bot process got
    _tmp: tempfile.TemporaryDirectory[str] | None = field(init=False, default=None)
    watch_stalls: ClassVar[bool] = False  # ``--stalls``: the bot runs under ``loop_stalls.py``, reported at exit

    async def __aenter__(self) -> Rig:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-bot-")
        tmp = Path(self._tmp.name)
        self.api = await FakeIdeogram(latency_s=self.latency_s).start()
        self.sim = await DiscordSim().start()
        self.members = [self.sim.user]
        for i in range(1, self.users):
            member = self.sim.add_user(f"user{i}")
            self.sim.add_member(self.sim.guild, member)
            self.members.append(member)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "HOME": str(tmp),
            "DISCORD_TOKEN": TOKEN,
            "IDEOGRAM_API_KEY": self.api.api_key,
            "IDEOGRAM_BASE_URL": self.api.base_url,
            "DISCORD_API_BASE": self.sim.api_base,
            "DISCORD_GATEWAY_URL": self.sim.gateway_url,
            "DATA_DIR": str(tmp / "data"),
            "WEB_PORT": "0",
            "MAX_IMAGES_IN_FLIGHT": str(CAP),
            "SHUTDOWN_GRACE_S": "0",
            **HIGH_LIMITS,
            **self.env,
        }
        self.process_env = env
        bot = ["-m", "bot"]
        if self.watch_stalls:
            bot = [str(ROOT / "benchmarks" / "loop_stalls.py"), str(tmp / "stalls.txt")]
        with (tmp / "bot.log").open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *bot, cwd=tmp, env=env, stdout=log, stderr=log
            )
        ready = asyncio.ensure_future(self.sim.wait_ready(identifies=1, timeout=60))
        exited = asyncio.ensure_future(self.proc.wait())
        await asyncio.wait([ready, exited], return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise RuntimeError(f"the bot exited during start-up:\n{(tmp / 'bot.log').read_text()[-3000:]}")
        exited.cancel()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.proc is not None and self.proc.returncode is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(self.proc.wait(), 30)
                except TimeoutError:
                    self.proc.kill()
                    await self.proc.wait()
        finally:
            await self.sim.stop()
            await self.api.stop()
            if self._tmp is not None:
                if (stalls := Path(self._tmp.name) / "stalls.txt").is_file():
                    print(f"--- the bot's event loop stalls (loop_stalls.py)\n{stalls.read_text()}", file=sys.stderr)
                self._tmp.cleanup()

    # --- driving ---------------------------------------------------------------------------------

    async def edit(self, user: SimUser, prompt: str, image: bytes, *, count: int = 1) -> SimInteraction:
        return await self.sim.slash(
            "edit",
            {"prompt": prompt, "region": "center", "count": count},
            user=user,
            attachments={"image": (image, "photo.jpg")},
        )

    async def job_id(self, inter: SimInteraction) -> int:
        """Wait until the edit is stored (its progress message names the job); fail on a refusal."""
        message = await self.sim.wait_for_message(
            predicate=lambda m: (
                m.interaction_id == inter.id and bool(m.content) and "Waiting for memory" not in m.content
            ),
            timeout=WAIT_S,
        )
        if "Edit #" not in message.content:
            raise RuntimeError(f"the bot refused an edit: {message.content}")
        return int(message.content.split("Edit #", 1)[1].split()[0])

    async def posted(self, job_id: int) -> RecordedCall:
        """The POST that published the job's result (its nonce is derived from the job id)."""
        return await self.sim.wait_for_call(
            predicate=lambda c: c.method == "POST" and c.ok and (c.json or {}).get("nonce") == f"job-{job_id}",
            timeout=WAIT_S,
        )

    def api_request(self, prompt: str):
        return next((r for r in self.api.edit_requests if r.field("prompt") == prompt), None)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Poll something the fake API records (it has no waiters)."""
        deadline = time.monotonic() + WAIT_S
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake API never saw the request")
            await asyncio.sleep(0.002)

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident set size of the bot process, from /proc."""
        assert self.proc is not None
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return _kb(fields["VmRSS"]) / 1024, _kb(fields["VmHWM"]) / 1024


def _kb(value: str) -> float:
    return float(value.split()[0])


def jpeg(side: int) -> bytes:
    return bench_imaging.encode(bench_imaging.photo(side), "JPEG", quality=92)


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the 99th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# --- the scenarios ----------------------------------------------------------------------------------


@dataclass
class Row:
    metric: str
    value: str
    target: str = ""
    verdict: str = ""


async def bench_ack(quick: bool, make: type[Rig] = Rig) -> list[Row]:
    """Probes at 20/s from the first edit of a 50-edit burst until ``measured_n`` probes are done (the
    burst is sent at once, so the probes cover its downloads and preparations, not only the calm after)."""
    measured_n = 60 if quick else 160
    load_before = os.getloadavg()[0]  # the figures are only as quiet as the machine: printed with them
    async with make(latency_s=3600, users=10) as rig:  # nothing finishes: everything stays in progress
        image = jpeg(1024)
        probes: list[tuple[float, SimInteraction]] = []
        all_queued_at: list[float] = []

        async def probe() -> None:
            for i in range(measured_n):
                user = rig.members[i % 10]
                at = time.monotonic()
                if i % 2:
                    probes.append((at, await rig.sim.slash("queue", {}, subcommand="show", user=user)))
                else:
                    probes.append((at, await rig.edit(user, f"measured {i}", image)))
                await asyncio.sleep(0.05)

        prober = asyncio.create_task(probe())
        fill = await asyncio.gather(*(rig.edit(rig.members[i % 10], f"fill {i}", image) for i in range(50)))
        for inter in fill:
            await rig.job_id(inter)
        all_queued_at.append(time.monotonic())
        await prober
        for _, inter in probes:
            await rig.sim.wait_for_ack(inter, timeout=WAIT_S)
        fill_ms = [inter.ack_latency * 1000 for inter in fill]  # type: ignore[operator]
        ms = [inter.ack_latency * 1000 for _, inter in probes]  # type: ignore[operator]
        during = [inter.ack_latency * 1000 for at, inter in probes if at < all_queued_at[0]]  # type: ignore[operator]
    p99 = pct(ms, 99)
    load = f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"
    return [
        Row("  machine load average (1 min) before / after the ack run", load, "(info)"),
        Row(
            "ack latency, burst of 50 /edit sent at once, p50 / p99",
            f"{pct(fill_ms, 50):.1f} / {pct(fill_ms, 99):.1f} ms",
            "(info)",
        ),
        Row(
            f"ack latency, probes during the burst's preparation ({len(during)}), p99",
            f"{pct(during, 99):.1f} ms" if during else "-",
            "(info)",
        ),
        Row(
            f"ack latency, {measured_n} /edit + /queue show probes at 20/s over the busy period, p50",
            f"{pct(ms, 50):.1f} ms",
        ),
        Row(f"ack latency, same, p99 (max {max(ms):.1f} ms)", f"{p99:.1f} ms", "< 50 ms", _verdict(p99 / 50)),
    ]


@dataclass
class PostgresRig(Rig):
    """``Rig`` on a throwaway PostgreSQL database (on ``TEST_DATABASE_URL``'s server), one process."""

    admin_url: str = field(init=False, default="")
    database: str = field(init=False, default="")

    async def __aenter__(self) -> PostgresRig:
        import asyncpg

        self.admin_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
        self.database = f"bench_bot_{os.getpid()}"
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()
        self.env = {**self.env, "DATABASE_URL": with_database(self.admin_url, self.database)}
        await super().__aenter__()  # the bot has migrated the database once it is connected
        return self

    async def __aexit__(self, *exc: object) -> None:
        import asyncpg

        try:
            await super().__aexit__(*exc)
        finally:
            conn = await asyncpg.connect(self.admin_url)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            finally:
                await conn.close()


@dataclass
class SplitRig(PostgresRig):
    """The gateway alone (``RUN_WORKER=false``) and the queue in a ``python -m bot worker`` process;
    ``rss_mb`` is the gateway's."""

    worker: asyncio.subprocess.Process | None = field(init=False, default=None)

    async def __aenter__(self) -> SplitRig:
        self.env = {**self.env, "RUN_WORKER": "false", "WORKER_ID": "gateway"}
        await super().__aenter__()
        tmp = Path(self.process_env["HOME"])
        with (tmp / "worker.log").open("wb") as log:
            self.worker = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "worker",
                cwd=tmp,
                env={**self.process_env, "WORKER_ID": "worker"},
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 60
        while "running the queue" not in (tmp / "worker.log").read_text(errors="replace"):
            if self.worker.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{(tmp / 'worker.log').read_text()[-3000:]}")
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.worker is not None and self.worker.returncode is None:
            self.worker.kill()  # its jobs hang at the fake API: nothing to wait for
            await self.worker.wait()
        await super().__aexit__(*exc)


async def bench_ack_split(quick: bool) -> list[Row]:
    """``bench_ack`` with the gateway alone (the issue asks for the same figure as with one process),
    and, to tell the backend's share from the split's, with one process on the same PostgreSQL."""
    rows = []
    for label, make in (("one process, PostgreSQL", PostgresRig), ("gateway + worker, PostgreSQL", SplitRig)):
        rows += [replace(row, metric=f"{label}: {row.metric}") for row in await bench_ack(quick, make)]
    return rows


async def bench_overhead(quick: bool) -> list[Row]:
    rows = []
    runs = 5 if quick else 12
    latency = 0.2
    async with Rig(latency_s=latency, users=1) as rig:
        for side in (1024, 2048):
            image = jpeg(side)
            overheads, e2es = [], []
            for i in range(runs + 1):  # the first one warms caches up and is not counted
                prompt = f"overhead {side} {i}"
                inter = await rig.edit(rig.sim.user, prompt, image)
                job = await rig.job_id(inter)
                post = await rig.posted(job)
                request = rig.api_request(prompt)
                assert request is not None and request.finished is not None
                downloads = [
                    r.finished - r.started
                    for r in rig.api.result_requests
                    if r.finished is not None and request.started <= r.started <= post.at
                ]
                api_s = request.finished - request.started + sum(downloads)
                if i:
                    e2es.append(post.at - inter.dispatched_at)
                    overheads.append(post.at - inter.dispatched_at - api_s)
            p50 = statistics.median(overheads) * 1000
            target_ms = 150 if side == 1024 else 300
            rows.append(
                Row(
                    f"bot overhead per job, {side}² JPEG ({len(image) / 1e6:.1f} MB), p50 (max)",
                    f"{p50:.0f} ms ({max(overheads) * 1000:.0f})",
                    f"< {target_ms} ms",
                    _verdict(p50 / target_ms),
                )
            )
            rows.append(
                Row(
                    f"  end-to-end at {side}², p50, with {latency * 1000:.0f} ms fake latency",
                    f"{statistics.median(e2es) * 1000:.0f} ms",
                )
            )
    return rows


MAKESPAN_COUNTS = (1, 2, 3, 4, 1, 3, 2, 1, 4, 2)  # repeated: 23 images per 10 jobs


async def bench_makespan(latency: float, quick: bool) -> list[Row]:
    """Median of 3 runs (the schedule depends on timing noise: about ±2% between runs)."""
    jobs = 40 if quick else 100
    users = 8 if quick else 20
    repeats = 1 if quick else 3
    counts = [MAKESPAN_COUNTS[i % len(MAKESPAN_COUNTS)] for i in range(jobs)]
    total = sum(counts)
    floor = math.ceil(total / CAP) * latency
    spans, api_spans, service, peaks = [], [], [], []
    for _ in range(repeats):
        async with Rig(latency_s=latency, users=users) as rig:
            image = jpeg(256)
            started = time.monotonic()
            inters = [
                await rig.edit(rig.members[i % users], f"makespan {i}", image, count=counts[i]) for i in range(jobs)
            ]
            ids = [await rig.job_id(inter) for inter in inters]
            posts = [await rig.posted(job) for job in ids]
            spans.append(max(p.at for p in posts) - started)
            requests = rig.api.edit_requests
            api_spans.append(max(r.finished or 0 for r in requests) - min(r.started for r in requests))
            service.append(statistics.mean((r.finished or 0) - r.started for r in requests))
            peaks.append(rig.api.peak_in_flight_images)
    ratios = sorted(span / floor for span in spans)
    ratio = statistics.median(ratios)
    measured_floor = math.ceil(total / CAP) * statistics.mean(service)
    runs = f"median of {repeats}, {ratios[0]:.3f}–{ratios[-1]:.3f}" if repeats > 1 else "1 run"
    return [
        Row(
            f"makespan, {jobs} jobs / {total} images from {users} users, cap {CAP}, latency {latency:g} s",
            f"{statistics.median(spans):.2f} s",
        ),
        Row("  floor ceil(images / cap) × latency", f"{floor:.2f} s"),
        Row(f"  makespan / floor ({runs})", f"{ratio:.3f}", "≤ 1.10", _verdict(ratio / 1.10)),
        Row(
            f"  makespan / floor using the fake's measured time per request ({statistics.mean(service):.3f} s)",
            f"{statistics.median(spans) / measured_floor:.3f}",
            "(info)",
        ),
        Row(
            "  API-side span (first request → last answer) / floor",
            f"{statistics.median(api_spans) / floor:.3f}",
            "(info)",
        ),
        Row("  peak images in flight at the API", f"{max(peaks)}", f"≤ {CAP}", "ok" if max(peaks) <= CAP else "MISSED"),
    ]


async def bench_fairness(latency: float, quick: bool) -> list[Row]:
    flood = 50
    newcomers = 2 if quick else 3
    async with Rig(latency_s=latency, users=1 + newcomers, env={"USER_MAX_ACTIVE_JOBS": "60"}) as rig:
        image = jpeg(256)
        heavy, *others = rig.members
        inters = [await rig.edit(heavy, f"flood {i}", image) for i in range(flood)]
        for inter in inters:
            await rig.job_id(inter)
        waits = []
        for k, user in enumerate(others):
            await asyncio.sleep(latency * (0.37 + k * 0.29))  # arrive at different points of a batch
            prompt = f"newcomer {k}"
            inter = await rig.edit(user, prompt, image)
            await rig.until(lambda prompt=prompt: rig.api_request(prompt) is not None)
            request = rig.api_request(prompt)
            waits.append(request.started - inter.dispatched_at)
        flood_started = sum(1 for r in rig.api.edit_requests if r.field("prompt").startswith("flood"))
    worst = max(waits)
    return [
        Row(
            f"fairness: wait of a 1-job user behind a {flood}-job user (worst of {newcomers})",
            f"{worst:.2f} s = {worst / latency:.2f} × latency",
            "≤ 2 × latency",
            _verdict(worst / latency / 2),
        ),
        Row("  (the 50-job user's jobs already started when the last newcomer did)", f"{flood_started}"),
    ]


@dataclass
class RssTrace:
    """The bot's RSS every 50 ms, with how far the jobs had got at that moment."""

    rig: Rig
    posted: list[float] = field(default_factory=list)  # times results were posted
    samples: list[tuple[float, float, int, int, int]] = field(default_factory=list)  # t, MB, api in, out, posted
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.began = time.monotonic()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            requests = self.rig.api.edit_requests
            answered = sum(1 for r in requests if r.finished is not None)
            rss = self.rig.rss_mb()[0]
            self.samples.append((time.monotonic() - self.began, rss, len(requests), answered, len(self.posted)))
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def at_peak(self) -> str:
        t, rss, api_in, answered, posted = max(self.samples, key=lambda s: s[1])
        return f"+{t:.1f} s: {rss:.0f} MB, {api_in} sent to the API, {answered} answered, {posted} posted"

    def write(self, path: Path) -> None:
        lines = ["seconds\trss_mb\tsent\tanswered\tposted"]
        lines += ["\t".join((f"{t:.2f}", f"{rss:.1f}", *map(str, rest))) for t, rss, *rest in self.samples]
        path.write_text("\n".join(lines) + "\n")


async def _burst(rig: Rig, images: list[bytes], label: str) -> tuple[list[Row], RssTrace, list[float]]:
    """Send one /edit per image at once (member i sends image i), wait for every result; returns
    (rows about results, the RSS trace, ack latencies in seconds)."""
    trace = RssTrace(rig)
    trace.start()
    inters = await asyncio.gather(
        *(rig.edit(rig.members[i % len(rig.members)], f"{label} {i}", image) for i, image in enumerate(images))
    )

    async def result(inter: SimInteraction) -> bool:
        try:
            job = await rig.job_id(inter)
            await rig.posted(job)
        except RuntimeError:  # refused (the message says why): no result
            return False
        trace.posted.append(time.monotonic())
        return True

    outcomes = await asyncio.gather(*(result(inter) for inter in inters))
    for inter in inters:
        await rig.sim.wait_for_ack(inter, timeout=WAIT_S)
    await trace.stop()
    acks = [inter.ack_latency for inter in inters]  # type: ignore[misc]
    done = sum(outcomes)
    rows = [
        Row(
            "  edits ending in a posted result",
            f"{done} / {len(images)}",
            "all",
            "ok" if done == len(images) else "MISSED",
        ),
        Row("  when the RSS peaked", trace.at_peak()),
    ]
    return rows, trace, acks  # type: ignore[return-value]


async def bench_rss(latency: float, quick: bool, trace_dir: Path | None) -> list[Row]:
    """50 × 2048² PNG (about 8.6 MB each) sent at once by 10 members."""
    jobs = 20 if quick else 50
    image = bench_imaging.encode(bench_imaging.photo(2048), "PNG")
    async with Rig(latency_s=latency, users=10) as rig:
        idle = rig.rss_mb()[0]
        rows, trace, acks = await _burst(rig, [image] * jobs, "png")
        _, peak = rig.rss_mb()
    if trace_dir is not None:
        trace.write(trace_dir / "rss.tsv")
    return [
        Row("bot RSS idle (after start-up)", f"{idle:.0f} MB"),
        Row(
            f"bot peak RSS (VmHWM), {jobs} × 2048² PNG ({len(image) / 1e6:.1f} MB) at once, through all results",
            f"{peak:.0f} MB",
            "< 300 MB",
            _verdict(peak / 300),
        ),
        *rows,
        Row("  ack latency of the burst, max", f"{max(acks) * 1000:.0f} ms", "(info)"),
    ]


def big_jpeg(index: int, base: bytes) -> bytes:
    """The same photo with a distinct comment segment, so the content-addressed store cannot share it."""
    comment = f"member {index}".encode()
    return base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]


async def bench_rss_large(latency: float, quick: bool, trace_dir: Path | None) -> list[Row]:
    """20 members each send a ≥ 30-megapixel JPEG (over the API's 10 MB, so it must be re-encoded) at once."""
    users = 6 if quick else 20
    side = 5600  # 31.4 megapixels
    base = bench_imaging.encode(bench_imaging.photo(side), "JPEG", quality=95)
    images = [big_jpeg(i, base) for i in range(users)]
    async with Rig(latency_s=latency, users=users) as rig:
        idle = rig.rss_mb()[0]
        rows, trace, acks = await _burst(rig, images, "large")
        _, peak = rig.rss_mb()
    if trace_dir is not None:
        trace.write(trace_dir / "rss-large.tsv")
    worst_ack = max(acks)
    return [
        Row("bot RSS idle (after start-up)", f"{idle:.0f} MB"),
        Row(
            f"bot peak RSS (VmHWM), {users} members × {side * side / 1e6:.1f} MP JPEG ({len(base) / 1e6:.1f} MB)",
            f"{peak:.0f} MB",
            "< 400 MB",
            _verdict(peak / 400),
        ),
        Row(
            "  every interaction acknowledged within 3 s: worst ack",
            f"{worst_ack:.2f} s",
            "< 3 s",
            _verdict(worst_ack / 3),
        ),
        *rows,
    ]


def bench_prepare(quick: bool) -> list[Row]:
    repeats = 3 if quick else 7
    rows = []
    worst: dict[int, float] = {}
    for label, data, spec, counted in bench_imaging.cases():
        if not counted:
            continue
        decode = bench_imaging.median_ms(lambda data=data: bench_imaging.bare_decode(data), repeats)
        prepare = bench_imaging.median_ms(
            lambda data=data, spec=spec: bench_imaging.prepare_edit_sync(data, spec), repeats
        )
        side = int(label.split("²")[0])
        worst[side] = max(worst.get(side, 0.0), prepare / decode)
        rows.append(
            Row(f"  prepare vs bare decode, {label}", f"{prepare:.0f} / {decode:.0f} ms = {prepare / decode:.2f}×")
        )
    head = [
        Row(
            f"image preparation / bare Pillow decode, worst pass-through case at {side}²",
            f"{ratio:.2f}×",
            f"≤ {bench_imaging.TARGET}×",
            _verdict(ratio / bench_imaging.TARGET),
        )
        for side, ratio in sorted(worst.items())
    ]
    return head + rows


def _verdict(ratio_to_target: float) -> str:
    return f"ok ({ratio_to_target:.2f} of target)" if ratio_to_target <= 1 else f"MISSED by {ratio_to_target:.2f}×"


# --- main -----------------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    width = max(len(r.metric) for r in rows)
    vwidth = max(len(r.value) for r in rows)
    twidth = max(len(r.target) for r in rows)
    print(f"| {'metric':<{width}} | {'value':>{vwidth}} | {'target':<{twidth}} | verdict |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 2)}|{'-' * (twidth + 2)}|---------|")
    for r in rows:
        print(f"| {r.metric:<{width}} | {r.value:>{vwidth}} | {r.target:<{twidth}} | {r.verdict} |")


async def run(args: argparse.Namespace) -> list[Row]:
    scenarios: list[tuple[str, Any]] = [
        ("ack", lambda: bench_ack(args.quick)),
        ("overhead", lambda: bench_overhead(args.quick)),
        ("makespan", lambda: bench_makespan(args.latency, args.quick)),
        ("fairness", lambda: bench_fairness(args.latency, args.quick)),
        ("rss", lambda: bench_rss(args.latency, args.quick, args.rss_trace)),
        ("rss-large", lambda: bench_rss_large(args.latency, args.quick, args.rss_trace)),
        ("ack-split", lambda: bench_ack_split(args.quick)),
    ]
    rows: list[Row] = []
    for name, scenario in scenarios:
        if name == "ack-split" and not args.split:
            continue
        if args.only and name not in args.only and name != "ack-split":
            continue
        began = time.monotonic()
        print(f"… {name}", file=sys.stderr, flush=True)
        rows += await scenario()
        print(f"  {name} took {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=1.0, help="fake API latency for makespan/fairness/RSS")
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, not for the README)")
    parser.add_argument(
        "--stalls", action="store_true", help="print where each bot's event loop stalled (benchmarks/loop_stalls.py)"
    )
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["ack", "overhead", "makespan", "fairness", "rss", "rss-large", "prepare"],
        default=None,
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="also measure the ack figure with RUN_WORKER=false and a separate worker process, on PostgreSQL",
    )
    parser.add_argument("--rss-trace", type=Path, metavar="DIR", help="write the RSS samples of the rss runs here")
    args = parser.parse_args(argv)
    if args.rss_trace is not None:
        args.rss_trace.mkdir(parents=True, exist_ok=True)
    Rig.watch_stalls = args.stalls
    python = os.path.relpath(sys.executable) if Path(sys.executable).is_relative_to(Path.cwd()) else "python"
    print(f"command: {' '.join([python, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, discord.py {discord.__version__}, Pillow {PIL.__version__}"
    )
    print(f"settings: MAX_IMAGES_IN_FLIGHT={CAP}, fake API latency {args.latency:g} s (overhead runs: 0.2 s)")
    rows = asyncio.run(run(args))
    if not args.only or "prepare" in args.only:
        print("… prepare", file=sys.stderr, flush=True)
        rows += bench_prepare(args.quick)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
