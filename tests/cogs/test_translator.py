"""Slash commands carry zh-CN localisations from the catalogue; English stays the source text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.i18n import CATALOGUE
from cogs.translator import CatalogueTranslator
from tests.bot_harness import make_world

ZH = discord.Locale.chinese.value  # "zh-CN"


def strings(payload: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(kind, English, localisations) for every translatable string of one command payload."""
    found = []
    if payload.get("description"):
        found.append(("description", payload["description"], payload.get("description_localizations") or {}))
    elif payload.get("type") in (2, 3):  # context menus: only a name
        found.append(("name", payload["name"], payload.get("name_localizations") or {}))
    for option in payload.get("options", []):
        if option.get("type") in (1, 2):  # sub-command (group): recurse
            found += strings(option)
            continue
        found.append(("option", option["description"], option.get("description_localizations") or {}))
        for choice in option.get("choices", []):
            found.append(("choice", choice["name"], choice.get("name_localizations") or {}))
    return found


async def test_every_command_string_has_a_chinese_translation_and_matches_the_english_catalogue(
    tmp_path: Path,
) -> None:
    async with make_world(tmp_path) as world:
        bot = await world.start_bot()
        translator = CatalogueTranslator()
        payloads = [await c.get_translated_payload(bot.tree, translator) for c in bot.tree.get_commands()]
    english = {text for p in payloads for _, text, _ in strings(p)}
    assert "Change part of an image with a prompt" in english and len(english) > 40
    catalogued = {CATALOGUE.format(i) for i in CATALOGUE.ids() if i.startswith(("cmd-", "menu-", "choice-", "limit-"))}
    assert english - catalogued - {"…"} == set()  # a cog's wording changed: update commands.ftl (both languages)
    undescribed = "…"  # discord.py's placeholder for an option the cog did not describe: nothing to translate
    missing = [(kind, text) for p in payloads for kind, text, local in strings(p) if ZH not in local]
    missing = [(kind, text) for kind, text in missing if text != undescribed]
    assert missing == []
    for p in payloads:
        for _, text, local in strings(p):
            if text == undescribed:
                continue
            assert set(local) == {ZH}, (text, local)  # English is the source; no locale we cannot speak
            assert 1 <= len(local[ZH]) <= 100 and local[ZH] != text


async def test_the_english_catalogue_mirrors_the_commands_source_text() -> None:
    """The translator's ids point at the English catalogue; if a cog's wording changes, this says which."""
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))

    @tree.command(name="edit", description="Change part of an image with a prompt")
    @app_commands.describe(prompt="What the changed area should show")
    @app_commands.choices(region=[app_commands.Choice(name="Top half", value="top")])
    async def edit(interaction: discord.Interaction, prompt: str, region: str) -> None: ...

    payload = await tree.get_command("edit").get_translated_payload(tree, CatalogueTranslator())
    assert payload["description_localizations"] == {ZH: CATALOGUE.format("cmd-edit", ZH)}
    prompt, region = payload["options"]
    assert CATALOGUE.format("cmd-edit--prompt") == prompt["description"]
    assert prompt["description_localizations"][ZH] == "修改后的区域应该显示什么"
    assert region["choices"][0]["name_localizations"] == {ZH: "上半部分"}


async def test_other_languages_fall_back_to_english() -> None:
    translator = CatalogueTranslator()
    context = app_commands.TranslationContext(app_commands.TranslationContextLocation.other, None)
    text = app_commands.locale_str("x", id="cmd-edit")
    assert await translator.translate(text, discord.Locale.taiwan_chinese, context) is None
    assert await translator.translate(text, discord.Locale.british_english, context) is None
    assert await translator.translate(text, discord.Locale.chinese, context) == "用提示词修改图片的一部分"
