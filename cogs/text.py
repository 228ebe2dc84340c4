"""Catalogue messages rendered for Discord, in the reader's language.

The core hands over typed values (``bot.i18n``); this is the one place they become Discord markup:
times become ``<t:…>`` (each reader's client shows them in their own zone and language), users become
``<@id>``, and text a member typed is escaped so it cannot format, link or ping. Numbers are formatted
for the locale by the catalogue.

Whose language (issue 13): private replies (ephemeral messages, forms, DMs) use the member's locale,
``interaction.locale``; public messages use the server's, ``interaction.guild_locale``; anything else,
or a locale the catalogue lacks, English.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord

from bot.i18n import CATALOGUE, DEFAULT_LOCALE, Channel, Mention, Message, Moment, UserText
from bot.store import Job


def discord_value(value: Any) -> Any:
    """One typed argument as Discord shows it (``adapt`` for ``Catalogue.format``)."""
    if isinstance(value, datetime):
        value = Moment(value)
    if isinstance(value, Moment):
        return f"<t:{value.epoch}:{value.style}>"
    if isinstance(value, Mention):
        return f"<@{value.user_id}>"
    if isinstance(value, Channel):
        return f"<#{value.channel_id}>"
    if isinstance(value, UserText):
        return escape(value)
    return value


def escape(text: str) -> str:
    """Member-typed text, shown literally: no markdown, no pings."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(str(text)))


def render(message: Message | str, locale: str | None = DEFAULT_LOCALE, /, **args: Any) -> str:
    """``message`` (or a message id with ``args``) in ``locale``, values rendered for Discord."""
    return CATALOGUE.format(message, CATALOGUE.negotiate(locale), adapt=discord_value, **args)


def result_locale(job: Job) -> str:
    """Whose language a job's result is in: the member's for a private result, else the server's
    (both stored with the job, so a result posted after a restart or by another process keeps it)."""
    return CATALOGUE.negotiate(job.requester.locale if job.private else job.requester.guild_locale)


def private_locale(interaction: discord.Interaction) -> str:
    """The member's own language, for ephemeral replies, forms and DMs."""
    return CATALOGUE.negotiate(str(interaction.locale) if interaction.locale else None)


def public_locale(interaction: discord.Interaction) -> str:
    """The server's preferred language, for messages everyone in the channel reads."""
    locale = interaction.guild_locale if interaction.guild_id else interaction.locale
    return CATALOGUE.negotiate(str(locale) if locale else None)
