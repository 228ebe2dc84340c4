"""The gateway: sessions and dispatch (:class:`Dispatcher`) and the websocket protocol (:class:`Gateway`).

A session receives dispatches through its connection (the newest that IDENTIFYed or RESUMEd it). A
session keeps a backlog, so a client that lost its socket RESUMEs and gets what it missed; a new
process IDENTIFYs and gets a new session, which replaces the previous session of the same shard.
Plain JSON text frames (discord.py only inflates binary ones).

Sharding as Discord does it: IDENTIFY may carry ``shard: [shard_id, shard_count]`` (absent: ``[0, 1]``).
Each session independently receives the events of the guilds with ``(guild_id >> 22) % shard_count ==
shard_id`` (READY lists only those guilds, and only they get a GUILD_CREATE); events without a guild
(DMs, DM interactions) go to shard 0. So two processes with ``[0, 2]`` and ``[1, 2]`` split the guilds,
and an interaction reaches exactly one of them.

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
_CLOSE_INVALID_SHARD = 4010
NOT_READY = "no gateway client is connected and ready (await sim.wait_ready() first)"
_GUILD_ITSELF = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})  # the guild id is ``id``


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard Discord sends a guild's events to; DMs (no guild) go to shard 0. Written here from
    Discord's documentation rather than imported from the bot: the simulation is the other party."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def event_guild(t: str, d: Any) -> int | None:
    """The guild an event belongs to (None: a DM or no guild), which decides its shard."""
    if not isinstance(d, dict):
        return None
    raw = d.get("id") if t in _GUILD_ITSELF else d.get("guild_id")
    return int(raw) if raw else None


@dataclass(eq=False)
class GatewayConnection:
    id: int
    ws: web.WebSocketResponse
    query: dict[str, str]
    session: GatewaySession | None = None
    ready: bool = False
    closed: bool = False
    close_code: int | None = None

    @property
    def live(self) -> bool:
        return self.ready and not self.closed


@dataclass(eq=False)
class GatewaySession:
    id: str
    intents: int
    identify: dict[str, Any]
    shard: tuple[int, int] = (0, 1)  # (shard id, shard count) from IDENTIFY
    seq: int = 0
    backlog: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=5000))
    conn: GatewayConnection | None = None  # the connection it is sent through (None: backlog only)

    def receives(self, guild_id: int | None) -> bool:
        shard_id, count = self.shard
        return shard_of(guild_id, count) == shard_id


class Dispatcher:
    """Sessions, connections and the ordered delivery of DISPATCH events to the active one.

    Synchronous world-building code queues events (:meth:`queue_event`); they are sent after anything
    queued earlier and before anything dispatched later, under one lock."""

    def __init__(self, waiters: Waiters, describe: Callable[[], str]) -> None:
        self._waiters = waiters
        self._describe = describe
        self.gateway_log: list[GatewayEvent] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.current: dict[tuple[int, int], GatewaySession] = {}  # per shard: the session events go to
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.identifies_by_shard: dict[int, int] = {}
        self.resume_count = 0
        self.active: GatewayConnection | None = None  # the newest connection that identified or resumed
        self.last_session: GatewaySession | None = None
        self.last_ready: GatewayConnection | None = None
        self.last_ready_by_shard: dict[int, GatewayConnection] = {}
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

    async def wait_ready(
        self, *, timeout: float = 10.0, identifies: int | None = None, shard: int | None = None
    ) -> GatewayConnection:
        """The newest live connection, once ``identifies`` IDENTIFYs happened; with ``shard``, the live
        connection of that shard id, once that shard identified ``identifies`` times."""

        def connection() -> GatewayConnection | None:
            if shard is None:
                conn, count = self.active, self.identify_count
            else:
                conn, count = self.shard_connection(shard), self.identifies_by_shard.get(shard, 0)
            if conn is None or not conn.live or (identifies is not None and count < identifies):
                return None
            return conn

        if connection() is None:
            await self._waiters.wait(
                "gateway",
                lambda e: e.kind in ("ready", "resumed") and connection() is not None,
                (),
                timeout=timeout,
                past=False,
                describe=self._describe,
            )
        conn = connection()
        assert conn is not None
        return conn

    def shard_connection(self, shard: int) -> GatewayConnection | None:
        """The connection of the newest session with this shard id (whatever its shard count)."""
        sessions = [s for key, s in self.current.items() if key[0] == shard]
        newest = max(sessions, key=lambda s: s.conn.id if s.conn else 0, default=None)
        return None if newest is None else newest.conn

    async def wait_disconnected(
        self, connection: GatewayConnection | None = None, *, timeout: float = 10.0, shard: int | None = None
    ) -> GatewayEvent:
        """The close of ``connection`` (default: the last one that became ready, of ``shard`` if given)."""
        conn = connection or (self.last_ready if shard is None else self.last_ready_by_shard.get(shard))
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

    def require_connection(self, guild_id: int | None = None) -> GatewayConnection:
        """The live connection an event of this guild (None: a DM) would reach; raises without one."""
        for session in self.current.values():
            if session.receives(guild_id) and session.conn is not None and session.conn.live:
                return session.conn
        raise RuntimeError(NOT_READY if guild_id is None else f"{NOT_READY}; none for guild {guild_id}'s shard")

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
        """Send a DISPATCH now to the session of the event's shard (kept in its backlog while no client is
        connected). ``required``: fail unless a live connection receives it (an interaction)."""
        async with self.lock:
            await self.flush_outbox()
            if required:
                self.require_connection(event_guild(t, d))
            for session in self._receivers(t, d, intent):
                if interaction is not None:
                    interaction.dispatched_at = time.monotonic()
                await self.send_dispatch(session.conn, session, t, d)

    def _receivers(self, t: str, d: Any, intent: int) -> list[GatewaySession]:
        guild_id = event_guild(t, d)
        return [s for s in self.current.values() if s.receives(guild_id) and (not intent or s.intents & intent)]

    def queue_event(self, t: str, d: dict[str, Any], intent: int = 0) -> None:
        """From synchronous code: send after anything queued earlier, before anything dispatched later."""
        if self.last_session is None:
            return  # nobody has connected yet: READY/GUILD_CREATE will carry the state
        self._outbox.append((t, d, intent))
        self._spawn(self._flush())

    async def _flush(self) -> None:
        async with self.lock:
            await self.flush_outbox()

    async def flush_outbox(self) -> None:
        """Caller holds ``lock``."""
        pending, self._outbox = self._outbox, []
        for t, d, intent in pending:
            for session in self._receivers(t, d, intent):
                await self.send_dispatch(session.conn, session, t, d)

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
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
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
        shard = _shard(data.get("shard"))
        if shard is None:
            await conn.ws.close(code=_CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        session = GatewaySession(secrets.token_hex(16), int(data.get("intents", 0)), _redact(data), shard)
        d = self.dispatcher
        d.sessions[session.id] = session
        d.identify_count += 1
        d.identifies_by_shard[shard[0]] = d.identifies_by_shard.get(shard[0], 0) + 1
        async with d.lock:
            await d.flush_outbox()  # queued before this session: its READY + GUILD_CREATE carry that state
            conn.session, session.conn = session, conn
            d.current[shard] = session  # the shard's previous session gets nothing more
            d.active, d.last_session = conn, session
            guilds = [g for g in self.world.bot_guilds() if session.receives(g.id)]
            ready: dict[str, Any] = {
                "v": 10,
                "user": self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False, "email": None},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
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
                ready["shard"] = list(shard)
            await d.send_dispatch(conn, session, "READY", ready)
            for guild in guilds:
                await d.send_dispatch(conn, session, "GUILD_CREATE", self.world.guild_create_payload(guild))
            conn.ready = True
            d.last_ready = d.last_ready_by_shard[shard[0]] = conn
        d.log(conn, "ready", d={"shard": list(shard)})

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.dispatcher.sessions.get(str(data.get("session_id")))
        if session is None or (self.token is not None and data.get("token") != self.token):
            await self.dispatcher.send(conn, {"op": _OP_INVALID_SESSION, "d": False})
            return
        d = self.dispatcher
        d.resume_count += 1
        after = int(data.get("seq") or 0)
        async with d.lock:
            for old in d.connections:
                if old is not conn and old.session is session and not old.closed:
                    old.session = None  # the session moved; stop writing to the stale socket
            conn.session, session.conn = session, conn
            d.current[session.shard] = session
            d.active, d.last_session = conn, session
            for payload in list(session.backlog):
                if payload["s"] > after:
                    await d.send(conn, payload)
            await d.flush_outbox()
            await d.send_dispatch(conn, session, "RESUMED", {})
            conn.ready = True
            d.last_ready = d.last_ready_by_shard[session.shard[0]] = conn
        d.log(conn, "resumed", d={"replayed_after": after})

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


def _shard(raw: Any) -> tuple[int, int] | None:
    """IDENTIFY's ``shard: [id, count]`` (absent: ``(0, 1)``); None when Discord would refuse it (4010)."""
    if raw is None:
        return (0, 1)
    try:
        shard_id, count = (int(x) for x in raw)
    except (TypeError, ValueError):
        return None
    return (shard_id, count) if 0 <= shard_id < count else None


def _redact(data: Any) -> Any:
    """Gateway log copies without the bot token."""
    if isinstance(data, dict) and "token" in data:
        return {**data, "token": "<redacted>"}
    return data
