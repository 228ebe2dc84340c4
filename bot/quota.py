"""Rate limits and quotas as pure functions: which limits apply, whether a request fits, what to say.

Storage backends call ``check_submission`` inside the transaction that reserves the images, so the
decision and the reservation cannot race; everything here is I/O-free and easy to test.

Units and rules (the README's "Limits" section is written from this):

* Everything is counted in images, the unit Ideogram bills, not in jobs.
* Per user (counted across every server and DMs, because one person costs the operator the same
  wherever they ask): a sliding window (``window_images`` per ``window_seconds``), a daily limit
  (the UTC day) and at most ``max_active_jobs`` jobs queued or running. The window and the day count
  the images of the *payer*; active jobs count the *requester*'s jobs.
* Per server: a daily cap for all members together. DMs have no server cap.
* A limit of 0 means "no images allowed"; it is reported as switched off, never as "wait".
* For the whole bot: the operator's ``DAILY_IMAGE_BUDGET`` per UTC day, every server and DM together.
* Exempt roles skip the per-user limits, never the server's daily cap nor the bot's budget.
* The operator's ceilings (``MAX_USER_DAILY_IMAGES``, ``MAX_GUILD_DAILY_IMAGES``) bind whatever a
  server stored: they are applied here, when limits are resolved, not only when an admin sets one, so
  a value stored before the ceiling was lowered cannot exceed it, and an exempt member still stops at
  the per-user ceiling (exempt lifts the server's per-user limits, not the operator's).
* Role overrides replace the server value per field; with several overriding roles the most generous
  value wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import QuotaExceeded
from bot.i18n import Mention, Message, Moment, msg
from bot.settings import LimitDefaults
from bot.store import EffectiveLimits, GuildConfig

WINDOW = "window"
DAILY = "daily"
ACTIVE = "active"
GUILD_DAILY = "guild_daily"
BOT_DAILY = "bot_daily"
TOO_MANY_IMAGES = "too_many_images"
LIMIT_NAMES = (WINDOW, DAILY, ACTIVE, GUILD_DAILY, BOT_DAILY, TOO_MANY_IMAGES)


@dataclass(frozen=True, slots=True)
class Usage:
    """What is already used when a request arrives (reserved + charged images)."""

    window_used: int
    daily_used: int
    active_jobs: int
    guild_daily_used: int | None  # None in DMs: no server cap
    bot_daily_used: int = 0  # every image reserved or charged today, the whole bot


# --- which limits apply ------------------------------------------------------------------------


def resolve_limits(
    defaults: LimitDefaults,
    config: GuildConfig | None,
    role_ids: Iterable[int],
    *,
    budget: int | None = None,
    ceilings: Mapping[str, int] | None = None,
) -> EffectiveLimits:
    """Bot-wide defaults, then the server's overrides, then the member's role overrides; ``budget``
    is the operator's daily budget for the whole bot (no role or server changes it); ``ceilings``
    (``Settings.admin_ceilings``, by limit name) cap the result, whatever was stored.

    ``config`` may be None (DMs). Roles without an override, or whose override leaves a field
    unset, do not affect that field.
    """
    window_images = _first(config and config.window_images, defaults.user_window_images)
    window_minutes = _first(config and config.window_minutes, defaults.user_window_minutes)
    daily_images = _first(config and config.daily_images, defaults.user_daily_images)
    max_active = _first(config and config.max_active_jobs, defaults.user_max_active_jobs)
    guild_daily = _first(config and config.guild_daily_images, defaults.guild_daily_images)
    wanted = set(role_ids)
    roles = [r for r in (config.roles if config else ()) if r.role_id in wanted]
    ceilings = ceilings or {}
    daily_ceiling = ceilings.get("daily_images")
    return EffectiveLimits(
        window_images=_most_generous([r.window_images for r in roles], window_images),
        window_seconds=window_minutes * 60,
        daily_images=_at_most(_most_generous([r.daily_images for r in roles], daily_images), daily_ceiling),
        max_active_jobs=_most_generous([r.max_active_jobs for r in roles], max_active),
        guild_daily_images=_at_most(guild_daily, ceilings.get("guild_daily_images")),
        exempt=any(r.exempt for r in roles),
        bot_daily_images=budget,
        daily_ceiling=daily_ceiling,
    )


def _at_most(value: int, ceiling: int | None) -> int:
    return value if ceiling is None else min(value, ceiling)


def _first(value: int | None, default: int) -> int:
    return default if value is None else value


def _most_generous(values: list[int | None], fallback: int) -> int:
    present = [v for v in values if v is not None]
    return max(present) if present else fallback


# --- does a request fit ------------------------------------------------------------------------


def day_start(now: datetime) -> datetime:
    """Midnight UTC at the start of ``now``'s day: daily limits count from here."""
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def next_midnight(now: datetime) -> datetime:
    return day_start(now) + timedelta(days=1)


