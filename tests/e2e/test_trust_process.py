"""The real bot process (``python -m bot``) on the simulation: what SIGTERM does to a call that is
running with the default grace, and what a DEBUG log contains.

Uses ``BotRunner`` from the restart tests (same start/stop/kill plumbing, subprocesses killed in
``finally``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import JobStatus
from tests.discord_sim import DiscordSim
from tests.e2e.test_restart import TOKEN, BotRunner
from tests.fakes.ideogram import FakeIdeogram


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[BotRunner]:
    async with FakeIdeogram() as api, DiscordSim() as sim:
        runner = BotRunner(sim, api, tmp_path)
        try:
            yield runner
        finally:
            await runner.cleanup()


async def test_sigterm_with_the_default_grace_lets_a_running_call_finish_and_never_reruns_it(
    runner: BotRunner,
) -> None:
    runner.api.latency_s = 3.0
    # SHUTDOWN_GRACE_S unset (empty): the default, derived from IDEOGRAM_TIMEOUT_S
    first = await runner.start(SHUTDOWN_GRACE_S="", IDEOGRAM_TIMEOUT_S="20")
    edit = await runner.edit("slow call", runner.sim.user)
    await runner.running(images=1, requests=1)
    assert await runner.terminate(first) == 0
    jobs = await runner.jobs()
    assert jobs[edit.job_id].status is JobStatus.SUCCEEDED, runner.log(1)
    assert len(runner.results(edit)) == 1
    assert runner.api_calls(edit) == 1

    runner.api.latency_s = 0.05
    second = await runner.start(SHUTDOWN_GRACE_S="")
    await asyncio.sleep(0.5)  # recovery ran before the gateway connected; a re-run would be at the API now
    assert await runner.terminate(second) == 0
    assert runner.api_calls(edit) == 1, "not run again after the restart: Ideogram would bill it twice"
    assert len(runner.results(edit)) == 1


async def test_debug_log_has_no_tokens(runner: BotRunner) -> None:
    """discord.py logs REST routes (``/interactions/{id}/{token}/callback``, ``/webhooks/{app}/{token}``)
    and every gateway event (INTERACTION_CREATE has a ``token``) at DEBUG."""
    runner.api.latency_s = 0.05
    proc = await runner.start(LOG_LEVEL="DEBUG")
    edit = await runner.edit("a hat", runner.sim.user)
    await runner.result_posted(edit)
    assert await runner.terminate(proc) == 0
    log = (runner.tmp_path / "bot1.log").read_text(errors="replace")
    tokens = [inter.token for inter in runner.sim.world.interactions.values()]
    assert tokens and all(len(t) > 20 for t in tokens)
    assert f"/interactions/{edit.interaction.id}/[redacted]/callback" in log, "the route is logged, redacted"
    assert "'token': '[redacted]'" in log, "the gateway event is logged, redacted"
    for secret in (*tokens, TOKEN, runner.api.api_key):
        assert secret not in log
