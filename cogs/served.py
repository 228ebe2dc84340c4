"""The operator's allow-list at the door (``ALLOWED_GUILD_IDS``, issue 10).

An interaction from a server the bot does not serve gets an ephemeral refusal before anything else
runs: no download, no database, no API call. discord.py routes interactions three ways, and each
asks :func:`admit` first: application commands (``BotTree.interaction_check``), buttons (every
``DynamicItem`` is :class:`Served`, whose ``interaction_check`` runs before its callback; a test keeps
every registered item so) and forms (the ``cogs.forms`` listener). The rule itself is
``Settings.serves`` in the core.
"""

from __future__ import annotations

import logging

import discord

from bot.i18n import msg
from cogs.common import bot_of
from cogs.text import private_locale, render

log = logging.getLogger(__name__)


async def admit(interaction: discord.Interaction) -> bool:
    """Whether the bot serves the server this interaction comes from; if not, it is refused here."""
    if bot_of(interaction).settings.serves(interaction.guild_id):
        return True
    log.info("refused an interaction from server %s: not in ALLOWED_GUILD_IDS", interaction.guild_id)
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            text = render(msg("served-not-here"), private_locale(interaction))
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.info("could not refuse the interaction from server %s: %s", interaction.guild_id, exc)
    return False


class Served:
    """Mixin for every ``DynamicItem``: buttons from a server the bot does not serve are refused
    before their callback (list it before ``discord.ui.DynamicItem`` in the bases)."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await admit(interaction)
