"""Submissions on PostgreSQL: every limit checked and the images reserved, for a batch at a time.

A submission must read the counts it is checked against and insert its reservation while holding the
locks of every count it changes (see ``storage/postgres.py``'s docstring); with the operator's daily
budget that is one bot-wide lock. Taken one submission at a time, each holds it for two round trips
to the bot and back (the reservation and usage, then the commit), so the bot's event loop, not
PostgreSQL, set the pace: about 800 a second here, and a p99 of hundreds of milliseconds once 50
members submit at once. So a process **batches**: the submissions waiting when a lane is free go
together into one transaction, under the union of their locks, in three round trips whatever their
number (locks; one statement that inserts them all and reads each one's usage; commit and flush).

* **Each is checked as if alone, in arrival order.** The statement reads the usage every member of
  the batch is checked against as it stood before the batch (one snapshot, after the locks were
  granted) plus what the batch's *earlier* members reserve (``_EARLIER``): exactly what each would
  have read had they come one after the other. The decision stays ``bot.quota``'s, item by item. A
  refusal undoes its own rows and those of every later member, whose usage counted it; the later ones
  are then read and decided again (one more statement). So a batch never overshoots and refuses
  nothing that one-by-one submissions would have accepted.
* **Answers wait for the flush**, as before: each caller hears back once the batch's commit is on
  disk. A refusal is also held until then (it was decided against a state the batch was part of).
* **An error fails no neighbour**: if PostgreSQL fails the batch's transaction (a foreign key, a
  deadlock), each member is tried again alone, so only the one at fault sees the error. A lost
  connection fails every member of its batch, as it failed every submission in flight before.
* **Lanes**: at most ``LANES`` batches are being decided at once per process; a lane is freed as a
  batch sends its commit, so the next batch's locks are requested while that commit is on its way.
  One lane measured best: with two or four, batches were smaller and their lock sets overlapped (the
  budget's always does), so they only queued in PostgreSQL (p99 at 1,000/s offered: 4–7 ms with one,
  9 with two, 37 with four). Several processes batch independently; their locks serialise them.
* **Cancelling** a caller before its batch starts drops its submission; once the batch has started
  the submission commits like any other (as a cancellation arriving after the commit always did).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from bot.errors import QuotaExceeded
from bot.quota import Usage, check_submission, day_start
from bot.store import EffectiveLimits, NewJob, Requester
from storage import common
from storage.common import dt, ms
from storage.files import LocalFileStore
from storage.pg_locks import lock_key, released_before_flush

LANES = 1  # see the module docstring
MAX_BATCH = 64

# --- locks ----------------------------------------------------------------------------------------------


def quota_keys(requester: Requester, payer: int, limits: EffectiveLimits) -> list[int]:
    """The locks of every count a submission changes (the budget's: one count for the whole bot)."""
    keys = [lock_key("user", payer), lock_key("user", requester.user_id)]
    if limits.bot_daily_images is not None:
        keys.append(lock_key("budget", "daily"))
    if requester.guild_id is not None:
        keys.append(lock_key("guild", requester.guild_id))
    return keys


def file_keys(shas: Iterable[str | None]) -> list[int]:
    return [lock_key("file", sha) for sha in shas if sha is not None]


# --- usage ----------------------------------------------------------------------------------------------


def usage_columns(payer: str, window: str, day: str, user: str, guild: str, budget: str) -> str:
    """The counts of ``bot.quota.Usage``, in its order, from the named expressions (``day``: midnight
    UTC; ``budget``: a boolean, false skips the bot-wide total when no budget is set). The server's and
    the bot's day are read from the per-day totals of migration 008, a member's from their ledger rows."""
    used = "SELECT COALESCE(SUM(reserved + charged), 0) FROM usage_ledger WHERE"
    return (
        f"({used} user_id = {payer} AND created_at > {window}),"
        f" ({used} user_id = {payer} AND created_at >= {day}),"
        f" (SELECT COUNT(*) FROM jobs WHERE user_id = {user} AND status IN ('queued', 'running')),"
        f" (SELECT COALESCE(SUM(images), 0) FROM guild_usage_days WHERE guild_id = {guild} AND day >= {day}),"
        f" (SELECT COALESCE(SUM(images), 0) FROM bot_usage_days WHERE {budget} AND day >= {day})"
    )


# What the batch's earlier members (``e``) add to each count of member ``b``, as ``usage_columns``
# would read them once inserted: their reservations (images_requested, created_at) and their queued job.
_EARLIER = """
    COALESCE(SUM(e.images_requested)
             FILTER (WHERE e.payer_user_id = b.payer_user_id AND e.created_at > b.window_start), 0),
    COALESCE(SUM(e.images_requested) FILTER (WHERE e.payer_user_id = b.payer_user_id AND e.created_at >= b.day), 0),
    COUNT(*) FILTER (WHERE e.user_id = b.user_id),
    COALESCE(SUM(e.images_requested) FILTER (WHERE e.guild_id = b.guild_id AND e.created_at >= b.day), 0),
    COALESCE(SUM(e.images_requested) FILTER (WHERE e.created_at >= b.day), 0)
"""

_USAGE_SQL = "SELECT " + usage_columns("$1", "$2", "$3", "$4", "$5", "$6")


def window_start(limits: EffectiveLimits, now: datetime) -> int:
    return ms(now) - limits.window_seconds * 1000


def usage_of(counts: Sequence[int], requester: Requester) -> Usage:
    """``Usage`` from the five counts of ``usage_columns``."""
    guild_used = int(counts[3]) if requester.guild_id is not None else None
    return Usage(int(counts[0]), int(counts[1]), int(counts[2]), guild_used, int(counts[4]))


async def usage(
    conn: asyncpg.Connection, payer: int, requester: Requester, limits: EffectiveLimits, now: datetime
) -> Usage:
    row = await conn.fetchrow(
        _USAGE_SQL,
        payer,
        window_start(limits, now),
        ms(day_start(now)),
        requester.user_id,
        requester.guild_id,
        limits.bot_daily_images is not None,
    )
    return usage_of(row, requester)


async def refusal(
    conn: asyncpg.Connection,
    used: Usage,
    payer: int,
    images: int,
    limits: EffectiveLimits,
    now: datetime,
    uncounted: Sequence[int] = (),
) -> QuotaExceeded | None:
    """``bot.quota.check_submission`` on ``used`` (read without the ``uncounted`` jobs: reservations this
    transaction made that ``used`` leaves out). It asks for the window's entries only when the window
    refuses; a synchronous callback cannot await a query, so the decision runs a second time with the
    entries fetched (same inputs, so the same decision) only in that case."""
    wanted = False

    def probe() -> list[tuple[datetime, int]]:
        nonlocal wanted
        wanted = True
        return []

    decision = check_submission(limits, used, images, now, probe)
    if not wanted:
        return decision
    rows = await conn.fetch(
        "SELECT created_at, reserved + charged FROM usage_ledger WHERE user_id = $1 AND created_at > $2"
        " AND reserved + charged > 0 AND job_id <> ALL($3::bigint[]) ORDER BY created_at",
        payer,
        window_start(limits, now),
        list(uncounted),
    )
    entries = [(dt(at), images_) for at, images_ in rows]
    return check_submission(limits, used, images, now, lambda: entries)


# --- the batch statement --------------------------------------------------------------------------------

# (column, type) of what a member brings: the ``jobs`` columns it writes, then what it is checked by.
_TYPES = {"action": "text", "prompt": "text", "prompt_folded": "text", "options": "text", "reply_token": "text"}
_TYPES |= {"images_requested": "int", "private": "bool", "locale": "text", "guild_locale": "text"}
_JOB_COLUMNS = tuple((name, _TYPES.get(name, "bigint")) for name in common.SUBMITTED_COLUMNS)
_CHECK_COLUMNS = (("input_sha", "text"), ("mask_sha", "text"), ("window_start", "bigint"), ("day", "bigint"))
_COLUMNS = (*_JOB_COLUMNS, *_CHECK_COLUMNS, ("budget", "bool"))


def _batch_sql() -> str:
    arrays = ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(_COLUMNS, start=1))
    names = ", ".join(name for name, _ in _COLUMNS)
    written = ", ".join(name for name, _ in _JOB_COLUMNS)
    base = usage_columns("b.payer_user_id", "b.window_start", "b.day", "b.user_id", "b.guild_id", "b.budget")
    return f"""
WITH batch AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('jobs', 'id')) AS id, u.*
    FROM unnest({arrays}) WITH ORDINALITY AS u({names}, n)
), job AS (
    INSERT INTO jobs (id, {written}) SELECT id, {written} FROM batch
), images AS (
    INSERT INTO job_images (job_id, kind, idx, sha)
    SELECT id, 'input', 0, input_sha FROM batch UNION ALL SELECT id, 'mask', 0, mask_sha FROM batch
), ledger AS (
    INSERT INTO usage_ledger (job_id, user_id, guild_id, reserved, created_at)
    SELECT id, payer_user_id, guild_id, images_requested, created_at FROM batch
)
SELECT b.id, base.window_used + earlier.window_used, base.daily_used + earlier.daily_used,
       base.active + earlier.active, base.guild_used + earlier.guild_used, base.bot_used + earlier.bot_used
FROM batch AS b
CROSS JOIN LATERAL (SELECT {base}) AS base(window_used, daily_used, active, guild_used, bot_used)
CROSS JOIN LATERAL (SELECT {_EARLIER} FROM batch AS e WHERE e.n < b.n)
    AS earlier(window_used, daily_used, active, guild_used, bot_used)
ORDER BY b.n
"""


