"""Small Discord helpers shared by the cogs: answering safely, requester identity, permissions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot import metrics
from bot.access import Actor
from bot.errors import InputError
from bot.i18n import Message, UserText, msg
from bot.imaging import parse_box
from bot.jobs import Origin
from bot.limits import AREA_LIST, BOX_EXAMPLE
from bot.models import MaskSpec, Region
from bot.store import AckedInteraction, Requester
from cogs.text import private_locale, public_locale

if TYPE_CHECKING:
    from bot.app import InpaintBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
TOKEN_GONE_CODES = {50027, 10015}  # Invalid Webhook Token, Unknown Webhook: the 15 minutes are over


def token_expired(error: discord.HTTPException) -> bool:
    return error.code in TOKEN_GONE_CODES or error.status == 401


def bot_of(interaction: discord.Interaction) -> InpaintBot:
    return interaction.client  # type: ignore[return-value]


async def acknowledge(interaction: discord.Interaction) -> None:
    """Defer privately ("thinking…") and record the interaction before any download, so that a restart
    can still answer it (``DiscordNotifier.restarted``). For commands that may queue a job: their
    record is linked to the job by ``track``, or settled by the error handler or ``settled``."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
        metrics.acknowledged(interaction.created_at)
    await bot_of(interaction).interactions.record(
        AckedInteraction(
            interaction_id=interaction.id,
            application_id=interaction.application_id,
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            locale=private_locale(interaction),
            created_at=interaction.created_at,
            token=interaction.token,
        )
    )


async def settled(interaction: discord.Interaction) -> None:
    """The interaction got its final answer without a job: a restart must leave it alone. Never raises."""
    interactions = getattr(bot_of(interaction), "interactions", None)
    if interactions is None:
        return
    try:
        await interactions.settle(interaction.id)
    except Exception:
        log.warning("could not settle interaction %d", interaction.id, exc_info=True)


async def respond(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = True,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    view: discord.ui.View | None = None,
    files: list[discord.File] | None = None,
) -> discord.Message | None:
    """Answer whatever state the interaction is in (Red-DiscordBot's "send safely").

    First response if none was sent, a follow-up otherwise; once the 15-minute token has expired, a
    DM for private answers and a channel message for public ones.
    """
    kwargs: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
    if embeds or embed:
        kwargs["embeds"] = embeds or [embed]
    if view is not None:
        kwargs["view"] = view
    if files:
        kwargs["files"] = files
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
            return None
        return await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)
    except discord.HTTPException as exc:
        if not token_expired(exc):
            raise
        log.info("interaction token expired; answering outside the interaction")
        for file in files or ():
            file.reset()
        target: discord.abc.Messageable | None = interaction.user if ephemeral else interaction.channel
        if target is None:
            return None
        return await target.send(**kwargs)


def origin_of(interaction: discord.Interaction, *, private: bool = False, session_id: int | None = None) -> Origin:
    channel = interaction.channel
    thread_id = channel.id if isinstance(channel, discord.Thread) else None
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else interaction.channel_id
    member = interaction.user
    roles = tuple(r.id for r in getattr(member, "roles", ()) if not r.is_default())
    return Origin(
        requester=Requester(
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=parent_id,
            thread_id=thread_id,
            locale=private_locale(interaction),
            guild_locale=public_locale(interaction),
        ),
        role_ids=roles,
        private=private,
        reply_token=interaction.token,
        session_id=session_id,
    )


def actor_of(interaction: discord.Interaction) -> Actor:
    """Who asks, where, with which permissions there, and which of this server's channels they can
    read (from the cached guild: the ``guilds`` intent keeps channels, roles and overwrites)."""
    channel = interaction.channel
    in_thread = isinstance(channel, discord.Thread)
    perms = interaction.permissions
    in_guild = interaction.guild_id is not None
    guild, member = interaction.guild, interaction.user
    readable: frozenset[int] = frozenset()
    if guild is not None and isinstance(member, discord.Member):
        readable = frozenset(c.id for c in guild.channels if c.permissions_for(member).read_messages)
    return Actor(
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=channel.parent_id if in_thread else interaction.channel_id,  # type: ignore[union-attr]
        thread_id=channel.id if in_thread else None,  # type: ignore[union-attr]
        manage_messages=in_guild and perms.manage_messages,
        manage_threads=in_guild and perms.manage_threads,
        manage_guild=in_guild and perms.manage_guild,
        readable_channel_ids=readable,
    )


def missing_post_permissions(interaction: discord.Interaction) -> list[str]:
    """What the bot lacks to post results where the command was used (empty in DMs), as the
    ``permission-name`` message's keys (``permission_names`` words them for a reader)."""
    if interaction.guild_id is None:
        return []
    perms = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    needed = {
        "send-messages-in-threads" if in_thread else "send-messages": (
            perms.send_messages_in_threads if in_thread else perms.send_messages
        ),
        "attach-files": perms.attach_files,
        "embed-links": perms.embed_links,
    }
    return [key for key, ok in needed.items() if not ok]


def require_post_permissions(interaction: discord.Interaction, *, private_hint: bool = False) -> None:
    """Refuse before queueing anything when the result could not be posted here."""
    if missing := missing_post_permissions(interaction):
        hint = "private" if private_hint else "admin"
        raise InputError(msg("post-missing-permissions", permissions=permission_names(missing), hint=hint))


def permission_names(keys: list[str]) -> Message:
    """Permissions (``permission-name`` keys) as Discord shows them in the reader's language, as a list."""
    words = [msg("permission-name", name=key) for key in keys[:3]]
    return msg(f"list-{len(words)}", **dict(zip(("a", "b", "c"), words, strict=False)))


REGION_WORDS = {r.value: r for r in Region} | {"centre": Region.CENTER, "middle": Region.CENTER}
AREA_HINT = msg("mask-area-hint", areas=AREA_LIST, box=BOX_EXAMPLE)
"""The placeholder of every form's "area" field (what ``parse_area`` reads)."""


def parse_image_number(text: str | None) -> int:
    """A form's "which image" field (1-based, empty = 1) as a 0-based index."""
    raw = (text or "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(msg("image-number-invalid", value=UserText(raw)))
    return int(raw) - 1


def parse_area(text: str | None) -> MaskSpec | None:
    """A form's "area" field: a region word or a percent box; empty means "keep the mask"."""
    text = (text or "").strip().lower()
    if not text:
        return None
    word = text.removesuffix(" half").strip()
    if word in REGION_WORDS:
        return MaskSpec(region=REGION_WORDS[word])
    if not any(ch.isdigit() for ch in text):
        raise InputError(msg("area-unknown", text=UserText(text[:40]), areas=AREA_LIST, box=BOX_EXAMPLE))
    return MaskSpec(box=parse_box(text))


async def session_origin(interaction: discord.Interaction, origin: Origin, session_id: int | None) -> Origin:
    """Attach a job to its editing session: access check, and the owner's quota when the owner pays."""
    if session_id is None:
        return origin
    bot = bot_of(interaction)
    session = await bot.sessions.get(session_id)
    bot.sessions.check_can_edit(session, actor_of(interaction))
    return bot.sessions.origin_for(origin, session)
