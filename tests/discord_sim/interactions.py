"""Users acting in the simulated Discord: slash commands, message context menus, button and select
clicks, modal submissions -- each built like Discord builds it and dispatched as INTERACTION_CREATE.

Dispatch needs a ready gateway connection and raises otherwise: Discord would show "The application
did not respond", and a test that dispatches too early should fail loudly. Options are checked against
the command the bot registered (after its sync), so a test cannot send what Discord would not.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .discord_types import CommandType, InteractionType, OptionType
from .entities import SimAttachment, SimChannel, SimGuild, SimMember, SimMessage, SimRole, SimUser
from .gateway import Dispatcher
from .interaction_payloads import Resolved, infer_option_type, interaction_payload, modal_submission, option_value
from .records import SimInteraction
from .world import World

_SELECT_TYPES = frozenset({3, 5, 6, 7, 8})


class InteractionDriver:
    """Builds interactions from the world's state and dispatches them through the gateway."""

    def __init__(self, world: World, dispatcher: Dispatcher) -> None:
        self.world = world
        self.dispatcher = dispatcher
        self._phantom_commands: dict[str, int] = {}

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
        channel, else the world's ``channel``; user defaults to its ``user`` (added as a member if needed).
        """
        if channel is None:
            channel = guild.text_channels()[0] if guild is not None else self.world.channel
        guild = self.world.guild_of(channel)
        invoker = self._invoker(user)
        cmd = self.world.find_command(name, guild=guild, type=CommandType.CHAT_INPUT)
        if (
            cmd is None
            and guild is None
            and any(c["name"] == name for scope, cmds in self.world.commands.items() if scope is not None for c in cmds)
        ):
            raise ValueError(f"/{name} is only registered as a guild command: Discord offers it in guilds only")
        if cmd is not None and guild is None and cmd.get("contexts") is not None and 1 not in cmd["contexts"]:
            raise ValueError(f"/{name} is not allowed in DMs (its contexts are {cmd['contexts']})")
        values: dict[str, Any] = dict(options or {})
        for key, item in (attachments or {}).items():
            values[key] = self.world.coerce_attachment(item)

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
            value = self._coerce_reference(value, option_type, guild)
            option = option_value(key, value, option_type, resolved, self._member_lookup(guild))
            opts.append(option)
        if spec is not None:  # Discord lists options in the command's order, not the typing order
            order = [o["name"] for o in spec]
            opts.sort(key=lambda o: order.index(o["name"]))
        if spec is not None:
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
        return await self._dispatch_interaction(
            InteractionType.APPLICATION_COMMAND,
            data,
            user=invoker,
            channel=channel,
            locale=locale,
            name=name,
            command_type=CommandType.CHAT_INPUT,
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
        channel = self.world.channels[message.channel_id]
        guild = self.world.guild_of(channel)
        resolved = Resolved()
        resolved.message(self.world.message_payload(message))
        return await self._context_menu(
            name, CommandType.MESSAGE, message.id, resolved, guild, user=user, channel=channel, locale=locale
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
        cmd = self.world.find_command(name, guild=guild, type=kind)
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
        channel = self.world.channels[msg.channel_id]
        if user is None and msg.ephemeral and msg.interaction_id in self.world.interactions:
            user = self.world.interactions[msg.interaction_id].user
        ctype = int(component["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if "id" in component:
            data["id"] = component["id"]
        if ctype in _SELECT_TYPES:
            resolved = self._resolver(self.world.guild_of(channel), channel, self._invoker(user))
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
                for i in sorted(self.world.interactions.values(), key=lambda i: i.id, reverse=True)
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
        if msg is None and opener.message_id is not None and opener.message_id in self.world.messages:
            msg = self.world.messages[opener.message_id]
        return await self._dispatch_interaction(
            InteractionType.MODAL_SUBMIT,
            data,
            user=user or opener.user,
            channel=channel or self.world.channels[opener.channel_id],
            message=msg,
            name=custom_id,
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
        invoker = self._invoker(user)
        guild = self.world.guild_of(channel)
        self.dispatcher.require_connection(guild.id if guild is not None else None)
        member = None
        if guild is not None:
            member = guild.members.get(invoker.id) or self.world.add_member(guild, invoker)
        member_perms = self.world.permissions_in(channel, invoker)
        interaction_id = self.world.snowflake()
        token = f"sim-{interaction_id}-{secrets.token_urlsafe(24)}"
        payload = interaction_payload(
            interaction_id=interaction_id,
            application_id=self.world.application_id,
            interaction_type=interaction_type,
            token=token,
            data=data,
            channel=channel.payload(permissions=member_perms),
            user=invoker,
            guild=guild,
            member=member,
            member_permissions=member_perms,
            app_permissions=self.world.bot_permissions_in(channel),
            attachment_size_limit=self.world.upload_limit_for(channel),
            locale=locale,
            message=self.world.message_payload(message) if message is not None else None,
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
            expires_at=time.time() + self.world.config.interaction_ttl,
        )
        self.world.interactions[interaction_id] = inter
        self.world.tokens[token] = inter
        await self.dispatcher.dispatch("INTERACTION_CREATE", payload, required=True, interaction=inter)
        return inter

    def _invoker(self, user: SimUser | SimMember | None) -> SimUser:
        if user is None:
            return self.world.user
        return user.user if isinstance(user, SimMember) else user

    def _resolver(self, guild: SimGuild | None, channel: SimChannel, invoker: SimUser) -> Resolved:
        def member_perms(member: SimMember) -> int:
            return self.world.permissions_in(channel, member.user)

        def channel_perms(target: SimChannel) -> int:
            return self.world.permissions_in(target, invoker)

        return Resolved(member_permissions=member_perms, channel_permissions=channel_perms)

    def _member_lookup(self, guild: SimGuild | None) -> Callable[[SimUser], SimMember | None]:
        return lambda user: guild.members.get(user.id) if guild is not None else None

    def _phantom_id(self, name: str) -> int:
        """A stable id for commands the bot never synced (tests that skip sync)."""
        return self._phantom_commands.setdefault(name, self.world.snowflake())

    def _coerce_reference(self, value: Any, option_type: int, guild: SimGuild | None) -> Any:
        """Turn ids into world objects for reference options; bytes into attachments."""
        if option_type == OptionType.ATTACHMENT and not isinstance(value, SimAttachment):
            return self.world.coerce_attachment(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return value
        if option_type in (OptionType.USER, OptionType.MENTIONABLE) and value in self.world.users:
            return self.world.users[value]
        if option_type in (OptionType.ROLE, OptionType.MENTIONABLE) and guild is not None and value in guild.roles:
            return guild.roles[value]
        if option_type == OptionType.CHANNEL and value in self.world.channels:
            return self.world.channels[value]
        return value

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
        return message if isinstance(message, SimMessage) else self.world.messages[int(message)]


def _walk(components: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for comp in components:
        yield comp
        yield from _walk(comp.get("components", []))
        if isinstance(comp.get("component"), dict):
            yield from _walk([comp["component"]])
