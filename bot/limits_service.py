"""``/limits``: reading and changing a server's limits and role overrides, and its usage report.

Only people ``bot.access.may_set_limits`` allows get here; every change is audited by storage. The
rule that an exempt role stays exempt when its limits change lives here, not in the adapter, and so
do the operator's ceilings (``LimitSpec.admin_max``): a server admin can never set a limit, for the
server or for a role, above what the operator allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import access
from bot.access import Actor
from bot.errors import Forbidden, InputError
from bot.i18n import msg
from bot.limits import ROLE_LIMIT_NAMES, limit_spec
from bot.settings import Settings
from bot.store import AuditEntry, GuildConfig, RoleLimits, Storage, UsageRow

AUDIT_SHOWN = 5


@dataclass(frozen=True, slots=True)
class LimitsView:
    config: GuildConfig
    audit: list[AuditEntry]


class LimitsService:
    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage

    @staticmethod
    def _guild(actor: Actor) -> int:
        if not access.may_set_limits(actor) or actor.guild_id is None:
            raise Forbidden(msg("limits-need-manage-server"))
        return actor.guild_id

    async def _view(self, guild_id: int, config: GuildConfig | None = None) -> LimitsView:
        config = config or await self.storage.guild_config(guild_id)
        return LimitsView(config, await self.storage.audit_log(guild_id, limit=AUDIT_SHOWN))

    def _check_ceiling(self, name: str, value: int | None) -> None:
        ceiling = self.settings.admin_ceiling(name)
        if value is not None and ceiling is not None and value > ceiling:
            spec = limit_spec(name)
            raise InputError(
                msg("limits-above-ceiling", limit=msg(spec.label), ceiling=ceiling, setting=spec.admin_max_env_var)
            )

    async def show(self, actor: Actor) -> LimitsView:
        return await self._view(self._guild(actor))

    async def set(self, actor: Actor, name: str, value: int | None) -> LimitsView:
        guild_id = self._guild(actor)
        if name == "window_minutes" and value == 0:
            value = 1  # a window of 0 minutes means the shortest one
        self._check_ceiling(name, value)
        config = await self.storage.update_guild_config(guild_id, actor.user_id, **{name: value})
        return await self._view(guild_id, config)

    async def set_role(
        self,
        actor: Actor,
        role_id: int,
        *,
        window_images: int | None = None,
        daily_images: int | None = None,
        max_active_jobs: int | None = None,
        remove: bool = False,
    ) -> LimitsView:
        guild_id = self._guild(actor)
        override = None
        values = {"window_images": window_images, "daily_images": daily_images, "max_active_jobs": max_active_jobs}
        for name in ROLE_LIMIT_NAMES:
            self._check_ceiling(name, values[name])
        if not remove:  # an exempt role stays exempt when it also gets limits
            current = await self.storage.guild_config(guild_id)
            exempt = any(r.exempt for r in current.roles if r.role_id == role_id)
            override = RoleLimits(role_id, exempt=exempt, **values)
        config = await self.storage.set_role_limits(guild_id, actor.user_id, override, role_id)
        return await self._view(guild_id, config)

    async def exempt(self, actor: Actor, role_id: int, exempt: bool) -> LimitsView:
        guild_id = self._guild(actor)
        config = await self.storage.guild_config(guild_id)
        current = next((r for r in config.roles if r.role_id == role_id), RoleLimits(role_id))
        updated = RoleLimits(role_id, current.window_images, current.daily_images, current.max_active_jobs, exempt)
        config = await self.storage.set_role_limits(guild_id, actor.user_id, updated, role_id)
        return await self._view(guild_id, config)

    async def usage(self, actor: Actor, days: int, now: datetime | None = None) -> list[UsageRow]:
        guild_id = self._guild(actor)
        since = (now or datetime.now(UTC)) - timedelta(days=days)
        return await self.storage.usage_report(guild_id, since)
