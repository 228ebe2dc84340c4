"""The simulation's world (users, guilds, channels, messages) and Discord-shaped JSON for it.

Everything here is plain data with no I/O, so the shapes can be read and checked in one place. Payloads
follow the Discord API v10 as discord.py 2.7 parses it: snowflakes as strings, permissions as decimal
strings, ISO-8601 timestamps, ``attachment_size_limit`` in every interaction (discord.py raises
``KeyError`` without it). Ids come from :class:`Snowflakes`, which makes *current* snowflakes because
discord.py computes an interaction's expiry from its id's timestamp.
"""

from __future__ import annotations

import io
import itertools
import mimetypes
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, IntFlag
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
MiB = 1024 * 1024
DEFAULT_UPLOAD_LIMIT = 10 * MiB  # bots in unboosted guilds and DMs


class Perm(IntFlag):
    """Discord permission bits (a subset; any int is accepted wherever a ``Perm`` is)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EXTERNAL_APPS = 1 << 50


ALL_PERMISSIONS = (1 << 53) - 1
DEFAULT_EVERYONE_PERMISSIONS = (
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.CREATE_PRIVATE_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.USE_EXTERNAL_APPS
)
# What the bot's managed role gets: what an image-editing bot's invite link asks for.
DEFAULT_BOT_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.CREATE_PRIVATE_THREADS
    | Perm.MANAGE_THREADS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_APPLICATION_COMMANDS
)
# app_permissions Discord reports for a bot in a DM.
DM_PERMISSIONS = (
    Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.USE_EXTERNAL_APPS
)


class ChannelType(IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12


THREAD_TYPES = frozenset({ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD})


class OptionType(IntEnum):
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


class InteractionType(IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CommandType(IntEnum):
    CHAT_INPUT = 1
    USER = 2
    MESSAGE = 3


class CallbackType(IntEnum):
    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9
    LAUNCH_ACTIVITY = 12


class MessageFlag(IntFlag):
    SUPPRESS_EMBEDS = 1 << 2
    HAS_THREAD = 1 << 5
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_COMPONENTS_V2 = 1 << 15


class MessageType(IntEnum):
    DEFAULT = 0
    THREAD_CREATED = 18
    REPLY = 19
    CHAT_INPUT_COMMAND = 20
    THREAD_STARTER_MESSAGE = 21
    CONTEXT_MENU_COMMAND = 23


class Intent(IntFlag):
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15


# Discord's JSON error codes the simulation answers with, and their messages.
class ErrorCode(IntEnum):
    GENERAL = 0
    UNKNOWN_CHANNEL = 10003
    UNKNOWN_GUILD = 10004
    UNKNOWN_MEMBER = 10007
    UNKNOWN_MESSAGE = 10008
    UNKNOWN_USER = 10013
    UNKNOWN_WEBHOOK = 10015
    UNKNOWN_APPLICATION_COMMAND = 10063
    UNKNOWN_INTERACTION = 10062
    REQUEST_TOO_LARGE = 40005
    ALREADY_ACKNOWLEDGED = 40060
    MISSING_ACCESS = 50001
    CANNOT_EDIT_OTHERS_MESSAGE = 50005
    EMPTY_MESSAGE = 50006
    CANNOT_DM_USER = 50007
    MISSING_PERMISSIONS = 50013
    INVALID_WEBHOOK_TOKEN = 50027
    INVALID_RECIPIENT = 50033
    INVALID_FORM_BODY = 50035
    THREAD_ARCHIVED = 50083
    INVALID_JSON = 50109


ERROR_MESSAGES: dict[int, str] = {
    ErrorCode.GENERAL: "404: Not Found",
    ErrorCode.UNKNOWN_CHANNEL: "Unknown Channel",
    ErrorCode.UNKNOWN_GUILD: "Unknown Guild",
    ErrorCode.UNKNOWN_MEMBER: "Unknown Member",
    ErrorCode.UNKNOWN_MESSAGE: "Unknown Message",
    ErrorCode.UNKNOWN_USER: "Unknown User",
    ErrorCode.UNKNOWN_WEBHOOK: "Unknown Webhook",
    ErrorCode.UNKNOWN_APPLICATION_COMMAND: "Unknown application command",
    ErrorCode.UNKNOWN_INTERACTION: "Unknown interaction",
    ErrorCode.REQUEST_TOO_LARGE: "Request entity too large",
    ErrorCode.ALREADY_ACKNOWLEDGED: "Interaction has already been acknowledged.",
    ErrorCode.MISSING_ACCESS: "Missing Access",
    ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE: "Cannot edit a message authored by another user",
    ErrorCode.EMPTY_MESSAGE: "Cannot send an empty message",
    ErrorCode.CANNOT_DM_USER: "Cannot send messages to this user",
    ErrorCode.MISSING_PERMISSIONS: "Missing Permissions",
    ErrorCode.INVALID_WEBHOOK_TOKEN: "Invalid Webhook Token",
    ErrorCode.INVALID_RECIPIENT: "Invalid Recipient(s)",
    ErrorCode.INVALID_FORM_BODY: "Invalid Form Body",
    ErrorCode.THREAD_ARCHIVED: "Thread is archived",
    ErrorCode.INVALID_JSON: "The request body contains invalid JSON.",
}


def error_body(code: int, message: str | None = None, errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Discord's error JSON: ``{"message", "code"}`` plus ``errors`` for form-body errors."""
    body: dict[str, Any] = {"message": message or ERROR_MESSAGES.get(code, "Error"), "code": int(code)}
    if errors:
        body["errors"] = dict(errors)
    return body


