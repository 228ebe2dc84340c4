"""The simulated world: users, guilds, roles, channels, threads, messages and attachments (the CDN).

Plain state plus the operations that keep it consistent the way Discord does: who may see and post
where (permission overwrites, threads inherit their parent's), what a message keeps when edited (the
``attachments`` list rules), the 2000-character limit, empty messages, and which gateway events a
change produces (queued on the :class:`~.gateway.Dispatcher`, filtered by the session's intents, with
message content stripped without the MESSAGE_CONTENT intent). Route handlers and the interaction
driver work through this object; tests build the world with the ``add_*`` methods.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .discord_types import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DEFAULT_UPLOAD_LIMIT,
    DM_PERMISSIONS,
    ChannelType,
    CommandType,
    ErrorCode,
    Intent,
    MessageFlag,
    MessageType,
    Perm,
    Snowflakes,
    now,
)
from .entities import (
    Overwrite,
    SimAttachment,
    SimChannel,
    SimGuild,
    SimMember,
    SimMessage,
    SimRole,
    SimUser,
    channel_permissions,
    make_attachment,
)
from .gateway import Dispatcher
from .records import ApiError, RecordedCall, RecordedFile, SimInteraction, Waiters, invalid_form

SENDABLE_FLAGS = (
    MessageFlag.SUPPRESS_EMBEDS
    | MessageFlag.EPHEMERAL
    | MessageFlag.SUPPRESS_NOTIFICATIONS
    | MessageFlag.IS_COMPONENTS_V2
)
_EDITABLE_FLAGS = MessageFlag.SUPPRESS_EMBEDS | MessageFlag.IS_COMPONENTS_V2


@dataclass
class SimConfig:
    """The knobs of the simulated Discord (``DiscordSim(**kwargs)`` sets them; tests may change them)."""

    token: str | None = None  # None: any bot token is accepted
    application_name: str = "Inpaint Bot"
    bot_name: str = "InpaintBot"
    upload_limit: int = DEFAULT_UPLOAD_LIMIT
    interaction_ttl: float = 15 * 60
    callback_window: float | None = 3.0  # seconds for the initial callback; None: no limit
    heartbeat_interval_ms: int = 41250
    followup_resolves_deferral: bool = True
    nonce_window: float = 300.0  # seconds during which ``enforce_nonce`` deduplicates sends
    bot_public: bool = False  # the Developer Portal's "Public Bot" (anyone may invite it)
    shards: int = 1  # the shard count ``GET /gateway/bot`` recommends (an AutoShardedClient without one uses it)


class World:
    """The state of the simulated Discord and the operations on it.

    With ``populate=True`` it starts with a world most tests need: ``guild`` ("Sim Guild", owned by
    ``owner``), channels ``channel`` (#general) and ``other_channel`` (#art), members ``user`` (alice,
    plain member) and ``mod`` (with ``mod_role``: Manage Server, Manage Messages, Manage Threads), and
    the bot as a member with its managed role (``bot_role``).
    """

    def __init__(
        self,
        config: SimConfig,
        waiters: Waiters,
        dispatcher: Dispatcher,
        base_url: Callable[[], str],
        *,
        populate: bool = True,
    ) -> None:
        self.config = config
        self.waiters = waiters
        self.dispatcher = dispatcher
        self._base_url = base_url
        self.snowflake = Snowflakes()
        self.users: dict[int, SimUser] = {}
        self.guilds: dict[int, SimGuild] = {}
        self.channels: dict[int, SimChannel] = {}
        self.messages: dict[int, SimMessage] = {}
        self.attachments: dict[int, SimAttachment] = {}
        self.interactions: dict[int, SimInteraction] = {}
        self.tokens: dict[str, SimInteraction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self._channel_messages: dict[int, list[SimMessage]] = {}

        self.application_id = self.snowflake()
        self.bot_user = self.add_user(config.bot_name, bot=True, id=self.application_id)
        self.app_owner = self.add_user("app-owner")

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
        self.dispatcher.queue_event("GUILD_CREATE", self.guild_create_payload(guild), Intent.GUILDS)
        return guild

    def bot_guilds(self) -> list[SimGuild]:
        """The guilds the bot is a member of (what READY and GUILD_CREATE describe)."""
        return [g for g in self.guilds.values() if self.bot_user.id in g.members]

    def leave_guild(self, guild_id: int) -> None:
        """The bot leaves (``DELETE /users/@me/guilds/{id}``): it stops being a member; GUILD_DELETE."""
        guild = self.guilds[guild_id]
        guild.members.pop(self.bot_user.id, None)
        self.dispatcher.queue_event("GUILD_DELETE", {"id": str(guild.id)}, Intent.GUILDS)

    def add_role(self, guild: SimGuild, name: str, permissions: int = 0, *, id: int | None = None) -> SimRole:
        role = SimRole(id or self.snowflake(), guild.id, name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        self.dispatcher.queue_event(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()}, Intent.GUILDS
        )
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
            self.dispatcher.queue_event("GUILD_MEMBER_UPDATE", data, Intent.GUILD_MEMBERS)
            return existing
        member = SimMember(user, guild.id, role_ids, nick)
        guild.members[user.id] = member
        data = member.payload() | {"guild_id": str(guild.id)}
        self.dispatcher.queue_event("GUILD_MEMBER_ADD", data, Intent.GUILD_MEMBERS)
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
        self.dispatcher.queue_event("CHANNEL_CREATE", channel.payload(), Intent.GUILDS)
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
        self.dispatcher.queue_event("THREAD_CREATE", thread.payload() | {"newly_created": True}, Intent.GUILDS)
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
        self.dispatcher.queue_event("CHANNEL_UPDATE", channel.payload(), Intent.GUILDS)

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
        att.url = self.cdn_url("ephemeral-attachments", self.application_id, att)
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
            att = self.coerce_attachment(item)
            att.ephemeral = False
            att.url = self.cdn_url("attachments", channel.id, att)
            message.attachments.append(att)
        self._store_message(message)
        return message

    # ------------------------------------------------------------------------------ state queries

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
        return self.config.upload_limit

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

    def interaction(self, key: SimInteraction | int | str) -> SimInteraction:
        """Look an interaction up by object, id or token."""
        if isinstance(key, SimInteraction):
            return key
        if isinstance(key, str) and key in self.tokens:
            return self.tokens[key]
        return self.interactions[int(key)]

    def expire_token(self, interaction: SimInteraction | int | str) -> None:
        """Make an interaction's token expired now: webhooks answer 401 50027, callbacks 404 10062."""
        self.interaction(interaction).expires_at = time.time() - 1

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

    # ------------------------------------------------------------------------ attachments (CDN)

    def cdn_url(self, kind: str, owner: int, att: SimAttachment) -> str:
        return f"{self._base_url()}/cdn/{kind}/{owner}/{att.id}/{quote(att.filename)}"

    def coerce_attachment(self, item: SimAttachment | bytes | tuple[bytes, str]) -> SimAttachment:
        if isinstance(item, SimAttachment):
            if item.id not in self.attachments:
                self.attachments[item.id] = item
                item.url = item.url or self.cdn_url("ephemeral-attachments", self.application_id, item)
            return item
        if isinstance(item, tuple):
            return self.add_attachment(item[0], item[1])
        return self.add_attachment(bytes(item))

    # --- message store

    def new_message(
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
        self.waiters.notify("message", message)
        if not message.ephemeral and not message.loading:
            self._queue_message_event("MESSAGE_CREATE", message)

    def edit_message(
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
        self.waiters.notify("message", message)
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
        att.url = self.cdn_url("attachments", message.channel_id, att)
        self.attachments[att.id] = att
        return att

    def delete_message(self, message: SimMessage) -> None:
        message.deleted = True
        self.waiters.notify("message", message)
        if not message.ephemeral:
            data = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id:
                data["guild_id"] = str(message.guild_id)
            intent = Intent.GUILD_MESSAGES if message.guild_id else Intent.DIRECT_MESSAGES
            self.dispatcher.queue_event("MESSAGE_DELETE", data, intent)

    def _queue_message_event(self, t: str, message: SimMessage) -> None:
        intent = Intent.GUILD_MESSAGES if message.guild_id else Intent.DIRECT_MESSAGES
        intents = self.dispatcher.intents
        if intents is None or not intents & intent:
            return
        data = self.message_payload(message)
        if message.author.id != self.bot_user.id and not intents & Intent.MESSAGE_CONTENT:
            data.update(content="", embeds=[], attachments=[], components=[])
        guild = self.guild_of(self.channels[message.channel_id])
        if guild is not None and message.author.id in guild.members:
            data["member"] = guild.members[message.author.id].payload(with_user=False)
        self.dispatcher.queue_event(t, data, intent)

    def message_payload(self, message: SimMessage) -> dict[str, Any]:
        thread = self.channels.get(message.thread_id or 0)
        referenced = None
        if message.message_reference:
            ref = self.messages.get(int(message.message_reference["message_id"]))
            referenced = None if ref is None or ref.deleted else ref.payload()
        return message.payload(thread=thread.payload() if thread else None, referenced=referenced)

    def guild_create_payload(self, guild: SimGuild) -> dict[str, Any]:
        bot = guild.members[self.bot_user.id]
        return guild.create_payload(channel_payload=lambda c: c.payload()) | {
            "members": [bot.payload()] + [m.payload() for m in guild.members.values() if m is not bot]
        }
