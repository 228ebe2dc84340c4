"""A local Discord (REST + gateway + CDN) that the *unmodified* discord.py client can run against.

One aiohttp server on 127.0.0.1 serves ``/api/v10/...`` (REST), ``/gateway`` (websocket) and
``/cdn/...`` (attachment bytes). Point the client at it with ``cogs.endpoints.apply_endpoints(
sim.api_base, sim.gateway_url)`` (or :func:`tests.discord_sim.use_sim_endpoints`), then drive it from a
test: dispatch interactions (:meth:`DiscordSim.slash`, :meth:`~DiscordSim.click`, ...) and assert on
what the bot did (:attr:`DiscordSim.calls`, :meth:`~DiscordSim.messages_in`,
:meth:`~DiscordSim.interaction_responses`, :meth:`~DiscordSim.wait_for`).

Design decisions (the "why"):

* Everything is recorded *after* the handler decided the answer, so a recorded call already carries
  its ``status``/``response``; ``at`` is the monotonic time the request arrived (ack-latency benchmark:
  ``SimInteraction.ack_latency`` = callback arrival - INTERACTION_CREATE write).
* Waiting is event-based: every recorded call, message change and gateway event wakes matching
  waiters; ``past=True`` (the default) also matches what already happened, so a test never races the
  bot. No sleeps.
* Gateway: one *active* connection receives dispatches (the newest that IDENTIFYed or RESUMEd). A
  session keeps a backlog, so a client that lost its socket RESUMEs and gets what it missed; a new
  process IDENTIFYs and gets a new session. Plain JSON text frames (discord.py only inflates binary).
* Interaction dispatch needs a ready connection and raises otherwise: Discord would show "The
  application did not respond", and a test that dispatches too early should fail loudly.
* Discord behaviours reproduced because bots must handle them: the 3 s window for the initial
  callback (``callback_window``; 404 10062 after it), token expiry (``interaction_ttl``, 401 50027 on
  webhooks), "already acknowledged" (400 40060), follow-ups before the ack (404 10015), upload limit
  (413 40005), missing permissions (403 50013), DMs closed (403 50007), empty messages (400 50006),
  2000-character content (400 50035), archived/locked threads, command-name validation on sync, and
  ``enforce_nonce`` deduplication (a repeated nonce within ``nonce_window`` returns the first message).
* The first follow-up after a "thinking" deferral (type 5) fills that deferred message instead of
  creating a new one (``followup_resolves_deferral``), which is how Discord resolves the "is
  thinking…" placeholder; its visibility is the deferral's.
* Only what a bot can observe is simulated; no reactions, voice, presences, audit logs or sharding
  beyond echoing ``shard`` in READY.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import json
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from aiohttp import BodyPartReader, WSMsgType, web

from .payloads import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DEFAULT_UPLOAD_LIMIT,
    DM_PERMISSIONS,
    CallbackType,
    ChannelType,
    CommandType,
    ErrorCode,
    Intent,
    InteractionType,
    MessageFlag,
    MessageType,
    OptionType,
    Overwrite,
    Perm,
    Resolved,
    SimAttachment,
    SimChannel,
    SimGuild,
    SimMember,
    SimMessage,
    SimRole,
    SimUser,
    Snowflakes,
    channel_permissions,
    error_body,
    form_error,
    infer_option_type,
    interaction_payload,
    make_attachment,
    modal_submission,
    now,
    option_value,
)

log = logging.getLogger("discord_sim")

JSON = "application/json"  # exactly: discord.py parses a body as JSON only for this Content-Type
PathPattern = str | re.Pattern[str]
WaitKind = Literal["call", "message", "gateway"]

_OP_DISPATCH, _OP_HEARTBEAT, _OP_IDENTIFY, _OP_PRESENCE = 0, 1, 2, 3
_OP_RESUME, _OP_RECONNECT, _OP_REQUEST_MEMBERS, _OP_INVALID_SESSION = 6, 7, 8, 9
_OP_HELLO, _OP_HEARTBEAT_ACK = 10, 11
_SENDABLE_FLAGS = (
    MessageFlag.SUPPRESS_EMBEDS
    | MessageFlag.EPHEMERAL
    | MessageFlag.SUPPRESS_NOTIFICATIONS
    | MessageFlag.IS_COMPONENTS_V2
)
_EDITABLE_FLAGS = MessageFlag.SUPPRESS_EMBEDS | MessageFlag.IS_COMPONENTS_V2
_SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
_CHAT_NAME = re.compile(r"^[-_'\w]{1,32}$")


# ------------------------------------------------------------------------------------------ records


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


@dataclass
class _Injection:
    pattern: PathPattern
    method: str | None
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


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


class DiscordSim:
    """The simulated Discord; see the module docstring and ``tests/discord_sim/__init__.py``.

    With ``populate=True`` (default) it starts with a world most tests need: ``guild`` ("Sim Guild",
    owned by ``owner``), channels ``channel`` (#general) and ``other_channel`` (#art), members
    ``user`` (alice, plain member) and ``mod`` (with ``mod_role``: Manage Server, Manage Messages,
    Manage Threads), and the bot as a member with its managed role (``bot_role``).
    """

    def __init__(
        self,
        *,
        populate: bool = True,
        token: str | None = None,
        application_name: str = "Inpaint Bot",
        bot_name: str = "InpaintBot",
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
        interaction_ttl: float = 15 * 60,
        callback_window: float | None = 3.0,
        heartbeat_interval_ms: int = 41250,
        followup_resolves_deferral: bool = True,
        nonce_window: float = 300.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.snowflake = Snowflakes()
        self.token = token  # None: any bot token is accepted
        self.upload_limit = upload_limit
        self.interaction_ttl = interaction_ttl
        self.callback_window = callback_window
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.followup_resolves_deferral = followup_resolves_deferral
        self.nonce_window = nonce_window  # seconds during which ``enforce_nonce`` deduplicates sends
        self.host, self._port = host, port

        self.users: dict[int, SimUser] = {}
        self.guilds: dict[int, SimGuild] = {}
        self.channels: dict[int, SimChannel] = {}
        self.messages: dict[int, SimMessage] = {}
        self.attachments: dict[int, SimAttachment] = {}
        self.interactions: dict[int, SimInteraction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.calls: list[RecordedCall] = []
        self.gateway_log: list[GatewayEvent] = []
        self.cdn_requests: list[tuple[int, float]] = []  # (attachment id, monotonic time)
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0

        self.application_id = self.snowflake()
        self.application_name = application_name
        self.bot_user = self.add_user(bot_name, bot=True, id=self.application_id)
        self.app_owner = self.add_user("app-owner")

        self._tokens: dict[str, SimInteraction] = {}
        self._channel_messages: dict[int, list[SimMessage]] = {}
        self._phantom_commands: dict[str, int] = {}
        self._injections: list[_Injection] = []
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}  # (channel, nonce) -> (message, when)
        self._waiters: list[_Waiter] = []
        self._outbox: list[tuple[str, dict[str, Any], int]] = []
        self._dispatch_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._active: GatewayConnection | None = None
        self._last_session: GatewaySession | None = None
        self._last_ready: GatewayConnection | None = None
        self._call_seq = itertools.count(1)
        self._conn_seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._base_url = ""

        if populate:
            self.owner = self.add_user("owner")
            self.guild = self.add_guild("Sim Guild", owner=self.owner)
            self.bot_role = next(r for r in self.guild.roles.values() if r.bot_id == self.bot_user.id)
            self.mod_role = self.add_role(
                self.guild, "Moderator", Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES | Perm.MANAGE_THREADS
            )
            self.channel = self.add_channel(self.guild, "general")
            self.other_channel = self.add_channel(self.guild, "art")
            self.user = self.add_user("alice")
            self.add_member(self.guild, self.user)
            self.mod = self.add_user("mod")
            self.add_member(self.guild, self.mod, roles=[self.mod_role])

    # ------------------------------------------------------------------------------- lifecycle

    async def start(self) -> DiscordSim:
        app = web.Application(client_max_size=1024 * 1024 * 1024)
        app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_get(r"/{area:cdn|media}/{kind}/{owner}/{attachment_id:\d+}/{filename}", self._cdn)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._port = port
        self._base_url = f"http://{host}:{port}"
        log.debug("discord sim listening on %s", self._base_url)
        return self

    async def stop(self) -> None:
        """Close gateway sockets (1001), fail pending waiters, stop the server. Close clients first:
        a client still running would keep trying to reconnect."""
        for conn in self.connections:
            if not conn.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=1001, message=b"simulation stopping")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def port(self) -> int:
        return self._port

    @property
    def api_base(self) -> str:
        return f"{self._base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self._base_url.removeprefix('http://')}/gateway"

    # ---------------------------------------------------------------------------- world building

    def add_user(
        self,
        username: str,
        *,
        bot: bool = False,
        global_name: str | None = None,
        accepts_dms: bool = True,
        id: int | None = None,
    ) -> SimUser:
        user = SimUser(id or self.snowflake(), username, global_name=global_name, bot=bot, accepts_dms=accepts_dms)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Sim Guild",
        *,
        owner: SimUser | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        upload_limit: int | None = None,
        premium_tier: int = 0,
        locale: str = "en-US",
        id: int | None = None,
    ) -> SimGuild:
        """A guild the bot is in: @everyone (id == guild id), the bot's managed role, the owner and the
        bot as members. Dispatched as GUILD_CREATE when a client is already connected."""
        owner = owner or self.add_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = SimGuild(
            id or self.snowflake(),
            name,
            owner.id,
            upload_limit=upload_limit,
            premium_tier=premium_tier,
            locale=locale,
        )
        guild.roles[guild.id] = SimRole(guild.id, guild.id, "@everyone", everyone_permissions)
        bot_role = SimRole(
            self.snowflake(), guild.id, self.bot_user.username, bot_permissions, 1, True, self.bot_user.id
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[owner.id] = SimMember(owner, guild.id)
        guild.members[self.bot_user.id] = SimMember(self.bot_user, guild.id, [bot_role.id])
        self.guilds[guild.id] = guild
        self._queue_event("GUILD_CREATE", self._guild_create(guild), Intent.GUILDS)
        return guild

    def add_role(self, guild: SimGuild, name: str, permissions: int = 0, *, id: int | None = None) -> SimRole:
        role = SimRole(id or self.snowflake(), guild.id, name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        self._queue_event("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()}, Intent.GUILDS)
        return role

    def add_member(
        self,
        guild: SimGuild,
        user: SimUser | str,
        *,
        roles: Iterable[SimRole | int] = (),
        nick: str | None = None,
    ) -> SimMember:
        """Add (or update the roles of) a member; a string creates the user first."""
        if isinstance(user, str):
            user = self.add_user(user)
        role_ids = [r.id if isinstance(r, SimRole) else int(r) for r in roles]
        existing = guild.members.get(user.id)
        if existing is not None:
            existing.roles, existing.nick = role_ids, nick
            data = existing.payload() | {"guild_id": str(guild.id)}
            self._queue_event("GUILD_MEMBER_UPDATE", data, Intent.GUILD_MEMBERS)
            return existing
        member = SimMember(user, guild.id, role_ids, nick)
        guild.members[user.id] = member
        data = member.payload() | {"guild_id": str(guild.id)}
        self._queue_event("GUILD_MEMBER_ADD", data, Intent.GUILD_MEMBERS)
        return member

    def add_channel(
        self,
        guild: SimGuild,
        name: str,
        *,
        type: int = ChannelType.GUILD_TEXT,
        parent: SimChannel | None = None,
        topic: str | None = None,
        id: int | None = None,
    ) -> SimChannel:
        channel = SimChannel(
            id or self.snowflake(),
            int(type),
            name,
            guild.id,
            parent.id if parent else None,
            position=len(guild.channels),
            topic=topic,
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self._queue_event("CHANNEL_CREATE", channel.payload(), Intent.GUILDS)
        return channel

    def add_thread(
        self,
        parent: SimChannel,
        name: str,
        *,
        private: bool = False,
        owner: SimUser | None = None,
        archived: bool = False,
        locked: bool = False,
        members: Iterable[SimUser] = (),
    ) -> SimChannel:
        """A thread someone else created (the bot's own threads come from the REST endpoints)."""
        owner = owner or getattr(self, "user", self.bot_user)
        guild = self.guilds[parent.guild_id]  # type: ignore[index]
        thread = SimChannel(
            self.snowflake(),
            ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD,
            name,
            guild.id,
            parent.id,
            owner_id=owner.id,
            archived=archived,
            locked=locked,
            member_ids={owner.id, *(u.id for u in members)},
        )
        guild.channels[thread.id] = thread
        self.channels[thread.id] = thread
        self._queue_event("THREAD_CREATE", thread.payload() | {"newly_created": True}, Intent.GUILDS)
        return thread

    def dm_channel(self, user: SimUser) -> SimChannel:
        """The DM channel between the bot and ``user`` (created on first use, like Discord)."""
        for channel in self.channels.values():
            if channel.is_dm and channel.recipients and channel.recipients[0].id == user.id:
                return channel
        channel = SimChannel(self.snowflake(), ChannelType.DM, "", recipients=[user])
        self.channels[channel.id] = channel
        return channel

    def set_overwrite(
        self, channel: SimChannel, target: SimRole | SimUser | SimMember, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a permission overwrite on a guild channel (threads inherit their parent's)."""
        kind = 0 if isinstance(target, SimRole) else 1
        target_id = target.id
        channel.overwrites[target_id] = Overwrite(target_id, kind, int(allow), int(deny))
        self._queue_event("CHANNEL_UPDATE", channel.payload(), Intent.GUILDS)

    def restrict_bot(
        self,
        channel: SimChannel,
        *,
        view: bool = True,
        send: bool = False,
        attach: bool = False,
        embed: bool = True,
        threads: bool = True,
    ) -> None:
        """Deny the bot permissions in ``channel`` with a member overwrite (``False`` = denied).

        The default denies sending and attaching: POST /channels/{id}/messages then answers 403 50013,
        and interactions there carry ``app_permissions`` without SEND_MESSAGES / ATTACH_FILES (and
        discord.py's ``channel.permissions_for(guild.me)`` agrees, since the overwrite is in the
        channel payload)."""
        deny = 0
        if not view:
            deny |= Perm.VIEW_CHANNEL
        if not send:
            deny |= Perm.SEND_MESSAGES | Perm.SEND_MESSAGES_IN_THREADS
        if not attach:
            deny |= Perm.ATTACH_FILES
        if not embed:
            deny |= Perm.EMBED_LINKS
        if not threads:
            deny |= Perm.CREATE_PUBLIC_THREADS | Perm.CREATE_PRIVATE_THREADS | Perm.SEND_MESSAGES_IN_THREADS
        self.set_overwrite(channel, self.bot_user, deny=deny)

    def add_attachment(
        self,
        data: bytes,
        filename: str = "image.png",
        *,
        content_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        description: str | None = None,
    ) -> SimAttachment:
        """Register bytes on the CDN as a slash-command attachment (``ephemeral-attachments`` URL).
        Content type, width and height are sniffed from image bytes unless given."""
        att = make_attachment(
            self.snowflake(),
            data,
            filename,
            content_type=content_type,
            width=width,
            height=height,
            description=description,
        )
        att.ephemeral = True
        att.url = self._cdn_url("ephemeral-attachments", self.application_id, att)
        self.attachments[att.id] = att
        return att

    def add_message(
        self,
        channel: SimChannel,
        content: str = "",
        *,
        author: SimUser | None = None,
        attachments: Iterable[SimAttachment | bytes | tuple[bytes, str]] = (),
        embeds: Iterable[dict[str, Any]] = (),
        components: Iterable[dict[str, Any]] = (),
    ) -> SimMessage:
        """A message someone posted (e.g. the target of a message context menu); its attachments get
        channel CDN URLs. Dispatched as MESSAGE_CREATE (content stripped without the intent)."""
        author = author or getattr(self, "user", self.bot_user)
        message = SimMessage(
            self.snowflake(),
            channel.id,
            channel.guild_id,
            author,
            content,
            embeds=list(embeds),
            components=list(components),
        )
        for item in attachments:
            att = self._coerce_attachment(item)
            att.ephemeral = False
            att.url = self._cdn_url("attachments", channel.id, att)
            message.attachments.append(att)
        self._store_message(message)
        return message

    # ------------------------------------------------------------------------------ state queries

    def bot_member(self, guild: SimGuild) -> SimMember:
        return guild.members[self.bot_user.id]

    def guild_of(self, channel: SimChannel) -> SimGuild | None:
        return None if channel.guild_id is None else self.guilds[channel.guild_id]

    def permissions_in(self, channel: SimChannel, user: SimUser) -> int:
        """``user``'s permissions in ``channel`` (DM channels: what Discord grants in DMs)."""
        guild = self.guild_of(channel)
        if guild is None:
            return int(DM_PERMISSIONS)
        member = guild.members.get(user.id)
        return 0 if member is None else channel_permissions(guild, member, channel)

    def bot_permissions_in(self, channel: SimChannel) -> int:
        return self.permissions_in(channel, self.bot_user)

    def upload_limit_for(self, channel: SimChannel) -> int:
        guild = self.guild_of(channel)
        if guild is not None and guild.upload_limit is not None:
            return guild.upload_limit
        return self.upload_limit

    def message(self, message_id: int) -> SimMessage:
        return self.messages[int(message_id)]

    def messages_in(
        self, channel: SimChannel | int, *, include_deleted: bool = False, include_ephemeral: bool = True
    ) -> list[SimMessage]:
        """Messages in a channel, oldest first (bot posts, interaction responses, seeded messages)."""
        channel_id = channel.id if isinstance(channel, SimChannel) else int(channel)
        return [
            m
            for m in self._channel_messages.get(channel_id, [])
            if (include_deleted or not m.deleted) and (include_ephemeral or not m.ephemeral)
        ]

    def calls_to(self, pattern: PathPattern, method: str | None = None) -> list[RecordedCall]:
        """Recorded calls whose path matches (glob like ``/channels/*/messages`` or a compiled regex)."""
        return [
            c for c in self.calls if path_matches(pattern, c.path) and (method is None or c.method == method.upper())
        ]

    def interaction(self, key: SimInteraction | int | str) -> SimInteraction:
        """Look an interaction up by object, id or token."""
        if isinstance(key, SimInteraction):
            return key
        if isinstance(key, str) and key in self._tokens:
            return self._tokens[key]
        return self.interactions[int(key)]

    def interaction_responses(
        self, interaction: SimInteraction | int | str, *, include_reads: bool = False
    ) -> list[RecordedCall]:
        """The initial callback, follow-ups and edits/deletes made with this interaction, in order of
        arrival (failed attempts included: check ``status``); GETs only with ``include_reads``."""
        inter = self.interaction(interaction)
        calls = sorted(inter.calls, key=lambda c: c.seq)
        return [c for c in calls if include_reads or c.method != "GET"]

    def find_command(
        self, name: str, *, guild: SimGuild | int | None = None, type: int = CommandType.CHAT_INPUT
    ) -> dict[str, Any] | None:
        """A registered command as stored after sync: the guild's first (if given), else global."""
        guild_id = guild.id if isinstance(guild, SimGuild) else guild
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        return None

    def command_names(self, guild: SimGuild | int | None = None) -> list[str]:
        guild_id = guild.id if isinstance(guild, SimGuild) else guild
        return [c["name"] for c in self.commands.get(guild_id, [])]

    # ------------------------------------------------------------------------------ expiry, faults

    def expire_token(self, interaction: SimInteraction | int | str) -> None:
        """Make an interaction's token expired now: webhooks answer 401 50027, callbacks 404 10062."""
        self.interaction(interaction).expires_at = time.time() - 1

    def expire_interactions(self) -> None:
        for inter in self.interactions.values():
            inter.expires_at = time.time() - 1

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

    def inject_rate_limit(
        self,
        path: PathPattern,
        *,
        method: str | None = None,
        retry_after: float = 0.05,
        count: int = 1,
        is_global: bool = False,
        via: bool = True,
    ) -> None:
        """429 the next ``count`` matching calls like Discord: ``retry_after`` in the body, the
        ``Retry-After``/``X-RateLimit-*`` headers, and ``Via`` (discord.py only retries when it is
        present; ``via=False`` makes the client raise ``HTTPException`` instead)."""
        headers = {
            "Retry-After": f"{retry_after:.3f}",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "sim-bucket",
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        if via:
            headers["Via"] = "1.1 google"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        if is_global:
            body["code"] = 0
        self.inject(path, method=method, status=429, body=body, headers=headers, count=count)

    # ----------------------------------------------------------------------------------- waiting

    async def wait_for(
        self,
        predicate: Callable[[Any], bool],
        *,
        kind: WaitKind = "call",
        timeout: float = 5.0,
        past: bool = True,
    ) -> Any:
        """The first RecordedCall / SimMessage / GatewayEvent (by ``kind``) the predicate accepts.

        ``past=True`` checks what already happened first (calls and gateway events in order, messages
        in creation order with their current state), then waits for new ones; a message matches again
        each time it changes. Raises ``TimeoutError`` listing the latest calls."""
        if past:
            for item in self._history(kind):
                if predicate(item):
                    return item
        waiter = _Waiter(kind, predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            recent = "\n  ".join(repr(c) for c in self.calls[-12:]) or "(none)"
            raise TimeoutError(f"no {kind} matched within {timeout}s; latest calls:\n  {recent}") from None
        finally:
            self._waiters.remove(waiter)

    async def wait_for_call(
        self,
        path: PathPattern | None = None,
        *,
        method: str | None = None,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 5.0,
        past: bool = True,
    ) -> RecordedCall:
        def match(call: RecordedCall) -> bool:
            return (
                (path is None or path_matches(path, call.path))
                and (method is None or call.method == method.upper())
                and (predicate is None or predicate(call))
            )

        return await self.wait_for(match, kind="call", timeout=timeout, past=past)

    async def wait_for_message(
        self,
        channel: SimChannel | int | None = None,
        predicate: Callable[[SimMessage], bool] | None = None,
        *,
        timeout: float = 5.0,
        past: bool = True,
    ) -> SimMessage:
        """A (non-deleted, non-loading) message in ``channel`` the predicate accepts."""
        channel_id = channel.id if isinstance(channel, SimChannel) else channel

        def match(message: SimMessage) -> bool:
            return (
                not message.deleted
                and not message.loading
                and (channel_id is None or message.channel_id == int(channel_id))
                and (predicate is None or predicate(message))
            )

        return await self.wait_for(match, kind="message", timeout=timeout, past=past)

    async def wait_for_response(
        self,
        interaction: SimInteraction | int | str,
        kind: str | None = None,
        *,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 5.0,
    ) -> RecordedCall:
        """A call made for this interaction (``kind``: callback, followup, edit_original, ...)."""
        inter = self.interaction(interaction)

        def match(call: RecordedCall) -> bool:
            return (
                call.interaction_id == inter.id
                and (kind is None or call.kind == kind)
                and (predicate is None or predicate(call))
            )

        return await self.wait_for(match, kind="call", timeout=timeout)

    async def wait_for_ack(self, interaction: SimInteraction | int | str, *, timeout: float = 5.0) -> RecordedCall:
        return await self.wait_for_response(interaction, "callback", timeout=timeout)

    async def wait_ready(self, *, timeout: float = 10.0, identifies: int | None = None) -> GatewayConnection:
        """Until a client has IDENTIFYed (READY and every GUILD_CREATE sent) or RESUMEd on the active
        connection; ``identifies=n`` additionally waits for the n-th IDENTIFY (a restarted client)."""

        def ready(_: Any = None) -> bool:
            conn = self._active
            return (
                conn is not None
                and conn.ready
                and not conn.closed
                and (identifies is None or self.identify_count >= identifies)
            )

        if not ready():
            await self.wait_for(
                lambda e: e.kind in ("ready", "resumed") and ready(), kind="gateway", timeout=timeout, past=False
            )
        assert self._active is not None
        return self._active

    async def wait_disconnected(
        self, connection: GatewayConnection | None = None, *, timeout: float = 10.0
    ) -> GatewayEvent:
        """Until ``connection`` (default: the last one that became ready) is closed -- returns at once
        if it already is (e.g. the bot process was killed and the sim noticed first)."""
        conn = connection or self._last_ready
        if conn is None:
            raise RuntimeError("no client has connected yet")
        return await self.wait_for(
            lambda e: e.kind == "close" and e.connection == conn.id, kind="gateway", timeout=timeout
        )

    def _history(self, kind: WaitKind) -> Iterable[Any]:
        if kind == "call":
            return list(self.calls)
        if kind == "message":
            return list(self.messages.values())
        return list(self.gateway_log)

    def _notify(self, kind: WaitKind, item: Any) -> None:
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

    # ------------------------------------------------------------------------------ gateway control

    @property
    def connection(self) -> GatewayConnection | None:
        """The active gateway connection (None while no client is connected)."""
        return self._active

    async def disconnect(self, code: int = 4000) -> None:
        """Close the active gateway socket from the server side. With a resumable code (4000, or 1000
        which discord.py treats as improper) the client reconnects and RESUMEs straight away."""
        conn = self._active
        if conn is None:
            raise RuntimeError("no active gateway connection")
        self._active = None
        await conn.ws.close(code=code, message=b"simulated disconnect")

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and RESUMEs."""
        conn = self._require_connection()
        await self._send(conn, {"op": _OP_RECONNECT, "d": None})

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9. Non-resumable makes discord.py IDENTIFY again -- after its default
        ``before_identify_hook`` sleeps 5 s for a non-initial identify."""
        conn = self._require_connection()
        if not resumable and conn.session is not None:
            self.sessions.pop(conn.session.id, None)
        await self._send(conn, {"op": _OP_INVALID_SESSION, "d": resumable})

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send any gateway DISPATCH to the client (queued in the session backlog if disconnected)."""
        await self._dispatch(event, data)

    async def flush(self) -> None:
        """Send events queued by the (synchronous) world-building helpers now."""
        async with self._dispatch_lock:
            await self._flush_outbox()

    def _require_connection(self) -> GatewayConnection:
        conn = self._active
        if conn is None or not conn.ready or conn.closed:
            raise RuntimeError("no gateway client is connected and ready (await sim.wait_ready() first)")
        return conn

    # ------------------------------------------------------------------------- interaction helpers

    async def slash(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: SimUser | SimMember | None = None,
        channel: SimChannel | None = None,
        guild: SimGuild | None = None,
        attachments: Mapping[str, SimAttachment | bytes | tuple[bytes, str]] | None = None,
        subcommand: str | None = None,
        locale: str = "en-US",
    ) -> SimInteraction:
        """Dispatch a chat-input command like a user typing ``/name ...``.

        Option types come from the registered command (after the bot's sync; unknown or missing
        required options raise ``ValueError``), else from the Python values: str 3, int 4, bool 5,
        float 10, SimUser/SimMember 6, SimChannel 7, SimRole 8, SimAttachment 11. ``attachments``
        values may be raw bytes or ``(bytes, filename)`` and are registered on the CDN and resolved.
        ``subcommand`` is ``"sub"`` or ``"group sub"``. Channel defaults to ``guild``'s first text
        channel, else ``self.channel``; user defaults to ``self.user`` (added as a member if needed).
        """
        return await self._command(
            name,
            options,
            user=user,
            channel=channel,
            guild=guild,
            attachments=attachments,
            subcommand=subcommand,
            locale=locale,
            focused=None,
        )

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user: SimUser | SimMember | None = None,
        channel: SimChannel | None = None,
        subcommand: str | None = None,
    ) -> SimInteraction:
        """Dispatch an autocomplete request (type 4) with ``focused`` marked; answer is callback 8."""
        return await self._command(
            name,
            options,
            user=user,
            channel=channel,
            guild=None,
            attachments=None,
            subcommand=subcommand,
            locale="en-US",
            focused=focused,
        )

    async def message_context(
        self,
        name: str,
        target: SimMessage | int,
        *,
        user: SimUser | SimMember | None = None,
        locale: str = "en-US",
    ) -> SimInteraction:
        """Dispatch a message context-menu command on ``target`` (in the target's channel)."""
        message = self._message_obj(target)
        channel = self.channels[message.channel_id]
        guild = self.guild_of(channel)
        resolved = Resolved()
        resolved.message(self._message_payload(message))
        return await self._context_menu(
            name, CommandType.MESSAGE, message.id, resolved, guild, user=user, channel=channel, locale=locale
        )

    async def user_context(
        self,
        name: str,
        target: SimUser | SimMember,
        *,
        user: SimUser | SimMember | None = None,
        channel: SimChannel | None = None,
    ) -> SimInteraction:
        """Dispatch a user context-menu command on ``target``."""
        channel = channel or self.channel
        guild = self.guild_of(channel)
        target_user = target.user if isinstance(target, SimMember) else target
        resolved = self._resolver(guild, channel, self._invoker(user))
        member = guild.members.get(target_user.id) if guild else None
        resolved.user(target_user, member)
        return await self._context_menu(
            name, CommandType.USER, target_user.id, resolved, guild, user=user, channel=channel
        )

    async def _context_menu(
        self,
        name: str,
        kind: CommandType,
        target_id: int,
        resolved: Resolved,
        guild: SimGuild | None,
        *,
        user: SimUser | SimMember | None,
        channel: SimChannel,
        locale: str = "en-US",
    ) -> SimInteraction:
        cmd = self._command_spec(name, guild, kind)
        data = {
            "id": str(cmd["id"]) if cmd else str(self._phantom_id(name)),
            "name": name,
            "type": int(kind),
            "target_id": str(target_id),
            "resolved": resolved.data,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return await self._dispatch_interaction(
            InteractionType.APPLICATION_COMMAND,
            data,
            user=user,
            channel=channel,
            locale=locale,
            name=name,
            command_type=kind,
        )

    async def click(
        self,
        message: SimMessage | int,
        custom_id: str,
        *,
        user: SimUser | SimMember | None = None,
        values: Iterable[Any] | None = None,
    ) -> SimInteraction:
        """Press a button (or choose ``values`` in a select) on a message the bot posted.

        Raises ``ValueError`` if the message has no such component, or it is disabled. On an
        ephemeral message the user defaults to the one the message was shown to."""
        msg = self._message_obj(message)
        component = msg.find_component(custom_id)
        if component is None:
            raise ValueError(f"message {msg.id} has no component {custom_id!r}; it has {msg.custom_ids()}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} on message {msg.id} is disabled")
        channel = self.channels[msg.channel_id]
        if user is None and msg.ephemeral and msg.interaction_id in self.interactions:
            user = self.interactions[msg.interaction_id].user
        ctype = int(component["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if "id" in component:
            data["id"] = component["id"]
        if ctype in _SELECT_TYPES:
            resolved = self._resolver(self.guild_of(channel), channel, self._invoker(user))
            data["values"] = [self._select_value(v, resolved) for v in values or []]
            if resolved.data:
                data["resolved"] = resolved.data
        elif values is not None:
            raise ValueError(f"component {custom_id!r} is type {ctype}, not a select: it takes no values")
        return await self._dispatch_interaction(
            InteractionType.MESSAGE_COMPONENT, data, user=user, channel=channel, message=msg, name=custom_id
        )

    async def submit_modal(
        self,
        custom_id: str,
        fields: Mapping[str, Any] | None = None,
        *,
        user: SimUser | SimMember | None = None,
        channel: SimChannel | None = None,
        message: SimMessage | int | None = None,
        opened_by: SimInteraction | None = None,
    ) -> SimInteraction:
        """Submit the modal the bot opened (callback type 9) with ``fields`` {input custom_id: value}.

        The submission mirrors the modal's layout (rows or labels). User, channel and message default
        to the interaction that opened it (a component's message is included, as Discord does).
        Raises ``ValueError`` if no such modal was opened or a field is not in it."""
        opener = opened_by or next(
            (
                i
                for i in sorted(self.interactions.values(), key=lambda i: i.id, reverse=True)
                if i.modal is not None and i.modal.get("custom_id") == custom_id
            ),
            None,
        )
        if opener is None or opener.modal is None:
            raise ValueError(f"no modal with custom_id {custom_id!r} was opened by the bot")
        layout = opener.modal.get("components", [])
        known = {c.get("custom_id") for c in _walk(layout)}
        unknown = set(fields or {}) - known
        if unknown:
            raise ValueError(f"modal {custom_id!r} has no inputs {sorted(unknown)}; it has {sorted(known - {None})}")
        data = {"custom_id": custom_id, "components": modal_submission(layout, fields or {})}
        msg = self._message_obj(message) if message is not None else None
        if msg is None and opener.message_id is not None and opener.message_id in self.messages:
            msg = self.messages[opener.message_id]
        return await self._dispatch_interaction(
            InteractionType.MODAL_SUBMIT,
            data,
            user=user or opener.user,
            channel=channel or self.channels[opener.channel_id],
            message=msg,
            name=custom_id,
        )

    async def _command(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        *,
        user: SimUser | SimMember | None,
        channel: SimChannel | None,
        guild: SimGuild | None,
        attachments: Mapping[str, Any] | None,
        subcommand: str | None,
        locale: str,
        focused: str | None,
    ) -> SimInteraction:
        if channel is None:
            channel = guild.text_channels()[0] if guild is not None else self.channel
        guild = self.guild_of(channel)
        invoker = self._invoker(user)
        cmd = self._command_spec(name, guild, CommandType.CHAT_INPUT)
        if (
            cmd is None
            and guild is None
            and any(c["name"] == name for scope, cmds in self.commands.items() if scope is not None for c in cmds)
        ):
            raise ValueError(f"/{name} is only registered as a guild command: Discord offers it in guilds only")
        if cmd is not None and guild is None and cmd.get("contexts") is not None and 1 not in cmd["contexts"]:
            raise ValueError(f"/{name} is not allowed in DMs (its contexts are {cmd['contexts']})")
        values: dict[str, Any] = dict(options or {})
        for key, item in (attachments or {}).items():
            values[key] = self._coerce_attachment(item)

        spec: list[dict[str, Any]] | None = cmd.get("options", []) if cmd else None
        wrappers: list[tuple[str, int]] = []
        parts = subcommand.split() if subcommand else []
        for index, part in enumerate(parts):
            if spec is not None:
                entry = next((o for o in spec if o["name"] == part), None)
                if entry is None or entry["type"] not in (1, 2):
                    raise ValueError(f"/{name} has no subcommand (group) {part!r}")
                wrappers.append((part, int(entry["type"])))
                spec = entry.get("options", [])
            else:
                wrappers.append((part, 2 if index < len(parts) - 1 else 1))

        resolved = self._resolver(guild, channel, invoker)
        opts: list[dict[str, Any]] = []
        for key, value in values.items():
            entry = next((o for o in spec if o["name"] == key), None) if spec is not None else None
            if spec is not None and entry is None:
                raise ValueError(f"/{name} has no option {key!r}; it has {[o['name'] for o in spec]}")
            option_type = int(entry["type"]) if entry else int(infer_option_type(value))
            if focused is not None:  # autocomplete sends what was typed so far, unvalidated
                option = {"name": key, "type": option_type, "value": value}
            else:
                value = self._coerce_reference(value, option_type, guild)
                option = option_value(key, value, option_type, resolved, self._member_lookup(guild))
            if key == focused:
                option["focused"] = True
            opts.append(option)
        if spec is not None:  # Discord lists options in the command's order, not the typing order
            order = [o["name"] for o in spec]
            opts.sort(key=lambda o: order.index(o["name"]))
        if spec is not None and focused is None:
            missing = [o["name"] for o in spec if o.get("required") and o["name"] not in values]
            if missing:
                raise ValueError(f"/{name}: missing required options {missing}")
        for part, kind in reversed(wrappers):
            opts = [{"name": part, "type": kind, "options": opts}]

        data: dict[str, Any] = {
            "id": str(cmd["id"]) if cmd else str(self._phantom_id(name)),
            "name": name,
            "type": int(CommandType.CHAT_INPUT),
        }
        if opts:
            data["options"] = opts
        if resolved.data:
            data["resolved"] = resolved.data
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        itype = InteractionType.AUTOCOMPLETE if focused is not None else InteractionType.APPLICATION_COMMAND
        return await self._dispatch_interaction(
            itype,
            data,
            user=invoker,
            channel=channel,
            locale=locale,
            name=name,
            command_type=CommandType.CHAT_INPUT,
        )

    async def _dispatch_interaction(
        self,
        interaction_type: int,
        data: dict[str, Any],
        *,
        user: SimUser | SimMember | None,
        channel: SimChannel,
        message: SimMessage | None = None,
        locale: str = "en-US",
        name: str | None = None,
        command_type: int | None = None,
    ) -> SimInteraction:
        self._require_connection()
        invoker = self._invoker(user)
        guild = self.guild_of(channel)
        member = None
        if guild is not None:
            member = guild.members.get(invoker.id) or self.add_member(guild, invoker)
        member_perms = self.permissions_in(channel, invoker)
        interaction_id = self.snowflake()
        token = f"sim-{interaction_id}-{secrets.token_urlsafe(24)}"
        payload = interaction_payload(
            interaction_id=interaction_id,
            application_id=self.application_id,
            interaction_type=interaction_type,
            token=token,
            data=data,
            channel=channel.payload(permissions=member_perms),
            user=invoker,
            guild=guild,
            member=member,
            member_permissions=member_perms,
            app_permissions=self.bot_permissions_in(channel),
            attachment_size_limit=self.upload_limit_for(channel),
            locale=locale,
            message=self._message_payload(message) if message is not None else None,
        )
        inter = SimInteraction(
            id=interaction_id,
            token=token,
            type=int(interaction_type),
            payload=payload,
            user=invoker,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            name=name,
            command_type=command_type,
            message_id=message.id if message is not None else None,
            expires_at=time.time() + self.interaction_ttl,
        )
        self.interactions[interaction_id] = inter
        self._tokens[token] = inter
        await self._dispatch("INTERACTION_CREATE", payload, required=True, interaction=inter)
        return inter

    def _invoker(self, user: SimUser | SimMember | None) -> SimUser:
        if user is None:
            return self.user
        return user.user if isinstance(user, SimMember) else user

    def _resolver(self, guild: SimGuild | None, channel: SimChannel, invoker: SimUser) -> Resolved:
        def member_perms(member: SimMember) -> int:
            return self.permissions_in(channel, member.user)

        def channel_perms(target: SimChannel) -> int:
            return self.permissions_in(target, invoker)

        return Resolved(member_permissions=member_perms, channel_permissions=channel_perms)

    def _member_lookup(self, guild: SimGuild | None) -> Callable[[SimUser], SimMember | None]:
        return lambda user: guild.members.get(user.id) if guild is not None else None

    def _command_spec(self, name: str, guild: SimGuild | None, type: int) -> dict[str, Any] | None:
        return self.find_command(name, guild=guild, type=type)

    def _phantom_id(self, name: str) -> int:
        """A stable id for commands the bot never synced (tests that skip sync)."""
        return self._phantom_commands.setdefault(name, self.snowflake())

    def _coerce_reference(self, value: Any, option_type: int, guild: SimGuild | None) -> Any:
        """Turn ids into world objects for reference options; bytes into attachments."""
        if option_type == OptionType.ATTACHMENT and not isinstance(value, SimAttachment):
            return self._coerce_attachment(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return value
        if option_type in (OptionType.USER, OptionType.MENTIONABLE) and value in self.users:
            return self.users[value]
        if option_type in (OptionType.ROLE, OptionType.MENTIONABLE) and guild is not None and value in guild.roles:
            return guild.roles[value]
        if option_type == OptionType.CHANNEL and value in self.channels:
            return self.channels[value]
        return value

    def _coerce_attachment(self, item: SimAttachment | bytes | tuple[bytes, str]) -> SimAttachment:
        if isinstance(item, SimAttachment):
            if item.id not in self.attachments:
                self.attachments[item.id] = item
                item.url = item.url or self._cdn_url("ephemeral-attachments", self.application_id, item)
            return item
        if isinstance(item, tuple):
            return self.add_attachment(item[0], item[1])
        return self.add_attachment(bytes(item))

    def _select_value(self, value: Any, resolved: Resolved) -> str:
        if isinstance(value, SimMember):
            resolved.user(value.user, value)
            return str(value.id)
        if isinstance(value, SimUser):
            resolved.user(value)
            return str(value.id)
        if isinstance(value, SimRole):
            resolved.role(value)
            return str(value.id)
        if isinstance(value, SimChannel):
            resolved.channel(value)
            return str(value.id)
        return str(value)

    def _message_obj(self, message: SimMessage | int) -> SimMessage:
        return message if isinstance(message, SimMessage) else self.messages[int(message)]

    # ---------------------------------------------------------------------------- gateway server

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(next(self._conn_seq), ws, dict(request.query))
        self.connections.append(conn)
        self._log_gateway("connect", conn)
        await self._send(conn, {"op": _OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
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
            if self._active is conn:
                self._active = None
            self._log_gateway("close", conn, d={"code": ws.close_code})
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op != _OP_HEARTBEAT:
            self._log_gateway("recv", conn, op=op, d=_redact(data))
        if op == _OP_HEARTBEAT:
            await self._send(conn, {"op": _OP_HEARTBEAT_ACK, "d": None}, record=False)
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
        self.sessions[session.id] = session
        self.identify_count += 1
        async with self._dispatch_lock:
            conn.session = session
            self._active, self._last_session = conn, session
            self._outbox.clear()  # a fresh session starts from READY + GUILD_CREATE: nothing to replay
            ready: dict[str, Any] = {
                "v": 10,
                "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "email": None},
                "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": ["local"],
                "user_settings": {},
            }
            if "shard" in data:
                ready["shard"] = data["shard"]
            await self._send_dispatch(conn, session, "READY", ready)
            for guild in self.guilds.values():
                await self._send_dispatch(conn, session, "GUILD_CREATE", self._guild_create(guild))
            conn.ready = True
            self._last_ready = conn
        self._log_gateway("ready", conn)

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or (self.token is not None and data.get("token") != self.token):
            await self._send(conn, {"op": _OP_INVALID_SESSION, "d": False})
            return
        self.resume_count += 1
        after = int(data.get("seq") or 0)
        async with self._dispatch_lock:
            for old in self.connections:
                if old is not conn and old.session is session and not old.closed:
                    old.session = None  # the session moved; stop writing to the stale socket
            conn.session = session
            self._active, self._last_session = conn, session
            for payload in list(session.backlog):
                if payload["s"] > after:
                    await self._send(conn, payload)
            await self._flush_outbox()
            await self._send_dispatch(conn, session, "RESUMED", {})
            conn.ready = True
            self._last_ready = conn
        self._log_gateway("resumed", conn, d={"replayed_after": after})

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        guild = self.guilds.get(int(data.get("guild_id", 0)))
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
        await self._dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def _guild_create(self, guild: SimGuild) -> dict[str, Any]:
        bot = guild.members[self.bot_user.id]
        return guild.create_payload(channel_payload=lambda c: c.payload()) | {
            "members": [bot.payload()] + [m.payload() for m in guild.members.values() if m is not bot]
        }

    async def _send(self, conn: GatewayConnection, payload: dict[str, Any], *, record: bool = True) -> None:
        if conn.closed or conn.ws.closed:
            return
        try:
            await conn.ws.send_str(json.dumps(payload))
        except (ConnectionError, RuntimeError) as exc:  # the client went away mid-send
            log.debug("gateway send to connection %s failed: %s", conn.id, exc)
            return
        if record:
            op, t, d, seq = payload.get("op"), payload.get("t"), payload.get("d"), payload.get("s")
            self._log_gateway("send", conn, op=op, t=t, d=d, seq=seq)

    async def _send_dispatch(self, conn: GatewayConnection | None, session: GatewaySession, t: str, d: Any) -> None:
        session.seq += 1
        payload = {"op": _OP_DISPATCH, "t": t, "s": session.seq, "d": d}
        session.backlog.append(payload)
        if conn is not None and conn.session is session:
            await self._send(conn, payload)

    async def _dispatch(
        self,
        t: str,
        d: dict[str, Any],
        *,
        intent: int = 0,
        required: bool = False,
        interaction: SimInteraction | None = None,
    ) -> None:
        async with self._dispatch_lock:
            await self._flush_outbox()
            conn = self._active
            if required and (conn is None or not conn.ready or conn.closed):
                raise RuntimeError("no gateway client is connected and ready (await sim.wait_ready() first)")
            session = conn.session if conn is not None else self._last_session
            if session is None or (intent and not session.intents & intent):
                return
            if interaction is not None:
                interaction.dispatched_at = time.monotonic()
            await self._send_dispatch(conn, session, t, d)

    def _queue_event(self, t: str, d: dict[str, Any], intent: int = 0) -> None:
        """From synchronous code: send after anything queued earlier, before anything dispatched later."""
        if self._last_session is None:
            return  # nobody has connected yet: READY/GUILD_CREATE will carry the state
        self._outbox.append((t, d, intent))
        self._spawn(self.flush())

    async def _flush_outbox(self) -> None:
        """Caller holds ``_dispatch_lock``."""
        pending, self._outbox = self._outbox, []
        conn = self._active
        session = conn.session if conn is not None else self._last_session
        if session is None:
            return
        for t, d, intent in pending:
            if not intent or session.intents & intent:
                await self._send_dispatch(conn, session, t, d)

    def _spawn(self, coro: Any) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no loop (building the world before start): READY will carry it
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _log_gateway(self, kind: str, conn: GatewayConnection, **fields: Any) -> None:
        event = GatewayEvent(kind, conn.id, time.monotonic(), **fields)
        self.gateway_log.append(event)
        self._notify("gateway", event)

    # ----------------------------------------------------------------------------------- CDN

    def _cdn_url(self, kind: str, owner: int, att: SimAttachment) -> str:
        return f"{self._base_url}/cdn/{kind}/{owner}/{att.id}/{quote(att.filename)}"

    async def _cdn(self, request: web.Request) -> web.Response:
        att = self.attachments.get(int(request.match_info["attachment_id"]))
        if att is None:
            return web.Response(status=404, text="Not Found")
        self.cdn_requests.append((att.id, time.monotonic()))
        return web.Response(body=att.data, headers={"Content-Type": att.content_type or "application/octet-stream"})

    # ------------------------------------------------------------------------------------- REST

    async def _rest(self, request: web.Request) -> web.Response:
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
        self._notify("call", call)
        if status == 204 or body is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        return web.Response(status=status, body=json.dumps(body).encode(), headers={"Content-Type": JSON, **headers})

    def _classify(self, call: RecordedCall) -> None:
        """Tie interaction traffic to its interaction (``kind``, ``interaction_id``) before anything
        can fail, so rejected and injected calls show up in ``interaction_responses`` too."""
        found = _CALLBACK_PATH.fullmatch(call.path)
        if found is not None:
            inter = self.interactions.get(int(found["interaction_id"]))
            kind = "callback"
        else:
            found = _WEBHOOK_PATH.fullmatch(call.path)
            if found is None:
                return
            inter = self._tokens.get(found["token"])
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
        for method, pattern, handler in _ROUTES:
            found = pattern.fullmatch(call.path)
            if found is None:
                continue
            allowed = True
            if method == call.method:
                return await getattr(self, handler)(call, **found.groupdict())
        if allowed:
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise ApiError(404, 0, "404: Not Found")

    # --- users, application, gateway

    async def _get_me(self, call: RecordedCall) -> tuple[int, Any]:
        return 200, self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}

    async def _get_user(self, call: RecordedCall, user_id: str) -> tuple[int, Any]:
        user = self.users.get(int(user_id))
        if user is None:
            raise ApiError(404, ErrorCode.UNKNOWN_USER)
        return 200, user.payload()

    async def _get_application(self, call: RecordedCall) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.application_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.app_owner.payload(),
            "team": None,
            "bot": self.bot_user.payload(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "tags": [],
        }

    async def _get_gateway(self, call: RecordedCall) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, call: RecordedCall) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    async def _list_entitlements(self, call: RecordedCall, app_id: str) -> tuple[int, Any]:
        return 200, []

    # --- application commands

    def _command_scope(self, app_id: str, guild_id: str | None) -> int | None:
        if int(app_id) != self.application_id:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        if guild_id is None:
            return None
        if int(guild_id) not in self.guilds:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        return int(guild_id)

    def _stored_command(
        self, body: dict[str, Any], scope: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        ctype = int(body.get("type", 1))
        stored = {
            "id": existing["id"] if existing else str(self.snowflake()),
            "application_id": str(self.application_id),
            "version": str(self.snowflake()),
            "type": ctype,
            "name": body["name"],
            "description": body.get("description", "") if ctype == 1 else "",
            "options": body.get("options", []),
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": body.get("nsfw", False),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types", [0]),
            "name_localizations": body.get("name_localizations"),
            "description_localizations": body.get("description_localizations"),
        }
        if "dm_permission" in body:
            stored["dm_permission"] = body["dm_permission"]
        if scope is not None:
            stored["guild_id"] = str(scope)
        return stored

    async def _list_commands(self, call: RecordedCall, app_id: str, guild_id: str | None = None) -> tuple[int, Any]:
        return 200, self.commands.get(self._command_scope(app_id, guild_id), [])

    async def _put_commands(self, call: RecordedCall, app_id: str, guild_id: str | None = None) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        body = call.json
        if not isinstance(body, list):
            raise invalid_form([], "LIST_TYPE_CONVERT", "Not a list.")
        _validate_commands(body)
        old = {(c["name"], c["type"]): c for c in self.commands.get(scope, [])}
        stored = [self._stored_command(b, scope, old.get((b["name"], int(b.get("type", 1))))) for b in body]
        self.commands[scope] = stored
        return 200, stored

    async def _post_command(self, call: RecordedCall, app_id: str, guild_id: str | None = None) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        _validate_commands([call.json])
        commands = self.commands.setdefault(scope, [])
        key = (call.json["name"], int(call.json.get("type", 1)))
        existing = next((c for c in commands if (c["name"], c["type"]) == key), None)
        stored = self._stored_command(call.json, scope, existing)
        if existing is not None:
            commands[commands.index(existing)] = stored
            return 200, stored
        commands.append(stored)
        return 201, stored

    def _command_by_id(self, scope: int | None, command_id: str) -> dict[str, Any]:
        for cmd in self.commands.get(scope, []):
            if cmd["id"] == command_id:
                return cmd
        raise ApiError(404, ErrorCode.UNKNOWN_APPLICATION_COMMAND)

    async def _get_command(
        self, call: RecordedCall, app_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        return 200, self._command_by_id(self._command_scope(app_id, guild_id), command_id)

    async def _patch_command(
        self, call: RecordedCall, app_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        cmd = self._command_by_id(scope, command_id)
        merged = {k: v for k, v in cmd.items() if k not in ("id", "version")} | (call.json or {})
        _validate_commands([merged])
        stored = self._stored_command(merged, scope, cmd)
        commands = self.commands[scope]
        commands[commands.index(cmd)] = stored
        return 200, stored

    async def _delete_command(
        self, call: RecordedCall, app_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        self.commands[scope].remove(self._command_by_id(scope, command_id))
        return 204, None

    # --- interactions and their webhooks

    async def _interaction_callback(self, call: RecordedCall, interaction_id: str, token: str) -> tuple[int, Any]:
        inter = self.interactions.get(int(interaction_id))
        if inter is None or inter.token != token:
            raise ApiError(404, ErrorCode.UNKNOWN_INTERACTION)
        late = self.callback_window is not None and call.at - inter.dispatched_at > self.callback_window
        if late or time.time() > inter.expires_at:
            raise ApiError(404, ErrorCode.UNKNOWN_INTERACTION)
        if inter.acked:
            raise ApiError(400, ErrorCode.ALREADY_ACKNOWLEDGED)
        body = call.json if isinstance(call.json, dict) else {}
        ctype = body.get("type")
        data = body.get("data") or {}
        channel = self.channels[inter.channel_id]
        message: SimMessage | None = None
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.AUTOCOMPLETE: {8},
            InteractionType.MODAL_SUBMIT: {4, 5, 6, 7} if inter.message_id else {4, 5},
        }[InteractionType(inter.type)]
        if ctype not in allowed:
            raise invalid_form(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
        self._check_upload(call, self.upload_limit_for(channel))
        if ctype == CallbackType.CHANNEL_MESSAGE:
            message = self._create_interaction_message(inter, data, call)
        elif ctype == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            flags = MessageFlag.LOADING | (int(data.get("flags") or 0) & MessageFlag.EPHEMERAL)
            message = self._new_message(
                channel, self.bot_user, {}, [], flags=flags, allow_empty=True, **self._interaction_meta(inter)
            )
        elif ctype in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            message = self.messages[inter.message_id]  # type: ignore[index]
            if ctype == CallbackType.UPDATE_MESSAGE:
                self._edit_message(message, data, call)
        inter.callback = call
        call.status = 200  # so ``acked`` holds while the rest of this handler runs
        if message is not None:
            inter.original_message_id = message.id
            call.message_id = message.id
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        info: dict[str, Any] = {"id": str(inter.id), "type": inter.type}
        resource: dict[str, Any] = {"type": ctype}
        if message is not None:
            info.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            resource["message"] = self._message_payload(message)
        return 200, {"interaction": info, "resource": resource}

    def _interaction_meta(self, inter: SimInteraction) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": str(inter.id),
            "type": inter.type,
            "user": inter.user.payload(),
            "authorizing_integration_owners": inter.payload.get("authorizing_integration_owners", {}),
        }
        if inter.type == InteractionType.APPLICATION_COMMAND:
            meta["name"] = inter.name
            meta["command_type"] = inter.command_type
        if inter.message_id is not None:
            meta["interacted_message_id"] = str(inter.message_id)
        if inter.type == InteractionType.APPLICATION_COMMAND:
            mtype = MessageType.CONTEXT_MENU_COMMAND if inter.command_type != 1 else MessageType.CHAT_INPUT_COMMAND
        else:
            mtype = MessageType.DEFAULT
        return {
            "interaction": inter,
            "metadata": meta,
            "message_type": mtype,
        }

    def _create_interaction_message(
        self, inter: SimInteraction, data: dict[str, Any], call: RecordedCall
    ) -> SimMessage:
        channel = self.channels[inter.channel_id]
        flags = int(data.get("flags") or 0) & _SENDABLE_FLAGS
        return self._new_message(channel, self.bot_user, data, call.files, flags=flags, **self._interaction_meta(inter))

    def _webhook_interaction(self, call: RecordedCall, app_id: str, token: str) -> SimInteraction:
        inter = self._tokens.get(token)
        if int(app_id) != self.application_id or inter is None:
            raise ApiError(404, ErrorCode.UNKNOWN_WEBHOOK)
        if time.time() > inter.expires_at:
            raise ApiError(401, ErrorCode.INVALID_WEBHOOK_TOKEN)
        if not inter.acked:
            raise ApiError(404, ErrorCode.UNKNOWN_WEBHOOK)
        return inter

    async def _webhook_execute(self, call: RecordedCall, app_id: str, token: str) -> tuple[int, Any]:
        inter = self._webhook_interaction(call, app_id, token)
        channel = self.channels[inter.channel_id]
        self._check_upload(call, self.upload_limit_for(channel))
        body = call.json if isinstance(call.json, dict) else {}
        original = self.messages.get(inter.original_message_id or 0)
        if (
            self.followup_resolves_deferral
            and inter.followups == 0
            and inter.callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.loading
        ):
            message = original
            self._edit_message(message, body, call, replace_all=True)
        else:
            message = self._create_interaction_message(inter, body, call)
        inter.followups += 1
        call.message_id = message.id
        if call.query.get("wait") in ("1", "true", "True"):
            return 200, self._message_payload(message)
        return 204, None

    def _webhook_message(self, inter: SimInteraction, message_id: str) -> SimMessage:
        if message_id == "@original":
            if inter.original_message_id is None:
                raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
            target = self.messages[inter.original_message_id]
        else:
            target = self.messages.get(int(message_id))  # type: ignore[assignment]
            if target is None or (target.interaction_id != inter.id and target.id != inter.original_message_id):
                raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
        if target.deleted:
            raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
        return target

    async def _webhook_message_op(
        self, call: RecordedCall, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        inter = self._webhook_interaction(call, app_id, token)
        message = self._webhook_message(inter, message_id)
        call.message_id = message.id
        if call.method == "GET":
            return 200, self._message_payload(message)
        if call.method == "DELETE":
            self._delete_message(message)
            return 204, None
        self._check_upload(call, self.upload_limit_for(self.channels[message.channel_id]))
        self._edit_message(message, call.json if isinstance(call.json, dict) else {}, call)
        return 200, self._message_payload(message)

    # --- channels and messages

    def _channel(self, channel_id: str | int) -> SimChannel:
        channel = self.channels.get(int(channel_id))
        if channel is None or channel.deleted:
            raise ApiError(404, ErrorCode.UNKNOWN_CHANNEL)
        return channel

    def _require(self, channel: SimChannel, needed: int) -> None:
        """403 unless the bot has every bit of ``needed`` in ``channel`` (50001 without VIEW_CHANNEL)."""
        perms = self.bot_permissions_in(channel)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        if perms & needed != needed:
            raise ApiError(403, ErrorCode.MISSING_PERMISSIONS)

    def _check_upload(self, call: RecordedCall, limit: int) -> None:
        if any(f.size > limit for f in call.files):
            raise ApiError(413, ErrorCode.REQUEST_TOO_LARGE)

    async def _get_channel(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if not channel.is_dm:
            self._require(channel, Perm.VIEW_CHANNEL)
        return 200, channel.payload()

    async def _patch_channel(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        body = call.json if isinstance(call.json, dict) else {}
        if channel.is_dm:
            raise ApiError(403, ErrorCode.MISSING_PERMISSIONS)
        if not channel.is_thread:
            self._require(channel, Perm.MANAGE_CHANNELS)
            channel.name = body.get("name", channel.name)
            channel.topic = body.get("topic", channel.topic)
            await self._dispatch("CHANNEL_UPDATE", channel.payload(), intent=Intent.GUILDS)
            return 200, channel.payload()
        perms = self.bot_permissions_in(channel)
        manage = bool(perms & Perm.MANAGE_THREADS)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        touches_lock = "locked" in body and bool(body["locked"]) != channel.locked
        if (touches_lock or channel.locked) and not manage:
            raise ApiError(403, ErrorCode.MISSING_PERMISSIONS)
        if set(body) - {"archived"} and channel.owner_id != self.bot_user.id and not manage:
            raise ApiError(403, ErrorCode.MISSING_PERMISSIONS)
        if "archived" in body and bool(body["archived"]) != channel.archived:
            channel.archived = bool(body["archived"])
            channel.archive_timestamp = now()
        channel.locked = bool(body.get("locked", channel.locked))
        channel.name = body.get("name", channel.name)
        channel.auto_archive_duration = int(body.get("auto_archive_duration", channel.auto_archive_duration))
        channel.invitable = bool(body.get("invitable", channel.invitable))
        await self._dispatch("THREAD_UPDATE", channel.payload(), intent=Intent.GUILDS)
        return 200, channel.payload()

    async def _delete_channel(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if channel.is_dm:
            return 200, channel.payload()
        self._require(channel, Perm.MANAGE_THREADS if channel.is_thread else Perm.MANAGE_CHANNELS)
        channel.deleted = True
        event = "THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE"
        data = channel.payload()
        if channel.is_thread:
            data = {k: data[k] for k in ("id", "guild_id", "parent_id", "type")}
        await self._dispatch(event, data, intent=Intent.GUILDS)
        return 200, channel.payload()

    async def _list_messages(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if not channel.is_dm:
            self._require(channel, Perm.READ_MESSAGE_HISTORY)
        limit = max(1, min(100, int(call.query.get("limit", 50))))
        msgs = [m for m in self.messages_in(channel) if not m.ephemeral]
        if "before" in call.query:
            msgs = [m for m in msgs if m.id < int(call.query["before"])]
        if "after" in call.query:
            msgs = [m for m in msgs if m.id > int(call.query["after"])][:limit]
        msgs = sorted(msgs, key=lambda m: m.id, reverse=True)[:limit]
        return 200, [self._message_payload(m) for m in msgs]

    async def _create_message(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        body = call.json if isinstance(call.json, dict) else {}
        if channel.is_dm:
            recipient = channel.recipients[0]
            if not recipient.accepts_dms:
                raise ApiError(403, ErrorCode.CANNOT_DM_USER)
        else:
            needed = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
            if call.files:
                needed |= Perm.ATTACH_FILES
            self._require(channel, needed)
            if channel.is_thread and channel.archived:
                if channel.locked and not self.bot_permissions_in(channel) & Perm.MANAGE_THREADS:
                    raise ApiError(400, ErrorCode.THREAD_ARCHIVED)
                channel.archived = False  # sending unarchives, as on Discord
                await self._dispatch("THREAD_UPDATE", channel.payload(), intent=Intent.GUILDS)
        self._check_upload(call, self.upload_limit_for(channel))
        reference = body.get("message_reference")
        if reference:
            ref_id = int(reference.get("message_id", 0))
            if ref_id not in self.messages and reference.get("fail_if_not_exists", True):
                raise invalid_form(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
        nonce = body.get("nonce")
        if isinstance(nonce, str) and len(nonce) > 25:
            raise invalid_form(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same author and nonce within a few minutes returns the first message
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and time.monotonic() - seen[1] < self.nonce_window:
                existing = self.messages[seen[0]]
                if not existing.deleted:
                    call.message_id = existing.id
                    return 200, self._message_payload(existing)
        flags = int(body.get("flags") or 0) & (_SENDABLE_FLAGS & ~MessageFlag.EPHEMERAL)
        message = self._new_message(channel, self.bot_user, body, call.files, flags=flags)
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = (message.id, time.monotonic())
        call.message_id = message.id
        return 200, self._message_payload(message)

    def _channel_message(self, channel: SimChannel, message_id: str) -> SimMessage:
        message = self.messages.get(int(message_id))
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
        return message

    async def _get_message(self, call: RecordedCall, channel_id: str, message_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if not channel.is_dm:
            self._require(channel, Perm.READ_MESSAGE_HISTORY)
        message = self._channel_message(channel, message_id)
        call.message_id = message.id
        return 200, self._message_payload(message)

    async def _patch_message(self, call: RecordedCall, channel_id: str, message_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        message = self._channel_message(channel, message_id)
        call.message_id = message.id
        if message.author.id != self.bot_user.id:
            raise ApiError(403, ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE)
        self._check_upload(call, self.upload_limit_for(channel))
        self._edit_message(message, call.json if isinstance(call.json, dict) else {}, call)
        return 200, self._message_payload(message)

    async def _delete_channel_message(self, call: RecordedCall, channel_id: str, message_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        message = self._channel_message(channel, message_id)
        call.message_id = message.id
        if message.author.id != self.bot_user.id and not channel.is_dm:
            self._require(channel, Perm.MANAGE_MESSAGES)
        elif message.author.id != self.bot_user.id:
            raise ApiError(403, ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE)
        self._delete_message(message)
        return 204, None

    async def _typing(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        self._channel(channel_id)
        return 204, None

    # --- threads

    def _new_thread(self, parent: SimChannel, thread_id: int, body: dict[str, Any], ttype: int) -> SimChannel:
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise invalid_form(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        guild = self.guilds[parent.guild_id]  # type: ignore[index]
        thread = SimChannel(
            thread_id,
            ttype,
            name,
            guild.id,
            parent.id,
            owner_id=self.bot_user.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
            invitable=bool(body.get("invitable", True)),
            member_ids={self.bot_user.id},
        )
        guild.channels[thread.id] = thread
        self.channels[thread.id] = thread
        return thread

    async def _thread_from_message(self, call: RecordedCall, channel_id: str, message_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if channel.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            raise ApiError(400, ErrorCode.INVALID_FORM_BODY, "Cannot start a thread in this channel")
        self._require(channel, Perm.CREATE_PUBLIC_THREADS)
        message = self._channel_message(channel, message_id)
        if message.thread_id is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        ttype = (
            ChannelType.ANNOUNCEMENT_THREAD
            if channel.type == ChannelType.GUILD_ANNOUNCEMENT
            else ChannelType.PUBLIC_THREAD
        )
        thread = self._new_thread(channel, message.id, call.json or {}, ttype)
        message.thread_id = thread.id
        message.flags |= MessageFlag.HAS_THREAD
        await self._dispatch("THREAD_CREATE", thread.payload() | {"newly_created": True}, intent=Intent.GUILDS)
        self._notify("message", message)
        return 201, thread.payload()

    async def _thread_without_message(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        body = call.json if isinstance(call.json, dict) else {}
        if channel.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            raise ApiError(400, ErrorCode.INVALID_FORM_BODY, "Cannot start a thread in this channel")
        ttype = int(body.get("type") or ChannelType.PRIVATE_THREAD)
        if ttype not in THREAD_TYPE_VALUES:
            raise invalid_form(["type"], "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
        needed = Perm.CREATE_PRIVATE_THREADS if ttype == ChannelType.PRIVATE_THREAD else Perm.CREATE_PUBLIC_THREADS
        self._require(channel, needed)
        thread = self._new_thread(channel, self.snowflake(), body, ttype)
        await self._dispatch("THREAD_CREATE", thread.payload() | {"newly_created": True}, intent=Intent.GUILDS)
        return 201, thread.payload()

    async def _thread_member(self, call: RecordedCall, channel_id: str, user_id: str) -> tuple[int, Any]:
        thread = self._channel(channel_id)
        if not thread.is_thread:
            raise ApiError(400, ErrorCode.INVALID_FORM_BODY, "Not a thread")
        uid = self.bot_user.id if user_id == "@me" else int(user_id)
        if uid not in self.users:
            raise ApiError(404, ErrorCode.UNKNOWN_USER)
        if call.method == "PUT":
            if thread.archived:
                raise ApiError(400, ErrorCode.THREAD_ARCHIVED)
            if uid != self.bot_user.id:
                self._require(thread, Perm.SEND_MESSAGES_IN_THREADS)
            thread.member_ids.add(uid)
        else:
            if uid != self.bot_user.id:
                self._require(thread, Perm.MANAGE_THREADS)
            thread.member_ids.discard(uid)
        return 204, None

    # --- DMs and guilds

    async def _create_dm(self, call: RecordedCall) -> tuple[int, Any]:
        body = call.json if isinstance(call.json, dict) else {}
        user = self.users.get(int(body.get("recipient_id") or 0))
        if user is None or user.id == self.bot_user.id:
            raise ApiError(400, ErrorCode.INVALID_RECIPIENT)
        return 200, self.dm_channel(user).payload()

    def _guild(self, guild_id: str) -> SimGuild:
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise ApiError(404, ErrorCode.UNKNOWN_GUILD)
        return guild

    async def _get_guild(self, call: RecordedCall, guild_id: str) -> tuple[int, Any]:
        return 200, self._guild(guild_id).payload()

    async def _get_guild_channels(self, call: RecordedCall, guild_id: str) -> tuple[int, Any]:
        guild = self._guild(guild_id)
        return 200, [c.payload() for c in guild.channels.values() if not c.is_thread and not c.deleted]

    async def _get_guild_roles(self, call: RecordedCall, guild_id: str) -> tuple[int, Any]:
        return 200, [r.payload() for r in self._guild(guild_id).roles.values()]

    async def _get_member(self, call: RecordedCall, guild_id: str, user_id: str) -> tuple[int, Any]:
        member = self._guild(guild_id).members.get(int(user_id))
        if member is None:
            raise ApiError(404, ErrorCode.UNKNOWN_MEMBER)
        return 200, member.payload()

    async def _list_members(self, call: RecordedCall, guild_id: str) -> tuple[int, Any]:
        guild = self._guild(guild_id)
        limit = max(1, min(1000, int(call.query.get("limit", 1))))
        after = int(call.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)[:limit]
        return 200, [m.payload() for m in members]

    # --- message store

    def _new_message(
        self,
        channel: SimChannel,
        author: SimUser,
        body: dict[str, Any],
        files: list[RecordedFile],
        *,
        flags: int = 0,
        allow_empty: bool = False,
        interaction: SimInteraction | None = None,
        metadata: dict[str, Any] | None = None,
        message_type: int = MessageType.DEFAULT,
    ) -> SimMessage:
        message = SimMessage(
            self.snowflake(), channel.id, channel.guild_id, author, flags=int(flags), type=message_type
        )
        if interaction is not None:
            message.interaction_id = interaction.id
            message.webhook_id = self.application_id
            message.application_id = self.application_id
            message.interaction_metadata = metadata
        self._apply_body(message, body, files, allow_empty=allow_empty)
        reference = body.get("message_reference")
        if reference and int(reference.get("message_id", 0)) in self.messages:
            message.message_reference = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel.id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
            }
            message.type = MessageType.REPLY
        message.nonce = body.get("nonce")  # before storing: waiters and MESSAGE_CREATE see it
        self._store_message(message)
        return message

    def _store_message(self, message: SimMessage) -> None:
        self.messages[message.id] = message
        self._channel_messages.setdefault(message.channel_id, []).append(message)
        channel = self.channels.get(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
                channel.total_message_sent += 1
        self._notify("message", message)
        if not message.ephemeral and not message.loading:
            self._queue_message_event("MESSAGE_CREATE", message)

    def _edit_message(
        self, message: SimMessage, body: dict[str, Any], call: RecordedCall, *, replace_all: bool = False
    ) -> None:
        """Apply a PATCH body (or, for a follow-up that fills a deferral, a whole new message)."""
        was_loading = message.loading
        if replace_all:
            keep = message.flags & MessageFlag.EPHEMERAL
            message.flags = keep | (int(body.get("flags") or 0) & _EDITABLE_FLAGS)
        elif body.get("flags") is not None:
            message.flags = (message.flags & ~_EDITABLE_FLAGS) | (int(body["flags"]) & _EDITABLE_FLAGS)
        message.flags &= ~MessageFlag.LOADING
        self._apply_body(message, body, call.files, partial=not replace_all)
        message.edits.append(body)
        if not was_loading:
            message.edited_timestamp = now()
        self._notify("message", message)
        if not message.ephemeral:
            self._queue_message_event("MESSAGE_CREATE" if was_loading else "MESSAGE_UPDATE", message)

    def _apply_body(
        self,
        message: SimMessage,
        body: dict[str, Any],
        files: list[RecordedFile],
        *,
        partial: bool = False,
        allow_empty: bool = False,
    ) -> None:
        content = body.get("content", message.content if partial else "")
        content = "" if content is None else str(content)
        if len(content) > 2000:
            raise invalid_form(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds", message.embeds if partial else []) or []
        components = body.get("components", message.components if partial else []) or []
        attachments = self._collect_attachments(message, body, files, partial=partial)
        if not allow_empty and not (content or embeds or attachments or components or body.get("poll")):
            raise ApiError(400, ErrorCode.EMPTY_MESSAGE)
        message.content = content
        message.embeds = [{"type": "rich", **e} for e in embeds]
        message.components = list(components)
        message.attachments = attachments
        message.tts = bool(body.get("tts", False))

    def _collect_attachments(
        self, message: SimMessage, body: dict[str, Any], files: list[RecordedFile], *, partial: bool
    ) -> list[SimAttachment]:
        """Discord's rules: ``attachments`` lists what the message keeps -- existing ids, and new
        uploads by their ``files[n]`` index -- and unlisted uploads are added too; without the key, an
        edit keeps the existing ones and appends uploads."""
        by_index: dict[int, RecordedFile] = {}
        for position, upload in enumerate(files):
            found = re.fullmatch(r"files\[(\d+)\]", upload.field)
            by_index[int(found.group(1)) if found else position] = upload
        existing = {a.id: a for a in message.attachments} if partial else {}
        result: list[SimAttachment] = []
        used: set[int] = set()
        if body.get("attachments") is not None:
            for position, entry in enumerate(body["attachments"]):
                ref = int(entry["id"])
                if ref in existing:
                    result.append(existing[ref])
                elif ref in by_index and ref not in used:
                    used.add(ref)
                    result.append(self._upload(message, by_index[ref], entry))
                else:
                    raise invalid_form(["attachments", position, "id"], "ATTACHMENT_NOT_FOUND", "Unknown attachment")
        else:
            result.extend(existing.values())
        for index, upload in sorted(by_index.items()):
            if index not in used:
                result.append(self._upload(message, upload, {}))
        return result

    def _upload(self, message: SimMessage, upload: RecordedFile, entry: Mapping[str, Any]) -> SimAttachment:
        att = make_attachment(
            self.snowflake(),
            upload.data,
            str(entry.get("filename") or upload.filename),
            content_type=upload.content_type,
            description=entry.get("description"),
        )
        att.ephemeral = message.ephemeral
        att.title = entry.get("title")
        att.url = self._cdn_url("attachments", message.channel_id, att)
        self.attachments[att.id] = att
        return att

    def _delete_message(self, message: SimMessage) -> None:
        message.deleted = True
        self._notify("message", message)
        if not message.ephemeral:
            data = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id:
                data["guild_id"] = str(message.guild_id)
            intent = Intent.GUILD_MESSAGES if message.guild_id else Intent.DIRECT_MESSAGES
            self._queue_event("MESSAGE_DELETE", data, intent)

    def _queue_message_event(self, t: str, message: SimMessage) -> None:
        intent = Intent.GUILD_MESSAGES if message.guild_id else Intent.DIRECT_MESSAGES
        if self._last_session is None or not self._last_session.intents & intent:
            return
        data = self._message_payload(message)
        if message.author.id != self.bot_user.id and not self._last_session.intents & Intent.MESSAGE_CONTENT:
            data.update(content="", embeds=[], attachments=[], components=[])
        guild = self.guild_of(self.channels[message.channel_id])
        if guild is not None and message.author.id in guild.members:
            data["member"] = guild.members[message.author.id].payload(with_user=False)
        self._queue_event(t, data, intent)

    def _message_payload(self, message: SimMessage) -> dict[str, Any]:
        thread = self.channels.get(message.thread_id or 0)
        referenced = None
        if message.message_reference:
            ref = self.messages.get(int(message.message_reference["message_id"]))
            referenced = None if ref is None or ref.deleted else ref.payload()
        return message.payload(thread=thread.payload() if thread else None, referenced=referenced)


_CALLBACK_PATH = re.compile(r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback")
_WEBHOOK_PATH = re.compile(r"/webhooks/\d+/(?P<token>[^/]+)(?:/messages/(?P<message_id>[^/]+))?")
THREAD_TYPE_VALUES = {
    int(ChannelType.ANNOUNCEMENT_THREAD),
    int(ChannelType.PUBLIC_THREAD),
    int(ChannelType.PRIVATE_THREAD),
}

_APP = r"/applications/(?P<app_id>\d+)"
_GUILD_CMDS = _APP + r"/guilds/(?P<guild_id>\d+)/commands"
_HOOK = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
_CH = r"/channels/(?P<channel_id>\d+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in [
        ("GET", r"/users/@me", "_get_me"),
        ("POST", r"/users/@me/channels", "_create_dm"),
        ("GET", r"/users/(?P<user_id>\d+)", "_get_user"),
        ("GET", r"/oauth2/applications/@me", "_get_application"),
        ("GET", r"/applications/@me", "_get_application"),
        ("GET", r"/gateway", "_get_gateway"),
        ("GET", r"/gateway/bot", "_get_gateway_bot"),
        ("GET", _APP + r"/entitlements", "_list_entitlements"),
        ("GET", _APP + r"/commands", "_list_commands"),
        ("PUT", _APP + r"/commands", "_put_commands"),
        ("POST", _APP + r"/commands", "_post_command"),
        ("GET", _APP + r"/commands/(?P<command_id>\d+)", "_get_command"),
        ("PATCH", _APP + r"/commands/(?P<command_id>\d+)", "_patch_command"),
        ("DELETE", _APP + r"/commands/(?P<command_id>\d+)", "_delete_command"),
        ("GET", _GUILD_CMDS, "_list_commands"),
        ("PUT", _GUILD_CMDS, "_put_commands"),
        ("POST", _GUILD_CMDS, "_post_command"),
        ("GET", _GUILD_CMDS + r"/(?P<command_id>\d+)", "_get_command"),
        ("PATCH", _GUILD_CMDS + r"/(?P<command_id>\d+)", "_patch_command"),
        ("DELETE", _GUILD_CMDS + r"/(?P<command_id>\d+)", "_delete_command"),
        ("POST", r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback", "_interaction_callback"),
        ("POST", _HOOK, "_webhook_execute"),
        ("GET", _HOOK + r"/messages/(?P<message_id>@original|\d+)", "_webhook_message_op"),
        ("PATCH", _HOOK + r"/messages/(?P<message_id>@original|\d+)", "_webhook_message_op"),
        ("DELETE", _HOOK + r"/messages/(?P<message_id>@original|\d+)", "_webhook_message_op"),
        ("GET", _CH, "_get_channel"),
        ("PATCH", _CH, "_patch_channel"),
        ("DELETE", _CH, "_delete_channel"),
        ("GET", _CH + r"/messages", "_list_messages"),
        ("POST", _CH + r"/messages", "_create_message"),
        ("GET", _CH + r"/messages/(?P<message_id>\d+)", "_get_message"),
        ("PATCH", _CH + r"/messages/(?P<message_id>\d+)", "_patch_message"),
        ("DELETE", _CH + r"/messages/(?P<message_id>\d+)", "_delete_channel_message"),
        ("POST", _CH + r"/messages/(?P<message_id>\d+)/threads", "_thread_from_message"),
        ("POST", _CH + r"/threads", "_thread_without_message"),
        ("PUT", _CH + r"/thread-members/(?P<user_id>@me|\d+)", "_thread_member"),
        ("DELETE", _CH + r"/thread-members/(?P<user_id>@me|\d+)", "_thread_member"),
        ("POST", _CH + r"/typing", "_typing"),
        ("GET", r"/guilds/(?P<guild_id>\d+)", "_get_guild"),
        ("GET", r"/guilds/(?P<guild_id>\d+)/channels", "_get_guild_channels"),
        ("GET", r"/guilds/(?P<guild_id>\d+)/roles", "_get_guild_roles"),
        ("GET", r"/guilds/(?P<guild_id>\d+)/members", "_list_members"),
        ("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)", "_get_member"),
    ]
]


def _walk(components: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for comp in components:
        yield comp
        yield from _walk(comp.get("components", []))
        if isinstance(comp.get("component"), dict):
            yield from _walk([comp["component"]])


def _redact(data: Any) -> Any:
    """Gateway log copies without the bot token."""
    if isinstance(data, dict) and "token" in data:
        return {**data, "token": "<redacted>"}
    return data


def _validate_commands(commands: list[Any]) -> None:
    """The checks Discord applies on sync that a bot can get wrong; 400 50035 like Discord."""
    seen: set[tuple[str, int]] = set()
    for index, cmd in enumerate(commands):
        if not isinstance(cmd, dict) or "name" not in cmd:
            raise invalid_form([index, "name"], "BASE_TYPE_REQUIRED", "This field is required")
        ctype = int(cmd.get("type", 1))
        key = (cmd["name"], ctype)
        if key in seen:
            raise invalid_form(
                [index, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add(key)
        if ctype == CommandType.CHAT_INPUT:
            _validate_named(cmd, [index])
            _validate_options(cmd.get("options") or [], [index, "options"])
        elif not 1 <= len(cmd["name"]) <= 32:
            raise invalid_form([index, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")


def _validate_named(item: dict[str, Any], path: list[str | int]) -> None:
    name = str(item.get("name", ""))
    if not _CHAT_NAME.fullmatch(name) or name != name.lower():
        raise invalid_form([*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
    if not 1 <= len(str(item.get("description", ""))) <= 100:
        raise invalid_form([*path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def _validate_options(options: list[dict[str, Any]], path: list[str | int]) -> None:
    if len(options) > 25:
        raise invalid_form(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    for index, option in enumerate(options):
        _validate_named(option, [*path, index])
        if int(option.get("type", 0)) in (1, 2):
            _validate_options(option.get("options") or [], [*path, index, "options"])
            continue
        if option.get("required"):
            if optional_seen:
                raise invalid_form(
                    [*path, index, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if len(option.get("choices") or []) > 25:
            raise invalid_form([*path, index, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