def form_error(path: list[str | int], code: str, message: str) -> dict[str, Any]:
    """A nested ``errors`` object as Discord returns for 50035 (discord.py flattens it for its message)."""
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        node = {str(key): node}
    return node


class Snowflakes:
    """Unique, increasing snowflakes stamped with the current time (worker 1, process 0)."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        if value <= self._last:  # same millisecond and the increment wrapped, or the clock stepped back
            value = self._last + 1
        self._last = value
        return value


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def now() -> datetime:
    return datetime.now(UTC)


def sniff_image(data: bytes) -> tuple[str | None, int | None, int | None]:
    """Content type, width and height of image bytes (Pillow), or Nones when it is not an image."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            mime = Image.MIME.get(image.format or "")
            return mime, image.width, image.height
    except Exception:
        return None, None, None


# --------------------------------------------------------------------------------------------- world


@dataclass(eq=False)
class SimUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    accepts_dms: bool = True  # False: the bot's DMs to this user answer 403 50007

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "avatar_decoration_data": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class SimRole:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    bot_id: int | None = None  # the bot's own managed role carries ``tags.bot_id``

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(int(self.permissions)),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class SimMember:
    user: SimUser
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=now)

    @property
    def id(self) -> int:
        return self.user.id

    def payload(self, *, permissions: int | None = None, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(int(permissions))
        return data


@dataclass(eq=False)
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(int(self.allow)), "deny": str(int(self.deny))}


@dataclass(eq=False)
class SimChannel:
    id: int
    type: int
    name: str
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    recipients: list[SimUser] = field(default_factory=list)  # DMs
    # threads
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: datetime = field(default_factory=now)
    created_at: datetime = field(default_factory=now)
    member_ids: set[int] = field(default_factory=set)
    message_count: int = 0
    total_message_sent: int = 0
    last_message_id: int | None = None
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self, *, permissions: int | None = None) -> dict[str, Any]:
        if self.is_dm:
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": _str_or_none(self.last_message_id),
                "flags": 0,
                "recipients": [u.payload() for u in self.recipients],
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "parent_id": _str_or_none(self.parent_id),
            "last_message_id": _str_or_none(self.last_message_id),
            "rate_limit_per_user": 0,
            "flags": 0,
            "nsfw": False,
        }
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id),
                message_count=self.message_count,
                member_count=len(self.member_ids),
                total_message_sent=self.total_message_sent,
                thread_metadata={
                    "archived": self.archived,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(self.archive_timestamp),
                    "locked": self.locked,
                    "invitable": self.invitable,
                    "create_timestamp": iso(self.created_at),
                },
            )
        else:
            data.update(
                position=self.position,
                topic=self.topic,
                permission_overwrites=[o.payload() for o in self.overwrites.values()],
                default_auto_archive_duration=1440,
            )
        if permissions is not None:
            data["permissions"] = str(int(permissions))
        return data


