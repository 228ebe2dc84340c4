"""How jobs look in Discord: progress lines, result embeds, history entries.

The words live in the catalogue (``bot/locales/*/results.ftl``); this module picks the message and
hands over typed values. Every function takes the reader's ``locale`` (English by default): private
lines use the member's, public posts the server's (``cogs/text.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.i18n import DEFAULT_LOCALE, msg, stored_message
from bot.limits import AREA_LIST, BOX_EXAMPLE
from bot.store import ImageKind, Job, JobImage, JobStatus
from cogs.text import escape, render

PROMPT_PREVIEW = 80
COLOUR = discord.Colour.from_rgb(88, 101, 242)

MASK_HELP = msg("mask-help-edit", box=BOX_EXAMPLE)
"""The mask advice in the /edit command's option names (the core's own is ``bot.imaging.mask.MASK_HELP``)."""
MENU_MASK_HELP = msg("mask-help-menu", areas=AREA_LIST, box=BOX_EXAMPLE)
"""The mask advice for the "Edit image" menu's form, whose "area" field takes a region word or a box."""


def ts(when: datetime, style: str = "R") -> str:
    """Discord renders ``<t:…>`` in each reader's own time zone and language."""
    return f"<t:{int(when.timestamp())}:{style}>"


def short(text: str, limit: int = PROMPT_PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(text: str, limit: int = PROMPT_PREVIEW) -> str:
    """Member-typed text (a prompt) for a message or embed: escaped first (no links, formatting or pings:
    ``[Free Nitro](https://…)`` stays literal), then shortened to what the field holds."""
    return short(escape(text), limit)


def duration(seconds: float, locale: str = DEFAULT_LOCALE) -> str:
    seconds = max(0, round(seconds))
    if seconds >= 60:
        return render("duration-minutes", locale, minutes=seconds // 60, seconds=f"{seconds % 60:02d}")
    return render("duration-seconds", locale, seconds=seconds)


def images_word(n: int, locale: str = DEFAULT_LOCALE) -> str:
    return render("images-count", locale, count=n)


def queued_line(job: Job, position: int, total: int, eta_seconds: float, locale: str = DEFAULT_LOCALE) -> str:
    start = (
        msg("progress-start-next")
        if eta_seconds < 1
        else msg("progress-start-in", duration=duration(eta_seconds, locale))
    )
    return render("progress-queued", locale, job=str(job.id), position=position, total=total, start=start)


def running_line(job: Job, elapsed: float | None, locale: str = DEFAULT_LOCALE) -> str:
    if elapsed is None:
        return render("progress-running", locale, job=str(job.id))
    return render("progress-running-for", locale, job=str(job.id), duration=duration(elapsed, locale))


def finished_line(job: Job, jump_url: str | None, locale: str = DEFAULT_LOCALE) -> str:
    job_no = str(job.id)
    if job.status is JobStatus.SUCCEEDED:
        withheld = msg("progress-withheld", count=job.images_withheld) if job.images_withheld else ""
        if jump_url:
            return render("progress-ready-link", locale, job=job_no, url=jump_url, withheld=withheld)
        return render("progress-ready-private", locale, job=job_no, withheld=withheld)
    if job.status is JobStatus.CANCELLED:
        return render("progress-cancelled", locale, job=job_no, count=job.images_requested)
    reason = stored_message(job.error_message) if job.error_message else msg("progress-failed-unknown")
    return render("progress-failed", locale, job=job_no, reason=reason)


def status_line(
    job: Job,
    *,
    position: int | None = None,
    total: int = 0,
    eta: float = 0.0,
    elapsed: float | None = None,
    jump_url: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> str:
    if job.status is JobStatus.QUEUED:
        return queued_line(job, position or 1, max(total, position or 1), eta, locale)
    if job.status is JobStatus.RUNNING:
        return running_line(job, elapsed, locale)
    return finished_line(job, jump_url, locale)


OPTION_LABELS = {
    "rendering_speed": "options-speed",
    "style_type": "options-style",
    "magic_prompt": "options-magic-prompt",
    "style_preset": "options-preset",
    "model": "options-model",
}


def options_summary(options: dict, locale: str = DEFAULT_LOCALE) -> str:
    parts = [render(label, locale, value=str(options[key])) for key, label in OPTION_LABELS.items() if options.get(key)]
    return " · ".join(parts) or render("options-defaults", locale)


def outputs_of(images: Sequence[JobImage]) -> list[JobImage]:
    return sorted((i for i in images if i.kind is ImageKind.OUTPUT), key=lambda i: i.index)


def result_embed(job: Job, images: Sequence[JobImage], locale: str = DEFAULT_LOCALE) -> discord.Embed:
    def t(message_id: str, **args: object) -> str:
        return render(message_id, locale, **args)

    outputs = outputs_of(images)
    embed = discord.Embed(title=t("result-title", job=str(job.id)), description=shown(job.prompt, 4000), colour=COLOUR)
    used = next((i.prompt_used for i in outputs if i.prompt_used), None)
    if used and used.strip() != job.prompt.strip():
        embed.add_field(name=t("result-prompt-used"), value=shown(used, 1024), inline=False)
    seeds = " · ".join(f"{i.index + 1}: `{i.seed}`" for i in outputs if i.seed is not None)
    if seeds:
        embed.add_field(name=t("result-seeds"), value=seeds, inline=False)
    withheld = [str(i.index + 1) for i in outputs if i.sha is None]
    if withheld:
        embed.add_field(
            name=t("result-withheld"),
            value=t("result-withheld-images", count=len(withheld), images=", ".join(withheld)),
            inline=False,
        )
    embed.add_field(name=t("result-options"), value=options_summary(job.options, locale), inline=False)
    embed.add_field(name=t("result-requested-by"), value=f"<@{job.requester.user_id}>", inline=True)
    if job.parent_job_id:
        embed.add_field(
            name=t("result-from"),
            value=t("result-from-job", job=str(job.parent_job_id), action=str(job.action)),
            inline=True,
        )
    embed.set_footer(text=t("result-footer"))
    return embed


def history_line(job: Job, jump_url: str | None, locale: str = DEFAULT_LOCALE) -> str:
    link = render("history-link", locale, url=jump_url) if jump_url else ""
    status = render("job-status", locale, status=str(job.status))
    return f"**#{job.id}** · {ts(job.created_at)} · {status}{link}\n{shown(job.prompt)}"


def jump_url(job: Job) -> str | None:
    if job.result_message_id is None or job.result_channel_id is None:
        return None
    guild = job.requester.guild_id or "@me"
    return f"https://discord.com/channels/{guild}/{job.result_channel_id}/{job.result_message_id}"
