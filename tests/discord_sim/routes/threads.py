"""Threads the bot starts (from a message or without one) and thread membership; archived and locked
threads behave as on Discord."""

from __future__ import annotations

from typing import Any

from ..discord_types import ChannelType, ErrorCode, Intent, MessageFlag, Perm
from ..entities import SimChannel
from ..records import ApiError, RecordedCall, invalid_form
from .base import CH, Route, Routes

THREAD_TYPE_VALUES = {
    int(ChannelType.ANNOUNCEMENT_THREAD),
    int(ChannelType.PUBLIC_THREAD),
    int(ChannelType.PRIVATE_THREAD),
}


class ThreadRoutes(Routes):
    def routes(self) -> list[Route]:
        return [
            ("POST", CH + r"/messages/(?P<message_id>\d+)/threads", self._thread_from_message),
            ("POST", CH + r"/threads", self._thread_without_message),
            ("PUT", CH + r"/thread-members/(?P<user_id>@me|\d+)", self._thread_member),
            ("DELETE", CH + r"/thread-members/(?P<user_id>@me|\d+)", self._thread_member),
        ]

    def _new_thread(self, parent: SimChannel, thread_id: int, body: dict[str, Any], ttype: int) -> SimChannel:
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise invalid_form(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        guild = self.world.guilds[parent.guild_id]  # type: ignore[index]
        thread = SimChannel(
            thread_id,
            ttype,
            name,
            guild.id,
            parent.id,
            owner_id=self.world.bot_user.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
            invitable=bool(body.get("invitable", True)),
            member_ids={self.world.bot_user.id},
        )
        guild.channels[thread.id] = thread
        self.world.channels[thread.id] = thread
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
        await self.dispatcher.dispatch(
            "THREAD_CREATE", thread.payload() | {"newly_created": True}, intent=Intent.GUILDS
        )
        self.world.waiters.notify("message", message)
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
        thread = self._new_thread(channel, self.world.snowflake(), body, ttype)
        await self.dispatcher.dispatch(
            "THREAD_CREATE", thread.payload() | {"newly_created": True}, intent=Intent.GUILDS
        )
        return 201, thread.payload()

    async def _thread_member(self, call: RecordedCall, channel_id: str, user_id: str) -> tuple[int, Any]:
        thread = self._channel(channel_id)
        if not thread.is_thread:
            raise ApiError(400, ErrorCode.INVALID_FORM_BODY, "Not a thread")
        uid = self.world.bot_user.id if user_id == "@me" else int(user_id)
        if uid not in self.world.users:
            raise ApiError(404, ErrorCode.UNKNOWN_USER)
        if call.method == "PUT":
            if thread.archived:
                raise ApiError(400, ErrorCode.THREAD_ARCHIVED)
            if uid != self.world.bot_user.id:
                self._require(thread, Perm.SEND_MESSAGES_IN_THREADS)
            thread.member_ids.add(uid)
        else:
            if uid != self.world.bot_user.id:
                self._require(thread, Perm.MANAGE_THREADS)
            thread.member_ids.discard(uid)
        return 204, None
