"""The delivery rules of ``bot.delivery``: which failures are retried, how often, where to fall back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery import Failure, Fallback, GaveUp, RetryPolicy, classify, fallbacks, token_alive


class Refused(Exception):
    def __init__(self, status: int | None) -> None:
        self.status = status


def status_of(exc: BaseException) -> int | None:
    if isinstance(exc, Refused):
        return exc.status
    raise exc


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (None, Failure.TRANSIENT),
        (429, Failure.TRANSIENT),
        (500, Failure.TRANSIENT),
        (503, Failure.TRANSIENT),
        (400, Failure.PERMANENT),
        (403, Failure.PERMANENT),
        (404, Failure.PERMANENT),
        (413, Failure.PERMANENT),
    ],
)
def test_classify(status: int | None, kind: Failure) -> None:
    assert classify(status) is kind


def test_token_lives_fifteen_minutes_less_a_margin() -> None:
    t0 = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
    assert token_alive(t0, t0 + timedelta(minutes=14))
    assert not token_alive(t0, t0 + timedelta(minutes=15))
    assert not token_alive(None, t0)


def test_fallback_order() -> None:
    assert fallbacks(True) == [Fallback.FOLLOW_UP, Fallback.DM, Fallback.LOG]
    assert fallbacks(False) == [Fallback.DM, Fallback.LOG]


async def run(policy: RetryPolicy, outcomes: list[object]) -> tuple[object, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def attempt() -> object:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return await policy.run(attempt, status_of, sleep=sleep), slept


async def test_transient_failures_are_retried_with_growing_pauses() -> None:
    result, slept = await run(RetryPolicy((1.0, 3.0)), [Refused(503), Refused(None), "posted"])
    assert result == "posted" and slept == [1.0, 3.0]


async def test_attempts_are_bounded() -> None:
    with pytest.raises(GaveUp) as raised:
        await run(RetryPolicy((1.0,)), [Refused(503), Refused(429), "never"])
    assert raised.value.attempts == 2 and raised.value.failure is Failure.TRANSIENT


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_permanent_failures_give_up_at_once(status: int) -> None:
    outcomes: list[object] = [Refused(status), "never"]
    with pytest.raises(GaveUp) as raised:
        await run(RetryPolicy((1.0, 3.0)), outcomes)
    assert raised.value.attempts == 1 and raised.value.failure is Failure.PERMANENT and outcomes == ["never"]


async def test_a_bug_is_not_retried() -> None:
    with pytest.raises(KeyError):
        await run(RetryPolicy((1.0,)), [KeyError("bug"), "never"])
