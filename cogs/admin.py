"""``/limits``: server admins view and change this server's limits; every change is audited."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import text
from bot.limits import LIMITS
from bot.limits_service import LimitsView
from bot.store import AuditEntry, GuildConfig
from cogs import render
from cogs.common import actor_of, respond

if TYPE_CHECKING:
    from bot.app import InpaintBot

LIMIT_CHOICES = [app_commands.Choice(name=text(spec.label), value=spec.name) for spec in LIMITS]
LIMIT_NAMES = {c.value: c.name for c in LIMIT_CHOICES}
MAX_ROLES_SHOWN = 20


def config_embed(bot: InpaintBot, config: GuildConfig, audit: list[AuditEntry]) -> discord.Embed:
    defaults = bot.settings.limits
    embed = discord.Embed(title="Limits on this server", colour=render.COLOUR)
    lines = []
    for key, label in LIMIT_NAMES.items():
        value = getattr(config, key)
        default = getattr(defaults, key if key.startswith("guild_") else f"user_{key}")
        shown = f"**{value}**" if value is not None else f"{default} (default)"
        lines.append(f"{label}: {shown}")
    embed.description = "\n".join(lines)
    for role in config.roles[:MAX_ROLES_SHOWN]:
        if role.exempt:
            text = "exempt from per-user limits"
        else:
            parts = [
                f"{label} {value}"
                for label, value in (
                    ("window", role.window_images),
                    ("daily", role.daily_images),
                    ("at once", role.max_active_jobs),
                )
                if value is not None
            ]
            text = ", ".join(parts) or "no overrides"
        embed.add_field(name="Role override", value=f"<@&{role.role_id}>: {text}", inline=False)
    if len(config.roles) > MAX_ROLES_SHOWN:  # an embed holds at most 25 fields
        embed.add_field(name="More role overrides", value=f"… and {len(config.roles) - MAX_ROLES_SHOWN} more.")
    if audit:
        embed.add_field(
            name="Recent changes",
            value="\n".join(
                f"{render.ts(a.created_at)} <@{a.actor_id}> {audit_action(a.action)}: {a.old_value} → {a.new_value}"
                for a in audit[:5]
            )[:1024],
            inline=False,
        )
    return embed


def audit_action(action: str) -> str:
    """Storage records ``set daily_images`` and ``role 123 [removed]``; show names people know."""
    if action.startswith("set ") and action[4:] in LIMIT_NAMES:
        return LIMIT_NAMES[action[4:]]
    role = re.fullmatch(r"role (\d+)( removed)?", action)
    if role:
        return f"<@&{role[1]}>" + (" removed" if role[2] else "")
    return action


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class LimitsGroup(app_commands.Group, name="limits", description="View and change this server's image limits"):
    def __init__(self, bot: InpaintBot) -> None:
        super().__init__()
        self.bot = bot

    async def _show(self, interaction: discord.Interaction, shown: LimitsView, note: str | None = None) -> None:
        await respond(interaction, note, embed=config_embed(self.bot, shown.config, shown.audit))

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
        shown = saved if value is not None else "the default"
        await self._show(interaction, view, f"Set **{limit.name}** to {shown}.")

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
        note = f"Removed the override for {role.mention}." if remove else f"Saved limits for {role.mention}."
        await self._show(interaction, view, note)

    @app_commands.command(name="exempt", description="Exempt a role from the per-user limits (not the server cap)")
    async def exempt(self, interaction: discord.Interaction, role: discord.Role, exempt: bool = True) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.bot.limits.exempt(actor_of(interaction), role.id, exempt)
        note = f"{role.mention} is {'now' if exempt else 'no longer'} exempt from the per-user limits."
        await self._show(interaction, view, note)

    @app_commands.command(name="usage", description="Images used on this server, per member, over recent days")
    async def usage(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 90] = 1) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        rows = await self.bot.limits.usage(actor_of(interaction), days)
        total = sum(r.images for r in rows)
        lines = [f"<@{r.user_id}>: {plural(r.images, 'image')} in {plural(r.jobs, 'edit')}" for r in rows[:20]]
        if len(rows) > 20:
            lines.append(f"… and {len(rows) - 20} more members.")
        text = f"**{plural(total, 'image')}** in the last {days} day(s).\n" + ("\n".join(lines) or "No edits.")
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
