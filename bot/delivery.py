"""What to do when a result cannot be posted where it was asked for (issue 10: no silent failure).

The rules, not the Discord calls (those are in ``cogs/delivery.py``):

* A failure is **transient** when trying again later may work — a server error (5xx), a rate limit
  (429) or no answer at all (network) — and **permanent** otherwise (403 missing permissions, 404 the
  channel or thread is gone, 400 e.g. an archived or locked thread): retrying those cannot help.
* Transient failures are retried a bounded number of times with growing pauses (``RetryPolicy``);
  permanent ones give up at once. A retried post carries the same nonce, so it can never appear twice.
* Giving up is never silent: the requester is told where to read the result, in ``fallbacks`` order —
  the interaction's own private follow-up while its token lives, else a direct message, else the log
  (``/history`` still has the result).
* An interaction token lives 15 minutes after the interaction was created (``token_alive``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
TOKEN_LIFETIME = timedelta(minutes=15)
TOKEN_MARGIN = timedelta(seconds=30)  # don't start a call with a token about to expire


class Failure(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class Fallback(StrEnum):
    FOLLOW_UP = "follow-up"  # the interaction's private (ephemeral) follow-up
    DM = "dm"
    LOG = "log"


def classify(status: int | None) -> Failure:
    """``status`` is the HTTP status of the refusal, None when no answer came (network, timeout)."""
    if status is None or status == 429 or status >= 500:
        return Failure.TRANSIENT
    return Failure.PERMANENT


def token_alive(created_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether an interaction created at ``created_at`` can still be answered through its token."""
    if created_at is None:
        return False
    return (now or datetime.now(UTC)) < created_at + TOKEN_LIFETIME - TOKEN_MARGIN


def fallbacks(token_live: bool) -> list[Fallback]:
    """Where to tell the requester, in order, once posting the result where it belongs failed."""
    return [Fallback.FOLLOW_UP, Fallback.DM, Fallback.LOG] if token_live else [Fallback.DM, Fallback.LOG]


class GaveUp(Exception):
    """Posting failed for good; ``cause`` is the last error, ``failure`` its kind."""

    def __init__(self, cause: BaseException, failure: Failure, attempts: int) -> None:
        super().__init__(f"{failure} failure after {attempts} attempt(s): {type(cause).__name__}")
        self.cause = cause
        self.failure = failure
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Pauses (seconds) between attempts after transient failures: ``len(delays) + 1`` attempts in all."""

    delays: tuple[float, ...] = (2.0, 8.0)

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        status_of: Callable[[BaseException], int | None],
        *,
        what: str = "post",
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> T:
        """Call ``attempt`` until it succeeds, a permanent failure, or the attempts run out (``GaveUp``).

        ``status_of`` maps an exception to its HTTP status (None: no answer); it raises again what is
        not a delivery failure at all (a bug must not be retried)."""
        for number in range(1, len(self.delays) + 2):
            try:
                return await attempt()
            except Exception as exc:
                status = status_of(exc)
                failure = classify(status)
                if failure is Failure.PERMANENT or number > len(self.delays):
                    raise GaveUp(exc, failure, number) from exc
                pause = self.delays[number - 1]
                log.info("%s failed (%s); attempt %d again in %.1fs", what, status or "no answer", number + 1, pause)
                await sleep(pause)
        raise AssertionError("unreachable")
