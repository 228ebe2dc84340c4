"""The web server that runs inside the bot process, started and stopped by ``bot.app``.

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
from bot.web.editor_routes import add_routes

if TYPE_CHECKING:
    from bot.editor import EditorService
    from bot.settings import Settings

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
TOKEN_IN_PATH = re.compile(r"/e/[^/?#\s]+")


def redact_path(path: str) -> str:
    return TOKEN_IN_PATH.sub("/e/[token]", path)


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log without the link tokens: method, redacted path, status, size, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
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


async def healthz(request: web.Request) -> web.Response:
    # Health and metrics (issue: observability) will grow here; today "the process answers" is enough.
    return web.Response(text="ok\n")


def build_app(editor: EditorService | None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[security_headers])
    app.router.add_get("/healthz", healthz)
    # /metrics plugs in here (prometheus_client's generate_latest) when it lands.
    add_routes(app, editor)
    return app


class WebServer:
    """``AppRunner``/``TCPSite`` on ``WEB_HOST``:``WEB_PORT``; ``port`` is the bound one (0 = any)."""

    def __init__(self, settings: Settings, editor: EditorService | None) -> None:
        self.settings = settings
        self.app = build_app(editor)
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
        self.port = runner.addresses[0][1] if runner.addresses else self.settings.web_port
        log.info("web server listening on %s:%s", self.settings.web_host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
