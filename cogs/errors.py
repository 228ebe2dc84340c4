"""One error handler for every command, button and form (Red-DiscordBot's ``CommandTree`` pattern).

Users see ``BotError.user_message`` privately; operator problems (bad key, no credits) show a short
notice while the full detail goes to the log; anything unexpected is logged with its traceback and the
user gets a generic apology instead of "This interaction failed".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

import discord
from discord import app_commands

from bot.errors import OPERATOR_NOTICE, BotError
from cogs.common import respond

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on the bot's side. Nothing was charged; please try again."


def user_text(error: BaseException) -> str:
    if isinstance(error, BotError):
        if getattr(error, "operator_problem", False):
            log.error("operator action needed: %s", error.detail)
            return OPERATOR_NOTICE
        return error.user_message
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You are not allowed to do that here."
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid value for that option."
    log.error("unexpected error", exc_info=error)
    return UNEXPECTED


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, privately; never raise from here."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    text = user_text(error)
    try:
        await respond(interaction, text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell user %s about an error: %s", interaction.user.id, text)


class BotTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


async def guarded(interaction: discord.Interaction, work: Awaitable[object]) -> None:
    """Run a button/form handler; dynamic items have no ``on_error`` hook, so errors stop here."""
    try:
        await work
    except Exception as error:
        await report_error(interaction, error)
