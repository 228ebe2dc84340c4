"""The REST side: every request becomes a :class:`~.records.RecordedCall`, is tied to its interaction,
checked (auth, injected faults) and routed to a handler of one of the :mod:`.routes` groups.

Interaction traffic is classified *before* anything can fail, so rejected and injected calls show up
in ``interaction_responses`` too. Injected faults answer the next matching calls instead of the
handler (the call is still recorded).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .discord_types import ErrorCode, error_body
from .records import JSON, ApiError, PathPattern, RecordedCall, RecordedFile, Waiters, path_matches
from .routes import Route
from .world import World

log = logging.getLogger("discord_sim")

_CALLBACK_PATH = re.compile(r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback")
_WEBHOOK_PATH = re.compile(r"/webhooks/\d+/(?P<token>[^/]+)(?:/messages/(?P<message_id>[^/]+))?")


@dataclass
class _Injection:
    pattern: PathPattern
    method: str | None
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


class RestServer:
    """Records, classifies and routes ``/api/v{n}/...`` requests."""

    def __init__(self, world: World, waiters: Waiters, routes: list[Route], *, token: str | None) -> None:
        self.world = world
        self.waiters = waiters
        self.token = token
        self.calls: list[RecordedCall] = []
        self._routes = [(method, re.compile(pattern), handler) for method, pattern, handler in routes]
        self._injections: list[_Injection] = []
        self._call_seq = itertools.count(1)

    def calls_to(self, pattern: PathPattern, method: str | None = None) -> list[RecordedCall]:
        """Recorded calls whose path matches (glob like ``/channels/*/messages`` or a compiled regex)."""
        return [
            c for c in self.calls if path_matches(pattern, c.path) and (method is None or c.method == method.upper())
        ]

    def inject(
        self,
        path: PathPattern,
        *,
        method: str | None = None,
        status: int = 500,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` matching REST calls with this status/body instead of handling them
        (they are still recorded). Note discord.py retries 500/502/504/524 itself, sleeping 1+2n s."""
        if body is None:
            body = error_body(0, f"{status}: simulated failure")
        self._injections.append(
            _Injection(path, method.upper() if method else None, status, body, dict(headers or {}), count)
        )

    async def handle(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        path = "/" + request.match_info["tail"]
        call = RecordedCall(
            seq=next(self._call_seq),
            method=request.method,
            path=path,
            query=dict(request.query),
            json=None,
            files=[],
            headers={k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in request.headers.items()},
            at=at,
        )
        headers: dict[str, str] = {}
        try:
            self._classify(call)
            await self._read_body(request, call)
            self._check_auth(call, request.headers.get("Authorization"))
            injected = self._take_injection(call)
            if injected is not None:
                status, body, headers = injected.status, injected.body, injected.headers
            else:
                status, body = await self._route(call)
        except ApiError as err:
            status, body, headers = err.status, err.body, err.headers
        call.status, call.response, call.response_headers = status, body, headers
        self.calls.append(call)
        log.debug("%s %s -> %s", call.method, call.path, status)
        self.waiters.notify("call", call)
        if status == 204 or body is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        return web.Response(status=status, body=json.dumps(body).encode(), headers={"Content-Type": JSON, **headers})

    def _classify(self, call: RecordedCall) -> None:
        """Tie interaction traffic to its interaction (``kind``, ``interaction_id``) before anything
        can fail, so rejected and injected calls show up in ``interaction_responses`` too."""
        found = _CALLBACK_PATH.fullmatch(call.path)
        if found is not None:
            inter = self.world.interactions.get(int(found["interaction_id"]))
            kind = "callback"
        else:
            found = _WEBHOOK_PATH.fullmatch(call.path)
            if found is None:
                return
            inter = self.world.tokens.get(found["token"])
            verb = {"GET": "get", "PATCH": "edit", "DELETE": "delete", "POST": "followup"}.get(call.method, "other")
            target = found["message_id"]
            kind = verb if target is None else f"{verb}_original" if target == "@original" else f"{verb}_message"
        call.kind = kind
        if inter is not None and inter.token == found["token"]:
            call.interaction_id = inter.id
            inter.calls.append(call)

    async def _read_body(self, request: web.Request, call: RecordedCall) -> None:
        ctype = request.content_type
        if ctype == "multipart/form-data":
            reader = await request.multipart()
            index = 0
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: Discord does not use it
                raw = await part.read(decode=False)
                if part.name == "payload_json":
                    call.json = self._parse_json(raw)
                elif part.filename:
                    name = part.name or f"files[{index}]"
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    call.files.append(RecordedFile(name, part.filename, content_type, bytes(raw)))
                    index += 1
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                call.json = self._parse_json(raw)

    @staticmethod
    def _parse_json(raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, ErrorCode.INVALID_JSON) from None

    def _check_auth(self, call: RecordedCall, authorization: str | None) -> None:
        if self.token is None or call.path.startswith(("/webhooks/", "/interactions/")):
            return
        if authorization != f"Bot {self.token}":
            raise ApiError(401, 0, "401: Unauthorized")

    def _take_injection(self, call: RecordedCall) -> _Injection | None:
        for inj in self._injections:
            if inj.remaining > 0 and (inj.method in (None, call.method)) and path_matches(inj.pattern, call.path):
                inj.remaining -= 1
                if "X-RateLimit-Reset-After" in inj.headers:  # keep the absolute reset time current
                    retry = float(inj.headers["X-RateLimit-Reset-After"])
                    inj.headers["X-RateLimit-Reset"] = f"{time.time() + retry:.3f}"
                return inj
        return None

    async def _route(self, call: RecordedCall) -> tuple[int, Any]:
        allowed = False
        for method, pattern, handler in self._routes:
            found = pattern.fullmatch(call.path)
            if found is None:
                continue
            allowed = True
            if method == call.method:
                return await handler(call, **found.groupdict())
        if allowed:
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise ApiError(404, 0, "404: Not Found")
