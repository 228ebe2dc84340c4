from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import QuotaExceeded
from bot.i18n import text
from bot.quota import (
    ACTIVE,
    DAILY,
    GUILD_DAILY,
    TOO_MANY_IMAGES,
    WINDOW,
    Usage,
    check_submission,
    day_start,
    next_midnight,
    refusal_message,
    resolve_limits,
    retry_when,
    window_retry_at,
)
from bot.settings import LimitDefaults
from bot.store import EffectiveLimits, GuildConfig, RoleLimits
from cogs.text import render
from tests.ids import GUILD, ROLES

NOW = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
DEFAULTS = LimitDefaults(
    user_window_images=5, user_window_minutes=10, user_daily_images=25, user_max_active_jobs=3, guild_daily_images=200
)
LIMITS = EffectiveLimits(
    window_images=5, window_seconds=600, daily_images=25, max_active_jobs=3, guild_daily_images=200
)
FREE = Usage(window_used=0, daily_used=0, active_jobs=0, guild_daily_used=0)


def shown(refusal: QuotaExceeded) -> str:
    """The refusal as a Discord member reads it (English)."""
    return render(refusal.message)


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def no_entries() -> list[tuple[datetime, int]]:
    raise AssertionError("the window entries are only read when the window refuses")


# --- resolve_limits ---------------------------------------------------------------------------------


def test_defaults_apply_without_a_guild_config() -> None:
    assert resolve_limits(DEFAULTS, None, [ROLES[1], ROLES[2]]) == EffectiveLimits(5, 600, 25, 3, 200, exempt=False)


def test_guild_overrides_replace_defaults_field_by_field() -> None:
    config = GuildConfig(guild_id=GUILD, window_images=2, window_minutes=30, guild_daily_images=0)
    assert resolve_limits(DEFAULTS, config, []) == EffectiveLimits(2, 1800, 25, 3, 0)


def test_role_overrides_take_the_most_generous_value_of_the_members_roles() -> None:
    config = GuildConfig(
        guild_id=GUILD,
        window_images=4,
        daily_images=30,
        roles=(
            RoleLimits(role_id=ROLES[10], window_images=8, daily_images=5),
            RoleLimits(role_id=ROLES[11], window_images=12),
            RoleLimits(role_id=ROLES[12], max_active_jobs=9),
            RoleLimits(role_id=ROLES[13], window_images=100),  # the member does not have this role
        ),
    )
    limits = resolve_limits(DEFAULTS, config, [ROLES[10], ROLES[11], ROLES[99]])
    assert limits.window_images == 12  # max over roles 10 and 11
    assert limits.daily_images == 5  # a role override may also be stricter than the server's
    assert limits.max_active_jobs == 3  # role 12 is not the member's
    assert not limits.exempt


def test_a_role_override_of_zero_blocks_unless_another_role_is_more_generous() -> None:
    config = GuildConfig(
        guild_id=GUILD,
        roles=(RoleLimits(role_id=ROLES[1], daily_images=0), RoleLimits(role_id=ROLES[2], daily_images=3)),
    )
    assert resolve_limits(DEFAULTS, config, [ROLES[1]]).daily_images == 0
    assert resolve_limits(DEFAULTS, config, [ROLES[1], ROLES[2]]).daily_images == 3


def test_any_exempt_role_makes_the_member_exempt_but_keeps_the_guild_cap() -> None:
    config = GuildConfig(guild_id=GUILD, guild_daily_images=50, roles=(RoleLimits(role_id=ROLES[7], exempt=True),))
    limits = resolve_limits(DEFAULTS, config, [ROLES[3], ROLES[7]])
    assert limits.exempt
    assert limits.guild_daily_images == 50


# --- check_submission -------------------------------------------------------------------------------


def test_a_request_that_fits_is_accepted() -> None:
    usage = Usage(window_used=4, daily_used=24, active_jobs=2, guild_daily_used=199)
    assert check_submission(LIMITS, usage, 1, NOW, no_entries) is None


