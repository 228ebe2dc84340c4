"""``/limits``: server admins view and change this server's limits; every change is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import DEFAULT_LOCALE, Mention, text
from bot.limits import LIMITS, LIMITS_BY_NAME
from bot.limits_service import LimitsView
from bot.store import AuditEntry, AuditValue, GuildConfig, RoleLimits
from cogs import render
from cogs.common import actor_of, respond
from cogs.text import escape, private_locale
from cogs.text import render as say

if TYPE_CHECKING:
    from bot.app import InpaintBot

LIMIT_CHOICES = [app_commands.Choice(name=text(spec.label), value=spec.name) for spec in LIMITS]
MAX_ROLES_SHOWN = 20


def config_embed(
    bot: InpaintBot, config: GuildConfig, audit: list[AuditEntry], locale: str = DEFAULT_LOCALE
) -> discord.Embed:
    defaults = bot.settings.limits
    embed = discord.Embed(title=say("limits-title", locale), colour=render.COLOUR)
    lines = []
    for spec in LIMITS:
        value = getattr(config, spec.name)
        default = getattr(defaults, spec.setting)
        shown = f"**{value}**" if value is not None else say("limits-default-value", locale, value=default)
        lines.append(f"{say(spec.label, locale)}: {shown}")
    embed.description = "\n".join(lines)
    for role in config.roles[:MAX_ROLES_SHOWN]:
        text = role_text(role, locale)
        embed.add_field(name=say("limits-role-override", locale), value=f"<@&{role.role_id}>: {text}", inline=False)
    if len(config.roles) > MAX_ROLES_SHOWN:  # an embed holds at most 25 fields
        more = say("limits-more-roles-value", locale, count=len(config.roles) - MAX_ROLES_SHOWN)
        embed.add_field(name=say("limits-more-roles", locale), value=more)
    if audit:
        embed.add_field(
            name=say("limits-recent-changes", locale),
            value="\n".join(
                f"{render.ts(a.created_at)} <@{a.actor_id}> {audit_action(a, locale)}: "
                + " → ".join(audit_value(value, locale) for value in a.values)
                for a in audit[:5]
            )[:1024],
            inline=False,
        )
    return embed


def role_text(role: RoleLimits, locale: str = DEFAULT_LOCALE) -> str:
    """A role's overrides in words (exempt wins: the others do not apply then)."""
    if role.exempt:
        return say("limits-role-exempt", locale)
    values = ((spec.role_label, getattr(role, spec.name)) for spec in LIMITS if spec.role_label)
    parts = [say(label, locale, value=value) for label, value in values if value is not None]
    return ", ".join(parts) or say("limits-role-none", locale)


def audit_value(value: AuditValue | None, locale: str = DEFAULT_LOCALE) -> str:
    """An audit log value in the reader's language (stored in one language-free form, ``AuditValue``)."""
    if value is None:
        return "—"
    if value.raw is not None:
        return escape(value.raw)
    if not value.is_role:
        return say("limits-audit-default", locale) if value.number is None else str(value.number)
    return say("limits-role-none", locale) if value.role is None else role_text(value.role, locale)


def audit_action(entry: AuditEntry, locale: str = DEFAULT_LOCALE) -> str:
    """What an audit entry changed, in names people know (a limit's label, the role)."""
    what = entry.what
    if what.role_id is not None:
        return f"<@&{what.role_id}>" + (" " + say("limits-role-removed", locale) if what.removed else "")
    spec = LIMITS_BY_NAME.get(what.limit or "")
    return say(spec.label, locale) if spec is not None else entry.action


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class LimitsGroup(app_commands.Group, name="limits", description="View and change this server's image limits"):
    def __init__(self, bot: InpaintBot) -> None:
        super().__init__()
        self.bot = bot

    async def _show(self, interaction: discord.Interaction, shown: LimitsView, note: str | None = None) -> None:
        embed = config_embed(self.bot, shown.config, shown.audit, private_locale(interaction))
        await respond(interaction, note, embed=embed)

    @app_commands.command(name="show", description="Show this server's limits, role overrides and recent changes")
    async def show(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._show(interaction, await self.bot.limits.show(actor_of(interaction)))

    @app_commands.command(name="set", description="Change one limit (leave the value empty to use the default)")
    @app_commands.choices(limit=LIMIT_CHOICES)
    @app_commands.describe(limit="Which limit", value="The new value; 0 blocks edits; empty = bot default")
    async def set_(
        self,
        interaction: discord.Interaction,
        limit: app_commands.Choice[str],
        value: app_commands.Range[int, 0, 100_000] | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.bot.limits.set(actor_of(interaction), limit.value, value)
        saved = getattr(view.config, limit.value)
        locale = private_locale(interaction)
        label = say(LIMITS_BY_NAME[limit.value].label, locale)
        note = say("limits-set", locale, limit=label, value=saved if value is not None else "default")
        await self._show(interaction, view, note)

    @app_commands.command(name="role", description="Give a role its own per-user limits")
    @app_commands.describe(
        role="The role",
        window_images="Images per window for members with this role",
        daily_images="Images per day",
        max_active_jobs="Edits queued or running at once",
        remove="Remove this role's override",
    )
    async def role(
        self,
        interaction: discord.Interaction,
        role: discord.Role,
        window_images: app_commands.Range[int, 0, 100_000] | None = None,
        daily_images: app_commands.Range[int, 0, 100_000] | None = None,
        max_active_jobs: app_commands.Range[int, 0, 1000] | None = None,
        remove: bool = False,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.bot.limits.set_role(
            actor_of(interaction),
            role.id,
            window_images=window_images,
            daily_images=daily_images,
            max_active_jobs=max_active_jobs,
            remove=remove,
        )
        locale = private_locale(interaction)
        note = say("limits-role-removed-note" if remove else "limits-role-saved", locale, role=role.mention)
        await self._show(interaction, view, note)

    @app_commands.command(name="exempt", description="Exempt a role from the per-user limits (not the server cap)")
    async def exempt(self, interaction: discord.Interaction, role: discord.Role, exempt: bool = True) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.bot.limits.exempt(actor_of(interaction), role.id, exempt)
        note = say(
            "limits-exempt-note", private_locale(interaction), role=role.mention, exempt="yes" if exempt else "no"
        )
        await self._show(interaction, view, note)

    @app_commands.command(name="usage", description="Images used on this server, per member, over recent days")
    async def usage(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 90] = 1) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        rows = await self.bot.limits.usage(actor_of(interaction), days)
        total = sum(r.images for r in rows)
        locale = private_locale(interaction)
        lines = [
            say("limits-usage-line", locale, member=Mention(r.user_id), images=r.images, jobs=r.jobs) for r in rows[:20]
        ]
        if len(rows) > 20:
            lines.append(say("limits-usage-more", locale, count=len(rows) - 20))
        header = say("limits-usage-total", locale, images=total, days=days)
        text = header + "\n" + ("\n".join(lines) or say("limits-usage-none", locale))
        await respond(interaction, text)


class AdminCog(commands.Cog):
    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot
        self.group = LimitsGroup(bot)
        bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(AdminCog(bot))