@dataclass(eq=False)
class SimGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, SimRole] = field(default_factory=dict, repr=False)
    members: dict[int, SimMember] = field(default_factory=dict, repr=False)
    channels: dict[int, SimChannel] = field(default_factory=dict, repr=False)  # threads included
    upload_limit: int | None = None  # None: the simulation's default
    premium_tier: int = 0
    locale: str = "en-US"
    joined_at: datetime = field(default_factory=now)

    @property
    def everyone(self) -> SimRole:
        return self.roles[self.id]

    def text_channels(self) -> list[SimChannel]:
        return [c for c in self.channels.values() if c.type == ChannelType.GUILD_TEXT and not c.deleted]

    def threads(self) -> list[SimChannel]:
        return [c for c in self.channels.values() if c.is_thread and not c.deleted]

    def payload(self) -> dict[str, Any]:
        """The REST ``GET /guilds/{id}`` shape (no channels or members)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": self.locale,
            "features": [],
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "application_id": None,
            "widget_enabled": False,
            "approximate_member_count": len(self.members),
            "approximate_presence_count": 0,
        }

    def create_payload(self, *, channel_payload: Any) -> dict[str, Any]:
        """The gateway GUILD_CREATE shape; ``channel_payload(channel)`` renders each channel."""
        data = self.payload()
        live = [c for c in self.channels.values() if not c.deleted]
        data.update(
            joined_at=iso(self.joined_at),
            large=False,
            unavailable=False,
            member_count=len(self.members),  # == len(members) below: discord.py then sees it chunked
            members=[m.payload() for m in self.members.values()],
            channels=[channel_payload(c) for c in live if not c.is_thread],
            threads=[channel_payload(c) for c in live if c.is_thread and not c.archived],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data


@dataclass(eq=False)
class SimAttachment:
    """An uploaded or test-provided file; ``data`` is what the simulation's CDN serves at ``url``."""

    id: int
    filename: str
    data: bytes = field(repr=False)
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    description: str | None = None
    url: str = ""
    ephemeral: bool = False
    title: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url.replace("/cdn/", "/media/", 1),
            "flags": 0,
        }
        if self.content_type is not None:
            data["content_type"] = self.content_type
        if self.width is not None:
            data["width"] = self.width
            data["height"] = self.height
        if self.description is not None:
            data["description"] = self.description
        if self.title is not None:
            data["title"] = self.title
        if self.ephemeral:
            data["ephemeral"] = True
        return data


def make_attachment(
    attachment_id: int,
    data: bytes,
    filename: str,
    *,
    content_type: str | None = None,
    width: int | None = None,
    height: int | None = None,
    description: str | None = None,
) -> SimAttachment:
    """An attachment whose content type and size are sniffed like Discord does (uploads say octet-stream)."""
    sniffed, w, h = sniff_image(data)
    if content_type in (None, "application/octet-stream"):
        content_type = sniffed or mimetypes.guess_type(filename)[0] or content_type
    return SimAttachment(
        id=attachment_id,
        filename=filename,
        data=data,
        content_type=content_type,
        width=width if width is not None else w,
        height=height if height is not None else h,
        description=description,
    )


@dataclass(eq=False)
class SimMessage:
    """A message in the simulated store; mutated in place by edits (``edits`` keeps each PATCH body)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: SimUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[SimAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = MessageType.DEFAULT
    timestamp: datetime = field(default_factory=now)
    edited_timestamp: datetime | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None  # the interaction whose response (or follow-up) this is
    interaction_metadata: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    thread_id: int | None = None
    tts: bool = False
    nonce: str | int | None = None
    deleted: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred "thinking…" response that nothing has filled in yet."""
        return bool(self.flags & MessageFlag.LOADING)

    def iter_components(self) -> Iterator[dict[str, Any]]:
        """Every component, depth first (action rows, containers, sections and their accessories)."""
        return _walk_components(self.components)

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        return next((c for c in self.iter_components() if c.get("custom_id") == custom_id), None)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.iter_components() if "custom_id" in c]

    def payload(self, *, thread: dict[str, Any] | None = None, referenced: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.timestamp),
            "edited_timestamp": iso(self.edited_timestamp),
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "pinned": False,
            "type": int(self.type),
            "flags": int(self.flags),
            "components": self.components,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
            data["referenced_message"] = referenced
        if thread is not None:
            data["thread"] = thread
        return data


