"""Buttons on results and progress messages: persistent, no timeout, state from storage.

Each button is a ``DynamicItem`` whose custom id carries the job id (discord.py's
``examples/views/persistent.py``), so buttons on a message posted a month ago, before any number of
restarts, still work.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.errors import Forbidden, NotFound
from bot.store import Job, JobAction
from cogs import render
from cogs import sessions as sessions_ui
from cogs.common import (
    NO_MENTIONS,
    bot_of,
    can_manage_messages,
    origin_of,
    parse_area,
    parse_image_number,
    require_post_permissions,
    respond,
    session_origin,
)
from cogs.errors import guarded
from cogs.forms import Field, build_form, form_handler

if TYPE_CHECKING:
    from bot.app import InpaintBot

BUTTONS = {
    "reroll": ("Reroll", "🎲", discord.ButtonStyle.secondary),
    "again": ("Edit again", "✏️", discord.ButtonStyle.secondary),
    "base": ("Use as base", "➡️", discord.ButtonStyle.primary),
    "thread": ("Open thread", "🧵", discord.ButtonStyle.secondary),
    "head": ("Make head", "📌", discord.ButtonStyle.secondary),
    "compare": ("Compare", "🔍", discord.ButtonStyle.secondary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
}
AREA_HINT = "top, bottom, left, right, center, border, or a box like 10,10,60,60"


class ResultButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"res:(?P<action>reroll|again|base|thread|head|compare|delete):(?P<job>\d+)",
):
    def __init__(self, action: str, job_id: int) -> None:
        label, emoji, style = BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"res:{action}:{job_id}"))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ResultButton:
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = {
            "reroll": reroll,
            "again": open_again_form,
            "base": open_base_form,
            "thread": sessions_ui.open_from_result,
            "head": sessions_ui.make_head,
            "compare": sessions_ui.compare,
            "delete": delete_result,
        }[self.action]
        await guarded(interaction, handler(interaction, self.job_id))


class CancelButton(discord.ui.DynamicItem[discord.ui.Button], template=r"job:cancel:(?P<job>\d+)"):
    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Cancel",
                emoji="✖️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"job:cancel:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, cancel_job(interaction, self.job_id))


def result_view(job: Job) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if job.session_id is not None:
        actions = ["reroll", "again", "base", "head", "compare", "delete"]
    elif job.requester.guild_id is not None and not job.private and job.requester.thread_id is None:
        actions = ["reroll", "again", "base", "thread", "delete"]
    else:
        actions = ["reroll", "again", "base", "delete"]
    for action in actions:
        view.add_item(ResultButton(action, job.id))
    from cogs.editor import add_draw_button  # mask editor hook (issue 12): "Draw mask" while the editor is on

    add_draw_button(view, job)  # (imported here: the loaded extension module holds whether it is on)
    return view


def cancel_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view


# --- handlers --------------------------------------------------------------------------------------


async def load_job(bot: InpaintBot, job_id: int) -> Job:
    job = await bot.storage.get_job(job_id)
    if job is None:
        raise NotFound("That edit is no longer in the bot's history (it was deleted or expired).")
    return job


async def followup(
    interaction: discord.Interaction,
    job_id: int,
    action: JobAction,
    *,
    prompt: str | None = None,
    image_index: int = 0,
    area: str = "",
) -> None:
    """Create the follow-up job and adopt this interaction's response as its progress message."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    parent = await load_job(bot, job_id)
    if not parent.private and parent.session_id is None:  # session versions are posted in their thread
        require_post_permissions(interaction)
    origin = await session_origin(interaction, origin_of(interaction, private=parent.private), parent.session_id)
    submitted = await bot.jobs.submit_followup(
        origin, parent, action, prompt=prompt, image_index=image_index, spec=parse_area(area)
    )
    await bot.notifier.track(submitted.job, interaction)


async def reroll(interaction: discord.Interaction, job_id: int) -> None:
    await followup(interaction, job_id, JobAction.REROLL)


def _shown_prompt(interaction: discord.Interaction) -> str | None:
    """The prompt is in the result's embed: reading it there needs no I/O before the modal."""
    message = interaction.message
    if message is not None and message.embeds:
        return message.embeds[0].description
    return None