def window_retry_at(
    entries: Iterable[tuple[datetime, int]], *, used: int, allowed: int, requested: int, window_seconds: int
) -> datetime | None:
    """When enough images have left the window for ``requested`` more to fit.

    ``entries`` are the (reservation time, images) pairs inside the window, oldest first; an image
    reserved at ``t`` counts until ``t + window_seconds``.
    """
    must_leave = used + requested - allowed
    if must_leave <= 0:
        return None
    window = timedelta(seconds=window_seconds)
    left = 0
    last: datetime | None = None
    for at, images in entries:
        left += images
        last = at
        if left >= must_leave:
            return at + window
    return None if last is None else last + window


def check_submission(
    limits: EffectiveLimits,
    usage: Usage,
    requested: int,
    now: datetime,
    window_entries: Callable[[], Iterable[tuple[datetime, int]]],
) -> QuotaExceeded | None:
    """The refusal for a request of ``requested`` images, or None when it fits every limit.

    Order: limits set to 0, then a request that can never fit, then the limit that frees up last
    (daily and server at midnight, then the window), then active jobs. ``window_entries`` is only
    called when the window refuses (it costs a query).
    """
    if requested < 1:
        raise ValueError("a job must ask for at least one image")
    per_user = not limits.exempt
    daily = limits.daily_images if per_user else limits.daily_ceiling  # None: no daily limit applies
    caps: list[tuple[str, int]] = []
    if per_user:
        caps.append((WINDOW, limits.window_images))
    if daily is not None:
        caps.append((DAILY, daily))
    if usage.guild_daily_used is not None:
        caps.append((GUILD_DAILY, limits.guild_daily_images))
    if limits.bot_daily_images is not None:  # nobody is exempt from the operator's budget
        caps.insert(0, (BOT_DAILY, limits.bot_daily_images))
    if per_user and limits.max_active_jobs == 0:
        caps.insert(0, (ACTIVE, 0))
    for name, allowed in caps:
        if allowed == 0:
            return _refuse(name, requested=requested, allowed=0, now=now)
    too_big = [(allowed, name) for name, allowed in caps if requested > allowed]
    if too_big:
        allowed, name = min(too_big)
        return _refuse(TOO_MANY_IMAGES, requested=requested, allowed=allowed, cap=name, now=now, limits=limits)
    midnight = next_midnight(now)
    days = (  # (limit, used today or None when it does not apply, allowed), checked in this order
        (DAILY, usage.daily_used if daily is not None else None, daily),
        (GUILD_DAILY, usage.guild_daily_used, limits.guild_daily_images),
        (BOT_DAILY, usage.bot_daily_used if limits.bot_daily_images is not None else None, limits.bot_daily_images),
    )
    for name, used, allowed in days:
        if used is not None and allowed is not None and used + requested > allowed:
            return _refuse(name, requested=requested, allowed=allowed, used=used, retry_at=midnight, now=now)
    if per_user and usage.window_used + requested > limits.window_images:
        retry_at = window_retry_at(
            window_entries(),
            used=usage.window_used,
            allowed=limits.window_images,
            requested=requested,
            window_seconds=limits.window_seconds,
        )
        return _refuse(
            WINDOW,
            requested=requested,
            allowed=limits.window_images,
            used=usage.window_used,
            retry_at=retry_at,
            now=now,
            limits=limits,
        )
    if per_user and usage.active_jobs >= limits.max_active_jobs:
        return _refuse(ACTIVE, requested=requested, allowed=limits.max_active_jobs, used=usage.active_jobs, now=now)
    return None


def _refuse(
    limit: str,
    *,
    requested: int,
    allowed: int,
    used: int = 0,
    retry_at: datetime | None = None,
    cap: str | None = None,
    now: datetime | None = None,
    limits: EffectiveLimits | None = None,
) -> QuotaExceeded:
    message = refusal_message(
        limit,
        requested=requested,
        allowed=allowed,
        used=used,
        retry_at=retry_at,
        window_seconds=limits.window_seconds if limits else 0,
        cap=cap,
        now=now,
    )
    return QuotaExceeded(limit=limit, retry_at=retry_at, message=message)


