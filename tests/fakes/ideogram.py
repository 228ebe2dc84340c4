"""A fake Ideogram edit API on aiohttp.web (127.0.0.1, random port) for tests, e2e runs and benchmarks.

It validates requests the way the real API documents them and *applies the mask honestly*: output
pixels where the mask is white are the input's, bit for bit (results are PNG); where the mask is black
they are a deterministic pattern derived from sha256(prompt, seed, index). Everything is recorded
(fields, files, headers) and the images in flight are measured so tests can assert the client's cap.

Choices where the real API is undocumented, so a test can rely on them:

* Mask values: by default only exact 0 and 255 are accepted (the API asks for pure values).
  ``mask_tolerance=t`` accepts values ``<= t`` as black and ``>= 255 - t`` as white (lossy JPEG masks).
  Colour masks are judged on their greyscale (``L``) conversion; alpha is ignored.
* A mask with no black pixel at all is rejected with 400 (there is nothing to edit).
* Unknown form fields are rejected with 400, so a client sending the other shape's names is caught.
* Errors are JSON; ``error_style`` picks the wrapper (``error``, ``nested``, ``detail``,
  ``code_message``) so clients' defensive parsing can be exercised.
* In task mode the edit POST pays the latency, answers with a Kling-style task, and images stay
  "in flight" until the poll that reports the final state.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import random
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from multidict import CIMultiDict
from PIL import Image

from bot.options import STYLE_PRESETS, ApiShape, AuthScheme
from bot.secret import Secret
from bot.settings import Settings

Shape = Literal["v3", "legacy"]
Route = Literal["edit", "poll", "result"]

DEFAULT_PATHS: dict[str, str] = {"v3": "/v1/ideogram-v3/edit", "legacy": "/edit"}
DEFAULT_TASK_PATH = "/v1/tasks/{task_id}"
MAX_FILE_BYTES = 10 * 1024 * 1024
SEED_MAX = 2_147_483_647

# Enums as published in the OpenAPI schemas (edit-schemas.json), not as the bot restricts them.
MAGIC = frozenset({"AUTO", "ON", "OFF"})
SPEEDS = frozenset({"FLASH", "TURBO", "BALANCED", "DEFAULT", "QUALITY"})
V3_STYLES = frozenset({"AUTO", "GENERAL", "REALISTIC", "DESIGN", "CUSTOM", "FICTION", "STYLIZED"})
LEGACY_STYLES = frozenset(
    {"AUTO", "GENERAL", "FICTION", "REALISTIC", "DESIGN", "RENDER_3D", "ANIME", "CUSTOM", "STYLIZED"}
)
LEGACY_EDIT_MODELS = frozenset({"V_2", "V_2_TURBO"})
PALETTE_PRESETS = frozenset({"EMBER", "FRESH", "JUNGLE", "MAGIC", "MELON", "MOSAIC", "PASTEL", "ULTRAMARINE"})
V3_FIELDS = frozenset(
    "image mask prompt magic_prompt num_images seed rendering_speed style_type style_preset color_palette "
    "style_codes".split()
)
LEGACY_FIELDS = frozenset(
    {"image_file", "mask", "prompt", "model", "magic_prompt_option", "num_images", "seed", "style_type"}
)
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_CODE = re.compile(r"^[0-9a-fA-F]{8}$")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass(slots=True)
class RecordedRequest:
    """One request as the fake saw it; ``status`` is what it answered (None: dropped/unfinished)."""

    route: Route
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    started: float = 0.0
    finished: float | None = None

    def field(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None


@dataclass(slots=True)
class Fault:
    """A queued deviation for the next request on a route."""

    kind: Literal["respond", "raw", "drop", "delay", "truncate"]
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay_s: float = 0.0


@dataclass(slots=True)
class _Job:
    prompt: str
    num_images: int
    seed: int | None
    magic: str | None
    style_type: str | None
    image: Image.Image
    mask: Image.Image  # mode L, exactly 0/255


@dataclass(slots=True)
class _Task:
    items: list[dict[str, Any]]
    num_images: int
    created_ms: int
    polls: int = 0
    done: bool = False


class _BadRequest(Exception):
    pass


class FakeIdeogram:
    """Configure in the constructor; ``latency_s``, ``output_size``, ``result_ttl_s``, ``unsafe_indices``,
    ``task_mode``, ``inflight_limit`` and ``error_style`` may also be changed while running.

    ``chunked_results`` (an attribute): results are sent without a Content-Length, in chunks of that
    many bytes, so a client learns their size only by reading; ``result_bytes_sent`` counts what the
    result route has written (a client that stops reading stops it)."""

    def __init__(
        self,
        *,
        shape: Shape | ApiShape = "v3",
        path: str | None = None,
        auth: Literal["api-key", "bearer"] | AuthScheme = "api-key",
        api_key: str = "fake-ideogram-key-0123456789",
        latency_s: float = 0.0,
        output_size: tuple[int, int] | None = None,
        result_ttl_s: float | None = None,
        task_mode: Literal["succeed", "fail"] | None = None,
        task_path: str = DEFAULT_TASK_PATH,
        task_polls: int = 1,
        task_failure: str = "The fake task failed on purpose.",
        task_poll_style: Literal["kling", "sync"] = "kling",
        unsafe_indices: tuple[int, ...] | frozenset[int] = (),
        inflight_limit: int | None = None,
        mask_tolerance: int = 0,
        error_style: Literal["error", "nested", "detail", "code_message"] = "error",
        keep_files: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.shape: str = str(shape)
        if self.shape not in DEFAULT_PATHS:
            raise ValueError(f"shape must be v3 or legacy, not {shape!r}")
        self.path = path or DEFAULT_PATHS[self.shape]
        self.auth: str = str(auth)
        self.api_key = api_key
        self.latency_s = latency_s
        self.output_size = output_size
        self.result_ttl_s = result_ttl_s
        self.task_mode = task_mode
        self.task_path = task_path
        self.task_polls = task_polls  # pending answers before the final one
        self.task_failure = task_failure
        self.task_poll_style = task_poll_style
        self.unsafe_indices = frozenset(unsafe_indices)
        self.inflight_limit = inflight_limit
        self.mask_tolerance = mask_tolerance
        self.error_style = error_style
        self.keep_files = keep_files
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._arrivals = asyncio.Event()  # set on every request; wait_for_requests re-arms it
        self.in_flight_images = 0
        self.peak_in_flight_images = 0
        self.in_flight_requests = 0
        self.peak_in_flight_requests = 0
        self._faults: dict[str, deque[Fault]] = {"edit": deque(), "poll": deque(), "result": deque()}
        self._results: dict[str, tuple[bytes, float]] = {}
        self.chunked_results: int | None = None
        self.result_bytes_sent = 0
        self._tasks: dict[str, _Task] = {}
        self._runner: web.AppRunner | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> FakeIdeogram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(self.path, self._handle_edit)
        app.router.add_get(self.task_path, self._handle_poll)
        app.router.add_get("/results/{name}", self._handle_result)
        # handler_cancellation: a client that gives up cancels the handler, so in-flight counts drop
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeIdeogram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("FakeIdeogram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def edit_url(self) -> str:
        return self.base_url + self.path

    def settings(self, **overrides: Any) -> Settings:
        """``Settings`` pointing at this fake (shape, path, auth, key, task path); override anything."""
        values: dict[str, Any] = {
            "ideogram_api_key": Secret(self.api_key),
            "ideogram_base_url": self.base_url,
            "ideogram_api": ApiShape(self.shape),
            "ideogram_edit_path": self.path,
            "ideogram_auth": AuthScheme(self.auth),
            "ideogram_task_path": self.task_path if self.task_mode else None,
        }
        values.update(overrides)
        return Settings(**values)

    # --- fault injection ---------------------------------------------------------------------------

    def respond_next(
        self,
        body: Any,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        times: int = 1,
        route: Route = "edit",
        after_s: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests on ``route`` with ``body`` (JSON-encoded unless bytes/str),
        ``after_s`` seconds after they arrive (a slow rejection)."""
        for _ in range(times):
            self._faults[route].append(Fault("respond", status, body, dict(headers or {}), delay_s=after_s))

    def fail_next(
        self,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        route: Route = "edit",
        after_s: float = 0.0,
    ) -> None:
        """Answer ``status`` (default body: an error in the configured ``error_style``)."""
        if body is None:
            body = self._error_body(f"Injected failure {status}.")
        self.respond_next(body, status=status, headers=headers, times=times, route=route, after_s=after_s)

    def malformed_next(
        self,
        body: bytes | str = b"<html><body>Bad gateway-ish nonsense</body></html>",
        *,
        status: int = 200,
        content_type: str = "text/html",
        times: int = 1,
        route: Route = "edit",
    ) -> None:
        """Answer with a raw, non-JSON (or truncated) body."""
        raw = body.encode() if isinstance(body, str) else body
        for _ in range(times):
            self._faults[route].append(Fault("raw", status, raw, content_type=content_type))

    def drop_next(self, *, times: int = 1, route: Route = "edit") -> None:
        """Read the request, then close the connection without any answer."""
        for _ in range(times):
            self._faults[route].append(Fault("drop"))

    def truncate_next(self, *, times: int = 1, route: Route = "edit") -> None:
        """Read the request, start a 200 answer announcing more bytes than it sends, then close the
        connection: the client sees the answer break off mid-body (``ClientPayloadError``)."""
        for _ in range(times):
            self._faults[route].append(Fault("truncate"))

    def delay_next(self, seconds: float, *, times: int = 1, route: Route = "edit") -> None:
        """Add ``seconds`` before the next requests are processed normally."""
        for _ in range(times):
            self._faults[route].append(Fault("delay", delay_s=seconds))

    async def wait_for_requests(self, count: int = 1, *, route: Route = "edit", timeout: float = 10.0) -> None:
        """Until ``count`` requests have arrived on ``route`` (e.g. "the job is at the API now")."""
        async with asyncio.timeout(timeout):
            while sum(r.route == route for r in self.requests) < count:
                self._arrivals.clear()
                await self._arrivals.wait()

    def clear_faults(self) -> None:
        for queue in self._faults.values():
            queue.clear()

    def pending_faults(self, route: Route = "edit") -> int:
        return len(self._faults[route])

    # --- what happened -------------------------------------------------------------------------

    @property
    def edit_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "edit"]

    @property
    def poll_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "poll"]

    @property
    def result_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == "result"]

    def reset_stats(self) -> None:
        self.requests.clear()
        self.peak_in_flight_images = self.in_flight_images
        self.peak_in_flight_requests = self.in_flight_requests

    def clear_results(self) -> None:
        self._results.clear()

    def store_result(self, data: bytes, ttl_s: float | None = None) -> str:
        """Serve ``data`` at a fresh signed-looking result URL (for hand-written answers in tests)."""
        token = secrets.token_urlsafe(12)
        ttl = ttl_s if ttl_s is not None else self.result_ttl_s if self.result_ttl_s is not None else 86400.0
        expires = time.time() + ttl
        self._results[token] = (data, expires)
        return f"{self.base_url}/results/{token}.png?exp={int(expires)}&sig={secrets.token_hex(8)}"

    @property
    def task_ids(self) -> list[str]:
        """Tasks created so far, oldest first (task mode)."""
        return list(self._tasks)

    # --- handlers ----------------------------------------------------------------------------------

    async def _handle_edit(self, request: web.Request) -> web.StreamResponse:
        record = self._record("edit", request)
        if request.content_type != "multipart/form-data":
            return self._error(record, 400, "Content-Type must be multipart/form-data.")
        try:
            fields, files = await self._read_multipart(request)
        except _BadRequest as exc:
            return self._error(record, 400, str(exc))
        record.fields = fields
        record.files = (
            files if self.keep_files else {k: UploadedFile(f.filename, f.content_type, b"") for k, f in files.items()}
        )
        early = await self._apply_fault(request, record)
        if early is not None:
            return early
        if not self._authorised(request):
            return self._error(record, 401, "Invalid or missing API key.")
        try:
            job = await asyncio.to_thread(self._validate, fields, files)
        except _BadRequest as exc:
            return self._error(record, 400, str(exc))
        limit = self.inflight_limit
        if limit is not None and self.in_flight_images + job.num_images > limit:
            body = {"error": "Too many images in flight.", "reject_reason": "inflight_limit"}
            return self._json(record, 429, body)
        return await self._process(record, job)

    async def _process(self, record: RecordedRequest, job: _Job) -> web.StreamResponse:
        n = job.num_images
        self._enter(n)
        handed_to_task = False
        try:
            if self.latency_s > 0:
                await asyncio.sleep(self.latency_s)
            items = await asyncio.to_thread(self._render_all, job)
            if self.task_mode:
                task_id = secrets.token_hex(10)
                now_ms = int(time.time() * 1000)
                self._tasks[task_id] = _Task(items, n, now_ms)
                handed_to_task = True
                body = {
                    "code": 0,
                    "message": "SUCCEED",
                    "request_id": task_id,
                    "data": {
                        "task_id": task_id,
                        "task_status": "submitted",
                        "created_at": now_ms,
                        "updated_at": now_ms,
                    },
                }
                return self._json(record, 200, body)
            return self._json(record, 200, {"created": _now_iso(), "data": items})
        finally:
            if not handed_to_task:
                self._leave(n)

    async def _handle_poll(self, request: web.Request) -> web.StreamResponse:
        record = self._record("poll", request)
        early = await self._apply_fault(request, record)
        if early is not None:
            return early
        if not self._authorised(request):
            return self._error(record, 401, "Invalid or missing API key.")
        task_id = request.match_info["task_id"]
        task = self._tasks.get(task_id)
        if task is None:
            return self._error(record, 404, f"Task {task_id} not found.")
        task.polls += 1
        now_ms = int(time.time() * 1000)
        data: dict[str, Any] = {"task_id": task_id, "created_at": task.created_ms, "updated_at": now_ms}
        if task.polls <= self.task_polls:
            data["task_status"] = "processing"
            return self._json(record, 200, {"code": 0, "message": "SUCCEED", "data": data})
        if not task.done:
            task.done = True
            self._leave(task.num_images)
        if self.task_mode == "fail":
            data.update(task_status="failed", task_status_msg=self.task_failure)
            return self._json(record, 200, {"code": 0, "message": "SUCCEED", "data": data})
        if self.task_poll_style == "sync":
            return self._json(record, 200, {"created": _now_iso(), "data": task.items})
        images = [dict(item, index=i) for i, item in enumerate(task.items)]
        data.update(task_status="succeed", task_status_msg="", task_result={"images": images})
        return self._json(record, 200, {"code": 0, "message": "SUCCEED", "data": data})

    async def _handle_result(self, request: web.Request) -> web.StreamResponse:
        record = self._record("result", request)
        early = await self._apply_fault(request, record)
        if early is not None:
            return early
        token = request.match_info["name"].removesuffix(".png")
        stored = self._results.get(token)
        if stored is None:
            return self._error(record, 404, "No such image.")
        data, expires = stored
        if time.time() >= expires:
            return self._error(record, 410, "This image link has expired.")
        record.status = 200
        if self.chunked_results is None:
            record.finished = time.monotonic()
            self.result_bytes_sent += len(data)
            return web.Response(body=data, content_type="image/png")
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(data), self.chunked_results):
                chunk = data[start : start + self.chunked_results]
                await response.write(chunk)
                self.result_bytes_sent += len(chunk)
            await response.write_eof()
        except ConnectionError:  # the client stopped reading and dropped the connection
            record.finished = time.monotonic()
            raise asyncio.CancelledError from None  # nothing more to say on a closed connection
        record.finished = time.monotonic()
        return response

    # --- request plumbing -------------------------------------------------------------------------

    def _record(self, route: Route, request: web.Request) -> RecordedRequest:
        record = RecordedRequest(
            route=route,
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=CIMultiDict(request.headers),
            started=time.monotonic(),
        )
        self.requests.append(record)
        self._arrivals.set()
        return record

    async def _apply_fault(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse | None:
        queue = self._faults[record.route]
        if not queue:
            return None
        fault = queue.popleft()
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay_s)
            return None
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.kind == "drop":
            if request.transport is not None:
                request.transport.abort()
            record.finished = time.monotonic()
            raise asyncio.CancelledError  # nothing more to say on a closed connection
        if fault.kind == "truncate":
            response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            response.content_length = 4096
            await response.prepare(request)
            await response.write(b'{"created": "c", "data": [')
            if request.transport is not None:
                request.transport.abort()
            record.status, record.finished = 200, time.monotonic()
            raise asyncio.CancelledError
        if fault.kind == "raw":
            record.status, record.finished = fault.status, time.monotonic()
            return web.Response(status=fault.status, body=fault.body, content_type=fault.content_type)
        if isinstance(fault.body, bytes | str):
            record.status, record.finished = fault.status, time.monotonic()
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
            return web.Response(status=fault.status, body=body, headers=fault.headers)
        return self._json(record, fault.status, fault.body, headers=fault.headers)

    def _authorised(self, request: web.Request) -> bool:
        if self.auth == "bearer":
            sent = request.headers.get("Authorization", "")
            expected = f"Bearer {self.api_key}"
        else:
            sent = request.headers.get("Api-Key", "")
            expected = self.api_key
        return bool(self.api_key) and hmac.compare_digest(sent.encode(), expected.encode())

    async def _read_multipart(self, request: web.Request) -> tuple[dict[str, list[str]], dict[str, UploadedFile]]:
        fields: dict[str, list[str]] = {}
        files: dict[str, UploadedFile] = {}
        try:
            reader = await request.multipart()
            async for part in reader:
                name = getattr(part, "name", None)
                if not name or not hasattr(part, "read_chunk"):
                    raise _BadRequest("Malformed multipart body.")
                if part.filename is not None:
                    buffer = bytearray()
                    while chunk := await part.read_chunk(256 * 1024):
                        buffer += chunk
                        if len(buffer) > MAX_FILE_BYTES:
                            raise _BadRequest(f"{name} must be at most 10MB.")
                    if name in files:
                        raise _BadRequest(f"{name} was sent more than once.")
                    content_type = part.headers.get("Content-Type")
                    files[name] = UploadedFile(part.filename, content_type, bytes(buffer))
                else:
                    fields.setdefault(name, []).append(await part.text())
        except (ValueError, AssertionError) as exc:
            raise _BadRequest(f"Malformed multipart body: {exc}") from None
        return fields, files

    def _enter(self, n: int) -> None:
        self.in_flight_images += n
        self.in_flight_requests += 1
        self.peak_in_flight_images = max(self.peak_in_flight_images, self.in_flight_images)
        self.peak_in_flight_requests = max(self.peak_in_flight_requests, self.in_flight_requests)

    def _leave(self, n: int) -> None:
        self.in_flight_images -= n
        self.in_flight_requests -= 1

    def _error_body(self, message: str) -> dict[str, Any]:
        style = self.error_style
        if style == "nested":
            return {"error": {"message": message, "type": "invalid_request_error"}}
        if style == "detail":
            return {"detail": message}
        if style == "code_message":
            return {"code": 1, "message": message}
        return {"error": message}

    def _error(self, record: RecordedRequest, status: int, message: str) -> web.Response:
        return self._json(record, status, self._error_body(message))

    def _json(
        self, record: RecordedRequest, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> web.Response:
        record.status, record.finished = status, time.monotonic()
        return web.json_response(body, status=status, headers=headers)

    # --- validation (runs in a worker thread) ------------------------------------------------------

    def _validate(self, fields: dict[str, list[str]], files: dict[str, UploadedFile]) -> _Job:
        v3 = self.shape == "v3"
        allowed = V3_FIELDS if v3 else LEGACY_FIELDS
        for name in [*fields, *files]:
            if name not in allowed:
                raise _BadRequest(f"Unexpected field {name!r} for this endpoint.")
        for name, values in fields.items():
            if len(values) > 1 and name != "style_codes":
                raise _BadRequest(f"{name} was sent more than once.")
        image_field = "image" if v3 else "image_file"
        for name in (image_field, "mask"):
            if name not in files:
                hint = " (it must be a file part)" if name in fields else ""
                raise _BadRequest(f"{name} is required{hint}.")

        def one(name: str) -> str | None:
            values = fields.get(name)
            return values[0] if values else None

        prompt = one("prompt")
        if prompt is None or not prompt.strip():
            raise _BadRequest("prompt is required.")
        if not v3:
            model = one("model")
            if model is None:
                raise _BadRequest("model is required.")
            if model not in LEGACY_EDIT_MODELS:
                raise _BadRequest("model must be V_2 or V_2_TURBO for /edit.")
        magic = one("magic_prompt" if v3 else "magic_prompt_option")
        _enum("magic_prompt" if v3 else "magic_prompt_option", magic, MAGIC)
        num_images = _int_field("num_images", one("num_images"), 1, 8, default=1)
        seed = _int_field("seed", one("seed"), 0, SEED_MAX, default=None)
        style_type = one("style_type")
        _enum("style_type", style_type, V3_STYLES if v3 else LEGACY_STYLES)
        if v3:
            _enum("rendering_speed", one("rendering_speed"), SPEEDS)
            _enum("style_preset", one("style_preset"), STYLE_PRESETS)
            palette = one("color_palette")
            if palette is not None:
                _check_palette(palette)
            codes = fields.get("style_codes", [])
            for code in codes:
                if not _CODE.match(code):
                    raise _BadRequest(f"style_codes: {code!r} is not 8 hexadecimal characters.")
            if codes and style_type is not None:
                raise _BadRequest("style_codes cannot be used together with style_type.")
        image = _decode(image_field, files[image_field].data)
        mask = _decode("mask", files["mask"].data)
        if mask.size != image.size:
            raise _BadRequest(
                f"mask must be the same size as the image ({mask.size[0]}x{mask.size[1]} vs "
                f"{image.size[0]}x{image.size[1]})."
            )
        return _Job(
            prompt=prompt,
            num_images=num_images,
            seed=seed,
            magic=magic,
            style_type=style_type,
            image=_normalise(image),
            mask=self._binary_mask(mask),
        )

    def _binary_mask(self, mask: Image.Image) -> Image.Image:
        grey = mask.convert("L")
        histogram = grey.histogram()
        t = max(0, min(self.mask_tolerance, 127))
        if sum(histogram[t + 1 : 255 - t]) > 0:
            raise _BadRequest("mask must be pure black and white (values 0 and 255 only).")
        if sum(histogram[: t + 1]) == 0:
            raise _BadRequest("mask has no black pixels: black marks the area to edit.")
        return grey.point(lambda v: 255 if v >= 128 else 0)

    # --- rendering (worker thread) ------------------------------------------------------------------

    def _render_all(self, job: _Job) -> list[dict[str, Any]]:
        first_seed = job.seed if job.seed is not None else random.randrange(0, SEED_MAX + 1)
        prompt_used = f"{job.prompt} (enhanced by MagicPrompt)" if job.magic == "ON" else job.prompt
        items = []
        for index in range(job.num_images):
            seed = (first_seed + index) % (SEED_MAX + 1)
            safe = index not in self.unsafe_indices
            png, (width, height) = render(job.image, job.mask, job.prompt, seed, index, self.output_size)
            items.append(
                {
                    "url": self._store(png) if safe else None,
                    "prompt": prompt_used,
                    "resolution": f"{width}x{height}",
                    "is_image_safe": safe,
                    "seed": seed,
                    "style_type": job.style_type or "AUTO",
                }
            )
        return items

    def _store(self, png: bytes) -> str:
        return self.store_result(png)


def render(
    image: Image.Image,
    mask: Image.Image,
    prompt: str,
    seed: int,
    index: int,
    output_size: tuple[int, int] | None = None,
) -> tuple[bytes, tuple[int, int]]:
    """Composite: the input where the mask is white, a deterministic pattern where it is black. PNG out."""
    generated = pattern(image.mode, image.size, prompt, seed, index)
    out = Image.composite(image, generated, mask)
    if output_size is not None and output_size != out.size:
        out = out.resize(output_size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    out.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue(), out.size


def pattern(mode: str, size: tuple[int, int], prompt: str, seed: int, index: int) -> Image.Image:
    """A checkerboard whose two colours and cell size come from sha256(prompt, seed, index)."""
    digest = hashlib.sha256(f"{prompt}\x00{seed}\x00{index}".encode()).digest()
    cell = 4 + digest[6] % 29
    width, height = size
    cols, rows = -(-width // cell), -(-height // cell)
    checker = Image.frombytes("L", (cols, rows), bytes(255 * ((x + y) % 2) for y in range(rows) for x in range(cols)))
    checker = checker.resize((cols * cell, rows * cell), Image.Resampling.NEAREST).crop((0, 0, width, height))
    first = Image.new(mode, size, _colour(mode, digest[0:3]))
    second = Image.new(mode, size, _colour(mode, digest[3:6]))
    return Image.composite(first, second, checker)


def _colour(mode: str, rgb: bytes) -> Any:
    r, g, b = rgb
    if mode == "L":
        return (r + g + b) // 3
    if mode == "LA":
        return ((r + g + b) // 3, 255)
    if mode == "RGBA":
        return (r, g, b, 255)
    return (r, g, b)


def _normalise(image: Image.Image) -> Image.Image:
    """Keep the decoded pixels as they are where possible, so kept regions stay bit-identical."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if image.mode in ("P", "PA") and ("transparency" in image.info or image.mode == "PA"):
        return image.convert("RGBA")
    return image.convert("RGB")


def _decode(name: str, data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in FORMATS:
                raise _BadRequest(f"{name} must be JPEG, PNG or WebP (got {img.format}).")
            img.load()
            return img.copy()
    except _BadRequest:
        raise
    except Exception:
        raise _BadRequest(f"{name} is not a readable JPEG, PNG or WebP image.") from None


def _enum(name: str, value: str | None, allowed: frozenset[str]) -> None:
    if value is not None and value not in allowed:
        raise _BadRequest(f"{name} must be one of {', '.join(sorted(allowed))} (got {value!r}).")


def _int_field(name: str, raw: str | None, low: int, high: int, *, default: int | None) -> Any:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"{name} must be an integer (got {raw!r}).") from None
    if not low <= value <= high:
        raise _BadRequest(f"{name} must be between {low} and {high} (got {value}).")
    return value


def _check_palette(raw: str) -> None:
    try:
        palette = json.loads(raw)
    except ValueError:
        raise _BadRequest("color_palette must be a JSON object.") from None
    if not isinstance(palette, dict):
        raise _BadRequest("color_palette must be a JSON object.")
    if set(palette) == {"name"}:
        if palette["name"] not in PALETTE_PRESETS:
            raise _BadRequest(f"color_palette.name must be one of {', '.join(sorted(PALETTE_PRESETS))}.")
        return
    members = palette.get("members") if set(palette) == {"members"} else None
    if not isinstance(members, list) or not 1 <= len(members) <= 8:
        raise _BadRequest("color_palette needs either name or 1 to 8 members.")
    for member in members:
        if not isinstance(member, dict) or not _HEX.match(str(member.get("color_hex", ""))):
            raise _BadRequest("color_palette.members[].color_hex must look like #RRGGBB.")
        weight = member.get("color_weight")
        if weight is not None and not (isinstance(weight, int | float) and 0.05 <= weight <= 1.0):
            raise _BadRequest("color_palette.members[].color_weight must be between 0.05 and 1.0.")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- sample inputs for tests and benchmarks -----------------------------------------------------------


def sample_image(width: int = 96, height: int = 64, fmt: str = "PNG") -> bytes:
    """A smooth two-way gradient: every pixel differs from its neighbours, so copies are detectable."""
    pixels = bytes(
        channel
        for y in range(height)
        for x in range(width)
        for channel in ((x * 255) // max(1, width - 1), (y * 255) // max(1, height - 1), (x + y) % 256)
    )
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(buffer, fmt)
    return buffer.getvalue()


def sample_mask(
    width: int = 96, height: int = 64, box: tuple[int, int, int, int] | None = None, fmt: str = "PNG"
) -> bytes:
    """White (keep) everywhere, black (edit) inside ``box`` (default: the middle third)."""
    box = box or (width // 3, height // 3, 2 * width // 3, 2 * height // 3)
    mask = Image.new("L", (width, height), 255)
    mask.paste(0, box)
    buffer = io.BytesIO()
    mask.save(buffer, fmt)
    return buffer.getvalue()
