"""Guilds as the bot reads them over REST: the guild, its channels, roles and members."""

from __future__ import annotations

from typing import Any

from ..discord_types import ErrorCode
from ..entities import SimGuild
from ..records import ApiError, RecordedCall
from .base import Route, Routes


class GuildRoutes(Routes):
    def routes(self) -> list[Route]:
        return [
            ("GET", r"/guilds/(?P<guild_id>\d+)", self._get_guild),
            ("GET", r"/guilds/(?P<guild_id>\d+)/channels", self._get_guild_channels),
            ("GET", r"/guilds/(?P<guild_id>\d+)/roles", self._get_guild_roles),
            ("GET", r"/guilds/(?P<guild_id>\d+)/members", self._list_members),
            ("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)", self._get_member),
        ]

    def _guild(self, guild_id: str) -> SimGuild:
        guild = self.world.guilds.get(int(guild_id))
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
