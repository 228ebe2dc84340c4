"""The gateway: sessions and dispatch (:class:`Dispatcher`) and the websocket protocol (:class:`Gateway`).

One *active* connection receives dispatches (the newest that IDENTIFYed or RESUMEd). A session keeps a
backlog, so a client that lost its socket RESUMEs and gets what it missed; a new process IDENTIFYs and
gets a new session. Plain JSON text frames (discord.py only inflates binary ones).

The dispatcher knows nothing of the world, so the world can queue events (GUILD_CREATE, MESSAGE_CREATE…)
through it without a cycle; the websocket side reads the world to answer IDENTIFY with READY.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .records import GatewayEvent, SimInteraction, Waiters

if TYPE_CHECKING:
    from .world import World

log = logging.getLogger("discord_sim")

_OP_DISPATCH, _OP_HEARTBEAT, _OP_IDENTIFY = 0, 1, 2
_OP_RESUME, _OP_REQUEST_MEMBERS, _OP_INVALID_SESSION = 6, 8, 9
_OP_HELLO, _OP_HEARTBEAT_ACK = 10, 11
NOT_READY = "no gateway client is connected and ready (await sim.wait_ready() first)"


@dataclass(eq=False)
class GatewaySession:
    id: str
    intents: int
    identify: dict[str, Any]
    seq: int = 0
    backlog: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=5000))


@dataclass(eq=False)
class GatewayConnection:
    id: int
    ws: web.WebSocketResponse
    query: dict[str, str]
    session: GatewaySession | None = None
    ready: bool = False
    closed: bool = False
    close_code: int | None = None


class Dispatcher:
    """Sessions, connections and the ordered delivery of DISPATCH events to the active one.

    Synchronous world-building code queues events (:meth:`queue_event`); they are sent after anything
    queued earlier and before anything dispatched later, under one lock."""

    def __init__(self, waiters: Waiters, describe: Callable[[], str]) -> None:
        self._waiters = waiters
        self._describe = describe
        self.gateway_log: list[GatewayEvent] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.active: GatewayConnection | None = None
        self.last_session: GatewaySession | None = None
        self.last_ready: GatewayConnection | None = None
        self.lock = asyncio.Lock()
        self._outbox: list[tuple[str, dict[str, Any], int]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def intents(self) -> int | None:
        """The intents of the session events go to (None before any client identified)."""
        return None if self.last_session is None else self.last_session.intents

    async def close(self) -> None:
        for conn in self.connections:
            if not conn.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=1001, message=b"simulation stopping")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------------------------ waiting

    async def wait_ready(self, *, timeout: float = 10.0, identifies: int | None = None) -> GatewayConnection:
        def ready(_: Any = None) -> bool:
            conn = self.active
            return (
                conn is not None
                and conn.ready
                and not conn.closed
                and (identifies is None or self.identify_count >= identifies)
            )

        if not ready():
            await self._waiters.wait(
                "gateway",
                lambda e: e.kind in ("ready", "resumed") and ready(),
                (),
                timeout=timeout,
                past=False,
                describe=self._describe,
            )
        assert self.active is not None
        return self.active

    async def wait_disconnected(
        self, connection: GatewayConnection | None = None, *, timeout: float = 10.0
    ) -> GatewayEvent:
        conn = connection or self.last_ready
        if conn is None:
            raise RuntimeError("no client has connected yet")
        return await self._waiters.wait(
            "gateway",
            lambda e: e.kind == "close" and e.connection == conn.id,
            list(self.gateway_log),
            timeout=timeout,
            past=True,
            describe=self._describe,
        )

    def require_connection(self) -> GatewayConnection:
        conn = self.active
        if conn is None or not conn.ready or conn.closed:
            raise RuntimeError(NOT_READY)
        return conn

    # ----------------------------------------------------------------------------------- sending

    async def dispatch(
        self,
        t: str,
        d: dict[str, Any],
        *,
        intent: int = 0,
        required: bool = False,
        interaction: SimInteraction | None = None,
    ) -> None:
        """Send a DISPATCH now (kept in the session backlog while no client is connected)."""
        async with self.lock:
            await self.flush_outbox()
            conn = self.active
            if required and (conn is None or not conn.ready or conn.closed):
                raise RuntimeError(NOT_READY)
            session = conn.session if conn is not None else self.last_session
            if session is None or (intent and not session.intents & intent):
                return
            if interaction is not None:
                interaction.dispatched_at = time.monotonic()
            await self.send_dispatch(conn, session, t, d)

    def queue_event(self, t: str, d: dict[str, Any], intent: int = 0) -> None:
        """From synchronous code: send after anything queued earlier, before anything dispatched later."""
        if self.last_session is None:
            return  # nobody has connected yet: READY/GUILD_CREATE will carry the state
        self._outbox.append((t, d, intent))
        self._spawn(self._flush())

    def clear_outbox(self) -> None:
        self._outbox.clear()

    async def _flush(self) -> None:
        async with self.lock:
            await self.flush_outbox()

    async def flush_outbox(self) -> None:
        """Caller holds ``lock``."""
        pending, self._outbox = self._outbox, []
        conn = self.active
        session = conn.session if conn is not None else self.last_session
        if session is None:
            return
        for t, d, intent in pending:
            if not intent or session.intents & intent:
                await self.send_dispatch(conn, session, t, d)

    async def send(self, conn: GatewayConnection, payload: dict[str, Any], *, record: bool = True) -> None:
        if conn.closed or conn.ws.closed:
            return
        try:
            await conn.ws.send_str(json.dumps(payload))
        except (ConnectionError, RuntimeError) as exc:  # the client went away mid-send
            log.debug("gateway send to connection %s failed: %s", conn.id, exc)
            return
        if record:
            op, t, d, seq = payload.get("op"), payload.get("t"), payload.get("d"), payload.get("s")
            self.log(conn, "send", op=op, t=t, d=d, seq=seq)

    async def send_dispatch(self, conn: GatewayConnection | None, session: GatewaySession, t: str, d: Any) -> None:
        session.seq += 1
        payload = {"op": _OP_DISPATCH, "t": t, "s": session.seq, "d": d}
        session.backlog.append(payload)
        if conn is not None and conn.session is session:
            await self.send(conn, payload)

    def log(self, conn: GatewayConnection, kind: str, **fields: Any) -> None:
        event = GatewayEvent(kind, conn.id, time.monotonic(), **fields)
        self.gateway_log.append(event)
        self._waiters.notify("gateway", event)

    def _spawn(self, coro: Any) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no loop (building the world before start): READY will carry it
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class Gateway:
    """The websocket endpoint: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME, member chunks."""

    def __init__(
        self,
        world: World,
        dispatcher: Dispatcher,
        *,
        token: str | None,
        heartbeat_interval_ms: int,
        gateway_url: Callable[[], str],
    ) -> None:
        self.world = world
        self.dispatcher = dispatcher
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._gateway_url = gateway_url
        self._conn_seq = itertools.count(1)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        d = self.dispatcher
        conn = GatewayConnection(next(self._conn_seq), ws, dict(request.query))
        d.connections.append(conn)
        d.log(conn, "connect")
        await d.send(conn, {"op": _OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                await self._on_frame(conn, frame)
        finally:
            conn.closed = True
            conn.close_code = ws.close_code
            if d.active is conn:
                d.active = None
            d.log(conn, "close", d={"code": ws.close_code})
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op != _OP_HEARTBEAT:
            self.dispatcher.log(conn, "recv", op=op, d=_redact(data))
        if op == _OP_HEARTBEAT:
            await self.dispatcher.send(conn, {"op": _OP_HEARTBEAT_ACK, "d": None}, record=False)
        elif op == _OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op == _OP_RESUME:
            await self._resume(conn, data or {})
        elif op == _OP_REQUEST_MEMBERS:
            await self._request_members(conn, data or {})
        # presence updates (3), voice (4) and the rest are only logged

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if self.token is not None and data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = GatewaySession(secrets.token_hex(16), int(data.get("intents", 0)), _redact(data))
        self.dispatcher.sessions[session.id] = session
        self.dispatcher.identify_count += 1
        async with self.dispatcher.lock:
            conn.session = session
            self.dispatcher.active, self.dispatcher.last_session = conn, session
            self.dispatcher.clear_outbox()  # a fresh session starts from READY + GUILD_CREATE: nothing to replay
            ready: dict[str, Any] = {
                "v": 10,
                "user": self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False, "email": None},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in self.world.bot_guilds()],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self._gateway_url(),
                "application": {"id": str(self.world.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": ["local"],
                "user_settings": {},
            }
            if "shard" in data:
                ready["shard"] = data["shard"]
            await self.dispatcher.send_dispatch(conn, session, "READY", ready)
            for guild in self.world.bot_guilds():
                await self.dispatcher.send_dispatch(
                    conn, session, "GUILD_CREATE", self.world.guild_create_payload(guild)
                )
            conn.ready = True
            self.dispatcher.last_ready = conn
        self.dispatcher.log(conn, "ready")

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.dispatcher.sessions.get(str(data.get("session_id")))
        if session is None or (self.token is not None and data.get("token") != self.token):
            await self.dispatcher.send(conn, {"op": _OP_INVALID_SESSION, "d": False})
            return
        self.dispatcher.resume_count += 1
        after = int(data.get("seq") or 0)
        async with self.dispatcher.lock:
            for old in self.dispatcher.connections:
                if old is not conn and old.session is session and not old.closed:
                    old.session = None  # the session moved; stop writing to the stale socket
            conn.session = session
            self.dispatcher.active, self.dispatcher.last_session = conn, session
            for payload in list(session.backlog):
                if payload["s"] > after:
                    await self.dispatcher.send(conn, payload)
            await self.dispatcher.flush_outbox()
            await self.dispatcher.send_dispatch(conn, session, "RESUMED", {})
            conn.ready = True
            self.dispatcher.last_ready = conn
        self.dispatcher.log(conn, "resumed", d={"replayed_after": after})

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None or conn.session is None:
            return
        members = list(guild.members.values())
        if data.get("user_ids"):
            wanted = {int(u) for u in data["user_ids"]}
            members = [m for m in members if m.id in wanted]
        elif data.get("query"):
            members = [m for m in members if m.user.username.startswith(data["query"])]
        chunk = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self.dispatcher.dispatch("GUILD_MEMBERS_CHUNK", chunk)


def _redact(data: Any) -> Any:
    """Gateway log copies without the bot token."""
    if isinstance(data, dict) and "token" in data:
        return {**data, "token": "<redacted>"}
    return data
