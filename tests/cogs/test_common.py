"""Small Discord helpers of ``cogs.common``, on stand-in interactions."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from unittest.mock import Mock

import discord
import pytest

from bot.errors import InputError
from bot.store import AckedInteraction
from cogs.common import acknowledge, require_post_permissions
from cogs.text import private_locale, render
from tests.ids import ALICE, APP, CHANNEL, GUILD, MESSAGE


async def test_acknowledge_records_the_members_language_as_private_answers_use_it() -> None:
    """A restarted process answers in the recorded language: the one ``private_locale`` picks (a
    language the catalogue lacks, or a near one like zh-TW, is English), not Discord's raw code."""
    recorded: list[AckedInteraction] = []

    class Interactions:
        async def record(self, acked: AckedInteraction) -> None:
            recorded.append(acked)

    interaction = SimpleNamespace(
        response=SimpleNamespace(is_done=lambda: True),
        client=SimpleNamespace(interactions=Interactions()),
        id=MESSAGE,
        application_id=APP,
        user=SimpleNamespace(id=ALICE),
        guild_id=GUILD,
        channel_id=CHANNEL,
        locale=discord.Locale.taiwan_chinese,
        created_at=datetime.now(UTC),
        token="token",
    )
    await acknowledge(interaction)  # type: ignore[arg-type]
    [acked] = recorded
    assert acked.locale == private_locale(interaction) == "en-US"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        (SimpleNamespace(), "Send Messages, Attach Files and Embed Links"),
        (Mock(spec=discord.Thread), "Send Messages in Threads, Attach Files and Embed Links"),
    ],
)
def test_missing_post_permissions_are_named_as_discord_shows_them(channel: object, expected: str) -> None:
    """Each missing permission is a ``permission-name`` key: one the selector lacks would quietly show
    its default ("Send Messages") instead."""
    interaction = SimpleNamespace(guild_id=GUILD, channel=channel, app_permissions=discord.Permissions.none())
    with pytest.raises(InputError) as refused:
        require_post_permissions(interaction)  # type: ignore[arg-type]
    assert expected in render(refused.value.message)
