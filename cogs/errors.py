"""One error handler for every command, button and form (Red-DiscordBot's ``CommandTree`` pattern).

Users see the error's catalogue message privately, in their own language (``interaction.locale``);
operator problems (bad key, no credits) show a short notice while the full detail goes to the log;
anything unexpected is logged with its traceback and the user gets a generic apology instead of
"This interaction failed".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

import discord
from discord import app_commands

from bot.errors import OPERATOR_NOTICE, BotError
from bot.i18n import DEFAULT_LOCALE, Message, UserText, msg
from cogs.common import respond, settled
from cogs.served import admit
from cogs.text import private_locale, render

log = logging.getLogger(__name__)

UNEXPECTED = msg("error-unexpected")


def user_message(error: BaseException) -> Message:
    """What to tell the user about ``error``, as a catalogue message."""
    if isinstance(error, BotError):
        if getattr(error, "operator_problem", False):
            log.error("operator action needed: %s", error.detail)
            return OPERATOR_NOTICE
        return error.message
    if isinstance(error, app_commands.NoPrivateMessage):
        return msg("error-guild-only")
    if isinstance(error, app_commands.CheckFailure):
        return msg("error-check-failed")
    if isinstance(error, app_commands.TransformerError):
        return msg("error-bad-option-value", value=UserText(repr(error.value)))
    log.error("unexpected error", exc_info=error)
    return UNEXPECTED


def user_text(error: BaseException, locale: str = DEFAULT_LOCALE) -> str:
    return render(user_message(error), locale)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, privately; never raise from here."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    text = user_text(error, private_locale(interaction))
    try:
        await respond(interaction, text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell user %s about an error: %s", interaction.user.id, text)
    await settled(interaction)  # answered: a restart must not overwrite the error


class BotTree(app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Before any command runs: the operator's allow-list (``cogs.served``)."""
        return await admit(interaction)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


async def guarded(interaction: discord.Interaction, work: Awaitable[object]) -> None:
    """Run a button/form handler; dynamic items have no ``on_error`` hook, so errors stop here."""
    try:
        await work
    except Exception as error:
        await report_error(interaction, error)
