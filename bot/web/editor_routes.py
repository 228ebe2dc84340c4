"""The mask editor's routes: the page, its image and starting mask, preview and confirm.

Every route under ``/e/{token}`` checks the token through ``EditorService.open`` first, so a draft's
image is reachable only with a genuine, current, unused link. The page is static HTML (the script reads
the token from its own URL); API answers are JSON, errors carry the user-facing message.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING

from aiohttp import web

from bot.editor import NOT_ENABLED, LinkExpired, LinkForged, LinkUsed
from bot.errors import BotError, Forbidden, InputError, NotFound, QuotaExceeded
from bot.i18n import CATALOGUE, DEFAULT_LOCALE, Mention, Message, Moment, msg, plain

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
# What the page's script says; formatted here with "{name}" slots the script fills in (editor.js ``t``).
SCRIPT_TEXTS = {
    "web-link-until": {"until": "{until}"},
    "web-error-status": {"status": "{status}"},
    "web-mark-first": {},
    "web-making-preview": {},
    "web-preview-ready": {},
    "web-queueing": {},
    "web-where-private": {},
    "web-where-posted": {"place": "{place}"},
    "web-queued": {"job": "{job}", "where": "{where}"},
    "web-could-not-start": {"error": "{error}"},
    "editor-place-command-channel": {},
}
_SLOT = re.compile(r"\{\{([a-z0-9-]+)\}\}")


@functools.cache
def _static(name: str) -> bytes:
    """A file of the page, read once (``add_routes`` reads them all before the first request)."""
    return resources.files("bot.web").joinpath("static", name).read_bytes()


def status_of(error: BotError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 500


def request_locale(request: web.Request) -> str:
    """The page's language: the draft's when the page sends it back (``Accept-Language``, set by
    editor.js from the page's ``lang``), else the browser's first choice; English otherwise."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return CATALOGUE.negotiate(first or None)


@functools.cache
def editor_page(locale: str) -> str:
    """editor.html with every ``{{id}}`` filled from the catalogue in ``locale`` (HTML-escaped). It
    depends on nothing else, so each language's page is made once (``add_routes``: at start-up)."""
    texts = {key: CATALOGUE.format(key, locale, **args) for key, args in SCRIPT_TEXTS.items()}
    slots = {"lang": locale, "texts": json.dumps(texts, ensure_ascii=False).replace("</", "<\\/")}
    template = _static("editor.html").decode("utf-8")
    return _SLOT.sub(lambda m: slots[m[1]] if m[1] in slots else html.escape(CATALOGUE.format(m[1], locale)), template)


def error_page(status: int, message: str, locale: str = DEFAULT_LOCALE) -> web.Response:
    title = CATALOGUE.format("web-error-title", locale, status=status)
    body = (
        f'<!doctype html><html lang="{html.escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="../static/editor.css"></head>'
        f'<body class="message"><main><h1>{html.escape(title)}</h1><p role="alert">{html.escape(message)}</p>'
        "</main></body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def page_value(locale: str, now: datetime | None = None) -> Callable[[object], object]:
    """Typed values as the page shows them (``adapt`` for ``Catalogue.format``): the page has no
    Discord markup and no reader's time zone, so a relative time is worded from ``now`` ("in 5
    minutes"), any other time is a UTC clock time (``bot.i18n.plain``), and a user is "its owner"."""
    now = now or datetime.now(UTC)

    def adapt(value: object) -> object:
        if isinstance(value, datetime):
            value = Moment(value)
        if isinstance(value, Moment) and value.style == "R":
            minutes = max(1, math.ceil((value.at - now).total_seconds() / 60))
            hours = round(minutes / 60) if minutes >= 90 else 0
            return CATALOGUE.format("web-in", locale, minutes=minutes, hours=hours)
        if isinstance(value, Mention):
            return CATALOGUE.format("web-someone", locale)
        return plain(value)

    return adapt


def web_message(message: Message, locale: str) -> str:
    return CATALOGUE.format(message, locale, adapt=page_value(locale))


def error_json(error: BotError, locale: str = DEFAULT_LOCALE) -> web.Response:
    status = status_of(error)
    internal = CATALOGUE.format("web-error-internal", locale)
    message = web_message(error.message, locale) if status != 500 else internal
    body = {"error": error.code, "message": message}
    if isinstance(error, QuotaExceeded) and error.retry_at is not None:
        body["retry_at"] = error.retry_at.isoformat()
    return web.json_response(body, status=status)


def _editor(request: web.Request) -> EditorService:
    editor = request.app[EDITOR_KEY]
    if editor is None or not editor.enabled:
        raise web.HTTPNotFound(text=CATALOGUE.format(NOT_ENABLED, request_locale(request)))
    return editor


async def page(request: web.Request) -> web.Response:
    editor = _editor(request)
    try:
        shown = await editor.open(request.match_info["token"])
    except BotError as error:
        locale = request_locale(request)
        return error_page(status_of(error), web_message(error.message, locale), locale)
    locale = CATALOGUE.negotiate(shown.requester.locale)  # the member's language, stored with the draft
    return web.Response(text=editor_page(locale), content_type="text/html")


async def draft(request: web.Request) -> web.Response:
    try:
        shown = await _editor(request).view(request.match_info["token"])
    except BotError as error:
        return error_json(error, request_locale(request))
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
        return error_json(error, request_locale(request))
    return web.Response(body=data, content_type=mime)


async def start_mask(request: web.Request) -> web.Response:
    try:
        data = await _editor(request).start_mask(request.match_info["token"])
    except BotError as error:
        return error_json(error, request_locale(request))
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
        return error_json(error, request_locale(request))
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
        return error_json(error, request_locale(request))
    return web.json_response({"job_id": done.job_id, "place": done.place, "private": done.private})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    return web.Response(body=_static(name), content_type=STATIC[name], headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application, editor: EditorService | None) -> None:
    """The editor's routes; the files they serve are read, and the page made in every language, here
    rather than on the event loop at a request."""
    for name in STATIC:
        _static(name)
    for locale in CATALOGUE.locales:
        editor_page(locale)
    app[EDITOR_KEY] = editor
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/e/{token}", page)
    app.router.add_get("/e/{token}/draft", draft)
    app.router.add_get("/e/{token}/image", image)
    app.router.add_get("/e/{token}/mask", start_mask)
    app.router.add_post("/e/{token}/preview", preview)
    app.router.add_post("/e/{token}/confirm", confirm)


__all__ = ["add_routes", "error_page"]