async def open_again_form(interaction: discord.Interaction, job_id: int) -> None:
    fields = [Field("prompt", "New prompt", default=_shown_prompt(interaction), long=True, max_length=2000)]
    await interaction.response.send_modal(build_form("Edit again", f"form:again:{job_id}", fields))


def _shown_images(interaction: discord.Interaction) -> list[int]:
    """The image numbers on the result (``edit-<job>-<n>.png``): a withheld image leaves a gap."""
    attachments = interaction.message.attachments if interaction.message else []
    numbers = []
    for attachment in attachments:
        found = re.fullmatch(r"edit-\d+-(\d+)\.\w+", attachment.filename)
        numbers.append(int(found[1]) if found else len(numbers) + 1)
    return sorted(set(numbers)) or [1]


async def open_base_form(interaction: discord.Interaction, job_id: int) -> None:
    numbers = _shown_images(interaction)
    fields = [Field("prompt", "What should change next?", long=True, max_length=2000)]
    if len(numbers) > 1:
        contiguous = numbers == list(range(numbers[0], numbers[-1] + 1))
        which = f"{numbers[0]}-{numbers[-1]}" if contiguous else ", ".join(map(str, numbers))
        fields.append(Field("image", f"Which image ({which})?", default=str(numbers[0]), max_length=2))
    fields.append(
        Field("area", "Area to change (empty = same mask)", placeholder=AREA_HINT, required=False, max_length=40)
    )
    await interaction.response.send_modal(build_form("Use as base", f"form:base:{job_id}", fields))


@form_handler(r"form:again:(?P<job>\d+)")
async def submit_again(interaction: discord.Interaction, match: re.Match[str], values: dict[str, str]) -> None:
    await followup(interaction, int(match["job"]), JobAction.EDIT_AGAIN, prompt=values.get("prompt", ""))


@form_handler(r"form:base:(?P<job>\d+)")
async def submit_base(interaction: discord.Interaction, match: re.Match[str], values: dict[str, str]) -> None:
    await followup(
        interaction,
        int(match["job"]),
        JobAction.USE_AS_BASE,
        prompt=values.get("prompt", ""),
        image_index=parse_image_number(values.get("image")),
        area=values.get("area", ""),
    )


def _shown_requester(interaction: discord.Interaction) -> int | None:
    """The requester named in the result's embed: the fallback once the job left the history."""
    message = interaction.message
    for embed in message.embeds[:1] if message is not None else ():
        for field in embed.fields:
            found = re.fullmatch(r"<@!?(\d+)>", (field.value or "").strip())
            if field.name == "Requested by" and found:
                return int(found[1])
    return None


async def delete_result(interaction: discord.Interaction, job_id: int) -> None:
    message = interaction.message
    ephemeral = message is not None and message.flags.ephemeral
    if ephemeral:  # a private result can only be removed through this interaction
        await interaction.response.defer()
    else:
        await interaction.response.defer(ephemeral=True, thinking=True)
    job = await bot_of(interaction).storage.get_job(job_id)
    requester = job.requester.user_id if job is not None else _shown_requester(interaction)
    if requester != interaction.user.id and not can_manage_messages(interaction):
        raise Forbidden("Only the person who asked for this edit, or someone with Manage Messages, can delete it.")
    if message is not None:
        try:
            if ephemeral:
                await interaction.delete_original_response()
            else:
                await message.delete()
        except discord.NotFound:
            pass  # deleted already (a double click, or someone else was quicker)
    kept = " It stays in `/history` until you delete it there." if job is not None else ""
    await respond(interaction, f"Deleted the result of edit #{job_id}.{kept}")


async def cancel_job(interaction: discord.Interaction, job_id: int) -> None:
    await interaction.response.defer()
    bot = bot_of(interaction)
    job = await bot.jobs.cancel(job_id, interaction.user.id, can_manage=can_manage_messages(interaction))
    await bot.notifier.render(job.id)  # under the job's lock: no queue update in flight can win afterwards
    # the progress message is the one this button is on: edit it through this (fresh) interaction too,
    # which works even when the job's own 15-minute token has expired in a long queue
    await interaction.edit_original_response(
        content=render.finished_line(job, None), view=None, allowed_mentions=NO_MENTIONS
    )


class Results(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        bot.add_dynamic_items(ResultButton, CancelButton)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Results(bot))