def _walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components", []))
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                yield from _walk_components([component[key]])


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


# ----------------------------------------------------------------------------------------- permissions


def base_permissions(guild: SimGuild, member: SimMember) -> int:
    """Guild-level permissions: owner and ADMINISTRATOR get everything, else @everyone | roles."""
    if member.id == guild.owner_id:
        return ALL_PERMISSIONS
    perms = int(guild.everyone.permissions)
    for role_id in member.roles:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= int(role.permissions)
    return ALL_PERMISSIONS if perms & Perm.ADMINISTRATOR else perms


def channel_permissions(guild: SimGuild, member: SimMember, channel: SimChannel) -> int:
    """Discord's overwrite algorithm (@everyone, then roles together, then the member); threads use the
    parent's overwrites. Without VIEW_CHANNEL a member has no permissions in the channel at all."""
    perms = base_permissions(guild, member)
    if perms & Perm.ADMINISTRATOR:
        return ALL_PERMISSIONS
    source = guild.channels.get(channel.parent_id) if channel.is_thread and channel.parent_id else channel
    overwrites = source.overwrites if source is not None else {}
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member.roles:
        ow = overwrites.get(role_id)
        if ow is not None and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    own = overwrites.get(member.id)
    if own is not None and own.type == 1:
        perms = (perms & ~own.deny) | own.allow
    if not perms & Perm.VIEW_CHANNEL:
        return 0
    return perms


# ---------------------------------------------------------------------------------------- interactions


class InteractionContext(IntEnum):
    GUILD = 0
    BOT_DM = 1
    PRIVATE_CHANNEL = 2


@dataclass
class Resolved:
    """Collects ``data.resolved`` the way Discord fills it for the options and targets it sends.

    ``member_permissions``/``channel_permissions`` compute the ``permissions`` strings Discord puts on
    resolved members and channels (the invoking user's permissions in that channel).
    """

    member_permissions: Any = None  # Callable[[SimMember], int]
    channel_permissions: Any = None  # Callable[[SimChannel], int]
    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _put(self, kind: str, key: int, value: dict[str, Any]) -> None:
        self.data.setdefault(kind, {})[str(key)] = value

    def user(self, user: SimUser, member: SimMember | None = None) -> None:
        self._put("users", user.id, user.payload())
        if member is not None:
            perms = self.member_permissions(member) if self.member_permissions else 0
            self._put("members", user.id, member.payload(permissions=perms, with_user=False))

    def role(self, role: SimRole) -> None:
        self._put("roles", role.id, role.payload())

    def channel(self, channel: SimChannel) -> None:
        perms = self.channel_permissions(channel) if self.channel_permissions else 0
        data = channel.payload(permissions=perms)
        keep = {"id", "name", "type", "permissions", "parent_id", "thread_metadata", "guild_id", "flags"}
        keep |= {"owner_id", "member_count", "message_count", "total_message_sent", "topic", "nsfw"}
        self._put("channels", channel.id, {k: v for k, v in data.items() if k in keep})

    def attachment(self, attachment: SimAttachment) -> None:
        self._put("attachments", attachment.id, attachment.payload())

    def message(self, message_payload: dict[str, Any]) -> None:
        self._put("messages", int(message_payload["id"]), message_payload)


def infer_option_type(value: Any) -> OptionType:
    """The option type Discord would use for a Python value when no registered command says otherwise."""
    if isinstance(value, SimAttachment):
        return OptionType.ATTACHMENT
    if isinstance(value, SimUser | SimMember):
        return OptionType.USER
    if isinstance(value, SimRole):
        return OptionType.ROLE
    if isinstance(value, SimChannel):
        return OptionType.CHANNEL
    if isinstance(value, bool):
        return OptionType.BOOLEAN
    if isinstance(value, int):
        return OptionType.INTEGER
    if isinstance(value, float):
        return OptionType.NUMBER
    return OptionType.STRING


