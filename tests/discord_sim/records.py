"""What the simulation saw and answered: REST calls, gateway frames, dispatched interactions, and the
event-based waiting on them (every new record wakes matching waiters; no sleeps in tests).

Everything is recorded *after* the handler decided the answer, so a recorded call already carries its
``status``/``response``; ``at`` is the monotonic time the request arrived (ack-latency benchmark:
``SimInteraction.ack_latency`` = callback arrival - INTERACTION_CREATE write).
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .discord_types import CallbackType, ErrorCode, error_body, form_error
from .entities import SimUser

JSON = "application/json"  # exactly: discord.py parses a body as JSON only for this Content-Type
PathPattern = str | re.Pattern[str]
WaitKind = Literal["call", "message", "gateway"]


@dataclass
class RecordedFile:
    field: str  # "files[0]"
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(eq=False)
class RecordedCall:
    """One REST request as the simulation saw and answered it.

    ``path`` is relative to the API base (``/channels/1/messages``); ``json`` is the JSON body or the
    multipart ``payload_json``; ``kind`` classifies interaction traffic: ``callback``, ``followup``,
    ``get_original``/``edit_original``/``delete_original`` and ``get_message``/``edit_message``/
    ``delete_message`` (follow-ups by id); ``message_id`` is the message the call created or touched.
    """

    seq: int
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    at: float
    status: int = 0
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    interaction_id: int | None = None
    kind: str | None = None
    message_id: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __repr__(self) -> str:
        extra = f" kind={self.kind}" if self.kind else ""
        return f"<RecordedCall #{self.seq} {self.method} {self.path} -> {self.status}{extra}>"


@dataclass(eq=False)
class GatewayEvent:
    """``kind``: connect, recv (from the client), send (to it), ready, resumed, close."""

    kind: str
    connection: int
    at: float
    op: int | None = None
    t: str | None = None
    d: Any = field(default=None, repr=False)
    seq: int | None = None


@dataclass(eq=False)
class SimInteraction:
    """An interaction the simulation dispatched, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any] = field(repr=False)
    user: SimUser
    channel_id: int
    guild_id: int | None
    name: str | None = None  # command name, or custom_id for components and modals
    command_type: int | None = None
    message_id: int | None = None  # the message a component (or modal-from-component) came from
    dispatched_at: float = 0.0  # monotonic, just before INTERACTION_CREATE was written
    expires_at: float = 0.0  # wall clock (time.time())
    callback: RecordedCall | None = None
    original_message_id: int | None = None
    followups: int = 0
    calls: list[RecordedCall] = field(default_factory=list, repr=False)

    @property
    def data(self) -> dict[str, Any]:
        return self.payload.get("data", {})

    @property
    def acked(self) -> bool:
        return self.callback is not None and self.callback.ok

    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None or not self.callback.ok else int(self.callback.json["type"])

    @property
    def ack_latency(self) -> float | None:
        """Seconds from writing INTERACTION_CREATE to receiving the (successful) initial callback."""
        return None if not self.acked else self.callback.at - self.dispatched_at  # type: ignore[union-attr]

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened in answer (callback type 9), as sent."""
        return self.callback.json.get("data") if self.callback_type == CallbackType.MODAL else None  # type: ignore[union-attr]


@dataclass(eq=False)
class _Waiter:
    kind: WaitKind
    predicate: Callable[[Any], bool]
    future: asyncio.Future[Any]


class ApiError(Exception):
    """Raised by handlers; becomes Discord's error JSON with this status."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str | None = None,
        *,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message or ''}")
        self.status = status
        self.body = error_body(code, message, errors)
        self.headers = dict(headers or {})


def invalid_form(path: list[str | int], code: str, message: str) -> ApiError:
    """400 50035 "Invalid Form Body" with Discord's nested ``errors`` for ``path``."""
    return ApiError(400, ErrorCode.INVALID_FORM_BODY, errors=form_error(path, code, message))


def path_matches(pattern: PathPattern, path: str) -> bool:
    """A compiled regex must match the whole path; a string is an fnmatch glob (``*`` crosses ``/``)."""
    if isinstance(pattern, re.Pattern):
        return pattern.fullmatch(path) is not None
    return fnmatch.fnmatchcase(path, pattern)


# --------------------------------------------------------------------------------------- simulation


class Waiters:
    """Futures waiting for a record of one kind; ``notify`` resolves those whose predicate accepts it."""

    def __init__(self) -> None:
        self._waiters: list[_Waiter] = []

    async def wait(
        self,
        kind: WaitKind,
        predicate: Callable[[Any], bool],
        history: Iterable[Any],
        *,
        timeout: float,
        past: bool,
        describe: Callable[[], str],
    ) -> Any:
        """The first item of ``history`` (if ``past``), else the next one notified, that ``predicate``
        accepts. ``TimeoutError`` carries ``describe()`` (the latest calls)."""
        if past:
            for item in history:
                if predicate(item):
                    return item
        waiter = _Waiter(kind, predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            raise TimeoutError(f"no {kind} matched within {timeout}s; latest calls:\n  {describe()}") from None
        finally:
            self._waiters.remove(waiter)

    def notify(self, kind: WaitKind, item: Any) -> None:
        for waiter in list(self._waiters):
            if waiter.kind != kind or waiter.future.done():
                continue
            try:
                matched = waiter.predicate(item)
            except Exception as exc:  # a broken predicate should fail the test, not hang it
                waiter.future.set_exception(exc)
                continue
            if matched:
                waiter.future.set_result(item)

    def cancel_all(self) -> None:
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.cancel()
