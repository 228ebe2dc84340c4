"""``bot.health``: the loop-lag probe, readiness checks and the worker's API reachability check."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from bot.health import ApiReachable, Health, LoopLagProbe


async def ticks(probe: LoopLagProbe, n: int = 1) -> None:
    target = probe.ticks + n
    while probe.ticks < target:  # noqa: ASYNC110 - the probe has no event to wait on, by design
        await asyncio.sleep(probe.interval / 4)


async def eventually_alive(health: Health) -> bool:
    """Alive within 100 ticks (a loaded machine may wake the probe late now and then)."""
    for _ in range(100):
        await ticks(health.probe)
        if health.live()[0]:
            return True
    return False


async def test_a_blocked_loop_makes_the_process_not_alive_until_it_recovers() -> None:
    health = Health(LoopLagProbe(interval=0.02), max_lag_s=0.3)
    health.start()
    try:
        assert await eventually_alive(health)
        time.sleep(0.6)  # noqa: ASYNC251 - the point: a blocking call on the event loop
        await ticks(health.probe)
        ok, body = health.live()
        assert not ok and body["status"] == "fail"
        assert body["checks"]["loop"]["lag_s"] >= 0.5
        assert await eventually_alive(health)
    finally:
        await health.stop()


async def test_a_probe_that_stopped_ticking_counts_as_lag() -> None:
    probe = LoopLagProbe(interval=0.02)
    probe.start()
    await ticks(probe)
    await probe.stop()
    health = Health(probe, max_lag_s=0.1)
    await asyncio.sleep(0.2)
    assert probe.lag >= 0.15 and not health.live()[0]


async def test_ready_runs_every_check_and_names_only_the_error_type() -> None:
    health = Health(timeout_s=0.2)
    health.start()

    async def database() -> None:
        return None

    async def broken() -> None:
        raise OSError("connect to postgresql://bot:hunter2@db:5432 failed")

    async def hangs() -> None:
        await asyncio.sleep(5)

    try:
        health.set_ready_check("database", database)
        health.set_ready_check("gateway", lambda: True)
        ok, body = await health.ready()
        assert ok and body["status"] == "ok" and set(body["checks"]) == {"loop", "database", "gateway"}

        health.set_ready_check("gateway", lambda: False)
        health.set_ready_check("broken", broken)
        health.set_ready_check("hangs", hangs)
        ok, body = await health.ready()
        assert not ok and body["status"] == "fail"
        assert body["checks"]["gateway"]["ok"] is False
        assert body["checks"]["broken"] == {"ok": False, "error": "OSError"}  # no URL, no password
        assert body["checks"]["hangs"] == {"ok": False, "error": "no answer within 0.2s"}
        assert body["checks"]["database"]["ok"]

        for name in ("gateway", "broken", "hangs"):
            health.set_ready_check(name, None)
        assert health.ready_check_names == ("database",)
        assert (await health.ready())[0]
    finally:
        await health.stop()


async def test_api_reachable_any_http_answer_counts_and_is_cached() -> None:
    hits = 0

    async def head(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("HEAD", "/", head)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        check = ApiReachable(f"http://127.0.0.1:{port}/", ttl_s=60)
        assert await check() and await check()
        assert hits == 1  # the second answer came from the cache
    finally:
        await runner.cleanup()
    assert not await ApiReachable(f"http://127.0.0.1:{port}/", timeout_s=1)()  # nobody listens any more
