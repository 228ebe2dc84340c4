"""Persistent buttons on results, progress messages and session intros, and the views that carry them.

Each button is a ``DynamicItem`` whose custom id carries the job (or session) id (discord.py's
``examples/views/persistent.py``), so buttons on a message posted a month ago, before any number of
restarts, still work. What a button does is registered by the cog that owns the action
(``@on_button("res:reroll")``): this module imports none of them, so delivery, results and sessions
all import it and never each other.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import discord

from bot.i18n import DEFAULT_LOCALE, msg
from bot.store import Job, Session
from cogs.errors import guarded
from cogs.served import Served
from cogs.text import private_locale, render, result_locale

ButtonHandler = Callable[[discord.Interaction, int], Awaitable[None]]
_handlers: dict[str, ButtonHandler] = {}

# label (a catalogue id), emoji, style; labels are shown in the language of whoever reads the message
RESULT_BUTTONS = {
    "reroll": ("button-reroll", "🎲", discord.ButtonStyle.secondary),
    "again": ("button-edit-again", "✏️", discord.ButtonStyle.secondary),
    "base": ("button-use-as-base", "➡️", discord.ButtonStyle.primary),
    "thread": ("button-open-thread", "🧵", discord.ButtonStyle.secondary),
    "head": ("button-make-head", "📌", discord.ButtonStyle.secondary),
    "compare": ("button-compare", "🔍", discord.ButtonStyle.secondary),
    "delete": ("button-delete", "🗑️", discord.ButtonStyle.danger),
}
SESSION_BUTTONS = {
    "lock": ("button-lock", "🔒", discord.ButtonStyle.secondary),
    "pay": ("button-who-pays", "💳", discord.ButtonStyle.secondary),
    "close": ("button-close-session", "📕", discord.ButtonStyle.danger),
}


def on_button(key: str) -> Callable[[ButtonHandler], ButtonHandler]:
    """Register what the button ``key`` (``res:reroll``, ``job:cancel``, ``ses:lock``…) does."""

    def register(handler: ButtonHandler) -> ButtonHandler:
        _handlers[key] = handler
        return handler

    return register


async def _run(interaction: discord.Interaction, key: str, target_id: int) -> None:
    await guarded(interaction, _handlers[key](interaction, target_id))


class ResultButton(
    Served,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"res:(?P<action>reroll|again|base|thread|head|compare|delete):(?P<job>\d+)",
):
    def __init__(self, action: str, job_id: int, locale: str = DEFAULT_LOCALE) -> None:
        label, emoji, style = RESULT_BUTTONS[action]
        super().__init__(
            discord.ui.Button(label=render(label, locale), emoji=emoji, style=style, custom_id=f"res:{action}:{job_id}")
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ResultButton:
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _run(interaction, f"res:{self.action}", self.job_id)


class CancelButton(Served, discord.ui.DynamicItem[discord.ui.Button], template=r"job:cancel:(?P<job>\d+)"):
    def __init__(self, job_id: int, locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(
            discord.ui.Button(
                label=render("button-cancel", locale),
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
        await _run(interaction, "job:cancel", self.job_id)


class SessionButton(
    Served, discord.ui.DynamicItem[discord.ui.Button], template=r"ses:(?P<action>lock|pay|close):(?P<id>\d+)"
):
    def __init__(self, action: str, session_id: int, locale: str = DEFAULT_LOCALE) -> None:
        label, emoji, style = SESSION_BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                label=render(label, locale), emoji=emoji, style=style, custom_id=f"ses:{action}:{session_id}"
            )
        )
        self.action, self.session_id = action, session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> SessionButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _run(interaction, f"ses:{self.action}", self.session_id)


# Buttons an extension adds to every result while it is loaded (the mask editor's Draw mask); a list
# here, filled in ``cog_load``, because extensions are imported after this module.
RESULT_EXTRAS: list[Callable[[discord.ui.View, Job, str], None]] = []


def result_view(job: Job, locale: str | None = None) -> discord.ui.View:
    """The buttons under a result, labelled for its readers (``result_locale`` unless told)."""
    locale = locale or result_locale(job)
    view = discord.ui.View(timeout=None)
    if job.session_id is not None:
        actions = ["reroll", "again", "base", "head", "compare", "delete"]
    elif job.requester.guild_id is not None and not job.private and job.requester.thread_id is None:
        actions = ["reroll", "again", "base", "thread", "delete"]
    else:
        actions = ["reroll", "again", "base", "delete"]
    for action in actions:
        view.add_item(ResultButton(action, job.id, locale))
    for extra in RESULT_EXTRAS:
        extra(view, job, locale)
    return view


def cancel_view(job_id: int, locale: str = DEFAULT_LOCALE) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id, locale))
    return view


def session_view(session: Session) -> discord.ui.View:
    """The session's buttons, in its server's language (the thread is public)."""
    view = discord.ui.View(timeout=None)
    for action in SESSION_BUTTONS:
        view.add_item(SessionButton(action, session.id, session.guild_locale))
    return view


OUR_BUTTONS = re.compile(r"(res|job|ses):[a-z]+:\d+")
FORGED = msg("button-forged")


async def refuse_forged(interaction: discord.Interaction) -> bool:
    """Answer a component interaction that names one of our buttons its message does not carry.

    discord.py drops such an interaction silently (a ``DynamicItem`` is only built from a component on
    the message), which would leave a modified client's forged id on "This interaction failed"; a
    forged id gets a refusal instead. Returns whether it was one."""
    if interaction.type is not discord.InteractionType.component or interaction.data is None:
        return False
    custom_id = str(interaction.data.get("custom_id", ""))
    if not OUR_BUTTONS.fullmatch(custom_id) or carries(interaction.message, custom_id):
        return False
    await interaction.response.send_message(render(FORGED, private_locale(interaction)), ephemeral=True)
    return True


def carries(message: discord.Message | None, custom_id: str) -> bool:
    """Whether ``message`` shows a component with ``custom_id``: a button acts on the message that
    carries it, so an interaction naming a component its message lacks is forged."""
    if message is None:
        return False
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in message.components
        for child in getattr(row, "children", ())
    )
