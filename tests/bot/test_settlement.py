"""``bot.settlement``: who pays, what finishing a job costs, where the session head goes (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import settlement
from bot.store import Job, JobAction, JobStatus, OutputImage, Requester, SessionHead, Settlement

REQUESTER = Requester(1_101_234_567_890_123_456, 1_202_345_678_901_234_567, 1_303_456_789_012_345_678)
OWNER = 1_101_234_567_890_999_999


def job(images: int = 4, session_id: int | None = None) -> Job:
    return Job(
        id=7,
        requester=REQUESTER,
        action=JobAction.EDIT,
        prompt="p",
        options={},
        seed=None,
        status=JobStatus.RUNNING,
        attempts=1,
        images_requested=images,
        images_delivered=0,
        images_withheld=0,
        input_sha="a" * 64,
        mask_sha="b" * 64,
        created_at=datetime(2030, 5, 17, tzinfo=UTC),
        payer_user_id=REQUESTER.user_id,
        session_id=session_id,
    )


def out(index: int, shown: bool = True) -> OutputImage:
    return OutputImage(index, "c" * 64 if shown else None, None, shown, None, None)


def test_the_requester_pays_unless_someone_else_is_named() -> None:
    assert settlement.payer_of(REQUESTER, None) == REQUESTER.user_id
    assert settlement.payer_of(REQUESTER, OWNER) == OWNER


@pytest.mark.parametrize(
    ("outputs", "charged", "head"),
    [
        ([out(0), out(1), out(2), out(3)], 4, 0),
        ([out(0, shown=False), out(1), out(2)], 3, 1),  # withheld images are billed; the head skips them
        ([out(0)], 1, 0),  # fewer than asked: the rest is released
        ([out(0), out(1), out(2), out(3), out(4)], 5, 0),  # whatever the API produced is what it billed
        ([out(0, shown=False)], 1, None),  # nothing to show: the head stays
    ],
)
def test_a_success_charges_what_was_produced_and_moves_the_head_to_the_first_shown_image(
    outputs: list[OutputImage], charged: int, head: int | None
) -> None:
    assert settlement.succeeded(job(), outputs) == Settlement(charged)  # not in a session: no head to move
    in_session = settlement.succeeded(job(session_id=55), outputs)
    assert in_session == Settlement(charged, None if head is None else SessionHead(55, head))


def test_failures_and_cancels() -> None:
    assert settlement.failed(job(4), refund=True) == Settlement(0)
    assert settlement.failed(job(4), refund=False) == Settlement(4)  # the user caused it: the reservation is charged
    assert settlement.cancelled(job(4)) == Settlement(0)
    with pytest.raises(ValueError):
        Settlement(-1)
