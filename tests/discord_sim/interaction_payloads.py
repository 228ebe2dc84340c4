"""The JSON of an interaction as Discord sends it: ``data.options`` typed by the registered command,
``data.resolved`` for every referenced user, member, role, channel, attachment and message, and the
envelope (``attachment_size_limit`` included: discord.py raises ``KeyError`` without it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from .discord_types import OptionType
from .entities import SimAttachment, SimChannel, SimGuild, SimMember, SimRole, SimUser


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
