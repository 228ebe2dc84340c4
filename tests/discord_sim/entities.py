"""The world's entities (users, roles, members, channels and threads, guilds, attachments, messages)
as plain data with no I/O, each with the JSON Discord sends for it, and Discord's permission algorithm.

Payloads follow the Discord API v10 as discord.py 2.7 parses it: snowflakes as strings, permissions as
decimal strings, ISO-8601 timestamps.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .discord_types import ALL_PERMISSIONS, THREAD_TYPES, ChannelType, MessageFlag, MessageType, Perm, iso, now


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