# Every member's rows are inserted by one statement and read in one snapshot: the sub-selects of
# ``usage_columns`` see the state before the statement (after the locks), ``_EARLIER`` adds the batch's.
_BATCH_SQL = _batch_sql()

# A refusal's rows and those of the members after it (their images cascade; the ledger's triggers
# take them out of the day's totals).
_UNDO_SQL = (
    "WITH gone AS (DELETE FROM jobs WHERE id = ANY($1::bigint[]))"
    " DELETE FROM usage_ledger WHERE job_id = ANY($1::bigint[])"
)


async def prepare_submissions(conn: asyncpg.Connection) -> None:
    """Prepare the batch statement and its generic plan on a new pooled connection (the pool's
    ``init``): doing it on first use cost that batch ~10 ms, every member's wait."""
    async with conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.fetch(_BATCH_SQL, *([] for _ in _COLUMNS))


# --- the batcher ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class Submission:
    job: NewJob
    limits: EffectiveLimits
    payer: int
    options: str  # the job's options as stored (JSON text)
    now_ms: int
    future: asyncio.Future[int] = field(repr=False)

    def row(self) -> tuple[object, ...]:
        """This member's values, in ``_COLUMNS`` order."""
        job, when = self.job, dt(self.now_ms)
        return (
            *common.submitted_values(job, self.payer, self.options, self.now_ms),
            job.input_sha,
            job.mask_sha,
            window_start(self.limits, when),
            ms(day_start(when)),
            self.limits.bot_daily_images is not None,
        )


