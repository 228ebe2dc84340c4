"""Rate limits and quotas enforced by ``submit_job``, ``/quota``, usage reports, guild settings + audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import QuotaExceeded
from bot.quota import resolve_limits
from bot.settings import LimitDefaults
from bot.store import EffectiveLimits, GuildConfig, Requester, RoleLimits
from cogs.text import render  # as a Discord member reads it: the core hands over datetimes
from storage.sqlite import SqliteStorage
from tests.storage_support import LIMITS, T0, Clock, finish, make_storage, submit

MIDNIGHT = datetime(2030, 5, 18, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStorage]:
    async with make_storage(tmp_path, clock) as opened:
        yield opened


async def refused(storage: SqliteStorage, limits: EffectiveLimits, at: datetime, **job) -> QuotaExceeded:
    with pytest.raises(QuotaExceeded) as caught:
        await submit(storage, limits, at, **job)
    return caught.value


def markup(at: datetime) -> str:
    return f"<t:{int(at.timestamp())}:R>"


# --- each limit, its message and its retry time ------------------------------------------------------


async def test_window_refuses_until_enough_images_leave_it(storage: SqliteStorage) -> None:
    limits = EffectiveLimits(
        window_images=3, window_seconds=600, daily_images=25, max_active_jobs=9, guild_daily_images=200
    )
    for minute in range(3):
        await finish(storage, await submit(storage, limits, T0 + timedelta(minutes=minute)))
    refusal = await refused(storage, limits, T0 + timedelta(minutes=3), images=2)
    assert refusal.limit == "window"
    assert refusal.retry_at == T0 + timedelta(minutes=11)  # the first two images must leave
    assert markup(refusal.retry_at) in render(refusal.message)
    assert "3 of your 3 images per 10 minutes" in refusal.user_message
    await refused(storage, limits, refusal.retry_at - timedelta(milliseconds=1), images=2)
    assert (await submit(storage, limits, refusal.retry_at, images=2)).images_requested == 2


async def test_refunded_images_free_the_window_at_once(storage: SqliteStorage) -> None:
    job = await submit(storage, LIMITS, T0, images=5)
    await refused(storage, LIMITS, T0)
    await storage.fail_job(job.id, "api_unavailable", "down", refund=True)
    await submit(storage, LIMITS, T0, images=5)


async def test_cancelled_jobs_are_refunded(storage: SqliteStorage) -> None:
    job = await submit(storage, LIMITS, T0, images=5)
    await storage.cancel_job(job.id)
    await submit(storage, LIMITS, T0, images=5)


async def test_daily_limit_resets_at_utc_midnight(storage: SqliteStorage) -> None:
    limits = EffectiveLimits(
        window_images=10, window_seconds=60, daily_images=4, max_active_jobs=9, guild_daily_images=200
    )
    await finish(storage, await submit(storage, limits, T0, images=3))
    refusal = await refused(storage, limits, T0 + timedelta(hours=2), images=2)
    assert refusal.limit == "daily"
    assert refusal.retry_at == MIDNIGHT
    assert markup(MIDNIGHT) in render(refusal.message)
    assert "3 of your 4 images for today" in refusal.user_message
    assert "Or ask for 1 image now." in refusal.user_message
    await submit(storage, limits, MIDNIGHT, images=2)


async def test_active_jobs_limit_counts_queued_and_running(storage: SqliteStorage) -> None:
    first = await submit(storage, LIMITS, T0)
    await submit(storage, LIMITS, T0)
    await storage.claim_job((await submit(storage, LIMITS, T0)).id)
    refusal = await refused(storage, LIMITS, T0)
    assert (refusal.limit, refusal.retry_at) == ("active", None)
    assert "when one of your 3 edits finishes" in refusal.user_message
    await finish(storage, first)
    await submit(storage, LIMITS, T0)


async def test_guild_daily_cap_counts_every_member(storage: SqliteStorage) -> None:
    limits = EffectiveLimits(
        window_images=5, window_seconds=600, daily_images=25, max_active_jobs=3, guild_daily_images=6
    )
    await submit(storage, limits, T0, user=1, images=3)
    await submit(storage, limits, T0, user=2, images=2)
    refusal = await refused(storage, limits, T0, user=3, images=2)
    assert (refusal.limit, refusal.retry_at) == ("guild_daily", MIDNIGHT)
    assert "This server has used 5 of its 6 images" in refusal.user_message
    await submit(storage, limits, T0, user=3, images=1)
    await submit(storage, limits, T0, user=3, images=2, guild=11)  # another server
    await submit(storage, limits, T0, user=4, images=2, guild=None)  # DMs have no server cap


async def test_exempt_members_skip_per_user_limits_but_not_the_guild_cap(storage: SqliteStorage) -> None:
    exempt = EffectiveLimits(
        window_images=1, window_seconds=600, daily_images=1, max_active_jobs=1, guild_daily_images=8, exempt=True
    )
    for _ in range(4):
        await submit(storage, exempt, T0, images=2)
    assert (await refused(storage, exempt, T0)).limit == "guild_daily"


async def test_a_request_bigger_than_the_limit_says_it_can_never_fit(storage: SqliteStorage) -> None:
    refusal = await refused(storage, LIMITS, T0, images=6)
    assert (refusal.limit, refusal.retry_at) == ("too_many_images", None)
    assert "can never fit" in refusal.user_message and "Ask for 5 or fewer" in refusal.user_message


async def test_a_limit_of_zero_allows_no_images(storage: SqliteStorage) -> None:
    off = EffectiveLimits(
        window_images=5, window_seconds=600, daily_images=0, max_active_jobs=3, guild_daily_images=200
    )
    refusal = await refused(storage, off, T0)
    assert (refusal.limit, refusal.retry_at) == ("daily", None)
    assert "switched off" in refusal.user_message


async def test_per_user_limits_count_across_servers_and_dms(storage: SqliteStorage) -> None:
    await submit(storage, LIMITS, T0, guild=1, images=2)
    await submit(storage, LIMITS, T0, guild=2, images=2)
    await submit(storage, LIMITS, T0, guild=None, images=1)
    assert (await refused(storage, LIMITS, T0, guild=3)).limit == "window"


async def test_owner_pays_sessions_charge_the_payer(storage: SqliteStorage) -> None:
    await submit(storage, LIMITS, T0, user=1, payer_user_id=9, images=5)
    assert (await refused(storage, LIMITS, T0, user=2, payer_user_id=9)).limit == "window"
    await submit(storage, LIMITS, T0, user=1, images=5)  # the requester's own window is untouched


async def test_deleting_history_does_not_reset_a_quota(storage: SqliteStorage) -> None:
    job = await finish(storage, await submit(storage, LIMITS, T0, images=5))
    assert await storage.delete_user_history(1) == 1
    assert await storage.get_job(job.id) is None
    assert (await refused(storage, LIMITS, T0)).limit == "window"


# --- /quota and the usage report ---------------------------------------------------------------------


async def test_quota_status_shows_usage_and_when_it_frees(storage: SqliteStorage) -> None:
    await finish(storage, await submit(storage, LIMITS, T0 - timedelta(hours=2), images=2))  # today, out of window
    await finish(storage, await submit(storage, LIMITS, T0 - timedelta(minutes=4), images=1))
    await submit(storage, LIMITS, T0 - timedelta(minutes=1), images=2)  # still queued
    await submit(storage, LIMITS, T0, user=2, images=3)
    status = await storage.quota_status(Requester(1, 10), LIMITS, T0)
    assert status.limits == LIMITS
    assert (status.window_used, status.daily_used, status.active_jobs) == (3, 5, 1)
    assert status.window_frees_at == T0 + timedelta(minutes=6)
    assert status.daily_resets_at == MIDNIGHT
    assert status.guild_daily_used == 8
    dm = await storage.quota_status(Requester(5, None), LIMITS, T0)
    assert (dm.window_used, dm.window_frees_at, dm.guild_daily_used) == (0, None, None)


async def test_usage_report_lists_charged_images_per_member(storage: SqliteStorage) -> None:
    await finish(storage, await submit(storage, now=T0 - timedelta(days=2), user=1, images=4))  # too old
    await finish(storage, await submit(storage, now=T0, user=1, images=2))
    await finish(storage, await submit(storage, now=T0, user=1, images=1))
    await finish(storage, await submit(storage, now=T0, user=2, images=4), delivered=3, withheld=1)
    refunded = await submit(storage, now=T0, user=3, images=2)
    await storage.fail_job(refunded.id, "api_error", "boom", refund=True)
    await submit(storage, now=T0, user=4, images=2)  # still running: not charged yet
    await finish(storage, await submit(storage, now=T0, user=5, guild=11))  # another server
    rows = await storage.usage_report(10, T0 - timedelta(days=1))
    assert [(r.user_id, r.images, r.jobs) for r in rows] == [(2, 4, 1), (1, 3, 2)]


# --- guild settings and the audit log --------------------------------------------------------------------


async def test_guild_config_defaults_to_no_overrides(storage: SqliteStorage) -> None:
    assert await storage.guild_config(10) == GuildConfig(guild_id=10)
    assert await storage.audit_log(10) == []


async def test_update_guild_config_sets_resets_and_audits(storage: SqliteStorage, clock: Clock) -> None:
    config = await storage.update_guild_config(10, 500, daily_images=50, window_minutes=30)
    assert (config.daily_images, config.window_minutes, config.window_images) == (50, 30, None)
    clock.advance(minutes=1)
    config = await storage.update_guild_config(10, 501, daily_images=None, guild_daily_images=0)
    assert (config.daily_images, config.guild_daily_images) == (None, 0)
    await storage.update_guild_config(10, 501, guild_daily_images=0)  # no change: no audit entry
    log = await storage.audit_log(10)
    assert [(a.actor_id, a.action, a.old_value, a.new_value) for a in log] == [
        (501, "set guild_daily_images", "default", "0"),
        (501, "set daily_images", "50", "default"),
        (500, "set window_minutes", "default", "30"),
        (500, "set daily_images", "default", "50"),
    ]
    assert log[0].created_at == clock.now and log[-1].created_at == T0
    assert len(await storage.audit_log(10, limit=2)) == 2
    assert await storage.guild_config(11) == GuildConfig(guild_id=11)


@pytest.mark.parametrize(
    "changes",
    [{"weekly_images": 5}, {"roles": 1}, {"daily_images": -1}, {"daily_images": True}, {"window_minutes": 0}],
)
async def test_update_guild_config_rejects_bad_changes(storage: SqliteStorage, changes: dict) -> None:
    with pytest.raises(ValueError):
        await storage.update_guild_config(10, 1, **changes)
    assert await storage.guild_config(10) == GuildConfig(guild_id=10)


async def test_role_limits_are_saved_updated_removed_and_audited(storage: SqliteStorage) -> None:
    await storage.set_role_limits(10, 1, RoleLimits(role_id=300, window_images=20), 300)
    config = await storage.set_role_limits(10, 1, RoleLimits(role_id=200, daily_images=0, exempt=True), 200)
    assert config.roles == (RoleLimits(200, daily_images=0, exempt=True), RoleLimits(300, window_images=20))
    config = await storage.set_role_limits(10, 2, RoleLimits(role_id=300, window_images=25, max_active_jobs=4), 300)
    assert RoleLimits(300, window_images=25, max_active_jobs=4) in config.roles
    config = await storage.set_role_limits(10, 3, None, 200)
    assert [r.role_id for r in config.roles] == [300]
    await storage.set_role_limits(10, 3, None, 999)  # nothing to remove: no audit entry
    log = await storage.audit_log(10)
    assert [(a.action, a.old_value, a.new_value) for a in log] == [
        ("role 200 removed", "daily_images=0, exempt", None),
        ("role 300", "window_images=20", "window_images=25, max_active_jobs=4"),
        ("role 200", "none", "daily_images=0, exempt"),
        ("role 300", "none", "window_images=20"),
    ]


async def test_role_limits_validation(storage: SqliteStorage) -> None:
    with pytest.raises(ValueError, match="differ"):
        await storage.set_role_limits(10, 1, RoleLimits(role_id=1), 2)
    with pytest.raises(ValueError):
        await storage.set_role_limits(10, 1, RoleLimits(role_id=1, daily_images=-3), 1)


async def test_stored_overrides_resolve_into_the_limits_submit_enforces(storage: SqliteStorage) -> None:
    defaults = LimitDefaults(user_window_images=2, user_window_minutes=10)
    await storage.update_guild_config(10, 1, window_images=3)
    await storage.set_role_limits(10, 1, RoleLimits(role_id=77, exempt=True), 77)
    member = resolve_limits(defaults, await storage.guild_config(10), [5])
    vip = resolve_limits(defaults, await storage.guild_config(10), [5, 77])
    await submit(storage, member, T0, user=1, images=3)
    assert (await refused(storage, member, T0, user=1)).limit == "window"
    for _ in range(3):
        await submit(storage, vip, T0, user=2, images=3)
