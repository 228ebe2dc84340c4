"""``DiscordSim``: a local Discord (REST + gateway + CDN) that the *unmodified* discord.py client runs
against, and the one object tests drive.

One aiohttp server on 127.0.0.1 serves ``/api/v10/...`` (REST), ``/gateway`` (websocket) and
``/cdn/...`` (attachment bytes). Point the client at it with ``cogs.endpoints.apply_endpoints(
sim.api_base, sim.gateway_url)`` (or :func:`tests.discord_sim.use_sim_endpoints`), then drive it from a
test: dispatch interactions (:meth:`DiscordSim.slash`, :meth:`~DiscordSim.click`, ...) and assert on
what the bot did (:attr:`DiscordSim.calls`, :meth:`~DiscordSim.messages_in`,
:meth:`~DiscordSim.interaction_responses`, :meth:`~DiscordSim.wait_for`).

This class is the composition root: it builds the parts (see the package docstring) and offers the
surface tests use as thin delegations; the parts hold the behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from .discord_types import DEFAULT_UPLOAD_LIMIT
from .entities import SimChannel, SimGuild, SimMessage, SimUser
from .gateway import Dispatcher, Gateway
from .interactions import InteractionDriver
from .records import PathPattern, RecordedCall, SimInteraction, Waiters, WaitKind, path_matches
from .rest import RestServer
from .routes import ALL_GROUPS
from .world import SimConfig, World

log = logging.getLogger("discord_sim")


class DiscordSim:
    """The simulated Discord; see the module docstring and ``tests/discord_sim/__init__.py``.

    The world starts populated (see :class:`~.world.World`): ``guild``, ``channel``, ``other_channel``,
    ``user`` (alice), ``mod`` and the bot (``bot_user``). The parts are public for tests of the
    simulation itself: ``world``, ``dispatcher``, ``gateway``, ``rest``, ``driver``, ``config``.
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
        self.config = SimConfig(
            token=token,
            application_name=application_name,
            bot_name=bot_name,
            upload_limit=upload_limit,
            interaction_ttl=interaction_ttl,
            callback_window=callback_window,
            heartbeat_interval_ms=heartbeat_interval_ms,
            followup_resolves_deferral=followup_resolves_deferral,
            nonce_window=nonce_window,
        )
        self.host, self._port = host, port
        self._base_url = ""
        self._runner: web.AppRunner | None = None
        self.cdn_requests: list[tuple[int, float]] = []  # (attachment id, monotonic time)
        self.cdn_hold: asyncio.Event | None = None  # set: attachment downloads wait until it is set

        self.waiters = Waiters()
        self.dispatcher = Dispatcher(self.waiters, self._recent_calls)
        self.world = World(self.config, self.waiters, self.dispatcher, lambda: self._base_url, populate=populate)
        self.gateway = Gateway(
            self.world,
            self.dispatcher,
            token=token,
            heartbeat_interval_ms=heartbeat_interval_ms,
            gateway_url=lambda: self.gateway_url,
        )
        groups = [group(self.world, self.dispatcher, self.config, lambda: self.gateway_url) for group in ALL_GROUPS]
        self.rest = RestServer(self.world, self.waiters, [r for g in groups for r in g.routes()], token=token)
        self.driver = InteractionDriver(self.world, self.dispatcher)

        # The test-facing surface: the parts' own methods (signatures and docs live there).
        world, driver = self.world, self.driver
        self.snowflake = world.snowflake
        self.add_user, self.add_member, self.add_role = world.add_user, world.add_member, world.add_role
        self.add_thread, self.add_message, self.dm_channel = world.add_thread, world.add_message, world.dm_channel
        self.restrict_bot, self.expire_token = world.restrict_bot, world.expire_token
        self.message, self.messages_in = world.message, world.messages_in
        self.find_command, self.command_names = world.find_command, world.command_names
        self.interaction_responses = world.interaction_responses
        # a raw interaction with any custom id, as a modified client can send (hostile-user tests)
        self.dispatch_interaction = self.driver._dispatch_interaction
        self.slash, self.message_context = driver.slash, driver.message_context
        self.click, self.submit_modal = driver.click, driver.submit_modal
        self.inject, self.calls_to = self.rest.inject, self.rest.calls_to
        self.wait_ready, self.wait_disconnected = self.dispatcher.wait_ready, self.dispatcher.wait_disconnected

    # ------------------------------------------------------------------------------- lifecycle

    async def start(self) -> DiscordSim:
        app = web.Application(client_max_size=1024 * 1024 * 1024)
        app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self.rest.handle)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
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
        await self.dispatcher.close()
        self.waiters.cancel_all()
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
    def api_base(self) -> str:
        return f"{self._base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self._base_url.removeprefix('http://')}/gateway"

    async def _cdn(self, request: web.Request) -> web.Response:
        att = self.world.attachments.get(int(request.match_info["attachment_id"]))
        if att is None:
            return web.Response(status=404, text="Not Found")
        self.cdn_requests.append((att.id, time.monotonic()))
        if self.cdn_hold is not None:  # a test holds downloads (e.g. to kill the bot during one)
            await self.cdn_hold.wait()
        return web.Response(body=att.data, headers={"Content-Type": att.content_type or "application/octet-stream"})

    # ------------------------------------------------------------------------------- the world

    @property
    def guild(self) -> SimGuild:
        return self.world.guild

    @property
    def channel(self) -> SimChannel:
        return self.world.channel

    @property
    def other_channel(self) -> SimChannel:
        return self.world.other_channel

    @property
    def user(self) -> SimUser:
        return self.world.user

    @property
    def mod(self) -> SimUser:
        return self.world.mod

    @property
    def bot_user(self) -> SimUser:
        return self.world.bot_user

    @property
    def users(self) -> dict[int, SimUser]:
        return self.world.users

    @property
    def channels(self) -> dict[int, SimChannel]:
        return self.world.channels

    @property
    def messages(self) -> dict[int, SimMessage]:
        return self.world.messages

    # ------------------------------------------------------------------------- what the bot did

    @property
    def calls(self) -> list[RecordedCall]:
        return self.rest.calls

    @property
    def identify_count(self) -> int:
        return self.dispatcher.identify_count

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
        return await self.waiters.wait(
            kind, predicate, self._history(kind), timeout=timeout, past=past, describe=self._recent_calls
        )

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
        inter = self.world.interaction(interaction)

        def match(call: RecordedCall) -> bool:
            return (
                call.interaction_id == inter.id
                and (kind is None or call.kind == kind)
                and (predicate is None or predicate(call))
            )

        return await self.wait_for(match, kind="call", timeout=timeout)

    async def wait_for_ack(self, interaction: SimInteraction | int | str, *, timeout: float = 5.0) -> RecordedCall:
        return await self.wait_for_response(interaction, "callback", timeout=timeout)

    def _history(self, kind: WaitKind) -> Iterable[Any]:
        if kind == "call":
            return list(self.rest.calls)
        if kind == "message":
            return list(self.world.messages.values())
        return list(self.dispatcher.gateway_log)

    def _recent_calls(self) -> str:
        return "\n  ".join(repr(c) for c in self.rest.calls[-12:]) or "(none)"
