"""Acknowledged interactions on every backend: recorded at the defer, linked to the job they became
(or matched to it by token when a crash came before the link), settled, forgotten by retention."""

from __future__ import annotations

from datetime import timedelta

from bot.store import AckedInteraction, Storage
from tests.storage_support import T0, UNLIMITED, cid, gid, new_job, uid

APP = 883465712345678908


def acked(n: int, at=T0, token: str | None = None, **changes) -> AckedInteraction:
    values = dict(
        interaction_id=1_183_465_712_345_678_900 + n,
        application_id=APP,
        user_id=uid(1),
        guild_id=gid(10),
        channel_id=cid(100),
        locale="zh-CN",
        created_at=at,
        token=token or f"secret-token-{n}",
    )
    values.update(changes)
    return AckedInteraction(**values)


async def test_round_trip_keeps_every_field_and_hides_the_token(backend: Storage) -> None:
    made = acked(1, guild_id=None, channel_id=None)
    await backend.record_interaction(made)
    await backend.record_interaction(acked(1, locale="en-US"))  # a repeat is ignored, not an error
    assert await backend.open_interactions(T0) == [made]
    assert "secret-token-1" not in repr(made)


async def test_open_lists_only_unsettled_recent_ones_oldest_first(backend: Storage) -> None:
    old, first, second, settled = (
        acked(1, T0 - timedelta(minutes=20)),
        acked(2, T0 + timedelta(seconds=1)),
        acked(3, T0 + timedelta(seconds=2)),
        acked(4, T0 + timedelta(seconds=3)),
    )
    for record in (second, settled, old, first):
        await backend.record_interaction(record)
    await backend.settle_interaction(settled.interaction_id)
    await backend.settle_interaction(acked(999).interaction_id)  # never recorded: nothing happens
    found = await backend.open_interactions(T0 - timedelta(minutes=15))
    assert [i.interaction_id for i in found] == [first.interaction_id, second.interaction_id]
    assert all(not i.settled and i.job_id is None for i in found)


async def test_the_job_is_found_by_link_or_by_token(backend: Storage) -> None:
    linked, crashed, orphan = acked(1), acked(2, token="tok-crashed"), acked(3)
    for record in (linked, crashed, orphan):
        await backend.record_interaction(record)
    job_a = await backend.submit_job(await new_job(backend, reply_token=linked.token), UNLIMITED, T0)
    job_b = await backend.submit_job(await new_job(backend, reply_token="tok-crashed"), UNLIMITED, T0)
    await backend.link_interaction(linked.interaction_id, job_a.id)  # the crashed one never got here
    found = {i.interaction_id: i.job_id for i in await backend.open_interactions(T0)}
    assert found == {linked.interaction_id: job_a.id, crashed.interaction_id: job_b.id, orphan.interaction_id: None}


async def test_retention_forgets_old_records(backend: Storage) -> None:
    await backend.record_interaction(acked(1, T0 - timedelta(days=2)))
    await backend.record_interaction(acked(2, T0))
    assert await backend.forget_interactions(T0 - timedelta(days=1)) == 1
    assert await backend.forget_interactions(T0 - timedelta(days=1)) == 0
    assert [i.interaction_id for i in await backend.open_interactions(T0 - timedelta(days=3))] == [
        acked(2).interaction_id
    ]
