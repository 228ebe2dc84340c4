"""Slash commands in the member's language: discord.py's ``app_commands.Translator`` over the catalogue.

Discord shows each member the command and option descriptions, choice names and context-menu names in
their client's language when the synced commands carry localisations; discord.py asks a ``Translator``
for them at sync time. This one looks each string up in the catalogue (``bot/locales/*/commands.ftl``)
by an id derived from where the string sits, so the cogs keep plain English literals:

* a command or group description: ``cmd-<qualified name, spaces as ->`` (``cmd-limits-set``);
* an option description: ``cmd-<command>--<option>`` (``cmd-edit--prompt``);
* a context-menu name: ``menu-<name, lower case, spaces as ->`` (``menu-edit-image``);
* a choice name: the limit's label for a limit (``bot.limits.LIMITS``), otherwise ``choice-<value>``;
* or an explicit ``app_commands.locale_str("…", id="message-id")``.

Command and option *names* stay English: members type them, and the README documents them.
English (and any locale the catalogue lacks) returns None, so Discord shows the source string.
"""

from __future__ import annotations

import re

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.i18n import CATALOGUE, DEFAULT_LOCALE, Catalogue
from bot.limits import LIMITS_BY_NAME


def _slug(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]+", "-", name.strip()).strip("-").lower()


def message_id(string: app_commands.locale_str, context: app_commands.TranslationContextTypes) -> str | None:
    """The catalogue id for one string of the command tree, or None for what we never translate."""
    explicit = string.extras.get("id")
    if explicit:
        return explicit
    where, data = context.location, context.data
    if where in (Where.command_description, Where.group_description):
        return f"cmd-{_slug(data.qualified_name)}"
    if where is Where.parameter_description:
        return f"cmd-{_slug(data.command.qualified_name)}--{data.name}"
    if where is Where.command_name and isinstance(data, app_commands.ContextMenu):
        return f"menu-{_slug(data.name)}"
    if where is Where.choice_name:
        spec = LIMITS_BY_NAME.get(str(data.value))
        return spec.label if spec else f"choice-{data.value}"
    return None


class CatalogueTranslator(app_commands.Translator):
    def __init__(self, catalogue: Catalogue = CATALOGUE) -> None:
        self.catalogue = catalogue

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        target = self.catalogue.negotiate(locale.value)
        if target == DEFAULT_LOCALE or target != locale.value:
            return None  # English is the source; a near match (zh-TW → en-US) must not be announced as zh-TW
        key = message_id(string, context)
        if key is None or not self.catalogue.has(key, target):
            return None
        return self.catalogue.format(key, target)