# --- what to say ---------------------------------------------------------------------------------

# The refusals that name the payer's limits when a session owner pays ("They've used…"): their own
# messages, so each language words them properly. Active jobs and the server's cap are never the payer's.
PAYER_VARIANTS = {
    "quota-off-user": "quota-off-user-payer",
    "quota-window": "quota-window-payer",
    "quota-daily": "quota-daily-payer",
    "quota-too-many": "quota-too-many-payer",
    "quota-cap-window": "quota-cap-window-payer",
    "quota-cap-daily": "quota-cap-daily-payer",
    "quota-cap-any": "quota-cap-any-payer",
}


def refusal_message(
    limit: str,
    *,
    requested: int,
    allowed: int,
    used: int = 0,
    retry_at: datetime | None = None,
    window_seconds: int = 0,
    cap: str | None = None,
    now: datetime | None = None,
) -> Message:
    """The refusal for ``limit`` as a catalogue message (texts in ``bot/locales/*/quota.ftl``).

    Times are handed over as :class:`Moment` values (relative, plus the clock time — or the date and
    time when it is not within the next 20 hours); the adapter renders them for each reader.
    ``limit`` is one of ``LIMIT_NAMES``; ``cap`` says which limit a ``too_many_images`` request
    exceeds; ``allowed == 0`` means the limit switches edits off.
    """
    if limit not in LIMIT_NAMES:
        raise ValueError(f"unknown limit {limit!r}")
    if allowed == 0 and limit != TOO_MANY_IMAGES:
        return {GUILD_DAILY: msg("quota-off-guild"), BOT_DAILY: msg("quota-off-bot")}.get(limit, msg("quota-off-user"))
    left = max(allowed - used, 0)
    fewer: Message | str = msg("quota-fewer", count=left) if 0 < left < requested else ""
    when = retry_when(retry_at, now)
    counts = {"used": used, "allowed": allowed, "requested": requested}
    if limit == WINDOW:
        return msg("quota-window", **counts, period=period(window_seconds), when=when, fewer=fewer)
    if limit == DAILY:
        return msg("quota-daily", **counts, when=when, fewer=fewer)
    if limit == GUILD_DAILY:
        return msg("quota-guild-daily", **counts, when=when, fewer=fewer)
    if limit == BOT_DAILY:
        return msg("quota-bot-daily", **counts, when=when, fewer=fewer)
    if limit == ACTIVE:
        return msg("quota-active", used=used)
    which = {
        WINDOW: msg("quota-cap-window", period=period(window_seconds)),
        DAILY: msg("quota-cap-daily"),
        GUILD_DAILY: msg("quota-cap-guild-daily"),
        BOT_DAILY: msg("quota-cap-bot-daily"),
    }.get(cap or "", msg("quota-cap-any"))
    return msg("quota-too-many", requested=requested, allowed=allowed, which=which)


def refusal_for_payer(refusal: QuotaExceeded, *, payer_user_id: int | None, requester_user_id: int) -> QuotaExceeded:
    """The same refusal, worded for a session whose owner pays: it names the owner and their limits.

    Unchanged when the requester pays, or for the limits that are never the payer's (active jobs count
    per requester; the server's cap and the bot's budget are everyone's).
    """
    if payer_user_id is None or payer_user_id == requester_user_id or refusal.limit in (ACTIVE, GUILD_DAILY, BOT_DAILY):
        return refusal
    return QuotaExceeded(
        refusal.limit,
        refusal.retry_at,
        msg("quota-payer", owner=Mention(payer_user_id), refusal=_payer_variant(refusal.message)),
    )


def _payer_variant(message: Message) -> Message:
    args = {k: _payer_variant(v) if isinstance(v, Message) else v for k, v in message.args.items()}
    return Message(PAYER_VARIANTS.get(message.id, message.id), args)


def retry_when(at: datetime | None, now: datetime | None = None) -> Message:
    """ "in 5 minutes (14:05)"; the date too when the time is not within the next 20 hours."""
    if at is None:
        return msg("quota-when-later")
    style = "t" if now is None or at - now < timedelta(hours=20) else "f"
    return msg("quota-when", retry_in=Moment(at, "R"), retry_at=Moment(at, style))


def period(seconds: int) -> Message:
    """A window length in its largest whole unit: "hour", "10 minutes", "90 seconds"."""
    if seconds <= 0:
        return msg("period-window")
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return msg(f"period-{unit}", count=seconds // size)
    return msg("period-seconds", count=seconds)