def option_value(name: str, value: Any, option_type: int, resolved: Resolved, member_of: Any = None) -> dict[str, Any]:
    """One ``data.options`` entry; references (users, roles, channels, attachments) go into ``resolved``
    and the option's ``value`` is the id as a string, as Discord sends it.

    ``member_of(user)`` returns the user's SimMember in the interaction's guild, if any.
    """
    if option_type in (OptionType.USER, OptionType.MENTIONABLE) and isinstance(value, SimUser | SimMember):
        user = value.user if isinstance(value, SimMember) else value
        member = value if isinstance(value, SimMember) else (member_of(user) if member_of else None)
        resolved.user(user, member)
        return {"name": name, "type": int(option_type), "value": str(user.id)}
    if option_type in (OptionType.ROLE, OptionType.MENTIONABLE) and isinstance(value, SimRole):
        resolved.role(value)
        return {"name": name, "type": int(option_type), "value": str(value.id)}
    if option_type == OptionType.CHANNEL and isinstance(value, SimChannel):
        resolved.channel(value)
        return {"name": name, "type": int(option_type), "value": str(value.id)}
    if option_type == OptionType.ATTACHMENT and isinstance(value, SimAttachment):
        resolved.attachment(value)
        return {"name": name, "type": int(option_type), "value": str(value.id)}
    if option_type == OptionType.STRING:
        return {"name": name, "type": int(option_type), "value": str(value)}
    if option_type == OptionType.INTEGER:
        return {"name": name, "type": int(option_type), "value": int(value)}
    if option_type == OptionType.NUMBER:
        return {"name": name, "type": int(option_type), "value": float(value)}
    if option_type == OptionType.BOOLEAN:
        return {"name": name, "type": int(option_type), "value": bool(value)}
    raise TypeError(f"option {name!r}: cannot send {value!r} as option type {int(option_type)}")


def interaction_payload(
    *,
    interaction_id: int,
    application_id: int,
    interaction_type: int,
    token: str,
    data: dict[str, Any] | None,
    channel: dict[str, Any],
    user: SimUser,
    guild: SimGuild | None,
    member: SimMember | None,
    member_permissions: int,
    app_permissions: int,
    attachment_size_limit: int,
    locale: str = "en-US",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE ``d`` as Discord sends it to a guild-installed bot over the gateway."""
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": int(interaction_type),
        "token": token,
        "version": 1,
        "channel_id": channel["id"],
        "channel": channel,
        "locale": locale,
        "app_permissions": str(int(app_permissions)),
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": int(attachment_size_limit),
    }
    if data is not None:
        payload["data"] = data
    if guild is not None and member is not None:
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": guild.locale, "features": []},
            guild_locale=guild.locale,
            member=member.payload(permissions=member_permissions),
            authorizing_integration_owners={"0": str(guild.id)},
            context=int(InteractionContext.GUILD),
        )
    else:
        payload.update(
            user=user.payload(),
            authorizing_integration_owners={"0": "0"},
            context=int(InteractionContext.BOT_DM),
        )
    if message is not None:
        payload["message"] = message
    return payload


def modal_submission(components: list[dict[str, Any]], fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Mirror a modal's layout (as the bot sent it with callback type 9) with the user's answers.

    Text inputs get ``value`` (missing fields: ``""``), selects get ``values`` (a list), labels (type 18)
    wrap their ``component``, rows (type 1) their ``components``; display-only parts keep type and id.
    """
    out: list[dict[str, Any]] = []
    for comp in components:
        ctype = comp.get("type")
        entry: dict[str, Any] = {"type": ctype}
        if "id" in comp:
            entry["id"] = comp["id"]
        if ctype == 1:
            entry["components"] = modal_submission(comp.get("components", []), fields)
        elif ctype == 18:
            entry["component"] = modal_submission([comp["component"]], fields)[0]
        elif "custom_id" in comp:
            entry["custom_id"] = comp["custom_id"]
            answer = fields.get(comp["custom_id"])
            if ctype == 4:
                entry["value"] = "" if answer is None else str(answer)
            else:
                values = [] if answer is None else answer if isinstance(answer, list) else [answer]
                entry["values"] = [str(v) for v in values]
        out.append(entry)
    return out