Outcome = int | BaseException  # a job id, or why there is none


class SubmissionBatcher:
    """Collects a process's submissions and reserves them a batch at a time (see the module docstring).

    ``connect`` lends a pooled connection for an admitted call (the storage counts it, so closing
    waits for it)."""

    def __init__(
        self,
        connect: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]],
        files: LocalFileStore,
        *,
        lanes: int = LANES,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._connect, self._files = connect, files
        self._free, self._max_batch = lanes, max_batch
        self._waiting: deque[Submission] = deque()
        self._scheduled = False
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, job: NewJob, limits: EffectiveLimits, payer: int, options: str, now_ms: int) -> int:
        """The new job's id once its reservation is durable; raises its refusal or error otherwise."""
        loop = asyncio.get_running_loop()
        item = Submission(job, limits, payer, options, now_ms, loop.create_future())
        self._waiting.append(item)
        if not self._scheduled:  # after this turn of the loop, so the turn's other arrivals join the batch
            self._scheduled = True
            loop.call_soon(self._start)
        return await item.future

    def _start(self) -> None:
        self._scheduled = False
        while self._waiting and self._free:
            batch: list[Submission] = []
            while self._waiting and len(batch) < self._max_batch:
                item = self._waiting.popleft()
                if not item.future.done():  # its caller gave up before it started
                    batch.append(item)
            if batch:
                self._free -= 1
                task = asyncio.create_task(self._run(batch))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[Submission]) -> None:
        holding = True

        def free_lane() -> None:
            nonlocal holding
            if holding:
                holding = False
                self._free += 1
                self._start()

        outcomes: dict[Submission, Outcome] = {}
        try:
            outcomes = await self._reserve(batch, free_lane)
        except asyncpg.PostgresError as exc:
            free_lane()
            outcomes = {batch[0]: exc} if len(batch) == 1 else await self._one_by_one(batch)
        except Exception as exc:
            outcomes = dict.fromkeys(batch, exc)
        finally:  # also when the task itself is cancelled (shutdown): no caller waits forever
            free_lane()
            for item in batch:
                if item in outcomes and not item.future.done():
                    outcome = outcomes[item]
                    if isinstance(outcome, BaseException):
                        item.future.set_exception(outcome)
                    else:
                        item.future.set_result(outcome)
                elif not item.future.done():
                    item.future.cancel()

    async def _one_by_one(self, batch: list[Submission]) -> dict[Submission, Outcome]:
        """After a batch failed: each member alone, so only the one at fault sees an error."""
        outcomes: dict[Submission, Outcome] = {}
        for item in batch:
            try:
                outcomes.update(await self._reserve([item], lambda: None))
            except Exception as exc:
                outcomes[item] = exc
        return outcomes

    async def _reserve(self, batch: list[Submission], free_lane: Callable[[], None]) -> dict[Submission, Outcome]:
        """One transaction for ``batch``: its outcomes, in effect once this returns (committed, flushed)."""
        outcomes: dict[Submission, Outcome] = {}
        exclusive = [key for item in batch for key in quota_keys(item.job.requester, item.payer, item.limits)]
        shared = file_keys(sha for item in batch for sha in (item.job.input_sha, item.job.mask_sha))
        async with self._connect() as conn, released_before_flush(conn, exclusive, shared):
            live = []
            for item in batch:  # under the files' shared locks: a file cannot go between check and insert
                missing = next((s for s in (item.job.input_sha, item.job.mask_sha) if not self._files.exists(s)), None)
                if missing is None:
                    live.append(item)
                else:
                    outcomes[item] = common.file_missing(missing)
            while live:
                live = await self._decide(conn, live, outcomes)
            free_lane()
        return outcomes

    @staticmethod
    async def _decide(
        conn: asyncpg.Connection, live: list[Submission], outcomes: dict[Submission, Outcome]
    ) -> list[Submission]:
        """Insert ``live`` and decide each in order; those after a refusal are returned, to go again."""
        columns = zip(*(item.row() for item in live), strict=True)
        rows = await conn.fetch(_BATCH_SQL, *(list(column) for column in columns))
        ids = [row[0] for row in rows]
        for n, (item, row) in enumerate(zip(live, rows, strict=True)):
            job = item.job
            used = usage_of(row[1:], job.requester)
            refused = await refusal(conn, used, item.payer, job.images_requested, item.limits, dt(item.now_ms), ids[n:])
            if refused is None:
                outcomes[item] = ids[n]
                continue
            outcomes[item] = refused
            await conn.execute(_UNDO_SQL, ids[n:])
            return live[n + 1 :]
        return []
