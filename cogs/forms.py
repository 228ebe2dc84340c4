"""Modal forms that survive restarts.

discord.py keeps open modals in memory, so a form opened before a restart would be lost on submit.
Here a modal is only a form: its submission is routed by ``custom_id`` pattern from one listener,
like the persistent buttons, and any process can handle it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import discord
from discord.ext import commands

from cogs.errors import guarded
from cogs.served import admit

FormHandler = Callable[[discord.Interaction, "re.Match[str]", dict[str, str]], Awaitable[object]]
_handlers: list[tuple[re.Pattern[str], FormHandler]] = []
FORM_TIMEOUT_S = 15 * 60


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    default: str | None = None
    placeholder: str | None = None
    required: bool = True
    long: bool = False
    max_length: int | None = None


def form_handler(pattern: str) -> Callable[[FormHandler], FormHandler]:
    def register(handler: FormHandler) -> FormHandler:
        _handlers.append((re.compile(pattern), handler))
        return handler

    return register


def build_form(title: str, custom_id: str, fields: Iterable[Field]) -> discord.ui.Modal:
    modal = discord.ui.Modal(title=title[:45], custom_id=custom_id, timeout=FORM_TIMEOUT_S)
    for f in fields:
        modal.add_item(
            discord.ui.TextInput(
                label=f.label[:45],
                custom_id=f.key,
                default=f.default[:4000] if f.default else None,
                placeholder=f.placeholder[:100] if f.placeholder else None,
                required=f.required,
                style=discord.TextStyle.paragraph if f.long else discord.TextStyle.short,
                max_length=f.max_length,
            )
        )
    return modal


def form_values(data: Any) -> dict[str, str]:
    """Collect ``custom_id -> value`` from a submission, however deeply Discord nested it."""
    values: dict[str, str] = {}
    if isinstance(data, dict):
        if "custom_id" in data and "value" in data:
            values[data["custom_id"]] = data["value"] or ""
        for key in ("components", "component"):
            if key in data:
                values |= form_values(data[key])
    elif isinstance(data, list):
        for item in data:
            values |= form_values(item)
    return values


class Forms(commands.Cog):
    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.modal_submit or interaction.data is None:
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        for pattern, handler in _handlers:
            match = pattern.fullmatch(custom_id)
            if match is not None:
                if not await admit(interaction):  # a server the bot does not serve: refused, nothing run
                    return
                values = form_values(interaction.data.get("components", []))
                await guarded(interaction, handler(interaction, match, values))
                return


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Forms())
