"""What every route group shares: the world, the dispatcher, the settings, and the checks Discord makes
on every channel request (it exists, the bot may see it and has the permissions, uploads fit)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..discord_types import ErrorCode, Perm
from ..entities import SimChannel, SimMessage
from ..records import ApiError, RecordedCall

if TYPE_CHECKING:
    from ..gateway import Dispatcher
    from ..world import SimConfig, World

Handler = Callable[..., Awaitable[tuple[int, Any]]]
Route = tuple[str, str, Handler]  # (method, path regex relative to the API base, handler)

APP = r"/applications/(?P<app_id>\d+)"
GUILD_CMDS = APP + r"/guilds/(?P<guild_id>\d+)/commands"
HOOK = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
CH = r"/channels/(?P<channel_id>\d+)"


class Routes(ABC):
    """A group of REST handlers; each takes the :class:`RecordedCall` and the path's named groups and
    returns ``(status, JSON body or None)``, or raises :class:`ApiError`."""

    def __init__(self, world: World, dispatcher: Dispatcher, config: SimConfig, gateway_url: Callable[[], str]) -> None:
        self.world = world
        self.dispatcher = dispatcher
        self.config = config
        self.gateway_url = gateway_url

    @abstractmethod
    def routes(self) -> list[Route]:
        """This group's ``(method, path regex, handler)`` entries, matched in order."""

    def _channel(self, channel_id: str | int) -> SimChannel:
        channel = self.world.channels.get(int(channel_id))
        if channel is None or channel.deleted:
            raise ApiError(404, ErrorCode.UNKNOWN_CHANNEL)
        return channel

    def _require(self, channel: SimChannel, needed: int) -> None:
        """403 unless the bot has every bit of ``needed`` in ``channel`` (50001 without VIEW_CHANNEL)."""
        perms = self.world.bot_permissions_in(channel)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        if perms & needed != needed:
            raise ApiError(403, ErrorCode.MISSING_PERMISSIONS)

    def _check_upload(self, call: RecordedCall, channel: SimChannel) -> None:
        if any(f.size > self.world.upload_limit_for(channel) for f in call.files):
            raise ApiError(413, ErrorCode.REQUEST_TOO_LARGE)

    def _channel_message(self, channel: SimChannel, message_id: str) -> SimMessage:
        message = self.world.messages.get(int(message_id))
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            raise ApiError(404, ErrorCode.UNKNOWN_MESSAGE)
        return message