def test_window_refusal_says_when_enough_images_have_left_the_window() -> None:
    entries = [(NOW - timedelta(minutes=9), 2), (NOW - timedelta(minutes=5), 1), (NOW - timedelta(minutes=1), 2)]
    usage = Usage(window_used=5, daily_used=5, active_jobs=0, guild_daily_used=5)
    refusal = check_submission(LIMITS, usage, 3, NOW, lambda: entries)
    assert isinstance(refusal, QuotaExceeded)
    assert refusal.limit == WINDOW
    # 3 must leave: the 2 from 9 minutes ago (not enough) and the 1 from 5 minutes ago
    assert refusal.retry_at == NOW + timedelta(minutes=5)
    assert f"<t:{epoch(refusal.retry_at)}:R>" in shown(refusal)
    assert "5 of your 5 images per 10 minutes" in refusal.user_message


def test_window_refusal_suggests_fewer_images_when_some_are_left() -> None:
    usage = Usage(window_used=3, daily_used=3, active_jobs=0, guild_daily_used=3)
    refusal = check_submission(LIMITS, usage, 4, NOW, lambda: [(NOW - timedelta(minutes=2), 3)])
    assert refusal is not None and refusal.limit == WINDOW
    assert refusal.retry_at == NOW + timedelta(minutes=8)
    assert "Or ask for 2 images now." in refusal.user_message


def test_daily_refusal_resets_at_the_next_utc_midnight() -> None:
    usage = Usage(window_used=0, daily_used=25, active_jobs=0, guild_daily_used=25)
    refusal = check_submission(LIMITS, usage, 1, NOW, no_entries)
    assert refusal is not None and refusal.limit == DAILY
    assert refusal.retry_at == datetime(2030, 5, 18, tzinfo=UTC)
    assert "25 of your 25 images for today" in refusal.user_message
    assert f"<t:{epoch(refusal.retry_at)}:R>" in shown(refusal)


def test_daily_wins_over_window_because_it_frees_up_later() -> None:
    usage = Usage(window_used=5, daily_used=25, active_jobs=0, guild_daily_used=25)
    refusal = check_submission(LIMITS, usage, 1, NOW, no_entries)
    assert refusal is not None and refusal.limit == DAILY


def test_active_jobs_refusal_has_no_time_and_says_when_one_finishes() -> None:
    usage = Usage(window_used=3, daily_used=3, active_jobs=3, guild_daily_used=3)
    refusal = check_submission(LIMITS, usage, 1, NOW, no_entries)
    assert refusal is not None and refusal.limit == ACTIVE
    assert refusal.retry_at is None
    assert "when one of your 3 edits finishes" in refusal.user_message


def test_guild_daily_cap_applies_even_to_exempt_members() -> None:
    exempt = EffectiveLimits(5, 600, 25, 3, 200, exempt=True)
    usage = Usage(window_used=500, daily_used=500, active_jobs=50, guild_daily_used=199)
    assert check_submission(exempt, usage, 1, NOW, no_entries) is None
    refusal = check_submission(exempt, usage, 2, NOW, no_entries)
    assert refusal is not None and refusal.limit == GUILD_DAILY
    assert refusal.retry_at == next_midnight(NOW)
    assert "This server has used 199 of its 200 images" in refusal.user_message


def test_dms_have_no_guild_cap() -> None:
    usage = Usage(window_used=0, daily_used=0, active_jobs=0, guild_daily_used=None)
    tiny_guild_cap = EffectiveLimits(5, 600, 25, 3, 0)
    assert check_submission(tiny_guild_cap, usage, 1, NOW, no_entries) is None


