"""Editing sessions in threads: opening them, owner controls, the version tree, compare, revert."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InputError, NotFound
from bot.i18n import DEFAULT_LOCALE, Channel, Mention, UserText, msg
from bot.imaging import side_by_side_async
from bot.sessions import Version, head_path, tree_lines
from bot.store import Job, Session
from cogs import render
from cogs.common import NO_MENTIONS, actor_of, bot_of, respond
from cogs.text import private_locale, public_locale, result_locale
from cogs.text import render as say
from cogs.views import FORGED, SessionButton, carries, on_button, result_view, session_view

if TYPE_CHECKING:
    from bot.app import InpaintBot

THREAD_ARCHIVE_MINUTES = 1440


def intro_summary(session: Session, locale: str | None = None) -> str:
    """The session's first line: who owns it, who may edit, who pays."""
    return say(
        "session-intro-summary",
        locale or session.guild_locale,
        session=str(session.id),
        owner=Mention(session.owner_id),
        locked="yes" if session.locked else "no",
        owner_pays="yes" if session.owner_pays else "no",
    )


def intro_text(session: Session, locale: str | None = None) -> str:
    """The thread's intro message (public: in the server's language unless told)."""
    locale = locale or session.guild_locale
    return intro_summary(session, locale) + "\n" + say("session-intro-help", locale)


TREE_MAX_CHARS = 4000  # an embed description holds 4096 characters
TREE_MAX_INDENT = 6
TREE_MAX_PATH = 12  # versions named in the "Head:" line


def tree_line(
    indent: int,
    version: Version,
    session: Session,
    *,
    linked: bool,
    branches: bool = False,
    locale: str = DEFAULT_LOCALE,
) -> str:
    """One version; ``branches``: it is not its parent's first child, so it starts a branch (└)."""
    job = version.job
    link = render.jump_url(job) if linked else None
    name = f"[v{version.number}]({link})" if link else f"v{version.number}"
    parent = f" ← v{version.parent}" if version.parent is not None else ""
    head = " 📌 **" + say("session-tree-head-mark", locale) + "**" if job.id == session.head_job_id else ""
    margin = "　" * min(indent, TREE_MAX_INDENT)
    if branches and margin:
        margin = margin[:-1] + "└ "
    return f"{margin}{name}{parent} · #{job.id} · {render.shown(job.prompt, 50)} — <@{job.requester.user_id}>{head}"


def tree_text(
    session: Session, versions: list[Version], limit: int = TREE_MAX_CHARS, locale: str = DEFAULT_LOCALE
) -> str:
    """What ``/session tree`` shows: every version with its link and the version it was made from
    (``v3 ← v1``; branches indented), the head marked, and the path to the head.

    A big tree first loses the links off the head's path, then the links, then the lines furthest
    from the head's."""
    ordered = tree_lines(versions, session.head_job_id)
    if not ordered:
        return say("session-tree-empty", locale)
    path = [f"v{v.number}" for v in head_path(versions, session.head_job_id)]
    if len(path) > TREE_MAX_PATH:
        path = [*path[:2], "…", *path[3 - TREE_MAX_PATH :]]
    footer = "\n\n" + say("session-tree-footer", locale, path=" → ".join(path)) if path else ""
    on_path = {v.number for v in head_path(versions, session.head_job_id)}
    lines: list[str] = []
    for linked in (lambda v: True, lambda v: v.number in on_path, lambda v: False):
        lines = [
            tree_line(
                indent,
                v,
                session,
                linked=linked(v),
                branches=i > 0 and ordered[i - 1][1].number != v.parent,
                locale=locale,
            )
            for i, (indent, v) in enumerate(ordered)
        ]
        if len("\n".join(lines)) + len(footer) <= limit:
            return "\n".join(lines) + footer
    head = next((i for i, (_, v) in enumerate(ordered) if v.job.id == session.head_job_id), len(lines) - 1)
    first, last = head, head + 1  # grow a window around the head's line while it fits
    room = limit - len(footer) - 80 - len(lines[head])
    while room > 0 and (first > 0 or last < len(lines)):
        grew = False
        for side in ("before", "after"):
            if side == "before" and first > 0 and len(lines[first - 1]) < room:
                first, room, grew = first - 1, room - len(lines[first - 1]) - 1, True
            elif side == "after" and last < len(lines) and len(lines[last]) < room:
                last, room, grew = last + 1, room - len(lines[last]) - 1, True
        if not grew:
            break
    shown = lines[first:last]
    if first:
        shown.insert(0, say("session-tree-more", locale, count=first))
    if last < len(lines):
        shown.append(say("session-tree-more", locale, count=len(lines) - last))
    return "\n".join(shown) + footer


