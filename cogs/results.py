"""What the buttons on results and progress messages do (the buttons themselves are in ``cogs.views``).

State comes from storage through the core services, never from the message: the job's own record
says who asked for it and which images it has. A button acts on the message that carries it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.access import may_delete_result
from bot.errors import Forbidden
from bot.i18n import msg
from bot.store import JobAction
from cogs import render
from cogs.common import (
    AREA_HINT,
    NO_MENTIONS,
    acknowledge,
    actor_of,
    bot_of,
    origin_of,
    parse_area,
    parse_image_number,
    require_post_permissions,
    respond,
    session_origin,
)
from cogs.forms import Field, build_form, form_handler
from cogs.text import private_locale
from cogs.text import render as render_text
from cogs.views import FORGED, CancelButton, ResultButton, carries, on_button, refuse_forged

if TYPE_CHECKING:
    from bot.store import Job


def require_carried(interaction: discord.Interaction, custom_id: str) -> None:
    """A button acts only on the message that carries it; an interaction naming another is forged."""
    if not carries(interaction.message, custom_id):
        raise Forbidden(FORGED)


async def shown_job(interaction: discord.Interaction, action: str, job_id: int) -> Job:
    """The job behind a result button the user pressed, if they may act on it here."""
    require_carried(interaction, f"res:{action}:{job_id}")
    return await bot_of(interaction).jobs.for_follow_up(actor_of(interaction), job_id, shown_here=True)


async def followup(
    interaction: discord.Interaction,
    job_id: int,
    action: JobAction,
    *,
    button: str,
    prompt: str | None = None,
    image_index: int = 0,
    area: str = "",
) -> None:
    """Create the follow-up job and adopt this interaction's response as its progress message.

    ``button``: the result button this came from (a form remembers the one that opened it); the job is
    taken as shown here only when the message carries that button."""
    await acknowledge(interaction)
    bot = bot_of(interaction)
    shown_here = carries(interaction.message, f"res:{button}:{job_id}")
    parent = await bot.jobs.for_follow_up(actor_of(interaction), job_id, shown_here=shown_here)
    if not parent.private and parent.session_id is None:  # session versions are posted in their thread
        require_post_permissions(interaction)
    origin = await session_origin(interaction, origin_of(interaction, private=parent.private), parent.session_id)
    submitted = await bot.jobs.submit_followup(
        origin, parent, action, prompt=prompt, image_index=image_index, spec=parse_area(area)
    )
    await bot.notifier.track(submitted.job, interaction)


@on_button("res:reroll")
async def reroll(interaction: discord.Interaction, job_id: int) -> None:
    require_carried(interaction, f"res:reroll:{job_id}")
    await followup(interaction, job_id, JobAction.REROLL, button="reroll")


@on_button("res:again")
async def open_again_form(interaction: discord.Interaction, job_id: int) -> None:
    """The form starts from the job's own prompt (a local read, well within the 3 s a modal allows)."""
    job = await shown_job(interaction, "again", job_id)
    locale = private_locale(interaction)
    label = render_text("form-new-prompt", locale)
    fields = [Field("prompt", label, default=job.prompt, long=True, max_length=2000)]
    title = render_text("form-edit-again-title", locale)
    await interaction.response.send_modal(build_form(title, f"form:again:{job_id}", fields))


@on_button("res:base")
async def open_base_form(interaction: discord.Interaction, job_id: int) -> None:
    """The form asks which image when the result has several; their numbers come from the job's
    stored images (a withheld image leaves a gap), read before the modal is sent."""
    job = await shown_job(interaction, "base", job_id)
    numbers = [i.index + 1 for i in render.outputs_of(await bot_of(interaction).jobs.images(job.id)) if i.sha]
    numbers = numbers or [1]
    locale = private_locale(interaction)
    fields = [Field("prompt", render_text("form-next-change", locale), long=True, max_length=2000)]
    if len(numbers) > 1:
        contiguous = numbers == list(range(numbers[0], numbers[-1] + 1))
        which = f"{numbers[0]}-{numbers[-1]}" if contiguous else ", ".join(map(str, numbers))
        label = render_text("form-which-image", locale, images=which)
        fields.append(Field("image", label, default=str(numbers[0]), max_length=2))
    area, hint = render_text("form-area-same-mask", locale), render_text(AREA_HINT, locale)
    fields.append(Field("area", area, placeholder=hint, required=False, max_length=40))
    title = render_text("form-use-as-base-title", locale)
    await interaction.response.send_modal(build_form(title, f"form:base:{job_id}", fields))


@form_handler(r"form:again:(?P<job>\d+)")
async def submit_again(interaction: discord.Interaction, match: re.Match[str], values: dict[str, str]) -> None:
    await followup(
        interaction, int(match["job"]), JobAction.EDIT_AGAIN, button="again", prompt=values.get("prompt", "")
    )


@form_handler(r"form:base:(?P<job>\d+)")
async def submit_base(interaction: discord.Interaction, match: re.Match[str], values: dict[str, str]) -> None:
    await followup(
        interaction,
        int(match["job"]),
        JobAction.USE_AS_BASE,
        button="base",
        prompt=values.get("prompt", ""),
        image_index=parse_image_number(values.get("image")),
        area=values.get("area", ""),
    )


@on_button("res:delete")
async def delete_result(interaction: discord.Interaction, job_id: int) -> None:
    require_carried(interaction, f"res:delete:{job_id}")
    message = interaction.message
    ephemeral = message is not None and message.flags.ephemeral
    if ephemeral:  # a private result can only be removed through this interaction
        await interaction.response.defer()
    else:
        await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    job = await bot.jobs.find(job_id)
    if job is not None:
        requester: int | None = job.requester.user_id
    elif ephemeral:
        requester = interaction.user.id  # only its requester is ever shown a private result
    else:  # left the history: the result's own mention of its requester (discord.py's raw_mentions)
        requester = message.raw_mentions[0] if message is not None and message.raw_mentions else None
    if not may_delete_result(actor_of(interaction), requester if requester is not None else 0):
        raise Forbidden(msg("result-delete-not-yours"))
    if message is not None:
        try:
            if ephemeral:
                await interaction.delete_original_response()
            else:
                await message.delete()
        except discord.NotFound:
            pass  # deleted already (a double click, or someone else was quicker)
    kept = "history" if job is not None else "gone"
    await respond(interaction, render_text("result-deleted", private_locale(interaction), job=str(job_id), kept=kept))


@on_button("job:cancel")
async def cancel_job(interaction: discord.Interaction, job_id: int) -> None:
    require_carried(interaction, f"job:cancel:{job_id}")
    await interaction.response.defer()
    bot = bot_of(interaction)
    job = await bot.jobs.cancel(job_id, actor_of(interaction))
    await bot.notifier.render(job.id)  # under the job's lock: no queue update in flight can win afterwards
    # the progress message is the one this button is on: edit it through this (fresh) interaction too,
    # which works even when the job's own 15-minute token has expired in a long queue
    await interaction.edit_original_response(
        content=render.finished_line(job, None, job.requester.locale), view=None, allowed_mentions=NO_MENTIONS
    )


class Results(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        bot.add_dynamic_items(ResultButton, CancelButton)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await refuse_forged(interaction)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Results(bot))
