"""Slash-command sync: what is registered, only when it changed, per dev guild, and ``python -m bot sync``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests import REPO_ROOT
from tests.bot_harness import BOT_TOKEN, make_world

COMMANDS = {"edit", "history", "quota", "limits", "queue", "session", "Edit image"}


def command_puts(world) -> list:
    return world.sim.calls_to("/applications/*/commands", method="PUT") + world.sim.calls_to(
        "/applications/*/guilds/*/commands", method="PUT"
    )


async def test_commands_are_synced_once_and_again_only_when_changed(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        assert set(world.sim.command_names()) == COMMANDS
        assert len(command_puts(world)) == 1
        await world.restart_bot()  # same commands: Discord's daily write quota is not spent again
        assert len(command_puts(world)) == 1
        (world.data_dir / "commands.sha256").write_text("stale")
        await world.restart_bot()
        assert len(command_puts(world)) == 2


async def test_dev_guild_gets_the_commands_instantly(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot(dev_guild_id=world.sim.guild.id)
        assert set(world.sim.command_names(world.sim.guild)) == COMMANDS
        assert world.sim.calls_to("/applications/*/guilds/*/commands", method="PUT")


async def test_python_m_bot_sync_forces_a_sync_and_exits(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO_ROOT),
            "DISCORD_TOKEN": BOT_TOKEN,
            "IDEOGRAM_API_KEY": world.api.api_key,
            "IDEOGRAM_BASE_URL": world.api.base_url,
            "DISCORD_API_BASE": world.sim.api_base,
            "DISCORD_GATEWAY_URL": world.sim.gateway_url,
            "DATA_DIR": str(world.data_dir),
            "WEB_PORT": "0",
        }
        for _ in range(2):  # forced: the second run syncs although nothing changed
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "sync",
                cwd=tmp_path,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode == 0, output.decode()
            assert BOT_TOKEN not in output.decode()
        assert len(command_puts(world)) == 2
        assert set(world.sim.command_names()) == COMMANDS
        assert world.sim.identify_count == 0  # sync never connects to the gateway


async def test_synced_commands_carry_chinese_localisations(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        (put,) = command_puts(world)
        commands = {c["name"]: c for c in put.json}
        edit = commands["edit"]
        assert edit["description"] == "Change part of an image with a prompt"
        assert edit["description_localizations"]["zh-CN"] == "用提示词修改图片的一部分"
        prompt = next(o for o in edit["options"] if o["name"] == "prompt")
        assert prompt["description_localizations"]["zh-CN"] == "修改后的区域应该显示什么"
        region = next(o for o in edit["options"] if o["name"] == "region")
        top = next(c for c in region["choices"] if c["value"] == "top")
        assert top["name_localizations"]["zh-CN"] == "上半部分"
        assert "zh-CN" in commands["Edit image"]["name_localizations"]
        assert all("en-US" not in c.get("description_localizations", {}) for c in put.json)


async def test_a_translation_change_resyncs(tmp_path: Path, monkeypatch) -> None:
    from bot.i18n import CATALOGUE

    async with make_world(tmp_path) as world:
        await world.start_bot()
        assert len(command_puts(world)) == 1
        original = CATALOGUE.format

        def reworded(message, locale="en-US", **kwargs):
            shown = original(message, locale, **kwargs)
            return shown + "！" if message == "cmd-quota" and locale == "zh-CN" else shown

        monkeypatch.setattr(CATALOGUE, "format", reworded)
        await world.restart_bot()  # same English commands, a new Chinese text: synced again
        assert len(command_puts(world)) == 2
        assert {c["name"]: c for c in command_puts(world)[-1].json}["quota"]["description_localizations"][
            "zh-CN"
        ].endswith("！")
