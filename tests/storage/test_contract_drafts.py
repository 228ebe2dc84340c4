"""The editor's draft methods on every backend: round trip, single use under concurrency, forgetting."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.store import DraftState, NewDraft, Requester, Storage
from tests.storage_support import T0, Clock

USER = 183465712345678901
GUILD = 383465712345678903
CHANNEL = 483465712345678904
THREAD = 583465712345678905


def new_draft(expires_in: timedelta = timedelta(minutes=15), **changes) -> NewDraft:
    values = dict(
        requester=Requester(USER, GUILD, CHANNEL, THREAD),
        prompt="a red hat",
        options={"num_images": 2, "seed": None},
        image_sha="a" * 64,
        expires_at=T0 + expires_in,
        role_ids=(683465712345678906, 783465712345678907),
        private=False,
        reply_token="secret-interaction-token",
        application_id=883465712345678908,
        payer_user_id=983465712345678909,
        session_id=4,
        mask_sha="b" * 64,
        parent_job_id=12,
        image_index=1,
        place="the thread “hats”",
    )
    values.update(changes)
    return NewDraft(**values)


async def test_round_trip_keeps_every_field(backend: Storage) -> None:
    storage = backend
    made = await storage.create_draft(new_draft())
    again = await storage.get_draft(made.id)
    assert again == made
    assert again is not None and again.state is DraftState.OPEN and again.created_at == T0
    for name in NewDraft.__dataclass_fields__:
        assert getattr(again, name) == getattr(new_draft(), name), name
    assert "secret-interaction-token" not in repr(again)
    assert await storage.get_draft(made.id + 1) is None


async def test_one_of_two_concurrent_claims_wins_and_a_refusal_reopens(backend: Storage) -> None:
    storage = backend
    draft = await storage.create_draft(new_draft())
    claims = await asyncio.gather(storage.claim_draft(draft.id), storage.claim_draft(draft.id))
    assert sum(c is not None for c in claims) == 1
    await storage.settle_draft(draft.id, None)  # refused (a quota): open again
    assert (await storage.get_draft(draft.id)).state is DraftState.OPEN  # type: ignore[union-attr]
    assert await storage.claim_draft(draft.id) is not None
    await storage.settle_draft(draft.id, 77)
    done = await storage.get_draft(draft.id)
    assert done is not None and done.state is DraftState.CONFIRMED and done.job_id == 77
    assert await storage.claim_draft(draft.id) is None


async def test_long_expired_drafts_are_forgotten(backend: Storage, clock: Clock) -> None:
    storage = backend
    old = await storage.create_draft(new_draft())
    clock.advance(hours=2)
    recent = await storage.create_draft(new_draft(expires_in=timedelta(hours=2)))
    assert await storage.get_draft(old.id) is not None  # expired an hour ago: kept for a day
    clock.advance(days=2)
    await storage.create_draft(new_draft(expires_in=timedelta(days=2)))
    assert await storage.get_draft(old.id) is None and await storage.get_draft(recent.id) is None
