"""The mask editor's routes: the page, its image and starting mask, preview and confirm.

Every route under ``/e/{token}`` checks the token through ``EditorService.open`` first, so a draft's
image is reachable only with a genuine, current, unused link. The page is static HTML (the script reads
the token from its own URL); API answers are JSON, errors carry the user-facing message.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING

from aiohttp import web

from bot.editor import NOT_ENABLED, LinkExpired, LinkForged, LinkUsed
from bot.errors import BotError, Forbidden, InputError, NotFound, QuotaExceeded
from bot.i18n import msg, text

if TYPE_CHECKING:
    from bot.editor import EditorService

log = logging.getLogger(__name__)

STATIC = {"editor.js": "text/javascript", "editor.css": "text/css"}
EDITOR_KEY: web.AppKey[EditorService | None] = web.AppKey("editor")
STATUS = {
    LinkForged: 403,
    Forbidden: 403,
    LinkExpired: 410,
    LinkUsed: 409,
    QuotaExceeded: 429,
    NotFound: 404,
    InputError: 422,
}
TITLES = {403: "Link not valid", 410: "Link expired", 409: "Already confirmed", 404: "Not found"}


def _static(name: str) -> bytes:
    return resources.files("bot.web").joinpath("static", name).read_bytes()


def status_of(error: BotError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 500


def error_page(status: int, message: str) -> web.Response:
    title = TITLES.get(status, "Something went wrong")
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="../static/editor.css"></head>'
        f'<body class="message"><main><h1>{html.escape(title)}</h1><p role="alert">{html.escape(message)}</p>'
        "</main></body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def web_text(message: str) -> str:
    """Core messages still carry Discord markup (until they become catalogue ids with typed arguments):
    timestamps become UTC clock times, mentions become words."""
    message = re.sub(r"\s*\(<t:\d+:[tT]>\)", "", message)
    message = re.sub(
        r"<t:(\d+):[a-zA-Z]>",
        lambda m: "at " + datetime.fromtimestamp(int(m[1]), UTC).strftime("%H:%M UTC"),
        message,
    )
    return re.sub(r"<@!?\d+>", "its owner", message)


def error_json(error: BotError) -> web.Response:
    status = status_of(error)
    message = web_text(error.user_message) if status != 500 else "Something went wrong on the bot's side; try again."
    body = {"error": error.code, "message": message}
    if isinstance(error, QuotaExceeded) and error.retry_at is not None:
        body["retry_at"] = error.retry_at.isoformat()
    return web.json_response(body, status=status)


def _editor(request: web.Request) -> EditorService:
    editor = request.app[EDITOR_KEY]
    if editor is None or not editor.enabled:
        raise web.HTTPNotFound(text=text(NOT_ENABLED))
    return editor


async def page(request: web.Request) -> web.Response:
    editor = _editor(request)
    try:
        await editor.open(request.match_info["token"])
    except BotError as error:
        return error_page(status_of(error), error.user_message)
    return web.Response(body=_static("editor.html"), content_type="text/html")


async def draft(request: web.Request) -> web.Response:
    try:
        shown = await _editor(request).view(request.match_info["token"])
    except BotError as error:
        return error_json(error)
    return web.json_response(
        {
            "prompt": shown.prompt,
            "width": shown.width,
            "height": shown.height,
            "place": shown.place,
            "private": shown.private,
            "has_mask": shown.has_mask,
            "expires_at": shown.expires_at.isoformat(),
        }
    )


async def image(request: web.Request) -> web.Response:
    try:
        data, mime = await _editor(request).image(request.match_info["token"])
    except BotError as error:
        return error_json(error)
    return web.Response(body=data, content_type=mime)


async def start_mask(request: web.Request) -> web.Response:
    try:
        data = await _editor(request).start_mask(request.match_info["token"])
    except BotError as error:
        return error_json(error)
    if data is None:
        return web.Response(status=204)
    return web.Response(body=data, content_type="image/png")


async def _form(request: web.Request) -> tuple[str, bytes]:
    """The prompt and the mask PNG from a multipart body (size-capped by the app)."""
    limit = request.app._client_max_size
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    form = await request.post()  # also stops at the limit when the length is not announced
    mask = form.get("mask")
    prompt = form.get("prompt", "")
    if mask is None or isinstance(mask, str):
        raise InputError(msg("editor-draw-first"))
    return (prompt if isinstance(prompt, str) else ""), mask.file.read()


async def preview(request: web.Request) -> web.Response:
    editor = _editor(request)
    try:
        await editor.open(request.match_info["token"])  # the link first: a refused one reads no body
        _, mask = await _form(request)
        shown = await editor.preview(request.match_info["token"], mask)
    except BotError as error:
        return error_json(error)
    return web.Response(body=shown.data, content_type=shown.mime)


async def confirm(request: web.Request) -> web.Response:
    editor = _editor(request)
    try:
        await editor.open(request.match_info["token"])
        prompt, mask = await _form(request)
        done = await editor.confirm(request.match_info["token"], prompt, mask)
    except BotError as error:
        if status_of(error) == 500:
            log.warning("editor confirm failed: %s", error.detail)
        return error_json(error)
    return web.json_response({"job_id": done.job_id, "place": done.place, "private": done.private})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    return web.Response(body=_static(name), content_type=STATIC[name], headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application, editor: EditorService | None) -> None:
    app[EDITOR_KEY] = editor
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/e/{token}", page)
    app.router.add_get("/e/{token}/draft", draft)
    app.router.add_get("/e/{token}/image", image)
    app.router.add_get("/e/{token}/mask", start_mask)
    app.router.add_post("/e/{token}/preview", preview)
    app.router.add_post("/e/{token}/confirm", confirm)


__all__ = ["add_routes", "error_page"]
