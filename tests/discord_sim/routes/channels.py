"""Channels and their messages outside interactions: read, post (permissions, upload limit, replies,
``enforce_nonce`` deduplication), edit, delete, typing."""

from __future__ import annotations

import time
from typing import Any

from ..discord_types import ErrorCode, Intent, MessageFlag, Perm, now
from ..records import ApiError, RecordedCall, invalid_form
from ..world import SENDABLE_FLAGS
from .base import CH, Route, Routes


class ChannelRoutes(Routes):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}  # (channel, nonce) -> (message, when)

    def routes(self) -> list[Route]:
        return [
            ("GET", CH, self._get_channel),
            ("PATCH", CH, self._patch_channel),
            ("DELETE", CH, self._delete_channel),
            ("GET", CH + r"/messages", self._list_messages),
            ("POST", CH + r"/messages", self._create_message),
            ("GET", CH + r"/messages/(?P<message_id>\d+)", self._get_message),
            ("PATCH", CH + r"/messages/(?P<message_id>\d+)", self._patch_message),
            ("DELETE", CH + r"/messages/(?P<message_id>\d+)", self._delete_channel_message),
            ("POST", CH + r"/typing", self._typing),
        ]

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
            await self.dispatcher.dispatch("CHANNEL_UPDATE", channel.payload(), intent=Intent.GUILDS)
            return 200, channel.payload()
        perms = self.world.bot_permissions_in(channel)
        manage = bool(perms & Perm.MANAGE_THREADS)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        touches_lock = "locked" in body and bool(body["locked"]) != channel.locked
        if (touches_lock or channel.locked) and not manage:
            raise ApiError(403, ErrorCode.MISSING_PERMISSIONS)
        if set(body) - {"archived"} and channel.owner_id != self.world.bot_user.id and not manage:
            raise ApiError(403, ErrorCode.MISSING_PERMISSIONS)
        if "archived" in body and bool(body["archived"]) != channel.archived:
            channel.archived = bool(body["archived"])
            channel.archive_timestamp = now()
        channel.locked = bool(body.get("locked", channel.locked))
        channel.name = body.get("name", channel.name)
        channel.auto_archive_duration = int(body.get("auto_archive_duration", channel.auto_archive_duration))
        channel.invitable = bool(body.get("invitable", channel.invitable))
        await self.dispatcher.dispatch("THREAD_UPDATE", channel.payload(), intent=Intent.GUILDS)
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
        await self.dispatcher.dispatch(event, data, intent=Intent.GUILDS)
        return 200, channel.payload()

    async def _list_messages(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if not channel.is_dm:
            self._require(channel, Perm.READ_MESSAGE_HISTORY)
        limit = max(1, min(100, int(call.query.get("limit", 50))))
        msgs = [m for m in self.world.messages_in(channel) if not m.ephemeral]
        if "before" in call.query:
            msgs = [m for m in msgs if m.id < int(call.query["before"])]
        if "after" in call.query:
            msgs = [m for m in msgs if m.id > int(call.query["after"])][:limit]
        msgs = sorted(msgs, key=lambda m: m.id, reverse=True)[:limit]
        return 200, [self.world.message_payload(m) for m in msgs]

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
                if channel.locked and not self.world.bot_permissions_in(channel) & Perm.MANAGE_THREADS:
                    raise ApiError(400, ErrorCode.THREAD_ARCHIVED)
                channel.archived = False  # sending unarchives, as on Discord
                await self.dispatcher.dispatch("THREAD_UPDATE", channel.payload(), intent=Intent.GUILDS)
        self._check_upload(call, channel)
        reference = body.get("message_reference")
        if reference:
            ref_id = int(reference.get("message_id", 0))
            if ref_id not in self.world.messages and reference.get("fail_if_not_exists", True):
                raise invalid_form(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
        nonce = body.get("nonce")
        if isinstance(nonce, str) and len(nonce) > 25:
            raise invalid_form(["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same author and nonce within a few minutes returns the first message
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and time.monotonic() - seen[1] < self.config.nonce_window:
                existing = self.world.messages[seen[0]]
                if not existing.deleted:
                    call.message_id = existing.id
                    return 200, self.world.message_payload(existing)
        flags = int(body.get("flags") or 0) & (SENDABLE_FLAGS & ~MessageFlag.EPHEMERAL)
        message = self.world.new_message(channel, self.world.bot_user, body, call.files, flags=flags)
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = (message.id, time.monotonic())
        call.message_id = message.id
        return 200, self.world.message_payload(message)

    async def _get_message(self, call: RecordedCall, channel_id: str, message_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if not channel.is_dm:
            self._require(channel, Perm.READ_MESSAGE_HISTORY)
        message = self._channel_message(channel, message_id)
        call.message_id = message.id
        return 200, self.world.message_payload(message)

    async def _patch_message(self, call: RecordedCall, channel_id: str, message_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        message = self._channel_message(channel, message_id)
        call.message_id = message.id
        if message.author.id != self.world.bot_user.id:
            raise ApiError(403, ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE)
        self._check_upload(call, channel)
        self.world.edit_message(message, call.json if isinstance(call.json, dict) else {}, call)
        return 200, self.world.message_payload(message)

    async def _delete_channel_message(self, call: RecordedCall, channel_id: str, message_id: str) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        message = self._channel_message(channel, message_id)
        call.message_id = message.id
        if message.author.id != self.world.bot_user.id and not channel.is_dm:
            self._require(channel, Perm.MANAGE_MESSAGES)
        elif message.author.id != self.world.bot_user.id:
            raise ApiError(403, ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE)
        self.world.delete_message(message)
        return 204, None

    async def _typing(self, call: RecordedCall, channel_id: str) -> tuple[int, Any]:
        self._channel(channel_id)
        return 204, None
