"""The Discord simulation driven by the REAL discord.py client, plus ``cogs.endpoints``.

Each test starts a sim and a tiny ``commands.Bot`` defined here (its commands mimic what the real
cogs do: defer, read an attachment, answer with a file and a persistent button, open a modal, fall
back to channel messages). Bot-side outcomes are reported through an ``asyncio.Queue`` so tests wait
on events, never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import discord.http
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from PIL import Image

from bot.errors import ConfigError
from cogs.endpoints import api_base_url, apply_endpoints, gateway_address
from tests import REPO_ROOT, ids
from tests.discord_sim import (
    CallbackType,
    DiscordSim,
    ErrorCode,
    MessageFlag,
    OptionType,
    use_sim_endpoints,
)
from tests.ids import CHANNEL

GUILD_READY_TIMEOUT = 0.05  # discord.py waits this long after the last GUILD_CREATE before on_ready


def png(size: tuple[int, int] = (8, 6), color: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


# ------------------------------------------------------------------------------------ the test bot


class ConfirmButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"simtest:confirm:(?P<job>[0-9]+)"):
    """A persistent button: works after a restart because its state lives in the custom_id."""

    def __init__(self, job: int) -> None:
        super().__init__(discord.ui.Button(label="Confirm", custom_id=f"simtest:confirm:{job}"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ConfirmButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        await interaction.response.edit_message(content=f"confirmed job {self.job}", view=None)


class PromptModal(discord.ui.Modal, title="Edit image"):
    prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Prompt", custom_id="prompt")

    def __init__(self, target: discord.Message) -> None:
        super().__init__(custom_id="simtest:prompt", timeout=None)
        self.target = target

    async def on_submit(self, interaction: discord.Interaction) -> None:
        name = self.target.attachments[0].filename
        await interaction.response.send_message(f"editing {name}: {self.prompt.value}", ephemeral=True)


class AskModal(discord.ui.Modal, title="Ask"):
    """A modal opened from a button, with a Label (type 18): submitted with the button's message."""

    answer: discord.ui.Label[Any] = discord.ui.Label(text="Answer", component=discord.ui.TextInput(custom_id="answer"))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        value = self.answer.component.value  # type: ignore[attr-defined]
        await interaction.response.edit_message(content=f"answered {value}", view=None)


