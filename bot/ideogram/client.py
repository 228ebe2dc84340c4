"""The Ideogram edit client: one shared HTTP session, bounded retries, task polling, result downloads.

Decisions (nobody to ask, so written down here):

* The whole-request deadline (``IDEOGRAM_TIMEOUT_S``) starts once the in-flight slots are held, so
  time spent queueing behind other users is not charged to the API; it covers every attempt,
  backoff sleep and task poll. Result downloads have their own ``RESULT_DOWNLOAD_TIMEOUT_S``.
* Slots are held from before the first byte is sent until the API's final answer (incl. polling) and
  released before downloading: downloads do not count against Ideogram's in-flight quota.
* Billing-safe retries. Ideogram bills a request that ran to completion, not one it rejected (429)
  or whose generation failed (its own 500/503). So these are retried, and so are failures before the
  request was sent (connection refused, DNS, TLS handshake, connect timeout: aiohttp's
  ``ClientConnectorError`` and ``ConnectionTimeoutError``). A request that was sent and then lost
  (client-side timeout, ``ServerDisconnectedError``, ``ClientPayloadError``, a reset mid-answer) and
  a gateway's 502/504 (or Cloudflare's 520/524: the upstream may have finished) *may have been
  billed*: they are retried only when the operator sets ``IDEOGRAM_RETRY_MAYBE_BILLED``. Without it
  an attempt may use the whole deadline; with it each attempt gets at most ``attempt_timeout_s``
  (default: half the whole timeout) so one hung connection leaves room for a retry. Task polls
  (GETs) create nothing billable: they are always retried and always get at most half.
* The owned session never reuses a connection for the API (``force_close``): a kept-alive
  connection the server closed meanwhile fails as ``ServerDisconnectedError``, which is
  indistinguishable from a request lost after it was sent, and would then not be retried.
* Redirects are never followed on API calls (the key must not travel to another host). Result
  downloads carry no credentials and go through ``bot.ideogram.download``'s rules: public https
  links only, every redirect hop checked again, addresses checked in the connector's resolver.
* Nothing large is held whole (issue 11): inputs on disk (``ImageOnDisk``) are read from their files
  while the body is written (``request.ImagePart``), and given a ``store``, results are written to
  it chunk by chunk as they arrive (the cap checked on the way) and handed on as stored files.
* Errors are created outside ``except`` blocks (or raised ``from None``), so no aiohttp exception —
  which can reference request headers — hangs off ours; every text is redacted with the settings'
  secrets before it is raised or logged.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from bot import limits, metrics
from bot.errors import (
    ApiError,
    ApiMalformedResponse,
    ApiTaskFailed,
    ApiTaskPending,
    ApiTimeout,
    ApiUnavailable,
    BotError,
    InputError,
    ResultDownloadError,
)
from bot.i18n import UserText, msg
from bot.ideogram.download import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    AddressRefused,
    ResultUrlPolicy,
    download_session,
    refused,
)
from bot.ideogram.request import auth_headers, build_form, validate_request
from bot.ideogram.response import (
    Answer,
    ResultItem,
    TaskStatus,
    error_for_status,
    is_retryable_status,
    malformed,
    parse_answer,
    parse_json,
    parse_poll,
    parse_retry_after,
    reason_from_body,
)
from bot.imaging.decode import check_complete, image_on_disk
from bot.imaging.executor import run_pillow
from bot.inflight import ImageSlots
from bot.models import ApiImage, EditResult, ImageFile, ImageOnDisk, ResultImage
from bot.options import EditOptions
from bot.secret import redact
from bot.settings import Settings

log = logging.getLogger(__name__)

API_BODY_MAX_BYTES = 2 * 1024 * 1024  # a JSON answer bigger than this is not an Ideogram answer
_CHUNK = 64 * 1024
_EXPIRED_STATUSES = frozenset({401, 403, 404, 410})
# A gateway's "the upstream did not answer (in time)": the upstream may have finished, and billed.
GATEWAY_STATUSES = frozenset({502, 504, 520, 524, 598, 599})

Sleep = Callable[[float], Awaitable[None]]


class _TooLarge(Exception):
    """A body went past its cap; the connection is dropped instead of read to the end."""


class ResultStore(Protocol):
    """Where results are streamed to: the content-addressed store (``bot.store.FileStore``)."""

    async def put_stream(self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> str: ...
    def path(self, sha: str) -> Path: ...


class Retry(enum.Enum):
    """Whether a failed attempt may be sent again, by what it may have cost."""

    NO = "no"  # a final answer (4xx, malformed)
    SAFE = "safe"  # not billed: rejected (429/408), the API's own 5xx, or never sent
    MAYBE_BILLED = "maybe-billed"  # sent and then lost, or a gateway's 502/504


def retry_for_status(status: int) -> Retry:
    if status in GATEWAY_STATUSES:
        return Retry.MAYBE_BILLED
    return Retry.SAFE if is_retryable_status(status) else Retry.NO


def retry_for_exception(exc: BaseException) -> Retry:
    """Only a failure to connect proves nothing was sent; anything later may have reached the API."""
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return Retry.SAFE
    return Retry.MAYBE_BILLED


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One HTTP attempt: either a JSON ``payload`` or a typed ``error`` (maybe worth retrying)."""

    payload: Any = None
    error: ApiError | None = None
    retry: Retry = Retry.NO
    retry_after: float | None = None
    status: int | None = None


