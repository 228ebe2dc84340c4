"""Contract: rate limits and quotas enforced by ``submit_job``, ``/quota``, usage reports, guild settings + audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import QuotaExceeded
from bot.quota import resolve_limits
from bot.settings import LimitDefaults
from bot.store import EffectiveLimits, GuildConfig, Requester, RoleLimits, Storage
from cogs.text import render  # as a Discord member reads it: the core hands over datetimes
from tests.storage_support import LIMITS, T0, Clock, cancel, fail, finish, gid, rid, submit, uid

MIDNIGHT = datetime(2030, 5, 18, tzinfo=UTC)


async def refused(backend: Storage, limits: EffectiveLimits, at: datetime, **job) -> QuotaExceeded:
    with pytest.raises(QuotaExceeded) as caught:
        await submit(backend, limits, at, **job)
    return caught.value


def markup(at: datetime) -> str:
    return f"<t:{int(at.timestamp())}:R>"


# --- each limit, its message and its retry time ------------------------------------------------------


async def test_window_refuses_until_enough_images_leave_it(backend: Storage) -> None:
    limits = EffectiveLimits(
        window_images=3, window_seconds=600, daily_images=25, max_active_jobs=9, guild_daily_images=200
    )
    for minute in range(3):
        await finish(backend, await submit(backend, limits, T0 + timedelta(minutes=minute)))
    refusal = await refused(backend, limits, T0 + timedelta(minutes=3), images=2)
    assert refusal.limit == "window"
    assert refusal.retry_at == T0 + timedelta(minutes=11)  # the first two images must leave
    assert markup(refusal.retry_at) in render(refusal.message)
    assert "3 of your 3 images per 10 minutes" in refusal.user_message
    await refused(backend, limits, refusal.retry_at - timedelta(milliseconds=1), images=2)
    assert (await submit(backend, limits, refusal.retry_at, images=2)).images_requested == 2


async def test_refunded_images_free_the_window_at_once(backend: Storage) -> None:
    job = await submit(backend, LIMITS, T0, images=5)
    await refused(backend, LIMITS, T0)
    await fail(backend, job, refund=True, code="api_unavailable", message="down")
    await submit(backend, LIMITS, T0, images=5)


async def test_cancelled_jobs_are_refunded(backend: Storage) -> None:
    job = await submit(backend, LIMITS, T0, images=5)
    await cancel(backend, job)
    await submit(backend, LIMITS, T0, images=5)


async def test_daily_limit_resets_at_utc_midnight(backend: Storage) -> None:
    limits = EffectiveLimits(
        window_images=10, window_seconds=60, daily_images=4, max_active_jobs=9, guild_daily_images=200
    )
    await finish(backend, await submit(backend, limits, T0, images=3))
    refusal = await refused(backend, limits, T0 + timedelta(hours=2), images=2)
    assert refusal.limit == "daily"
    assert refusal.retry_at == MIDNIGHT
    assert markup(MIDNIGHT) in render(refusal.message)
    assert "3 of your 4 images for today" in refusal.user_message
    assert "Or ask for 1 image now." in refusal.user_message
    await submit(backend, limits, MIDNIGHT, images=2)


async def test_active_jobs_limit_counts_queued_and_running(backend: Storage) -> None:
    first = await submit(backend, LIMITS, T0)
    await submit(backend, LIMITS, T0)
    await backend.claim_job((await submit(backend, LIMITS, T0)).id)
    refusal = await refused(backend, LIMITS, T0)
    assert (refusal.limit, refusal.retry_at) == ("active", None)
    assert "when one of your 3 edits finishes" in refusal.user_message
    await finish(backend, first)
    await submit(backend, LIMITS, T0)


async def test_guild_daily_cap_counts_every_member(backend: Storage) -> None:
    limits = EffectiveLimits(
        window_images=5, window_seconds=600, daily_images=25, max_active_jobs=3, guild_daily_images=6
    )
    await submit(backend, limits, T0, user=uid(1), images=3)
    await submit(backend, limits, T0, user=uid(2), images=2)
    refusal = await refused(backend, limits, T0, user=uid(3), images=2)
    assert (refusal.limit, refusal.retry_at) == ("guild_daily", MIDNIGHT)
    assert "This server has used 5 of its 6 images" in refusal.user_message
    await submit(backend, limits, T0, user=uid(3), images=1)
    await submit(backend, limits, T0, user=uid(3), images=2, guild=gid(11))  # another server
    await submit(backend, limits, T0, user=uid(4), images=2, guild=None)  # DMs have no server cap


async def test_exempt_members_skip_per_user_limits_but_not_the_guild_cap(backend: Storage) -> None:
    exempt = EffectiveLimits(
        window_images=1, window_seconds=600, daily_images=1, max_active_jobs=1, guild_daily_images=8, exempt=True
    )
    for _ in range(4):
        await submit(backend, exempt, T0, images=2)
    assert (await refused(backend, exempt, T0)).limit == "guild_daily"


async def test_a_request_bigger_than_the_limit_says_it_can_never_fit(backend: Storage) -> None:
    refusal = await refused(backend, LIMITS, T0, images=6)
    assert (refusal.limit, refusal.retry_at) == ("too_many_images", None)
    assert "can never fit" in refusal.user_message and "Ask for 5 or fewer" in refusal.user_message


async def test_a_limit_of_zero_allows_no_images(backend: Storage) -> None:
    off = EffectiveLimits(
        window_images=5, window_seconds=600, daily_images=0, max_active_jobs=3, guild_daily_images=200
    )
    refusal = await refused(backend, off, T0)
    assert (refusal.limit, refusal.retry_at) == ("daily", None)
    assert "switched off" in refusal.user_message


async def test_per_user_limits_count_across_servers_and_dms(backend: Storage) -> None:
    await submit(backend, LIMITS, T0, guild=gid(1), images=2)
    await submit(backend, LIMITS, T0, guild=gid(2), images=2)
    await submit(backend, LIMITS, T0, guild=None, images=1)
    assert (await refused(backend, LIMITS, T0, guild=gid(3))).limit == "window"


async def test_owner_pays_sessions_charge_the_payer(backend: Storage) -> None:
    await submit(backend, LIMITS, T0, user=uid(1), payer_user_id=uid(9), images=5)
    assert (await refused(backend, LIMITS, T0, user=uid(2), payer_user_id=uid(9))).limit == "window"
    await submit(backend, LIMITS, T0, user=uid(1), images=5)  # the requester's own window is untouched


async def test_deleting_history_does_not_reset_a_quota(backend: Storage) -> None:
    job = await finish(backend, await submit(backend, LIMITS, T0, images=5))
    assert await backend.delete_user_history(uid(1)) == 1
    assert await backend.get_job(job.id) is None
    assert (await refused(backend, LIMITS, T0)).limit == "window"


# --- /quota and the usage report ---------------------------------------------------------------------


async def test_quota_status_shows_usage_and_when_it_frees(backend: Storage) -> None:
    await finish(backend, await submit(backend, LIMITS, T0 - timedelta(hours=2), images=2))  # today, out of window
    await finish(backend, await submit(backend, LIMITS, T0 - timedelta(minutes=4), images=1))
    await submit(backend, LIMITS, T0 - timedelta(minutes=1), images=2)  # still queued
    await submit(backend, LIMITS, T0, user=uid(2), images=3)
    status = await backend.quota_status(Requester(uid(1), gid(10)), LIMITS, T0)
    assert status.limits == LIMITS
    assert (status.window_used, status.daily_used, status.active_jobs) == (3, 5, 1)
    assert status.window_frees_at == T0 + timedelta(minutes=6)
    assert status.daily_resets_at == MIDNIGHT
    assert status.guild_daily_used == 8
    dm = await backend.quota_status(Requester(uid(5), None), LIMITS, T0)
    assert (dm.window_used, dm.window_frees_at, dm.guild_daily_used) == (0, None, None)


async def test_usage_report_lists_charged_images_per_member(backend: Storage) -> None:
    await finish(backend, await submit(backend, now=T0 - timedelta(days=2), user=uid(1), images=4))  # too old
    await finish(backend, await submit(backend, now=T0, user=uid(1), images=2))
    await finish(backend, await submit(backend, now=T0, user=uid(1), images=1))
    await finish(backend, await submit(backend, now=T0, user=uid(2), images=4), delivered=3, withheld=1)
    refunded = await submit(backend, now=T0, user=uid(3), images=2)
    await fail(backend, refunded, refund=True, code="api_error", message="boom")
    await submit(backend, now=T0, user=uid(4), images=2)  # still running: not charged yet
    await finish(backend, await submit(backend, now=T0, user=uid(5), guild=gid(11)))  # another server
    rows = await backend.usage_report(gid(10), T0 - timedelta(days=1))
    assert [(r.user_id, r.images, r.jobs) for r in rows] == [(uid(2), 4, 1), (uid(1), 3, 2)]


# --- guild settings and the audit log --------------------------------------------------------------------


async def test_guild_config_defaults_to_no_overrides(backend: Storage) -> None:
    assert await backend.guild_config(gid(10)) == GuildConfig(guild_id=gid(10))
    assert await backend.audit_log(gid(10)) == []


async def test_update_guild_config_sets_resets_and_audits(backend: Storage, clock: Clock) -> None:
    config = await backend.update_guild_config(gid(10), uid(500), daily_images=50, window_minutes=30)
    assert (config.daily_images, config.window_minutes, config.window_images) == (50, 30, None)
    clock.advance(minutes=1)
    config = await backend.update_guild_config(gid(10), uid(501), daily_images=None, guild_daily_images=0)
    assert (config.daily_images, config.guild_daily_images) == (None, 0)
    await backend.update_guild_config(gid(10), uid(501), guild_daily_images=0)  # no change: no audit entry
    log = await backend.audit_log(gid(10))
    assert [(a.actor_id, a.action, a.old_value, a.new_value) for a in log] == [
        (uid(501), "set guild_daily_images", "default", "0"),
        (uid(501), "set daily_images", "50", "default"),
        (uid(500), "set window_minutes", "default", "30"),
        (uid(500), "set daily_images", "default", "50"),
    ]
    assert log[0].created_at == clock.now and log[-1].created_at == T0
    assert len(await backend.audit_log(gid(10), limit=2)) == 2
    assert await backend.guild_config(gid(11)) == GuildConfig(guild_id=gid(11))


@pytest.mark.parametrize(
    "changes",
    [{"weekly_images": 5}, {"roles": 1}, {"daily_images": -1}, {"daily_images": True}, {"window_minutes": 0}],
)
async def test_update_guild_config_rejects_bad_changes(backend: Storage, changes: dict) -> None:
    with pytest.raises(ValueError):
        await backend.update_guild_config(gid(10), uid(1), **changes)
    assert await backend.guild_config(gid(10)) == GuildConfig(guild_id=gid(10))


async def test_role_limits_are_saved_updated_removed_and_audited(backend: Storage) -> None:
    await backend.set_role_limits(gid(10), uid(1), RoleLimits(role_id=rid(300), window_images=20), rid(300))
    config = await backend.set_role_limits(
        gid(10), uid(1), RoleLimits(role_id=rid(200), daily_images=0, exempt=True), rid(200)
    )
    assert config.roles == (RoleLimits(rid(200), daily_images=0, exempt=True), RoleLimits(rid(300), window_images=20))
    config = await backend.set_role_limits(
        gid(10), uid(2), RoleLimits(role_id=rid(300), window_images=25, max_active_jobs=4), rid(300)
    )
    assert RoleLimits(rid(300), window_images=25, max_active_jobs=4) in config.roles
    config = await backend.set_role_limits(gid(10), uid(3), None, rid(200))
    assert [r.role_id for r in config.roles] == [rid(300)]
    await backend.set_role_limits(gid(10), uid(3), None, rid(999))  # nothing to remove: no audit entry
    log = await backend.audit_log(gid(10))
    assert [(a.action, a.old_value, a.new_value) for a in log] == [
        (f"role {rid(200)} removed", "daily_images=0, exempt", None),
        (f"role {rid(300)}", "window_images=20", "window_images=25, max_active_jobs=4"),
        (f"role {rid(200)}", "none", "daily_images=0, exempt"),
        (f"role {rid(300)}", "none", "window_images=20"),
    ]


async def test_role_limits_validation(backend: Storage) -> None:
    with pytest.raises(ValueError, match="differ"):
        await backend.set_role_limits(gid(10), uid(1), RoleLimits(role_id=rid(1)), rid(2))
    with pytest.raises(ValueError):
        await backend.set_role_limits(gid(10), uid(1), RoleLimits(role_id=rid(1), daily_images=-3), rid(1))


async def test_stored_overrides_resolve_into_the_limits_submit_enforces(backend: Storage) -> None:
    defaults = LimitDefaults(user_window_images=2, user_window_minutes=10)
    await backend.update_guild_config(gid(10), uid(1), window_images=3)
    await backend.set_role_limits(gid(10), uid(1), RoleLimits(role_id=rid(77), exempt=True), rid(77))
    member = resolve_limits(defaults, await backend.guild_config(gid(10)), [rid(5)])
    vip = resolve_limits(defaults, await backend.guild_config(gid(10)), [rid(5), rid(77)])
    await submit(backend, member, T0, user=uid(1), images=3)
    assert (await refused(backend, member, T0, user=uid(1))).limit == "window"
    for _ in range(3):
        await submit(backend, vip, T0, user=uid(2), images=3)
