"""Who is who: the bot user, other users, the application, gateway discovery, DM channels."""

from __future__ import annotations

from typing import Any

from ..discord_types import ErrorCode
from ..records import ApiError, RecordedCall
from .base import APP, Route, Routes


class UserRoutes(Routes):
    def routes(self) -> list[Route]:
        return [
            ("GET", r"/users/@me", self._get_me),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/applications/@me", self._get_application),
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway_bot),
            ("GET", APP + r"/entitlements", self._list_entitlements),
            ("DELETE", r"/users/@me/guilds/(?P<guild_id>\d+)", self._leave_guild),
        ]

    async def _leave_guild(self, call: RecordedCall, guild_id: str) -> tuple[int, Any]:
        guild = self.world.guilds.get(int(guild_id))
        if guild is None or self.world.bot_user.id not in guild.members:
            raise ApiError(404, ErrorCode.UNKNOWN_GUILD)
        self.world.leave_guild(guild.id)
        return 204, None

    async def _get_me(self, call: RecordedCall) -> tuple[int, Any]:
        return 200, self.world.bot_user.payload() | {
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }

    async def _get_user(self, call: RecordedCall, user_id: str) -> tuple[int, Any]:
        user = self.world.users.get(int(user_id))
        if user is None:
            raise ApiError(404, ErrorCode.UNKNOWN_USER)
        return 200, user.payload()

    async def _get_application(self, call: RecordedCall) -> tuple[int, Any]:
        return 200, {
            "id": str(self.world.application_id),
            "name": self.config.application_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": self.config.bot_public,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.world.app_owner.payload(),
            "team": None,
            "bot": self.world.bot_user.payload(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.world.guilds),
            "tags": [],
        }

    async def _get_gateway(self, call: RecordedCall) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url()}

    async def _get_gateway_bot(self, call: RecordedCall) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url(), "shards": self.config.shards, "session_start_limit": limit}

    async def _list_entitlements(self, call: RecordedCall, app_id: str) -> tuple[int, Any]:
        return 200, []

    async def _create_dm(self, call: RecordedCall) -> tuple[int, Any]:
        body = call.json if isinstance(call.json, dict) else {}
        user = self.world.users.get(int(body.get("recipient_id") or 0))
        if user is None or user.id == self.world.bot_user.id:
            raise ApiError(400, ErrorCode.INVALID_RECIPIENT)
        return 200, self.world.dm_channel(user).payload()