class IdeogramClient:
    """Talks to Ideogram's edit endpoint (or an aggregator speaking one of its shapes).

    ``session``: share an existing ``aiohttp.ClientSession`` (not closed by ``close``); otherwise one
    is created lazily and owned. ``slots``: the process-wide image cap; by default a private one of
    ``settings.max_images_in_flight``. Backoff/poll timings, ``sleep`` and ``rand`` are injectable so
    tests run in milliseconds.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        slots: ImageSlots | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        attempt_timeout_s: float | None = None,
        poll_interval_s: float = 1.0,
        poll_max_interval_s: float = 5.0,
        download_timeout_s: float = limits.RESULT_DOWNLOAD_TIMEOUT_S,
        result_max_bytes: int = limits.RESULT_MAX_BYTES,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._session = session
        self._owns_session = session is None
        self.slots = slots if slots is not None else ImageSlots(settings.max_images_in_flight)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        if attempt_timeout_s is None:  # a timed-out attempt is only retried with the opt-in
            retry_lost = settings.ideogram_retry_maybe_billed
            attempt_timeout_s = settings.ideogram_timeout_s / 2 if retry_lost else settings.ideogram_timeout_s
        self.attempt_timeout_s = attempt_timeout_s
        self._poll_timeout_s = settings.ideogram_timeout_s / 2
        self.poll_interval_s = poll_interval_s
        self.poll_max_interval_s = poll_max_interval_s
        self.download_timeout_s = download_timeout_s
        self.result_max_bytes = result_max_bytes
        self._sleep = sleep
        self._rand = rand
        self._url_policy = ResultUrlPolicy.for_base_url(settings.ideogram_base_url)
        self._download_session: aiohttp.ClientSession | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    def __repr__(self) -> str:
        s = self._settings
        return self._redact(f"IdeogramClient(url={s.edit_url!r}, shape={s.ideogram_api}, auth={s.ideogram_auth})")

    async def __aenter__(self) -> IdeogramClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._download_session is not None and not self._download_session.closed:
            await self._download_session.close()
        self._download_session = None
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    # --- the edit ------------------------------------------------------------------------------

    async def edit(
        self,
        image: ApiImage,
        mask: ApiImage,
        prompt: str,
        options: EditOptions,
        *,
        store: ResultStore | None = None,
    ) -> EditResult:
        """Run one edit and return the downloaded results; raises ``InputError`` or an ``ApiError``.

        Inputs in memory or on disk; with a ``store``, results are streamed into it and come back as
        ``ImageOnDisk`` (stored and pinned, named by ``sha``), otherwise as ``ImageFile`` bytes."""
        try:
            return await self._edit(image, mask, prompt, options, store)
        except BotError as error:
            error = self._scrub(error)
            level = logging.WARNING if isinstance(error, ApiError) else logging.DEBUG
            self._log(level, f"edit failed [{error.code}]: {error.detail}")
            raise error from None

    async def _edit(
        self, image: ApiImage, mask: ApiImage, prompt: str, options: EditOptions, store: ResultStore | None
    ) -> EditResult:
        shape = self._settings.ideogram_api
        text = validate_request(shape, image, mask, prompt, options)
        if options.num_images > self.slots.capacity:
            raise InputError(msg("api-slots", count=self.slots.capacity))
        loop = asyncio.get_running_loop()
        queued = loop.time()
        async with self.slots.hold(options.num_images):
            started = loop.time()
            answer, attempts = await self._run_api(image, mask, text, options)
            api_seconds = loop.time() - started
        fetched = loop.time()
        images = await self._download_all(answer.items, store)
        extras = {
            "queue_seconds": f"{started - queued:.3f}",
            "download_seconds": f"{loop.time() - fetched:.3f}",
        }
        if answer.request_id:
            extras["request_id"] = answer.request_id
        result = EditResult(
            images=images,
            created=answer.created,
            task_id=answer.task_id,
            api_seconds=api_seconds,
            attempts=attempts,
            extras=extras,
        )
        self._log(
            logging.INFO,
            f"edit ok shape={shape} attempts={attempts} api={api_seconds:.2f}s "
            f"download={extras['download_seconds']}s images={len(result.delivered)} "
            f"withheld={len(result.withheld)} task={answer.task_id or '-'}",
        )
        return result

    async def _run_api(self, image: ApiImage, mask: ApiImage, prompt: str, options: EditOptions) -> tuple[Answer, int]:
        """POST (with retries), then follow a task if one came back; all within the deadline."""
        s = self._settings
        timeout_s = s.ideogram_timeout_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        task_id: str | None = None

        def body() -> aiohttp.FormData:
            return build_form(s.ideogram_api, image, mask, prompt, options, s.ideogram_model)

        try:
            async with asyncio.timeout_at(deadline):
                payload, attempts = await self._call("POST", s.edit_url, body, deadline, where="edit")
                answer = parse_answer(payload)
                if answer.status is TaskStatus.PENDING:
                    task_id = answer.task_id
                    answer = await self._follow(answer, deadline)
        except TimeoutError:
            what = f" (task {task_id})" if task_id else ""
            raise ApiTimeout(
                msg("api-deadline", seconds=f"{timeout_s:g}"),
                detail=f"Ideogram edit{what} exceeded IDEOGRAM_TIMEOUT_S={timeout_s:g}",
            ) from None
        if answer.status is TaskStatus.FAILED:
            raise ApiTaskFailed(
                msg("api-task-failed", reason=UserText(str(answer.failure))),
                detail=f"Ideogram task {answer.task_id} failed: {answer.failure}",
            )
        return answer, attempts

    async def _follow(self, answer: Answer, deadline: float) -> Answer:
        """Poll a task until it succeeds or fails. The poll route is configured, never guessed."""
        task_id = answer.task_id or ""
        template = self._settings.ideogram_task_path
        if not template:
            raise ApiTaskPending(
                msg("api-task-pending", task=UserText(task_id)),
                detail=f"Ideogram answered with task {task_id} and IDEOGRAM_TASK_PATH is not set; set it "
                "to the aggregator's task-query path containing {task_id} (the task may still be billed).",
            )
        url = self._settings.ideogram_base_url.rstrip("/") + template.replace("{task_id}", quote(task_id, safe=""))
        loop = asyncio.get_running_loop()
        interval = self.poll_interval_s
        polls = 0
        while True:
            await self._sleep(max(0.0, min(interval, deadline - loop.time())))
            payload, _ = await self._call("GET", url, None, deadline, where=f"task poll {task_id}")
            polls += 1
            state = parse_poll(payload)
            self._log(logging.DEBUG, f"task {task_id} poll {polls}: {state.status}")
            if state.status is not TaskStatus.PENDING:
                return replace(
                    state,
                    task_id=state.task_id or task_id,
                    request_id=state.request_id or answer.request_id,
                )
            interval = min(interval * 1.5, self.poll_max_interval_s)

    async def _call(
        self,
        method: str,
        url: str,
        body: Callable[[], aiohttp.FormData] | None,
        deadline: float,
        *,
        where: str,
    ) -> tuple[Any, int]:
        """One logical call with bounded retries of what was not billed (module docstring)."""
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError  # the caller turns this into ApiTimeout
            started = loop.time()
            # a task poll creates nothing that is billed: it always gets room for a retry
            limit = self.attempt_timeout_s if body is not None else min(self.attempt_timeout_s, self._poll_timeout_s)
            outcome = await self._attempt(method, url, body, min(limit, remaining), where)
            took = loop.time() - started
            metrics.api_attempt(where, outcome.status, took, outcome.error)
            if outcome.error is None:
                self._log(logging.DEBUG, f"{where}: {outcome.status} on attempt {attempt} in {took:.2f}s")
                return outcome.payload, attempt
            error = outcome.error
            retries_left = self._settings.ideogram_max_retries - (attempt - 1)
            maybe_billed = outcome.retry is Retry.MAYBE_BILLED and body is not None  # a lost poll costs nothing
            if maybe_billed and not self._settings.ideogram_retry_maybe_billed:
                self._log(
                    logging.WARNING,
                    f"{where}: not retried after attempt {attempt} ({took:.2f}s; {error.detail}): the request "
                    "was sent and may have been billed (IDEOGRAM_RETRY_MAYBE_BILLED=true retries it)",
                )
                raise error
            retryable = outcome.retry is not Retry.NO
            if not retryable or retries_left <= 0:
                self._log(
                    logging.WARNING if retryable else logging.DEBUG,
                    f"{where}: status {outcome.status or '-'}, giving up after attempt {attempt} ({took:.2f}s)",
                )
                raise error
            remaining = deadline - loop.time()
            if outcome.retry_after is not None and outcome.retry_after >= remaining:
                error.detail += f" (Retry-After {outcome.retry_after:g}s is beyond the deadline)"
                self._log(logging.WARNING, f"{where}: giving up: {error.detail}")
                raise error
            delay = min(self._backoff(attempt, outcome.retry_after), max(0.0, remaining))
            self._log(
                logging.WARNING,
                f"{where}: attempt {attempt} failed in {took:.2f}s ({error.detail}); "
                f"retrying in {delay:.2f}s ({retries_left} left)",
            )
            await self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; a server's ``Retry-After`` is a floor."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        delay = self._rand() * ceiling
        return max(delay, retry_after) if retry_after is not None else delay

    async def _attempt(
        self,
        method: str,
        url: str,
        body: Callable[[], aiohttp.FormData] | None,
        timeout_s: float,
        where: str,
    ) -> _Outcome:
        session = self._get_session()
        failure: ApiError | None = None
        retry = Retry.MAYBE_BILLED
        try:
            async with session.request(
                method,
                url,
                data=body() if body is not None else None,
                headers=auth_headers(self._settings),
                timeout=aiohttp.ClientTimeout(total=max(timeout_s, 0.001)),
                allow_redirects=False,
            ) as response:
                status = response.status
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raw = await _read_capped(response, API_BODY_MAX_BYTES)
        except aiohttp.ConnectionTimeoutError as exc:  # before TimeoutError: it is one too
            retry = retry_for_exception(exc)
            failure = ApiUnavailable(
                msg("api-unreachable"),
                detail=f"Ideogram {where}: could not connect within {timeout_s:.1f}s",
            )
        except TimeoutError:
            failure = ApiTimeout(
                msg("api-timeout"),
                detail=f"Ideogram {where}: no answer within the {timeout_s:.1f}s attempt timeout",
            )
        except _TooLarge:
            retry = Retry.NO
            failure = malformed(f"{where} answer larger than {API_BODY_MAX_BYTES} bytes")
        except (aiohttp.ClientError, OSError) as exc:
            retry = retry_for_exception(exc)
            sent = "before sending" if retry is Retry.SAFE else "after sending"
            failure = ApiUnavailable(
                msg("api-unreachable"),
                detail=f"Ideogram {where}: network error {sent} {type(exc).__name__}: {self._redact(str(exc))}",
            )
        if failure is not None:
            return _Outcome(error=failure, retry=retry)
        if 200 <= status < 300:
            try:
                return _Outcome(payload=parse_json(raw), status=status)
            except ApiMalformedResponse as error:
                failure = error
            return _Outcome(error=failure, status=status)
        if 300 <= status < 400:
            error = ApiError(
                msg("api-redirect"),
                detail=f"Ideogram {where} answered {status} (redirect, not followed so the key stays "
                "put); check IDEOGRAM_BASE_URL (http vs https, trailing path)",
            )
            error.status = status
            return _Outcome(error=error, status=status)
        reason = reason_from_body(raw)
        error = error_for_status(status, self._redact(reason) if reason else None, where=where)
        return _Outcome(error=error, retry=retry_for_status(status), retry_after=retry_after, status=status)

    # --- results ---------------------------------------------------------------------------------

    async def _download_all(self, items: tuple[ResultItem, ...], store: ResultStore | None) -> tuple[ResultImage, ...]:
        """Fetch every delivered image at once (links expire); withheld ones stay, without pixels."""

        async def one(item: ResultItem) -> ResultImage:
            image = await self._download(item, store) if item.is_safe and item.url else None
            if item.is_safe and not item.url:
                self._log(logging.WARNING, f"result {item.index} is marked safe but has no URL")
            return ResultImage(
                index=item.index,
                seed=item.seed,
                is_safe=item.is_safe,
                prompt_used=item.prompt,
                resolution=item.resolution,
                image=image,
                style_type=item.style_type,
            )

        tasks = [asyncio.create_task(one(item)) for item in items]
        try:
            return tuple(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _download(self, item: ResultItem, store: ResultStore | None) -> ApiImage:
        """GET one result with no credentials, a size cap and its own timeout, into ``store`` chunk by
        chunk (or into memory without one); checked off the loop. Only public https links
        (``bot.ideogram.download``); redirects followed by hand, each hop checked again."""
        assert item.url is not None
        url = self._url_policy.check(item.index, item.url)
        failure: ResultDownloadError | None = None
        status = 0
        received: bytes | str = b""  # the bytes, or the sha in ``store``
        try:
            async with asyncio.timeout(self.download_timeout_s):
                for _ in range(MAX_REDIRECTS + 1):
                    async with self._get_download_session().get(
                        url, headers={"Accept": "image/*"}, allow_redirects=False
                    ) as response:
                        status = response.status
                        if status in REDIRECT_STATUSES:
                            url = self._url_policy.check_redirect(item.index, url, response.headers.get("Location"))
                            continue
                        if status == 200:
                            body = _capped(response, self.result_max_bytes)
                            received = await (_collect(body) if store is None else store.put_stream(body))
                        break
                else:
                    raise refused(item.index, f"more than {MAX_REDIRECTS} redirects")
        except TimeoutError:
            failure = ResultDownloadError(
                msg("download-timeout"),
                detail=f"result {item.index}: download exceeded {self.download_timeout_s:g}s",
            )
        except _TooLarge:
            failure = ResultDownloadError(
                msg("download-too-large"),
                detail=f"result {item.index}: larger than RESULT_MAX_BYTES={self.result_max_bytes}",
            )
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, AddressRefused):
                failure = refused(item.index, f"a link whose host {exc.os_error}")
            else:
                failure = ResultDownloadError(
                    msg("download-failed"),
                    detail=f"result {item.index}: {type(exc).__name__}: {self._redact(str(exc))}",
                )
        except (aiohttp.ClientError, OSError) as exc:
            failure = ResultDownloadError(
                msg("download-failed"),
                detail=f"result {item.index}: {type(exc).__name__}: {self._redact(str(exc))}",
            )
        if failure is None and status != 200:
            expired = status in _EXPIRED_STATUSES
            failure = ResultDownloadError(
                msg("download-expired") if expired else msg("download-status", status=str(status)),
                detail=f"result {item.index}: download answered {status}"
                + (" (expired or refused link)" if expired else ""),
            )
        if failure is not None:
            raise failure
        if isinstance(received, bytes):  # Pillow work: on its own, lower-priority pool (bot.imaging.executor)
            image: ApiImage | None = await run_pillow(_check_bytes, received)
        else:  # stored: one that is not an image stays unreferenced, and is swept once its pin expires
            assert store is not None
            image = await run_pillow(_check_file, store.path(received), received)
        if image is None:
            raise ResultDownloadError(
                msg("download-not-an-image"),
                detail=f"result {item.index}: a body that Pillow cannot decode",
            )
        return image

    # --- plumbing --------------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            # no cookies; a fresh connection per request (see the module docstring on force_close)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._owns_session = True
        return self._session

    def _get_download_session(self) -> aiohttp.ClientSession:
        """Always our own: its resolver refuses private addresses (an injected session has none)."""
        if self._download_session is None or self._download_session.closed:
            self._download_session = download_session(self._url_policy)
        return self._download_session

    def _redact(self, text: str) -> str:
        return redact(text, (*self._settings.secrets(), self._settings.ideogram_api_key.reveal()))

    def _scrub(self, error: BotError) -> BotError:
        """Belt and braces: whatever built the error, its texts leave without any secret."""
        error.user_message = self._redact(error.user_message)
        error.detail = self._redact(error.detail)
        error.args = (error.user_message,)
        return error

    def _log(self, level: int, message: str) -> None:
        if log.isEnabledFor(level):
            log.log(level, "%s", self._redact(message))


def _capped(response: aiohttp.ClientResponse, cap: int) -> AsyncIterator[bytes]:
    """A body's chunks, stopping (the connection is then dropped) as soon as it passes ``cap`` bytes:
    here, before anything is read or stored, when it announces more; otherwise before the chunk that
    goes past is handed on."""
    if response.content_length is not None and response.content_length > cap:
        raise _TooLarge
    return _chunks(response, cap)


async def _chunks(response: aiohttp.ClientResponse, cap: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        received += len(chunk)
        if received > cap:
            raise _TooLarge
        yield chunk


async def _collect(chunks: AsyncIterable[bytes]) -> bytes:
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
    return bytes(buffer)


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """Read a (small) body whole, within ``cap`` bytes."""
    return await _collect(_capped(response, cap))


def _check_bytes(data: bytes) -> ImageFile | None:
    """A downloaded result: a whole image of its real size (never assume the input's), or None."""
    try:
        info = check_complete(data)
    except InputError:
        return None
    return ImageFile(data, info.mime, info.width, info.height)


def _check_file(path: Path, sha: str) -> ImageOnDisk | None:
    """``_check_bytes`` for a result streamed into the store: Pillow reads it piecewise, never whole."""
    try:
        return image_on_disk(path, sha, complete=True)
    except (InputError, OSError):
        return None
