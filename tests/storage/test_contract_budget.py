"""Contract: the operator's ``DAILY_IMAGE_BUDGET`` (issue 10) — one count for the whole bot, every server
and DM together, checked in the reserving transaction, so concurrent submissions never overshoot it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import QuotaExceeded
from bot.store import EffectiveLimits, Storage
from cogs.text import render
from tests.storage_support import T0, MakeBackend, fail, finish, gid, new_job, submit, uid

MIDNIGHT = datetime(2030, 5, 18, tzinfo=UTC)
ROOMY = EffectiveLimits(
    window_images=100, window_seconds=600, daily_images=100, max_active_jobs=100, guild_daily_images=1000
)


def budget(images: int, **changes: object) -> EffectiveLimits:
    return replace(ROOMY, bot_daily_images=images, **changes)  # type: ignore[arg-type]


async def test_100_concurrent_submissions_from_many_users_and_servers_stop_exactly_at_the_budget(
    make_backend: MakeBackend,
) -> None:
    """Two storages on one database (two processes), 100 users in 10 servers and DMs at once."""
    async with make_backend() as one, make_backend() as two:
        jobs = [
            await new_job(one, user=uid(n), guild=None if n % 10 == 0 else gid(n % 10), data=f"image {n}".encode())
            for n in range(100)
        ]
        results = await asyncio.gather(
            *((one if n % 2 else two).submit_job(job, budget(37), T0) for n, job in enumerate(jobs)),
            return_exceptions=True,
        )
        accepted = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert sum(j.images_requested for j in accepted) == 37
        assert len(refused) == 63 and all(isinstance(r, QuotaExceeded) and r.limit == "bot_daily" for r in refused)
        status = await one.quota_status(accepted[0].requester, budget(37), T0)
        assert status.daily_used == 1  # each user's own count is untouched by the others
        assert status.bot_daily_used == 37  # /quota shows the budget's use too
        assert (await one.quota_status(accepted[0].requester, ROOMY, T0)).bot_daily_used is None  # no budget


async def test_concurrent_multi_image_submissions_never_overshoot(backend: Storage) -> None:
    jobs = [await new_job(backend, user=uid(n), guild=gid(n % 7), images=1 + n % 4) for n in range(100)]
    results = await asyncio.gather(*(backend.submit_job(j, budget(50), T0) for j in jobs), return_exceptions=True)
    accepted = sum(r.images_requested for r in results if not isinstance(r, BaseException))
    assert 47 <= accepted <= 50  # never over; at most one 4-image request short of it
    assert {r.limit for r in results if isinstance(r, QuotaExceeded)} == {"bot_daily"}


async def test_refusal_names_the_bots_budget_and_when_it_resets(backend: Storage) -> None:
    await submit(backend, budget(3), T0, user=uid(1), images=2)
    with pytest.raises(QuotaExceeded) as caught:
        await submit(backend, budget(3), T0, user=uid(2), guild=gid(20), images=2)
    refusal = caught.value
    assert refusal.limit == "bot_daily" and refusal.retry_at == MIDNIGHT
    text = render(refusal.message)
    assert "This bot has used 2 of its daily budget of 3 images" in text, text
    assert f"<t:{int(MIDNIGHT.timestamp())}:R>" in text and "Or ask for 1 image now" in text
    await submit(backend, budget(3), T0, user=uid(2), guild=gid(20), images=1)  # exactly the rest fits
    await submit(backend, budget(3), MIDNIGHT, user=uid(2), images=3)  # a new UTC day, a new budget


async def test_exempt_roles_are_not_exempt_from_the_budget(backend: Storage) -> None:
    exempt = budget(2, exempt=True, daily_images=0)
    await submit(backend, exempt, T0, images=2)  # the per-user limit of 0 does not apply to them
    with pytest.raises(QuotaExceeded) as caught:
        await submit(backend, exempt, T0, images=1)
    assert caught.value.limit == "bot_daily"


async def test_a_budget_of_0_switches_edits_off_and_refunds_free_it(backend: Storage) -> None:
    with pytest.raises(QuotaExceeded) as caught:
        await submit(backend, budget(0), T0)
    assert "daily budget to 0 images" in render(caught.value.message)
    first = await submit(backend, budget(2), T0, images=2)
    await fail(backend, first, refund=True)  # a refunded job gives the budget back
    charged = await submit(backend, budget(2), T0 + timedelta(minutes=1), images=2)
    await finish(backend, charged)
    with pytest.raises(QuotaExceeded):
        await submit(backend, budget(2), T0 + timedelta(minutes=2))


async def test_precheck_applies_the_budget_too(backend: Storage) -> None:
    job = await submit(backend, budget(1), T0)
    with pytest.raises(QuotaExceeded) as caught:
        await backend.precheck(replace(job.requester, user_id=uid(9)), None, 1, budget(1))
    assert caught.value.limit == "bot_daily"
