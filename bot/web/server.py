"""The web server that runs inside the bot process, started and stopped by ``bot.app``.

It always runs (on ``WEB_HOST``:``WEB_PORT``): health checks and metrics for operators; the mask
editor's routes answer only when ``PUBLIC_URL`` enables the editor.

* ``/livez`` — the event loop is responsive (``bot.health``); for a supervisor that restarts the process.
* ``/readyz`` — alive, the database answers and the gateway is connected (a worker: the image API is
  reachable); ``/healthz`` is the same (Docker's ``HEALTHCHECK`` uses it). JSON body with each check,
  200 when all pass, 503 otherwise.
* ``/metrics`` — Prometheus text format (``bot.metrics``).

Security rules that hold for every response (a middleware, so no route can forget them): a strict
Content-Security-Policy without inline script, ``nosniff``, ``no-referrer`` and no framing; request
bodies are capped by ``client_max_size``. Editor links carry their token in the path, so the access log
writes ``/e/[token]`` instead (``RedactingAccessLogger``), and token-bound answers are never cached.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.editor import MAX_MASK_BYTES
from bot.errors import ConfigError
from bot.health import ApiReachable, Health
from bot.metrics import CONTENT_TYPE, METRICS, Metrics, ScrapeSources
from bot.web.editor_routes import add_routes

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.editor import EditorService
    from bot.settings import Settings
    from bot.store import Storage

log = logging.getLogger(__name__)
access_log = logging.getLogger("bot.web.access")

MAX_BODY_BYTES = MAX_MASK_BYTES + 64 * 1024  # a mask, a prompt and the multipart framing
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
QUIET_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})
TOKEN_IN_PATH = re.compile(r"/e/[^/?#\s]+")


def redact_path(path: str) -> str:
    return TOKEN_IN_PATH.sub("/e/[token]", path)


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log without the link tokens: method, redacted path, status, size, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        # probes and scrapes come every few seconds: successful ones only at DEBUG
        level = logging.DEBUG if request.path in QUIET_PATHS and response.status < 400 else logging.INFO
        self.logger.log(
            level,
            "%s %s %s %s %.3fs",
            request.method,
            redact_path(request.rel_url.path),
            response.status,
            response.body_length,
            time,
        )


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith("/e/"):
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException) and response.status >= 400:
        raise response
    return response


HEALTH_KEY: web.AppKey[Health] = web.AppKey("health")
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics")
SOURCES_KEY: web.AppKey[ScrapeSources | None] = web.AppKey("scrape_sources")


def _health_answer(ok: bool, body: dict) -> web.Response:
    response = web.json_response(body, status=200 if ok else 503)
    response.headers["Cache-Control"] = "no-store"
    return response


async def livez(request: web.Request) -> web.Response:
    return _health_answer(*request.app[HEALTH_KEY].live())


async def readyz(request: web.Request) -> web.Response:
    return _health_answer(*await request.app[HEALTH_KEY].ready())


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[METRICS_KEY]
    sources = request.app[SOURCES_KEY]
    if sources is not None:
        await registry.refresh(sources, loop_lag=request.app[HEALTH_KEY].probe.lag)
    response = web.Response(body=registry.render())
    response.headers["Content-Type"] = CONTENT_TYPE  # with its version parameter, as Prometheus expects
    response.headers["Cache-Control"] = "no-store"
    return response


def build_app(
    editor: EditorService | None,
    *,
    health: Health | None = None,
    metrics_registry: Metrics = METRICS,
    sources: ScrapeSources | None = None,
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[security_headers])
    app[HEALTH_KEY] = health or Health()
    app[METRICS_KEY] = metrics_registry
    app[SOURCES_KEY] = sources
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/healthz", readyz)
    app.router.add_get("/metrics", metrics)
    add_routes(app, editor)
    return app


class WebServer:
    """``AppRunner``/``TCPSite`` on ``WEB_HOST``:``WEB_PORT``; ``port`` is the bound one (0 = any)."""

    def __init__(
        self,
        settings: Settings,
        editor: EditorService | None,
        *,
        health: Health | None = None,
        metrics_registry: Metrics = METRICS,
        sources: ScrapeSources | None = None,
    ) -> None:
        self.settings = settings
        self.health = health or Health()
        self.app = build_app(editor, health=self.health, metrics_registry=metrics_registry, sources=sources)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log_class=RedactingAccessLogger, access_log=access_log)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.web_host, self.settings.web_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            where = f"{self.settings.web_host}:{self.settings.web_port}"
            raise ConfigError(
                f"The web server cannot listen on {where} ({exc.strerror or exc}): check WEB_HOST and WEB_PORT."
            ) from None
        self._runner = runner
        self.health.start()
        self.port = runner.addresses[0][1] if runner.addresses else self.settings.web_port
        log.info("web server listening on %s:%s", self.settings.web_host, self.port)

    async def stop(self) -> None:
        await self.health.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def ops_server(
    settings: Settings,
    storage: Storage,
    images_in_flight: Callable[[], int],
    *,
    editor: EditorService | None = None,
    gateway: Callable[[], bool] | None = None,
) -> WebServer:
    """The web server of one bot process, with its readiness checks and metric sources.

    Ready = the database answers and, for a gateway process, ``gateway()`` says it is connected; a
    worker process (``gateway=None``) is ready when the image API is reachable instead. The daily budget
    gauge shows ``DAILY_IMAGE_BUDGET`` (``settings.daily_image_budget``)."""
    health = Health()
    health.set_ready_check("database", storage.ping)
    if gateway is not None:
        health.set_ready_check("gateway", gateway)
    else:
        health.set_ready_check("api", ApiReachable(settings.ideogram_base_url))
    sources = ScrapeSources(
        storage=storage,
        images_in_flight=images_in_flight,
        images_in_flight_limit=settings.max_images_in_flight,
        daily_image_budget=settings.daily_image_budget,
    )
    return WebServer(settings, editor, health=health, sources=sources)
