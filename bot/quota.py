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
* Exempt roles skip the per-user limits, never the server's daily cap.
* Role overrides replace the server value per field; with several overriding roles the most generous
  value wins.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import QuotaExceeded
from bot.settings import LimitDefaults
from bot.store import EffectiveLimits, GuildConfig

WINDOW = "window"
DAILY = "daily"
ACTIVE = "active"
GUILD_DAILY = "guild_daily"
TOO_MANY_IMAGES = "too_many_images"
LIMIT_NAMES = (WINDOW, DAILY, ACTIVE, GUILD_DAILY, TOO_MANY_IMAGES)


@dataclass(frozen=True, slots=True)
class Usage:
    """What is already used when a request arrives (reserved + charged images)."""

    window_used: int
    daily_used: int
    active_jobs: int
    guild_daily_used: int | None  # None in DMs: no server cap


# --- which limits apply ------------------------------------------------------------------------


def resolve_limits(defaults: LimitDefaults, config: GuildConfig | None, role_ids: Iterable[int]) -> EffectiveLimits:
    """Bot-wide defaults, then the server's overrides, then the member's role overrides.

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
    return EffectiveLimits(
        window_images=_most_generous([r.window_images for r in roles], window_images),
        window_seconds=window_minutes * 60,
        daily_images=_most_generous([r.daily_images for r in roles], daily_images),
        max_active_jobs=_most_generous([r.max_active_jobs for r in roles], max_active),
        guild_daily_images=guild_daily,
        exempt=any(r.exempt for r in roles),
    )


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
    caps: list[tuple[str, int]] = []
    if per_user:
        caps += [(WINDOW, limits.window_images), (DAILY, limits.daily_images)]
    if usage.guild_daily_used is not None:
        caps.append((GUILD_DAILY, limits.guild_daily_images))
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
    if per_user and usage.daily_used + requested > limits.daily_images:
        return _refuse(
            DAILY, requested=requested, allowed=limits.daily_images, used=usage.daily_used, retry_at=midnight, now=now
        )
    if usage.guild_daily_used is not None and usage.guild_daily_used + requested > limits.guild_daily_images:
        return _refuse(
            GUILD_DAILY,
            requested=requested,
            allowed=limits.guild_daily_images,
            used=usage.guild_daily_used,
            retry_at=midnight,
            now=now,
        )
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
    return QuotaExceeded(limit=limit, retry_at=retry_at, user_message=message)


# --- what to say ---------------------------------------------------------------------------------


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
) -> str:
    """The one place refusal texts live. Shown in Discord: times use ``<t:EPOCH:R>`` markup, which
    each reader's client renders in their own time zone.

    ``limit`` is one of ``LIMIT_NAMES``; ``cap`` says which limit a ``too_many_images`` request
    exceeds; ``allowed == 0`` means the limit switches edits off.
    """
    if allowed == 0 and limit != TOO_MANY_IMAGES:
        if limit == GUILD_DAILY:
            return "Image edits are switched off on this server (its daily limit is 0 images)."
        return (
            "Image edits are switched off for you here (your limit is 0). "
            "Ask a server admin if you think that is a mistake."
        )
    left = max(allowed - used, 0)
    fewer = f" Or ask for {_count(left, 'image')} now." if 0 < left < requested else ""
    when = discord_time(retry_at, now) if retry_at is not None else "later"
    if limit == WINDOW:
        return (
            f"You've used {used} of your {_count(allowed, 'image')} per {_period(window_seconds)}, "
            f"and this edit needs {requested}. You can edit again {when}.{fewer}"
        )
    if limit == DAILY:
        return (
            f"You've used {used} of your {_count(allowed, 'image')} for today, and this edit needs {requested}. "
            f"Your daily images reset at midnight UTC, {when}.{fewer}"
        )
    if limit == GUILD_DAILY:
        return (
            f"This server has used {used} of its {_count(allowed, 'image')} for today, and this edit needs "
            f"{requested}. The server's images reset at midnight UTC, {when}.{fewer}"
        )
    if limit == ACTIVE:
        if used == 1:
            return "You already have an edit queued or running. You can start another when it finishes."
        return (
            f"You already have {used} edits queued or running, the most you can have at once. "
            f"You can start another when one of your {used} edits finishes."
        )
    if limit == TOO_MANY_IMAGES:
        which = {
            WINDOW: f"your limit per {_period(window_seconds)}",
            DAILY: "your daily limit",
            GUILD_DAILY: "this server's daily limit",
        }.get(cap or "", "your limit")
        return (
            f"This edit asks for {_count(requested, 'image')}, but {which} is {allowed}, so it can never fit. "
            f"Ask for {allowed} or fewer."
        )
    raise ValueError(f"unknown limit {limit!r}")


def discord_time(at: datetime, now: datetime | None = None) -> str:
    """``<t:…:R>`` ("in 5 minutes") plus the clock time; the date too when it is not within a day.

    Rounded up to the second so the time shown is never before the moment the edit is accepted.
    """
    epoch = math.ceil(at.timestamp())
    style = "t" if now is None or at - now < timedelta(hours=20) else "f"
    return f"<t:{epoch}:R> (<t:{epoch}:{style}>)"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _period(seconds: int) -> str:
    if seconds <= 0:
        return "window"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds} seconds"