async def _session_button(interaction: discord.Interaction, session_id: int, action: str) -> None:
    if not carries(interaction.message, f"ses:{action}:{session_id}"):
        raise InputError(FORGED)
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    session = await bot.sessions.get(session_id)
    actor = actor_of(interaction)
    if action == "lock":
        session = await bot.sessions.configure(session, actor, locked=not session.locked)
    elif action == "pay":
        session = await bot.sessions.configure(session, actor, owner_pays=not session.owner_pays)
    else:
        await close_session(interaction, session)
        return
    if interaction.message is not None:
        await interaction.message.edit(content=intro_text(session), allowed_mentions=NO_MENTIONS)
    locale = private_locale(interaction)
    await respond(interaction, say("session-saved", locale) + " " + intro_summary(session, locale))


@on_button("ses:lock")
async def toggle_lock(interaction: discord.Interaction, session_id: int) -> None:
    await _session_button(interaction, session_id, "lock")


@on_button("ses:pay")
async def toggle_payer(interaction: discord.Interaction, session_id: int) -> None:
    await _session_button(interaction, session_id, "pay")


@on_button("ses:close")
async def close_button(interaction: discord.Interaction, session_id: int) -> None:
    await _session_button(interaction, session_id, "close")


async def refresh_intro(thread: object, session: Session) -> None:
    """Show changed settings on the intro message (the bot's first message with the owner controls)."""
    if not isinstance(thread, discord.Thread):
        return
    lock_id = f"ses:lock:{session.id}"
    try:
        async for message in thread.history(limit=10, oldest_first=True):
            if any(
                getattr(c, "custom_id", None) == lock_id
                for row in message.components
                for c in getattr(row, "children", ())
            ):
                await message.edit(content=intro_text(session), allowed_mentions=NO_MENTIONS)
                return
    except discord.HTTPException:
        pass  # cosmetic: the settings are saved either way


async def close_session(interaction: discord.Interaction, session: Session) -> None:
    bot = bot_of(interaction)
    await bot.sessions.configure(session, actor_of(interaction), closed=True)
    await respond(interaction, say("session-closed-reply", private_locale(interaction)))
    thread = interaction.channel
    if isinstance(thread, discord.Thread) and thread.id == session.thread_id:
        try:
            await thread.send(say("session-closed-notice", session.guild_locale), allowed_mentions=NO_MENTIONS)
            await thread.edit(archived=True, locked=True)
        except discord.HTTPException:
            pass  # closing in storage is what counts; archiving needs Manage Threads


async def start_session(bot: InpaintBot, message: discord.Message, job: Job) -> Session:
    """Create the thread on the result message and the session around it; its requester owns it."""
    existing = await bot.sessions.by_root(job.id)
    if existing is not None:
        raise InputError(msg("session-exists", thread=Channel(existing.thread_id)))
    await bot.sessions.check_can_open(job)  # before a thread exists that no session would own
    name = render.short(job.prompt, 90) or say("result-title", result_locale(job), job=str(job.id))
    try:
        thread = await message.create_thread(name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES)
    except discord.HTTPException as exc:
        if exc.status >= 500:
            raise
        raise InputError(msg("session-thread-failed", reason=UserText(exc.text or str(exc.status)))) from None
    session = await bot.sessions.open(job, thread_id=thread.id, owner_id=job.requester.user_id)
    await thread.send(intro_text(session), view=session_view(session), allowed_mentions=NO_MENTIONS)
    try:  # the result is now v1: Make head and Compare instead of Open thread
        await message.edit(view=result_view(replace(job, session_id=session.id)))
    except discord.HTTPException:
        pass  # cosmetic; the old Open thread button answers that the session exists
    return session


@on_button("res:thread")
async def open_from_result(interaction: discord.Interaction, job_id: int) -> None:
    if not carries(interaction.message, f"res:thread:{job_id}"):
        raise InputError(FORGED)
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    if interaction.guild_id is None or interaction.message is None:
        raise InputError(msg("session-needs-server"))
    if not interaction.app_permissions.create_public_threads:
        raise InputError(msg("session-needs-thread-permission"))
    job = await bot.jobs.find(job_id)
    if job is None:
        raise NotFound(msg("job-gone-short"))
    bot.sessions.check_can_open_as(actor_of(interaction), job)
    session = await start_session(bot, interaction.message, job)
    started = say(
        "session-started", private_locale(interaction), session=str(session.id), thread=Channel(session.thread_id)
    )
    await respond(interaction, started)


