"""Application commands: global and guild scopes, bulk sync (PUT) and single-command CRUD, with
the checks Discord applies on sync that a bot can get wrong (names, descriptions, option order)."""

from __future__ import annotations

import re
from typing import Any

from ..discord_types import CommandType, ErrorCode
from ..records import ApiError, RecordedCall, invalid_form
from .base import APP, GUILD_CMDS, Route, Routes

_CHAT_NAME = re.compile(r"^[-_'\w]{1,32}$")


class CommandRoutes(Routes):
    def routes(self) -> list[Route]:
        return [
            ("GET", APP + r"/commands", self._list_commands),
            ("PUT", APP + r"/commands", self._put_commands),
            ("POST", APP + r"/commands", self._post_command),
            ("GET", APP + r"/commands/(?P<command_id>\d+)", self._get_command),
            ("PATCH", APP + r"/commands/(?P<command_id>\d+)", self._patch_command),
            ("DELETE", APP + r"/commands/(?P<command_id>\d+)", self._delete_command),
            ("GET", GUILD_CMDS, self._list_commands),
            ("PUT", GUILD_CMDS, self._put_commands),
            ("POST", GUILD_CMDS, self._post_command),
            ("GET", GUILD_CMDS + r"/(?P<command_id>\d+)", self._get_command),
            ("PATCH", GUILD_CMDS + r"/(?P<command_id>\d+)", self._patch_command),
            ("DELETE", GUILD_CMDS + r"/(?P<command_id>\d+)", self._delete_command),
        ]

    def _command_scope(self, app_id: str, guild_id: str | None) -> int | None:
        if int(app_id) != self.world.application_id:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        if guild_id is None:
            return None
        if int(guild_id) not in self.world.guilds:
            raise ApiError(403, ErrorCode.MISSING_ACCESS)
        return int(guild_id)

    def _stored_command(
        self, body: dict[str, Any], scope: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        ctype = int(body.get("type", 1))
        stored = {
            "id": existing["id"] if existing else str(self.world.snowflake()),
            "application_id": str(self.world.application_id),
            "version": str(self.world.snowflake()),
            "type": ctype,
            "name": body["name"],
            "description": body.get("description", "") if ctype == 1 else "",
            "options": body.get("options", []),
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": body.get("nsfw", False),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types", [0]),
            "name_localizations": body.get("name_localizations"),
            "description_localizations": body.get("description_localizations"),
        }
        if "dm_permission" in body:
            stored["dm_permission"] = body["dm_permission"]
        if scope is not None:
            stored["guild_id"] = str(scope)
        return stored

    async def _list_commands(self, call: RecordedCall, app_id: str, guild_id: str | None = None) -> tuple[int, Any]:
        return 200, self.world.commands.get(self._command_scope(app_id, guild_id), [])

    async def _put_commands(self, call: RecordedCall, app_id: str, guild_id: str | None = None) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        body = call.json
        if not isinstance(body, list):
            raise invalid_form([], "LIST_TYPE_CONVERT", "Not a list.")
        _validate_commands(body)
        old = {(c["name"], c["type"]): c for c in self.world.commands.get(scope, [])}
        stored = [self._stored_command(b, scope, old.get((b["name"], int(b.get("type", 1))))) for b in body]
        self.world.commands[scope] = stored
        return 200, stored

    async def _post_command(self, call: RecordedCall, app_id: str, guild_id: str | None = None) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        _validate_commands([call.json])
        commands = self.world.commands.setdefault(scope, [])
        key = (call.json["name"], int(call.json.get("type", 1)))
        existing = next((c for c in commands if (c["name"], c["type"]) == key), None)
        stored = self._stored_command(call.json, scope, existing)
        if existing is not None:
            commands[commands.index(existing)] = stored
            return 200, stored
        commands.append(stored)
        return 201, stored

    def _command_by_id(self, scope: int | None, command_id: str) -> dict[str, Any]:
        for cmd in self.world.commands.get(scope, []):
            if cmd["id"] == command_id:
                return cmd
        raise ApiError(404, ErrorCode.UNKNOWN_APPLICATION_COMMAND)

    async def _get_command(
        self, call: RecordedCall, app_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        return 200, self._command_by_id(self._command_scope(app_id, guild_id), command_id)

    async def _patch_command(
        self, call: RecordedCall, app_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        cmd = self._command_by_id(scope, command_id)
        merged = {k: v for k, v in cmd.items() if k not in ("id", "version")} | (call.json or {})
        _validate_commands([merged])
        stored = self._stored_command(merged, scope, cmd)
        commands = self.world.commands[scope]
        commands[commands.index(cmd)] = stored
        return 200, stored

    async def _delete_command(
        self, call: RecordedCall, app_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        self.world.commands[scope].remove(self._command_by_id(scope, command_id))
        return 204, None

    # --- interactions and their webhooks


def _validate_commands(commands: list[Any]) -> None:
    """The checks Discord applies on sync that a bot can get wrong; 400 50035 like Discord."""
    seen: set[tuple[str, int]] = set()
    for index, cmd in enumerate(commands):
        if not isinstance(cmd, dict) or "name" not in cmd:
            raise invalid_form([index, "name"], "BASE_TYPE_REQUIRED", "This field is required")
        ctype = int(cmd.get("type", 1))
        key = (cmd["name"], ctype)
        if key in seen:
            raise invalid_form(
                [index, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add(key)
        if ctype == CommandType.CHAT_INPUT:
            _validate_named(cmd, [index])
            _validate_options(cmd.get("options") or [], [index, "options"])
        elif not 1 <= len(cmd["name"]) <= 32:
            raise invalid_form([index, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")


def _validate_named(item: dict[str, Any], path: list[str | int]) -> None:
    name = str(item.get("name", ""))
    if not _CHAT_NAME.fullmatch(name) or name != name.lower():
        raise invalid_form([*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
    if not 1 <= len(str(item.get("description", ""))) <= 100:
        raise invalid_form([*path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def _validate_options(options: list[dict[str, Any]], path: list[str | int]) -> None:
    if len(options) > 25:
        raise invalid_form(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    for index, option in enumerate(options):
        _validate_named(option, [*path, index])
        if int(option.get("type", 0)) in (1, 2):
            _validate_options(option.get("options") or [], [*path, index, "options"])
            continue
        if option.get("required"):
            if optional_seen:
                raise invalid_form(
                    [*path, index, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if len(option.get("choices") or []) > 25:
            raise invalid_form([*path, index, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