class SimTestBot(commands.Bot):
    def __init__(self, guild_id: int) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=GUILD_READY_TIMEOUT,
        )
        self.guild_id = guild_id
        self.outcomes: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.release = asyncio.Event()

    async def outcome(self) -> tuple[str, Any]:
        """The next thing a command reported (fails the test after 5 s instead of hanging)."""
        return await asyncio.wait_for(self.outcomes.get(), 5.0)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ConfirmButton)
        guild = discord.Object(self.guild_id)
        bot = self

        @app_commands.command(description="Edit an image")
        async def edit(interaction: discord.Interaction, image: discord.Attachment, prompt: str) -> None:
            await interaction.response.defer(thinking=True)
            source = Image.open(io.BytesIO(await image.read()))
            result = io.BytesIO()
            Image.new("RGB", source.size, "red").save(result, "PNG")
            result.seek(0)
            view = discord.ui.View(timeout=None).add_item(ConfirmButton(42))
            await interaction.followup.send(f"{prompt}: done", file=discord.File(result, "result.png"), view=view)
            bot.outcomes.put_nowait(
                ("edit", (interaction.permissions, interaction.app_permissions, interaction.filesize_limit))
            )

        @app_commands.command(description="Answer after the test says so")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await bot.release.wait()
            try:
                await interaction.followup.send("finished")
            except discord.HTTPException as exc:
                bot.outcomes.put_nowait(("followup failed", exc))
                try:
                    await interaction.channel.send(f"{interaction.user.mention} finished")  # type: ignore[union-attr]
                except discord.HTTPException as exc2:
                    bot.outcomes.put_nowait(("fallback failed", exc2))
                    return
            bot.outcomes.put_nowait(("slow done", interaction.app_permissions))

        @app_commands.command(description="Upload one byte over the limit")
        async def big(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)
            blob = discord.File(io.BytesIO(bytes(interaction.filesize_limit + 1)), "big.bin")
            try:
                await interaction.followup.send(file=blob)
            except discord.HTTPException as exc:
                await interaction.edit_original_response(content="too big")
                bot.outcomes.put_nowait(("big failed", exc))

        @app_commands.command(description="Post, thread, DM")
        async def post(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("posting", ephemeral=True)
            channel = interaction.channel
            assert isinstance(channel, discord.TextChannel)
            message = await channel.send("hello", nonce="post-1")
            again = await channel.send("hello", nonce="post-1")  # a retry after a crash: deduplicated
            assert again.id == message.id
            thread = await message.create_thread(name="job 1")
            await thread.send("in thread")
            await thread.edit(archived=True, locked=True)
            await interaction.user.send("sent you a DM")
            bot.outcomes.put_nowait(("posted", thread.id))

        @app_commands.context_menu(name="Edit image")
        async def edit_menu(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_modal(PromptModal(message))

        jobs = app_commands.Group(name="jobs", description="Manage jobs")
        admin = app_commands.Group(name="admin", description="Admin tools", parent=jobs)

        async def reasons(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=r, value=r) for r in ("spam", "stuck") if r.startswith(current)]

        @jobs.command(description="Cancel a job")
        @app_commands.autocomplete(reason=reasons)
        async def cancel(
            interaction: discord.Interaction,
            job: int,
            owner: discord.Member,
            role: discord.Role,
            force: bool = False,
            reason: str = "",
        ) -> None:
            text = f"cancel {job} of {owner.name} ({role.name}) force={force} reason={reason}"
            await interaction.response.send_message(text)

        @admin.command(description="Reset limits")
        async def reset(interaction: discord.Interaction, ratio: float) -> None:
            await interaction.response.send_message(f"reset x{ratio}")

        @app_commands.command(description="Choose a style")
        async def pick(interaction: discord.Interaction) -> None:
            select: discord.ui.Select[Any] = discord.ui.Select(
                custom_id="simtest:style", options=[discord.SelectOption(label=s) for s in ("oil", "ink")]
            )

            async def chosen(select_interaction: discord.Interaction) -> None:
                await select_interaction.response.defer()  # type 6 on a component: edit later
                await select_interaction.edit_original_response(content=f"style {select.values[0]}", view=None)

            select.callback = chosen  # type: ignore[method-assign]
            await interaction.response.send_message("pick a style", view=discord.ui.View().add_item(select))

        @app_commands.command(description="Every way to answer and clean up")
        async def variants(interaction: discord.Interaction) -> None:
            png_file = discord.File(io.BytesIO(png()), "a.png")
            await interaction.response.send_message("first", file=png_file, ephemeral=True)
            original = await interaction.original_response()
            second = await interaction.followup.send("second", wait=True)
            await second.edit(content="second edited")
            await interaction.edit_original_response(content="first edited", attachments=[])
            await second.delete()
            await interaction.delete_original_response()
            bot.outcomes.put_nowait(("variants", (original.id, second.id)))

        @app_commands.command(description="A button that opens a modal")
        async def ask(interaction: discord.Interaction) -> None:
            button: discord.ui.Button[Any] = discord.ui.Button(label="Ask", custom_id="simtest:ask")

            async def open_modal(button_interaction: discord.Interaction) -> None:
                await button_interaction.response.send_modal(AskModal(custom_id="simtest:ask-modal"))

            button.callback = open_modal  # type: ignore[method-assign]
            await interaction.response.send_message("press", view=discord.ui.View().add_item(button))

        for command in (edit, slow, big, post, edit_menu, jobs, pick, variants, ask):
            self.tree.add_command(command, guild=guild)
        await self.tree.sync(guild=guild)

        @app_commands.command(description="Works in DMs too")
        async def ping(interaction: discord.Interaction) -> None:
            where = "DM" if interaction.guild is None else "guild"
            await interaction.response.send_message(f"pong from {where} to {interaction.user.name}")

        self.tree.add_command(ping)
        await self.tree.sync()


@contextlib.asynccontextmanager
async def running(bot: commands.Bot, sim: DiscordSim) -> AsyncIterator[commands.Bot]:
    """Start ``bot`` against the sim, wait for on_ready (or its start-up failure), always close it."""
    task = asyncio.create_task(bot.start("sim-token"))
    ready = asyncio.create_task(bot.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises the start-up error
            raise RuntimeError("bot stopped during start-up")
        if ready not in done:
            raise TimeoutError("bot did not become ready")
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def sim() -> AsyncIterator[DiscordSim]:
    async with DiscordSim() as s, use_sim_endpoints(s):
        yield s


# ----------------------------------------------------------------------------------------- tests


async def test_startup_sync_and_cache(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        assert [c.path for c in sim.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
        sync = sim.calls_to(f"/applications/{sim.world.application_id}/guilds/{sim.guild.id}/commands", "PUT")
        assert len(sync) == 1 and sync[0].status == 200
        assert sorted(sim.command_names(sim.guild)) == [
            "Edit image", "ask", "big", "edit", "jobs", "pick", "post", "slow", "variants",
        ]  # fmt: skip
        assert sim.command_names() == ["ping"]
        edit = sim.find_command("edit", guild=sim.guild)
        assert edit is not None
        assert [(o["name"], o["type"], o.get("required")) for o in edit["options"]] == [
            ("image", OptionType.ATTACHMENT, True),
            ("prompt", OptionType.STRING, True),
        ]
        assert sim.find_command("Edit image", guild=sim.guild, type=3) is not None
        guild = bot.get_guild(sim.guild.id)
        assert guild is not None and guild.me is not None
        assert bot.get_channel(sim.channel.id).name == "general"  # type: ignore[union-attr]
        assert bot.user is not None and bot.user.id == sim.bot_user.id
        identify = next(e for e in sim.dispatcher.gateway_log if e.kind == "recv" and e.op == 2)
        assert identify.d["intents"] == discord.Intents.default().value
        assert identify.d["token"] == "<redacted>"


async def test_slash_defer_followup_file_and_persistent_button(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        inter = await sim.slash("edit", {"prompt": "make it red"}, attachments={"image": (png((8, 6)), "cat.png")})
        ack = await sim.wait_for_ack(inter)
        assert ack.json["type"] == CallbackType.DEFERRED_CHANNEL_MESSAGE
        assert inter.ack_latency is not None and 0 <= inter.ack_latency < 2

        followup = await sim.wait_for_response(inter, "followup")
        _, (perms, app_perms, limit) = await bot.outcome()  # type: ignore[misc]
        assert not perms.manage_guild and app_perms.attach_files and limit == sim.config.upload_limit
        # the bot downloaded the attachment from the sim's CDN
        assert [o["name"] for o in inter.data["options"]] == ["image", "prompt"]
        assert [att_id for att_id, _ in sim.cdn_requests] == [int(inter.data["options"][0]["value"])]
        # the first follow-up after a "thinking" deferral fills the deferred message
        message = sim.message(followup.message_id)  # type: ignore[arg-type]
        assert message.id == inter.original_message_id and not message.loading
        assert message.content == "make it red: done" and message.custom_ids() == ["simtest:confirm:42"]
        [uploaded] = message.attachments
        assert uploaded.content_type == "image/png" and (uploaded.width, uploaded.height) == (8, 6)
        async with aiohttp.ClientSession() as http, http.get(uploaded.url) as resp:
            assert resp.headers["Content-Type"] == "image/png"
            assert Image.open(io.BytesIO(await resp.read())).getpixel((0, 0)) == (255, 0, 0)

        click = await sim.click(message, "simtest:confirm:42", user=sim.mod)
        update = await sim.wait_for_ack(click)
        assert update.json["type"] == CallbackType.UPDATE_MESSAGE
        assert message.content == "confirmed job 42" and message.components == []
        assert [c.kind for c in sim.interaction_responses(inter)] == ["callback", "followup"]


async def test_member_permissions_reach_the_bot(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        await sim.slash("edit", {"prompt": "x", "image": (png(), "a.png")}, user=sim.mod)
        _, (perms, _app, _limit) = await bot.outcome()  # type: ignore[misc]
        assert perms.manage_guild and perms.manage_messages and perms.manage_threads


async def test_message_context_menu_opens_modal_and_submit(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim):
        target = sim.add_message(sim.channel, "look", attachments=[(png(), "photo.png")])
        menu = await sim.message_context("Edit image", target)
        ack = await sim.wait_for_ack(menu)
        assert ack.json["type"] == CallbackType.MODAL and menu.modal is not None
        assert menu.modal["custom_id"] == "simtest:prompt"

        submit = await sim.submit_modal("simtest:prompt", {"prompt": "add a hat"})
        reply = await sim.wait_for_ack(submit)
        assert reply.json["type"] == CallbackType.CHANNEL_MESSAGE
        message = sim.message(reply.message_id)  # type: ignore[arg-type]
        assert message.content == "editing photo.png: add a hat"
        assert message.flags & MessageFlag.EPHEMERAL and submit.user is sim.user
        with pytest.raises(ValueError, match="no inputs"):
            await sim.submit_modal("simtest:prompt", {"nope": "x"})


async def test_subcommands_and_reference_options(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim):
        options = {"job": 7, "owner": sim.mod, "role": sim.world.mod_role, "force": True, "reason": "stuck"}
        inter = await sim.slash("jobs", options, subcommand="cancel")
        [group] = inter.data["options"]
        assert (group["name"], group["type"]) == ("cancel", OptionType.SUB_COMMAND)
        assert set(inter.data["resolved"]) == {"users", "members", "roles"}
        reply = await sim.wait_for_ack(inter)
        assert reply.json["data"]["content"] == "cancel 7 of mod (Moderator) force=True reason=stuck"

        nested = await sim.slash("jobs", {"ratio": 1.5}, subcommand="admin reset")
        assert (await sim.wait_for_ack(nested)).json["data"]["content"] == "reset x1.5"

        with pytest.raises(ValueError, match="missing required options"):
            await sim.slash("jobs", {"job": 1}, subcommand="cancel")
        with pytest.raises(ValueError, match="no option 'colour'"):
            await sim.slash("edit", {"colour": "red"})


async def test_global_command_in_dm_and_select_with_deferred_update(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim):
        dm = await sim.slash("ping", channel=sim.dm_channel(sim.user))
        assert "member" not in dm.payload and dm.payload["user"]["id"] == str(sim.user.id)
        assert (await sim.wait_for_ack(dm)).json["data"]["content"] == "pong from DM to alice"

        inter = await sim.slash("pick")
        await sim.wait_for_ack(inter)
        menu = sim.message(inter.original_message_id)  # type: ignore[arg-type]
        choice = await sim.click(menu, "simtest:style", values=["ink"])
        assert (await sim.wait_for_ack(choice)).json["type"] == CallbackType.DEFERRED_UPDATE_MESSAGE
        edit = await sim.wait_for_response(choice, "edit_original")
        assert edit.message_id == menu.id and menu.content == "style ink" and menu.components == []
        with pytest.raises(ValueError, match="has no component"):
            await sim.click(menu, "simtest:style", values=["oil"])


async def test_response_variants(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        inter = await sim.slash("variants")
        _, (original_id, second_id) = await bot.outcome()  # type: ignore[attr-defined]
        assert [(c.kind, c.status) for c in sim.interaction_responses(inter, include_reads=True)] == [
            ("callback", 200),
            ("get_original", 200),
            ("followup", 200),
            ("edit_message", 200),
            ("edit_original", 200),
            ("delete_message", 204),
            ("delete_original", 204),
        ]
        original, second = sim.message(original_id), sim.message(second_id)
        assert original.deleted and original.ephemeral and original.content == "first edited"
        assert original.attachments == [] and original.edits[-1]["attachments"] == []
        assert second.deleted and second.content == "second edited" and not second.ephemeral
        assert sim.interaction_responses(inter)[0].files[0].filename == "a.png"


async def test_modal_opened_from_a_button_updates_the_message(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim):
        inter = await sim.slash("ask")
        await sim.wait_for_ack(inter)
        message = sim.message(inter.original_message_id)  # type: ignore[arg-type]
        press = await sim.click(message, "simtest:ask")
        assert (await sim.wait_for_ack(press)).json["type"] == CallbackType.MODAL
        submit = await sim.submit_modal("simtest:ask-modal", {"answer": "42"})
        assert submit.payload["message"]["id"] == str(message.id)  # Discord includes the button's message
        [label] = submit.data["components"]
        assert label["type"] == 18 and label["component"] == {"type": 4, "custom_id": "answer", "value": "42"}
        assert (await sim.wait_for_ack(submit)).json["type"] == CallbackType.UPDATE_MESSAGE
        assert message.content == "answered 42" and message.components == []


async def test_expired_token_falls_back_to_channel_message(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        inter = await sim.slash("slow")
        await sim.wait_for_ack(inter)
        sim.expire_token(inter)
        bot.release.set()  # type: ignore[attr-defined]
        kind, exc = await bot.outcome()  # type: ignore[attr-defined]
        assert kind == "followup failed" and exc.status == 401 and exc.code == ErrorCode.INVALID_WEBHOOK_TOKEN
        fallback = await sim.wait_for_message(sim.channel, lambda m: "finished" in m.content)
        assert fallback.content == f"{sim.user.mention} finished" and fallback.interaction_id is None
        failed = sim.interaction_responses(inter)[-1]
        assert failed.status == 401 and failed.response == {"message": "Invalid Webhook Token", "code": 50027}
        assert (await bot.outcome())[0] == "slow done"  # type: ignore[attr-defined]


async def test_fallback_forbidden_where_bot_cannot_send(sim: DiscordSim) -> None:
    sim.restrict_bot(sim.other_channel)  # no SEND_MESSAGES / ATTACH_FILES for the bot there
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        inter = await sim.slash("slow", channel=sim.other_channel)
        await sim.wait_for_ack(inter)
        app_perms = discord.Permissions(int(inter.payload["app_permissions"]))
        assert not app_perms.send_messages and not app_perms.attach_files and app_perms.view_channel
        channel = bot.get_channel(sim.other_channel.id)
        assert isinstance(channel, discord.TextChannel)
        assert not channel.permissions_for(channel.guild.me).send_messages
        sim.expire_token(inter)
        bot.release.set()  # type: ignore[attr-defined]
        assert (await bot.outcome())[0] == "followup failed"  # type: ignore[attr-defined]
        kind, exc = await bot.outcome()  # type: ignore[attr-defined]
        assert kind == "fallback failed" and isinstance(exc, discord.Forbidden)
        assert exc.code == ErrorCode.MISSING_PERMISSIONS


async def test_upload_limit(sim: DiscordSim) -> None:
    sim.config.upload_limit = 2048
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        inter = await sim.slash("big")
        assert inter.payload["attachment_size_limit"] == 2048
        kind, exc = await bot.outcome()  # type: ignore[attr-defined]
        assert kind == "big failed" and exc.status == 413 and exc.code == ErrorCode.REQUEST_TOO_LARGE
        edit = await sim.wait_for_response(inter, "edit_original")
        original = sim.message(edit.message_id)  # type: ignore[arg-type]
        assert original.content == "too big" and original.ephemeral


async def test_channel_messages_threads_and_dm(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        await sim.slash("post")
        kind, thread_id = await bot.outcome()  # type: ignore[attr-defined]
        assert kind == "posted"
        posts = sim.calls_to(f"/channels/{sim.channel.id}/messages", "POST")
        assert [c.status for c in posts] == [200, 200]
        assert posts[0].json["nonce"] == "post-1" and posts[0].json["enforce_nonce"] is True
        [hello] = [m for m in sim.messages_in(sim.channel) if not m.ephemeral]
        thread = sim.channels[thread_id]
        assert thread.id == hello.id and thread.parent_id == sim.channel.id  # started from the message
        assert thread.archived and thread.locked
        assert [m.content for m in sim.messages_in(thread)] == ["in thread"]
        dm = sim.dm_channel(sim.user)
        assert [m.content for m in sim.messages_in(dm)] == ["sent you a DM"]


async def test_dropped_socket_resumes_then_second_client(sim: DiscordSim) -> None:
    async with running(SimTestBot(sim.guild.id), sim) as bot:
        first = sim.dispatcher.active
        assert first is not None
        await first.ws.close(code=4000, message=b"dropped")  # resumable: the client RESUMEs at once
        seeded = sim.add_message(sim.channel, "while you were away")  # replayed or sent after RESUME
        got = await bot.wait_for("message", check=lambda m: m.id == seeded.id, timeout=5)
        assert got.content == ""  # no message-content intent: stripped like Discord does
        conn = await sim.wait_ready()
        assert conn is not first and sim.dispatcher.resume_count == 1 and sim.identify_count == 1
        inter = await sim.slash("edit", {"prompt": "p", "image": (png(), "a.png")})
        await sim.wait_for_response(inter, "followup")

    assert sim.dispatcher.active is None  # the client closed its socket
    async with running(SimTestBot(sim.guild.id), sim) as bot2:
        await sim.wait_ready(identifies=2)
        message = sim.messages_in(sim.channel)[-1]
        click = await sim.click(message, "simtest:confirm:42")  # persistent: a new process handles it
        assert (await sim.wait_for_ack(click)).json["type"] == CallbackType.UPDATE_MESSAGE
        assert bot2.get_guild(sim.guild.id) is not None
    assert len(sim.dispatcher.sessions) == 2


def test_ids_are_current_real_sized_snowflakes() -> None:
    """Small ids hid a bug once: the simulation and ``tests/ids.py`` use ids of the real size."""
    sim = DiscordSim()
    minted = [sim.guild.id, sim.channel.id, sim.user.id, sim.bot_user.id, sim.snowflake(), sim.snowflake()]
    assert len(set(minted)) == len(minted) and all(18 <= len(str(i)) <= 19 for i in minted)
    age = datetime.now(UTC) - discord.utils.snowflake_time(sim.snowflake())
    assert abs(age.total_seconds()) < 60  # current: discord.py derives an interaction's expiry from it
    fixed = [v for k, v in vars(ids).items() if k.isupper() and isinstance(v, int)]
    fixed += [*ids.USERS, *ids.GUILDS, *ids.ROLES.values()]
    assert fixed and all(17 <= len(str(i)) <= 19 for i in fixed)


async def test_rest_errors_are_discord_shaped(sim: DiscordSim) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim.api_base}/channels/{CHANNEL}") as resp:  # not in the sim's world
            assert resp.status == 404 and resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "Unknown Channel", "code": 10003}
        async with http.post(f"{sim.api_base}/webhooks/{sim.world.application_id}/nope?wait=1", json={}) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == ErrorCode.UNKNOWN_WEBHOOK
        async with http.post(f"{sim.api_base}/channels/{sim.channel.id}/messages", json={"content": ""}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == ErrorCode.EMPTY_MESSAGE
        bad = [{"name": "Bad Name", "description": "x", "type": 1}]
        url = f"{sim.api_base}/applications/{sim.world.application_id}/commands"
        async with http.put(url, json=bad) as resp:
            body = await resp.json()
            assert resp.status == 400 and body["code"] == 50035 and "0" in body["errors"]
    with pytest.raises(RuntimeError, match="no gateway client"):
        await sim.slash("edit")


# --------------------------------------------------------------------------------- discord_endpoints


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v10"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/api/v10"),
        ("https://proxy.example/api", "https://proxy.example/api/v10"),
        ("https://proxy.example/api/v9/", "https://proxy.example/api/v9"),
        ("http://proxy:80/discord-proxy", "http://proxy:80/discord-proxy"),
    ],
)
def test_api_base_normalisation(raw: str, expected: str) -> None:
    assert api_base_url(raw) == expected


def test_bad_endpoints_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="DISCORD_API_BASE"):
        api_base_url("ws://127.0.0.1/api/v10")
    with pytest.raises(ConfigError, match="DISCORD_GATEWAY_URL"):
        gateway_address("http://127.0.0.1/gateway")
    assert gateway_address("wss://gw.example/?v=10") == yarl.URL("wss://gw.example/")


def test_apply_endpoints_sets_and_none_keeps() -> None:
    saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        apply_endpoints(None, "")
        assert (discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == saved
        apply_endpoints("http://127.0.0.1:9/api/v10", "ws://127.0.0.1:9/gateway")
        route = discord.http.Route("GET", "/channels/{channel_id}", channel_id=CHANNEL)
        assert route.url == f"http://127.0.0.1:9/api/v10/channels/{CHANNEL}"
        assert DiscordWebSocket.DEFAULT_GATEWAY == yarl.URL("ws://127.0.0.1:9/gateway")
    finally:
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


# ------------------------------------------------------------------------------ a bot in a subprocess

CHILD_BOT = """
import os

import discord

from cogs.endpoints import apply_endpoints

apply_endpoints(os.environ["DISCORD_API_BASE"], os.environ["DISCORD_GATEWAY_URL"])
client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)


@client.event
async def on_interaction(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(f"pid {os.getpid()}")


client.run(os.environ["DISCORD_TOKEN"], log_handler=None)
"""


async def test_subprocess_bot_killed_and_restarted(sim: DiscordSim, tmp_path: Any) -> None:
    """The pattern for e2e tests of the real bot process: SIGKILL leaves no goodbye, yet the sim sees
    the socket close, and the restarted process IDENTIFYs into a new session."""
    env = os.environ | {
        "DISCORD_API_BASE": sim.api_base,
        "DISCORD_GATEWAY_URL": sim.gateway_url,
        "DISCORD_TOKEN": "sim-token",
    }
    procs: list[asyncio.subprocess.Process] = []

    async def spawn(n: int) -> asyncio.subprocess.Process:
        with (tmp_path / f"child{n}.log").open("wb") as log:  # the child keeps its own descriptor
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD_BOT, cwd=REPO_ROOT, env=env, stdout=log, stderr=log
            )
        procs.append(proc)
        return proc

    try:
        first = await spawn(1)
        await sim.wait_ready(identifies=1, timeout=20)
        inter = await sim.slash("anything")
        assert (await sim.wait_for_ack(inter)).json["data"]["content"] == f"pid {first.pid}"

        first.kill()
        await first.wait()
        await sim.wait_disconnected()
        assert sim.dispatcher.active is None

        second = await spawn(2)
        await sim.wait_ready(identifies=2, timeout=20)
        inter = await sim.slash("anything")
        assert (await sim.wait_for_ack(inter)).json["data"]["content"] == f"pid {second.pid}"
        assert sim.dispatcher.resume_count == 0 and len(sim.dispatcher.sessions) == 2
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
