"""How jobs look in Discord: progress lines, result embeds, history entries. Texts live here once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.store import ImageKind, Job, JobImage, JobStatus

PROMPT_PREVIEW = 80
COLOUR = discord.Colour.from_rgb(88, 101, 242)

MASK_HELP = (
    "Tell me which part to change in one of three ways:\n"
    "1. **mask:** a black-and-white image the same shape as yours — black = change, white = keep "
    "(painted it the other way round? add `invert_mask:True`);\n"
    "2. **transparent pixels:** erase the area to change in your image and upload it as PNG;\n"
    "3. **region:** or **box:** — e.g. `region:Top half` or `box:10,10,60,50` (percent of the width "
    "and height)."
)


def ts(when: datetime, style: str = "R") -> str:
    """Discord renders ``<t:…>`` in each reader's own time zone and language."""
    return f"<t:{int(when.timestamp())}:{style}>"


def short(text: str, limit: int = PROMPT_PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def images_word(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n} images"


def queued_line(job: Job, position: int, total: int, eta_seconds: float) -> str:
    start = "next" if eta_seconds < 1 else f"in about {duration(eta_seconds)}"
    return f"⏳ Edit #{job.id} is queued — position {position} of {total}, starting {start}."


def running_line(job: Job, elapsed: float | None) -> str:
    spent = f" ({duration(elapsed)})" if elapsed is not None else ""
    return f"🎨 Edit #{job.id} is being generated{spent}…"


def finished_line(job: Job, jump_url: str | None) -> str:
    if job.status is JobStatus.SUCCEEDED:
        where = f": {jump_url}" if jump_url else " (sent to you privately)."
        withheld = f" {images_word(job.images_withheld)} withheld by the safety filter." if job.images_withheld else ""
        return f"✅ Edit #{job.id} is ready{where}{withheld}"
    if job.status is JobStatus.CANCELLED:
        return f"🚫 Edit #{job.id} was cancelled; its {images_word(job.images_requested)} were refunded."
    return f"❌ Edit #{job.id} failed: {job.error_message or 'unknown error.'}"


def status_line(
    job: Job,
    *,
    position: int | None = None,
    total: int = 0,
    eta: float = 0.0,
    elapsed: float | None = None,
    jump_url: str | None = None,
) -> str:
    if job.status is JobStatus.QUEUED:
        return queued_line(job, position or 1, max(total, position or 1), eta)
    if job.status is JobStatus.RUNNING:
        return running_line(job, elapsed)
    return finished_line(job, jump_url)


def options_summary(options: dict) -> str:
    labels = {
        "rendering_speed": "speed",
        "style_type": "style",
        "magic_prompt": "magic prompt",
        "style_preset": "preset",
        "model": "model",
    }
    parts = [f"{label} {options[key]}" for key, label in labels.items() if options.get(key)]
    return " · ".join(parts) or "defaults"


def outputs_of(images: Sequence[JobImage]) -> list[JobImage]:
    return sorted((i for i in images if i.kind is ImageKind.OUTPUT), key=lambda i: i.index)


def result_embed(job: Job, images: Sequence[JobImage]) -> discord.Embed:
    outputs = outputs_of(images)
    embed = discord.Embed(title=f"Edit #{job.id}", description=short(job.prompt, 4000), colour=COLOUR)
    used = next((i.prompt_used for i in outputs if i.prompt_used), None)
    if used and used.strip() != job.prompt.strip():
        embed.add_field(name="Prompt used by the API", value=short(used, 1024), inline=False)
    seeds = " · ".join(f"{i.index + 1}: `{i.seed}`" for i in outputs if i.seed is not None)
    if seeds:
        embed.add_field(name="Seeds", value=seeds, inline=False)
    withheld = [str(i.index + 1) for i in outputs if i.sha is None]
    if withheld:
        embed.add_field(
            name="Withheld",
            value=f"Image {', '.join(withheld)} was withheld by the safety filter.",
            inline=False,
        )
    embed.add_field(name="Options", value=options_summary(job.options), inline=False)
    embed.add_field(name="Requested by", value=f"<@{job.requester.user_id}>", inline=True)
    if job.parent_job_id:
        embed.add_field(name="From", value=f"edit #{job.parent_job_id} ({job.action})", inline=True)
    embed.set_footer(text="Reroll, edit again or keep editing with the buttons below.")
    return embed


def history_line(job: Job, jump_url: str | None) -> str:
    link = f" · [result]({jump_url})" if jump_url else ""
    return f"**#{job.id}** · {ts(job.created_at)} · {job.status}{link}\n{short(job.prompt)}"


def jump_url(job: Job) -> str | None:
    if job.result_message_id is None or job.result_channel_id is None:
        return None
    guild = job.requester.guild_id or "@me"
    return f"https://discord.com/channels/{guild}/{job.result_channel_id}/{job.result_message_id}"