@on_button("res:head")
async def make_head(interaction: discord.Interaction, job_id: int) -> None:
    if not carries(interaction.message, f"res:head:{job_id}"):
        raise InputError(FORGED)
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    job = await bot.jobs.find(job_id)
    if job is None or job.session_id is None:
        raise NotFound(msg("session-not-a-version"))
    session = await bot.sessions.get(job.session_id)
    await bot.sessions.make_head(session, job, actor_of(interaction))
    await respond(interaction, say("session-head-now", private_locale(interaction), job=str(job.id)))


@on_button("res:compare")
async def compare(interaction: discord.Interaction, job_id: int) -> None:
    shown_here = carries(interaction.message, f"res:compare:{job_id}")
    if not shown_here:
        raise InputError(FORGED)
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    found = await bot.history.compare(actor_of(interaction), job_id, shown_here=shown_here)
    image = await side_by_side_async(found.before, found.after, ("Before", f"After (#{job_id})"))
    file = discord.File(io.BytesIO(image.data), filename=f"compare-{job_id}.{image.extension}")
    channel = interaction.channel
    if channel is None:
        raise InputError(msg("cannot-post-here"))
    caption = say("session-compare-caption", public_locale(interaction), job=str(job_id))
    await channel.send(caption, file=file, allowed_mentions=NO_MENTIONS)
    await respond(interaction, say("session-compare-posted", private_locale(interaction)))


@app_commands.guild_only()
class SessionGroup(app_commands.Group, name="session", description="The editing session in this thread"):
    def __init__(self, bot: InpaintBot) -> None:
        super().__init__()
        self.bot = bot

    async def _session(self, interaction: discord.Interaction) -> Session:
        thread_id = interaction.channel_id if isinstance(interaction.channel, discord.Thread) else None
        session = await self.bot.sessions.for_thread(thread_id)
        if session is None:
            raise InputError(msg("session-use-in-thread"))
        return session

    @app_commands.command(name="tree", description="Every version of this session and how they relate")
    async def tree(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        session = await self._session(interaction)
        self.bot.sessions.check_can_view(session, actor_of(interaction))
        versions = await self.bot.sessions.versions(session)
        locale = private_locale(interaction)
        embed = discord.Embed(
            title=say("session-tree-title", locale, session=str(session.id), count=len(versions)),
            description=tree_text(session, versions, locale=locale),
            colour=render.COLOUR,
        )
        await respond(interaction, embed=embed)

    @app_commands.command(name="revert", description="Make an earlier version the head again")
    @app_commands.describe(version="The version number from /session tree")
    async def revert(self, interaction: discord.Interaction, version: app_commands.Range[int, 1, 10_000]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        session = await self._session(interaction)
        chosen = await self.bot.sessions.revert(session, version, actor_of(interaction))
        locale = private_locale(interaction)
        await respond(interaction, say("session-reverted", locale, version=chosen.number, job=str(chosen.job.id)))

    @app_commands.command(name="settings", description="Owner: who may edit and who pays")
    @app_commands.describe(locked="Only the owner may edit", owner_pays="Charge every edit to the owner's quota")
    async def settings(
        self, interaction: discord.Interaction, locked: bool | None = None, owner_pays: bool | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        session = await self._session(interaction)
        changes = {k: v for k, v in (("locked", locked), ("owner_pays", owner_pays)) if v is not None}
        if changes:
            session = await self.bot.sessions.configure(session, actor_of(interaction), **changes)
            await refresh_intro(interaction.channel, session)
        await respond(interaction, intro_summary(session, private_locale(interaction)))

    @app_commands.command(name="close", description="Owner: close this session and archive the thread")
    async def close(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await close_session(interaction, await self._session(interaction))


class SessionsCog(commands.Cog):
    def __init__(self, bot: InpaintBot) -> None:
        self.bot = bot
        self.group = SessionGroup(bot)
        bot.tree.add_command(self.group)
        bot.add_dynamic_items(SessionButton)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)

    @commands.Cog.listener()
    async def on_result_posted(self, job: Job, message: discord.Message) -> None:
        """``/edit … thread:true``: open the session as soon as the result is posted."""
        if job.options.get("open_thread") and job.session_id is None and job.requester.thread_id is None:
            try:
                await start_session(self.bot, message, job)
            except (discord.HTTPException, InputError) as exc:
                reason = exc.message if isinstance(exc, InputError) else UserText(str(exc.status))
                told = say("session-open-failed", job.requester.locale, job=str(job.id), reason=reason)
                await self.bot.notifier.tell(job, told)


async def setup(bot: InpaintBot) -> None:
    await bot.add_cog(SessionsCog(bot))