@pytest.mark.parametrize(
    ("limits", "requested", "allowed", "words"),
    [
        (LIMITS, 6, 5, "your limit per 10 minutes is 5"),
        (EffectiveLimits(10, 600, 4, 3, 200), 5, 4, "your daily limit is 4"),
        (EffectiveLimits(10, 600, 25, 3, 3, exempt=True), 4, 3, "this server's daily limit is 3"),
    ],
)
def test_a_request_bigger_than_a_limit_can_never_fit(
    limits: EffectiveLimits, requested: int, allowed: int, words: str
) -> None:
    refusal = check_submission(limits, FREE, requested, NOW, no_entries)
    assert refusal is not None and refusal.limit == TOO_MANY_IMAGES
    assert refusal.retry_at is None
    assert words in refusal.user_message
    assert "can never fit" in refusal.user_message
    assert f"Ask for {allowed} or fewer" in refusal.user_message


@pytest.mark.parametrize(
    ("limits", "name"),
    [
        (EffectiveLimits(0, 600, 25, 3, 200), WINDOW),
        (EffectiveLimits(5, 600, 0, 3, 200), DAILY),
        (EffectiveLimits(5, 600, 25, 0, 200), ACTIVE),
        (EffectiveLimits(5, 600, 25, 3, 0), GUILD_DAILY),
    ],
)
def test_zero_means_no_images_allowed(limits: EffectiveLimits, name: str) -> None:
    refusal = check_submission(limits, FREE, 1, NOW, no_entries)
    assert refusal is not None and refusal.limit == name
    assert refusal.retry_at is None
    assert "switched off" in refusal.user_message
    assert "<t:" not in shown(refusal)


def test_zero_per_user_limits_do_not_bind_exempt_members() -> None:
    exempt = EffectiveLimits(0, 600, 0, 0, 200, exempt=True)
    assert check_submission(exempt, FREE, 3, NOW, no_entries) is None


def test_at_least_one_image() -> None:
    with pytest.raises(ValueError, match="at least one"):
        check_submission(LIMITS, FREE, 0, NOW, no_entries)


# --- helpers ----------------------------------------------------------------------------------------


def test_window_retry_at_counts_images_not_jobs() -> None:
    entries = [(NOW, 1), (NOW + timedelta(seconds=30), 3), (NOW + timedelta(seconds=60), 1)]
    at = window_retry_at(entries, used=5, allowed=5, requested=2, window_seconds=600)
    assert at == NOW + timedelta(seconds=630)
    assert window_retry_at(entries, used=3, allowed=5, requested=2, window_seconds=600) is None


def test_day_boundaries_are_utc() -> None:
    late = datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert day_start(late) == datetime(2030, 12, 31, tzinfo=UTC)
    assert next_midnight(late) == datetime(2031, 1, 1, tzinfo=UTC)


def test_retry_time_rounds_up_and_shows_the_date_when_far() -> None:
    at = NOW + timedelta(minutes=5, milliseconds=1)
    assert render(retry_when(at, NOW)) == f"<t:{epoch(at) + 1}:R> (<t:{epoch(at) + 1}:t>)"
    far = NOW + timedelta(days=2)
    assert render(retry_when(far, NOW)) == f"<t:{epoch(far)}:R> (<t:{epoch(far)}:f>)"
    assert text(retry_when(None)) == "later"
    assert "<t:" not in text(retry_when(at, NOW))  # the core's own rendering (logs, CLI) has no Discord markup


def test_messages_use_singular_and_plural() -> None:
    assert text(refusal_message(ACTIVE, requested=1, allowed=1, used=1)) == (
        "You already have an edit queued or running. You can start another when it finishes."
    )
    window = text(refusal_message(WINDOW, requested=1, allowed=1, used=1, retry_at=NOW, window_seconds=3600))
    assert "1 of your 1 image per hour" in window
    assert "2 of your 2 images per 2 hours" in text(
        refusal_message(WINDOW, requested=1, allowed=2, used=2, retry_at=NOW, window_seconds=7200)
    )
    assert "when one of your 2 edits finishes" in text(refusal_message(ACTIVE, requested=1, allowed=2, used=2))


def test_unknown_limit_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown limit"):
        refusal_message("weekly", requested=1, allowed=1)
