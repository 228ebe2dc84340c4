"""Health checks behind ``/livez``, ``/readyz`` and ``/healthz`` (served by ``bot.web.server``).

* **Alive** — the event loop is responsive. A background task sleeps ``interval`` seconds at a time and
  records how late it woke up (the loop lag); alive while the last lag, or the time since the last tick
  (a task that stopped ticking), stays under ``max_lag_s``. A loop blocked right now cannot answer the
  request at all, which the caller's timeout (Docker's ``HEALTHCHECK --timeout``) reports.
* **Ready** — alive, and every registered readiness check passes within ``timeout_s``: the database
  answers (``Storage.ping``), and the gateway is connected — or, in a worker process without a gateway,
  the image API is reachable (``ApiReachable``). Whoever builds the process registers its checks with
  ``set_ready_check``.

A failed check reports only the exception's type: a message could carry a database URL or a host.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

MAX_LOOP_LAG_S = 5.0  # Discord's gateway heartbeat is ~41 s; a loop this late already delays every reply
PROBE_INTERVAL_S = 0.5
CHECK_TIMEOUT_S = 3.0
API_CHECK_TTL_S = 15.0

ReadyCheck = Callable[[], Awaitable[Any] | Any]  # passes unless it returns False or raises


class LoopLagProbe:
    """Measures how late the event loop runs a sleeping task: ``lag`` seconds behind schedule."""

    def __init__(self, interval: float = PROBE_INTERVAL_S) -> None:
        self.interval = interval
        self.last_lag = 0.0
        self.ticks = 0
        self._last_tick: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._last_tick = time.monotonic()
            self._task = asyncio.create_task(self._run(), name="loop-lag-probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def lag(self) -> float:
        """The last measured lag, or how overdue the next tick is, whichever is larger."""
        if self._last_tick is None:
            return 0.0
        overdue = time.monotonic() - self._last_tick - self.interval
        return max(self.last_lag, overdue, 0.0)

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self.last_lag = max(0.0, now - before - self.interval)
            self._last_tick = now
            self.ticks += 1


class Health:
    def __init__(
        self,
        probe: LoopLagProbe | None = None,
        *,
        max_lag_s: float = MAX_LOOP_LAG_S,
        timeout_s: float = CHECK_TIMEOUT_S,
    ) -> None:
        self.probe = probe or LoopLagProbe()
        self.max_lag_s = max_lag_s
        self.timeout_s = timeout_s
        self._ready_checks: dict[str, ReadyCheck] = {}

    def set_ready_check(self, name: str, check: ReadyCheck | None) -> None:
        """Add or replace (``None``: remove) a readiness check, e.g. ``"gateway"`` or ``"api"``."""
        if check is None:
            self._ready_checks.pop(name, None)
        else:
            self._ready_checks[name] = check

    @property
    def ready_check_names(self) -> tuple[str, ...]:
        return tuple(self._ready_checks)

    def start(self) -> None:
        self.probe.start()

    async def stop(self) -> None:
        await self.probe.stop()

    def live(self) -> tuple[bool, dict[str, Any]]:
        lag = self.probe.lag
        ok = lag <= self.max_lag_s
        return ok, {"status": _word(ok), "checks": {"loop": {"ok": ok, "lag_s": round(lag, 4)}}}

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        live, body = self.live()
        names = list(self._ready_checks)
        results = await asyncio.gather(*(self._run_check(self._ready_checks[n]) for n in names))
        checks = body["checks"] | dict(zip(names, results, strict=True))
        ok = live and all(result["ok"] for result in results)
        return ok, {"status": _word(ok), "checks": checks}

    async def _run_check(self, check: ReadyCheck) -> dict[str, Any]:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):
                result = check()
                if inspect.isawaitable(result):
                    result = await result
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {self.timeout_s:g}s"}
        except Exception as exc:
            return {"ok": False, "error": type(exc).__name__}
        answer: dict[str, Any] = {"ok": result is not False, "seconds": round(time.monotonic() - started, 4)}
        return answer


class ApiReachable:
    """Readiness of a worker (no gateway): any HTTP answer from the image API's base URL means the
    network path works. Results are kept ``ttl_s`` seconds, so frequent health checks cost nothing."""

    def __init__(self, base_url: str, *, ttl_s: float = API_CHECK_TTL_S, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self.base_url = base_url
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._checked: tuple[float, bool] | None = None

    async def __call__(self) -> bool:
        now = time.monotonic()
        if self._checked is not None and now - self._checked[0] < self.ttl_s:
            return self._checked[1]
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.head(self.base_url) as response:
                reachable = response.status < 500
        except (aiohttp.ClientError, TimeoutError, OSError):
            reachable = False
        self._checked = (time.monotonic(), reachable)
        return reachable


def _word(ok: bool) -> str:
    return "ok" if ok else "fail"
