"""The PostgreSQL backend of ``Storage`` (asyncpg, a connection pool), plus its migration runner.

Several bot processes can share one database, so every guarantee the SQLite backend gets from its
single writer is made explicit here. Design decisions, each for a reason:

* **Quota checks and reservations: advisory transaction locks, READ COMMITTED.** ``submit_job`` takes
  ``pg_advisory_xact_lock`` on its payer, its requester and its server (sorted, so two submissions
  never wait for each other in a circle), *then* reads usage and inserts. Every submission that could
  change the same count waits for the previous one to commit, and under READ COMMITTED each statement
  after the lock sees that commit: no overshoot. Submissions of unrelated users and servers never
  wait for each other (but for sharing a batch, below) — except for the operator's
  ``DAILY_IMAGE_BUDGET``: one count that *every* submission changes, so any two submissions, whoever
  and wherever, could each see room for the budget's last images. With a budget, ``submit_job`` also
  takes one global advisory lock (``budget:daily``): reservations are serialised bot-wide. The locks
  go at commit or rollback, even if the process dies. Rejected alternatives: SERIALIZABLE would abort
  most of 100 simultaneous submissions of one user with serialisation failures, each retried (a retry
  storm exactly when load peaks); row locks need a row per user and server to lock (an upsert on
  every submission) and give the same ordering at a higher cost.
* **The locks are held for the statements, not for the disk** (``pg_locks.released_before_flush``).
  A commit waits for its WAL flush (an fsync: 1–8 ms on the machines measured) and transaction locks
  go only after it, so submissions that share a lock (a server's members; with a budget, all of them)
  queued behind each other's fsyncs. Now a submission commits with ``synchronous_commit = off`` for
  its own transaction — its locks go, and its rows are visible, as soon as the commit record is in
  the WAL buffers — and then, in the same round trip and outside any lock, runs a synchronous
  transaction that writes one WAL record (``pg_logical_emit_message``) and so returns only once the
  WAL is on disk past it. Concurrent flushes share one fsync (group commit). Nothing acknowledged is
  lost: the caller is answered only after the flush, so a crash can only lose submissions nobody was
  told about; the WAL is replayed in order, so a submission whose check read another's reservation
  commits after it and is lost with it, never kept without it (a refusal may have counted a
  reservation a crash then lost: it errs towards refusing); and any synchronous commit that depends
  on a reservation (a claim) flushes it first. Durability is the server's ``synchronous_commit``
  (synchronous standbys confirm too). ``SELECT pg_current_xact_id()`` would not flush: a
  transaction that wrote no WAL commits asynchronously. Settlements (complete, fail, cancel) commit
  the same way, because a refund changes the day's totals (below), rows every submission in that
  server changes too: held through an fsync they would stall submissions. Not applied to claims: the
  claim lock (``claims:images-in-flight``) is held through an fsync, but claims are bounded by the
  images in flight and the API's latency, far below the hundreds a second that allows.
* **Submissions go in batches** (``storage/pg_submissions.py``): the submissions a process has waiting
  are checked and reserved together, in one transaction under the union of their locks, with one
  statement that inserts them all and reads each one's usage as if it had come alone, in arrival
  order; the decisions stay ``bot.quota``'s, one by one. Three round trips for the batch, whatever
  its size, instead of three for each: with a budget, the bot-wide lock is held for two round trips
  per batch rather than per submission.
* **The day's totals are kept by triggers** (migration 008): the server's daily cap and the budget
  read per-day totals (``guild_usage_days``, ``bot_usage_days`` in 16 slots) that triggers on the
  ledger keep equal to it in the same transaction, whoever writes it (a submission, a refund,
  retention, ``migrate``'s COPY, a TRUNCATE). Summing the day's ledger rows instead cost about
  0.25 µs a row, under the bot-wide lock. A member's counts still come from their own ledger rows.
* **Measured** (``benchmarks/bench_storage.py``, 2 cores, 50 concurrent submitters, a budget; see the
  README): one submission at a time under the bot-wide lock sustained ~440–630 a second, p99 above
  200 ms at 1,000/s offered. With the day's totals: ~780 a second. With batches (one batch being
  decided at a time: two or four at once were slower, their lock sets overlap) and the batch
  statement's generic plan prepared on each new pooled connection: ~7,000 a second in a closed loop
  (p99 under 10 ms), and at 1,000/s offered a p99 of 4–7 ms. Rejected before batching: a flusher
  task sharing one flush between a process's submissions (an event-loop hop before every flush, not
  faster); a pool of 20 or 30 (not measurably faster than 10).
* **Pooled connections are not reset** on release beyond asyncpg's rollback of an open transaction
  (``_keep_session``): this module leaves no session state behind, and the default reset is one more
  round trip on every call.
* **Status changes are conditional statements** (``WHERE status = 'queued'`` …), so two workers can
  never both claim or both complete a job; the settlement is applied in the same transaction.
* **Files**: a file is deleted only when no row references it. Deleting takes an exclusive advisory
  lock on the file's sha; ``submit_job`` and ``complete_job`` take a shared one on the files they
  reference, before checking the file exists. So a new reference cannot slip in between "nobody
  uses it" and the unlink, whichever process does either.
* **Deleting jobs** re-checks ``bot.retention.DELETABLE`` in the ``DELETE`` itself, so a job claimed
  while its deletion was being decided stays.
* **Same data as SQLite**: times are BIGINT epoch milliseconds, options JSON text; the core's rules
  come in from ``bot`` exactly as for SQLite (see ``bot/store.py``), the row mapping and argument
  checks from ``storage/common.py``.
* **Close** waits for the calls already running, then closes the pool (as SQLite lets queued writes
  commit first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bot.retention import DELETABLE
from bot.settlement import payer_of
from bot.store import (
    AckedInteraction,
    AuditAction,
    AuditEntry,
    AuditValue,
    CleanupReport,
    Draft,
    EffectiveLimits,
    GuildConfig,
    Job,
    JobImage,
    JobStatus,
    Lease,
    NewDraft,
    NewJob,
    OpsCounts,
    OutputImage,
    QuotaStatus,
    Requester,
    RoleLimits,
    Session,
    SessionExists,
    Settlement,
    UsageRow,
)
from storage import common
from storage.common import GUILD_FIELDS, Migration, dt, ms
from storage.files import LocalFileStore
from storage.pg_locks import lock, lock_key, released_before_flush
from storage.pg_submissions import SubmissionBatcher, file_keys, prepare_submissions, refusal, usage, window_start

log = logging.getLogger(__name__)

DELETE_CHUNK = 50  # jobs per transaction when deleting many, so no transaction holds locks for long
LEDGER_CHUNK = 500  # settled ledger rows per transaction when retention prunes them
_DELETABLE = [str(status) for status in DELETABLE]

# --- migrations ----------------------------------------------------------------------------------------


def load_migrations() -> list[Migration]:
    """The numbered ``storage/migrations/postgres/NNN_name.sql`` files (package data), in order."""
    return common.load_migrations("migrations", "postgres")


async def apply_migrations(conn: asyncpg.Connection, migrations: Sequence[Migration]) -> list[int]:
    """Apply the migrations not yet recorded, each in its own transaction; returns the versions applied.

    A session advisory lock makes a second process wait while the first migrates."""
    key = lock_key("migrations", "postgres")
    await conn.execute("SELECT pg_advisory_lock($1)", key)
    try:
        await conn.execute(common.MIGRATIONS_TABLE)
        newest = await conn.fetchval("SELECT MAX(version) FROM schema_migrations")
        common.refuse_newer_schema(newest, migrations)
        applied = []
        for migration in migrations:
            async with conn.transaction():
                if await conn.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1", migration.version):
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    ms(datetime.now(UTC)),
                )
                applied.append(migration.version)
        if applied:
            log.info("PostgreSQL database migrated to schema version %d", migrations[-1].version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", key)


# --- lock keys -------------------------------------------------------------------------------------------


# --- SQL --------------------------------------------------------------------------------------------------


def _jobs_from(source: str) -> str:
    """Jobs (from a table or a CTE named ``source``) with their input and mask shas, as ``j``."""
    return (
        f"SELECT j.*, i.sha AS input_sha, m.sha AS mask_sha FROM {source} AS j"
        " LEFT JOIN job_images AS i ON i.job_id = j.id AND i.kind = 'input' AND i.idx = 0"
        " LEFT JOIN job_images AS m ON m.job_id = j.id AND m.kind = 'mask' AND m.idx = 0"
    )


_JOBS = _jobs_from("jobs")


def _jobs_changed_by(update: str) -> str:
    """The jobs an ``UPDATE … RETURNING *`` changed, with their shas, in the same statement."""
    return f"WITH changed AS ({update}) {_jobs_from('changed')}"


_CLAIM = _jobs_changed_by(
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = $2"
    " WHERE id = $1 AND status = 'queued' RETURNING *"
)

_CLAIM_LEASED = _jobs_changed_by(
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = $2, lease_owner = $3,"
    " lease_until = $4, images_in_flight = $5 WHERE id = $1 AND status = 'queued' RETURNING *"
)
_IMAGES_IN_FLIGHT = (
    "SELECT COALESCE(SUM(images_in_flight), 0)::int FROM jobs WHERE status = 'running' AND lease_until >= $1"
)
_CLAIM_LOCK = lock_key("claims", "images-in-flight")


def _lost_where(alias: str, with_owner: bool, first: int = 1) -> str:
    if not with_owner:
        return f"{alias}lease_until < ${first}"
    return f"({alias}lease_until IS NULL OR {alias}lease_until < ${first} OR {alias}lease_owner = ${first + 1})"


_INSERT_OUTPUT = (
    "INSERT INTO job_images (job_id, kind, idx, sha, seed, is_safe, prompt_used, resolution, width, height, mime)"
    " VALUES ($1, 'output', $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)


def _updated(status: str) -> int:
    """The row count of an asyncpg command status such as ``UPDATE 1``."""
    return int(status.rsplit(" ", 1)[-1])


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own rollback of an open transaction. This
    module leaves no session state behind (``SET LOCAL`` only, transaction-scoped advisory locks; the
    migrations' session lock is released in ``finally``), so the default reset's round trip
    (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``) on every call is saved."""


# --- the storage -------------------------------------------------------------------------------------------


class PostgresStorage:
    """``Storage`` on PostgreSQL; see the module docstring for the concurrency design."""

    def __init__(
        self,
        url: str,
        files: LocalFileStore,
        *,
        min_pool: int = 1,
        max_pool: int = 10,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url
        self.files = files
        self.min_pool, self.max_pool = min_pool, max_pool
        self._clock = clock or (lambda: datetime.now(UTC))
        self._pool: asyncpg.Pool | None = None
        self._closing = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._submissions = SubmissionBatcher(self._lend, files)

    def __repr__(self) -> str:  # the URL may carry a password
        return f"PostgresStorage(pool={self.min_pool}..{self.max_pool})"

    # --- lifecycle ---------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect (a pool) and migrate. Creates the image directory if needed."""
        if self._pool is not None:
            return
        await asyncio.to_thread(self.files.root.mkdir, parents=True, exist_ok=True)
        conn = await asyncpg.connect(self.url)  # first, so the pool's connections find the schema
        try:
            await apply_migrations(conn, load_migrations())
        finally:
            await conn.close()
        self._pool = await asyncpg.create_pool(
            self.url, min_size=self.min_pool, max_size=self.max_pool, init=prepare_submissions, reset=_keep_session
        )

    async def close(self) -> None:
        """Refuse new calls, let the running ones finish, then close the pool. Idempotent."""
        if self._pool is None or self._closing:
            return
        self._closing = True
        try:
            await self._idle.wait()
            pool, self._pool = self._pool, None
            await pool.close()
        finally:
            self._closing = False

    async def __aenter__(self) -> PostgresStorage:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- operations (health checks, metrics) --------------------------------------------------------

    async def ping(self) -> None:
        """A pooled connection and ``SELECT 1``: fails when the server or the pool is unusable."""
        async with self._conn() as conn:
            await conn.fetchval("SELECT 1")

    async def ops_counts(self, since: datetime) -> OpsCounts:
        async with self._conn() as conn:
            rows = await conn.fetch(common.OPS_JOBS_SQL)
            used = await conn.fetchval(common.OPS_USED_SQL.format(since="$1"), ms(since))
        return common.ops_counts(rows, used)

    @asynccontextmanager
    async def _admitted(self) -> AsyncIterator[None]:
        """One call, counted so ``close`` can wait for it; refused once closing has begun."""
        if self._pool is None or self._closing:
            raise RuntimeError("storage is not open")
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for one call."""
        async with self._admitted():
            assert self._pool is not None
            async with self._pool.acquire() as conn:
                yield conn

    @asynccontextmanager
    async def _lend(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for a batch of calls already admitted (``close`` is waiting for them)."""
        if self._pool is None:
            raise RuntimeError("storage is not open")
        async with self._pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._conn() as conn, conn.transaction():
            yield conn

    async def _fetch_jobs(self, tail: str, *params: Any) -> list[Job]:
        async with self._conn() as conn:
            return [common.job_from_row(row) for row in await conn.fetch(f"{_JOBS} {tail}", *params)]

    def _now_ms(self) -> int:
        return ms(self._clock())

    # --- jobs ------------------------------------------------------------------------------------------

    async def submit_job(self, job: NewJob, limits: EffectiveLimits, now: datetime | None = None) -> Job:
        """Check every limit and reserve, under the locks; answer once the reservation is durable.

        Submissions go in batches (``storage/pg_submissions.py``): three round trips for a whole batch
        (locks; reserve and read the usage; commit and flush), the locks held from their grant to the
        commit, never through the flush (see the module docstring)."""
        options = common.options_json(job)
        now_ms = ms(now or self._clock())
        payer = payer_of(job.requester, job.payer_user_id)
        async with self._admitted():
            job_id = await self._submissions.submit(job, limits, payer, options, now_ms)
        self.files.unpin(job.input_sha, job.mask_sha)
        return common.queued_job(job, job_id, payer, options, now_ms)

    async def precheck(
        self, requester: Requester, payer_user_id: int | None, images: int, limits: EffectiveLimits
    ) -> None:
        """``submit_job``'s limit checks without reserving (advisory: ``submit_job`` checks again)."""
        payer, now = payer_of(requester, payer_user_id), self._clock()
        async with self._conn() as conn:
            used = await usage(conn, payer, requester, limits, now)
            refused = await refusal(conn, used, payer, images, limits, now)
        if refused is not None:
            raise refused

    async def get_job(self, job_id: int) -> Job | None:
        jobs = await self._fetch_jobs("WHERE j.id = $1", job_id)
        return jobs[0] if jobs else None

    async def jobs_with_status(
        self,
        *statuses: JobStatus,
        guild_id: int | None = None,
        after_id: int | None = None,
        job_ids: Sequence[int] | None = None,
    ) -> list[Job]:
        """Oldest first (queue order)."""
        params: list[Any] = [common.check_statuses(statuses)]
        where = "WHERE j.status = ANY($1::text[])"
        if guild_id is not None:
            params.append(guild_id)
            where += f" AND j.guild_id = ${len(params)}"
        if after_id is not None:
            params.append(after_id)
            where += f" AND j.id > ${len(params)}"
        if job_ids is not None:
            params.append(list(job_ids))
            where += f" AND j.id = ANY(${len(params)}::bigint[])"
        return await self._fetch_jobs(f"{where} ORDER BY j.id", *params)

    async def claim_job(self, job_id: int, lease: Lease | None = None) -> Job | None:
        """queued → running, attempts + 1. None if the job is not queued (e.g. just cancelled).

        With ``lease``: owned by ``lease.owner`` until ``lease.seconds`` from now; with a capacity, one
        transaction takes the claim advisory lock (so claims of every process are serial), sums the
        images in flight and refuses with ``CapacityFull`` if this job does not fit, else claims. The
        job row is locked ``FOR UPDATE SKIP LOCKED``: a row another transaction is cancelling or
        claiming right now is skipped (None), never waited for."""
        now_ms = self._now_ms()
        if lease is None:
            async with self._conn() as conn:
                row = await conn.fetchrow(_CLAIM, job_id, now_ms)
            return None if row is None else common.job_from_row(row)
        async with self._tx() as conn:
            if lease.capacity is not None:
                await lock(conn, [_CLAIM_LOCK])
            requested = await conn.fetchval(
                "SELECT images_requested FROM jobs WHERE id = $1 AND status = 'queued' FOR UPDATE SKIP LOCKED", job_id
            )
            if requested is None:
                return None
            held = 0 if lease.capacity is None else await conn.fetchval(_IMAGES_IN_FLIGHT, now_ms)
            images = lease.admit(requested, held)
            until = now_ms + round(lease.seconds * 1000)
            row = await conn.fetchrow(_CLAIM_LEASED, job_id, now_ms, lease.owner, until, images)
            if row is not None and lease.turn_keys:
                await conn.execute(
                    "INSERT INTO fair_turns (key, turn) SELECT unnest($1::text[]), $2"
                    " ON CONFLICT (key) DO UPDATE SET turn = GREATEST(fair_turns.turn, excluded.turn)",
                    sorted(set(lease.turn_keys)),
                    now_ms,
                )
        return None if row is None else common.job_from_row(row)

    async def renew_leases(self, owner: str, job_ids: Sequence[int], seconds: float) -> set[int]:
        """The heartbeat: extend ``owner``'s leases on these running jobs; returns those it still holds."""
        if not job_ids:
            return set()
        until = self._now_ms() + round(seconds * 1000)
        async with self._conn() as conn:
            rows = await conn.fetch(
                "UPDATE jobs SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND status = 'running'"
                " AND lease_owner = $3 RETURNING id",
                until,
                list(job_ids),
                owner,
            )
        return {row["id"] for row in rows}

    async def release_images(self, job_id: int) -> None:
        async with self._conn() as conn:
            await conn.execute("UPDATE jobs SET images_in_flight = 0 WHERE id = $1", job_id)

    async def images_in_flight(self) -> int:
        async with self._conn() as conn:
            return await conn.fetchval(_IMAGES_IN_FLIGHT, self._now_ms())

    async def turns(self, keys: Sequence[str]) -> dict[str, int]:
        """When each round-robin key was last stamped by a claim (epoch ms); absent: never."""
        if not keys:
            return {}
        async with self._conn() as conn:
            rows = await conn.fetch("SELECT key, turn FROM fair_turns WHERE key = ANY($1::text[])", list(keys))
        return {row["key"]: row["turn"] for row in rows}

    async def lost_jobs(self, owner: str | None = None) -> list[Job]:
        """Running jobs whose lease has expired; with ``owner`` (a process starting up) also unleased ones
        and ``owner``'s own from its previous life."""
        where = _lost_where("j.", owner is not None)
        params = (self._now_ms(),) if owner is None else (self._now_ms(), owner)
        return await self._fetch_jobs(f"WHERE j.status = 'running' AND {where} ORDER BY j.id", *params)

    async def requeue_lost(self, job_id: int, owner: str | None = None) -> Job | None:
        """running → queued (attempt kept) only if the job is still lost, as ``lost_jobs`` says."""
        where = _lost_where("", owner is not None, first=2)
        sql = _jobs_changed_by(
            "UPDATE jobs SET status = 'queued', started_at = NULL, lease_owner = NULL, lease_until = NULL,"
            f" images_in_flight = 0 WHERE id = $1 AND status = 'running' AND {where} RETURNING *"
        )
        params = (self._now_ms(),) if owner is None else (self._now_ms(), owner)
        async with self._conn() as conn:
            row = await conn.fetchrow(sql, job_id, *params)
        return None if row is None else common.job_from_row(row)

    async def requeue_job(self, job_id: int, *, keep_attempt: bool = True) -> Job | None:
        """running → queued; ``keep_attempt=False`` gives the attempt back (a clean shutdown)."""
        attempts = "attempts" if keep_attempt else "GREATEST(attempts - 1, 0)"
        sql = _jobs_changed_by(
            "UPDATE jobs SET status = 'queued', started_at = NULL, lease_owner = NULL, lease_until = NULL,"
            f" images_in_flight = 0, attempts = {attempts}"
            " WHERE id = $1 AND status = 'running' RETURNING *"
        )
        async with self._conn() as conn:
            row = await conn.fetchrow(sql, job_id)
        return None if row is None else common.job_from_row(row)

    async def complete_job(self, job_id: int, outputs: Sequence[OutputImage], settlement: Settlement) -> Job:
        """running → succeeded, the outputs recorded and ``settlement`` applied, in one transaction."""
        now_ms = self._now_ms()
        delivered = sum(1 for o in outputs if o.sha is not None)
        async with self._conn() as conn, released_before_flush(conn, shared=file_keys(o.sha for o in outputs)):
            missing = [o.sha for o in outputs if o.sha is not None and not self.files.exists(o.sha)]
            if missing:
                raise ValueError(f"output files not in the file store (call files.put first): {missing}")
            status = await conn.execute(
                "UPDATE jobs SET status = 'succeeded', finished_at = $2, images_delivered = $3, images_withheld = $4"
                " WHERE id = $1 AND status = 'running'",
                job_id,
                now_ms,
                delivered,
                len(outputs) - delivered,
            )
            if _updated(status) != 1:
                raise common.not_running(job_id)
            if outputs:
                rows = [
                    (job_id, o.index, o.sha, o.seed, o.is_safe, o.prompt_used, o.resolution, o.width, o.height, o.mime)
                    for o in outputs
                ]
                await conn.executemany(_INSERT_OUTPUT, rows)
            await _settle(conn, job_id, settlement, now_ms)
            done = await conn.fetchrow(f"{_JOBS} WHERE j.id = $1", job_id)
        self.files.unpin(*(o.sha for o in outputs))
        return common.job_from_row(done)

    async def fail_job(self, job_id: int, code: str, message: str, settlement: Settlement) -> Job | None:
        """queued|running → failed with ``settlement`` applied; None otherwise."""
        sql = (
            "UPDATE jobs SET status = 'failed', finished_at = $2, error_code = $3, error_message = $4"
            " WHERE id = $1 AND status IN ('queued', 'running')"
        )
        message = message[: common.ERROR_MESSAGE_MAX]
        return await self._finish(sql, job_id, settlement, code, message)

    async def cancel_job(self, job_id: int, settlement: Settlement) -> Job | None:
        """queued → cancelled with ``settlement`` applied; None once it has started."""
        sql = "UPDATE jobs SET status = 'cancelled', finished_at = $2 WHERE id = $1 AND status = 'queued'"
        return await self._finish(sql, job_id, settlement)

    async def _finish(self, sql: str, job_id: int, settlement: Settlement, *params: Any) -> Job | None:
        now_ms = self._now_ms()
        async with self._conn() as conn, released_before_flush(conn):
            if _updated(await conn.execute(sql, job_id, now_ms, *params)) != 1:
                return None
            await _settle(conn, job_id, settlement, now_ms)
            row = await conn.fetchrow(f"{_JOBS} WHERE j.id = $1", job_id)
        return common.job_from_row(row)

    async def set_progress_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "UPDATE jobs SET progress_channel_id = $2, progress_message_id = $3 WHERE id = $1",
                job_id,
                channel_id,
                message_id,
            )

    async def mark_posted(self, job_id: int, channel_id: int, message_id: int) -> bool:
        """Record the result message once: True the first time, False afterwards."""
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE jobs SET result_channel_id = $2, result_message_id = $3"
                " WHERE id = $1 AND result_message_id IS NULL",
                job_id,
                channel_id,
                message_id,
            )
        return _updated(status) == 1

    async def job_images(self, job_id: int) -> list[JobImage]:
        """Input, mask, then outputs in index order."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT * FROM job_images WHERE job_id = $1"
                " ORDER BY CASE kind WHEN 'input' THEN 0 WHEN 'mask' THEN 1 ELSE 2 END, idx",
                job_id,
            )
        return [common.image_from_row(row) for row in rows]

    async def undelivered_jobs(self, since: datetime) -> list[Job]:
        return await self._fetch_jobs(
            "WHERE j.status IN ('succeeded', 'failed') AND j.result_message_id IS NULL AND j.finished_at >= $1"
            " ORDER BY j.id",
            ms(since),
        )

    async def job_by_message(self, channel_id: int, message_id: int) -> Job | None:
        jobs = await self._fetch_jobs(
            "WHERE j.result_message_id = $1 AND j.result_channel_id = $2 LIMIT 1", message_id, channel_id
        )
        return jobs[0] if jobs else None

    # --- history ------------------------------------------------------------------------------------------

    async def history(
        self,
        user_id: int,
        *,
        guild_id: int | None = None,
        search: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Job]:
        common.check_page(limit, offset)
        where, params = _history_filter(user_id, guild_id, search)
        n = len(params)
        return await self._fetch_jobs(
            f"WHERE {where} ORDER BY j.id DESC LIMIT ${n + 1} OFFSET ${n + 2}", *params, limit, offset
        )

    async def count_history(self, user_id: int, *, guild_id: int | None = None, search: str | None = None) -> int:
        where, params = _history_filter(user_id, guild_id, search)
        async with self._conn() as conn:
            return await conn.fetchval(f"SELECT COUNT(*) FROM jobs AS j WHERE {where}", *params)

    async def delete_job(self, job_id: int) -> bool:
        removed, _ = await self._delete_jobs("id = $1", [job_id])
        return removed == 1

    async def delete_user_history(self, user_id: int) -> int:
        removed, _ = await self._delete_jobs("user_id = $1", [user_id])
        return removed

    async def _delete_jobs(self, where: str, params: list[Any], order: str = "id") -> tuple[int, int]:
        """Delete deletable jobs matching ``where`` in chunks of ``DELETE_CHUNK`` (each its own short
        transaction), then their unreferenced files. ``order`` names the indexed column the chunks walk."""
        n = len(params)
        pick = f"SELECT id FROM jobs WHERE {where} AND status = ANY(${n + 1}::text[]) ORDER BY {order} LIMIT ${n + 2}"
        delete = (
            "WITH gone AS (DELETE FROM jobs WHERE id = ANY($1::bigint[]) AND status = ANY($2::text[]) RETURNING id)"
            " SELECT (SELECT COUNT(*) FROM gone) AS count, ARRAY(SELECT DISTINCT sha FROM job_images"
            " WHERE job_id IN (SELECT id FROM gone) AND sha IS NOT NULL) AS shas"
        )
        jobs = files = 0
        while True:
            async with self._tx() as conn:
                ids = [row[0] for row in await conn.fetch(pick, *params, _DELETABLE, DELETE_CHUNK)]
                if not ids:
                    return jobs, files
                row = await conn.fetchrow(delete, ids, _DELETABLE)
            jobs += row["count"]
            files += await self._release_files(row["shas"])
            if len(ids) < DELETE_CHUNK:
                return jobs, files

    async def _release_files(self, shas: Iterable[str]) -> int:
        """Delete the files no row references, under an exclusive lock per file (see the docstring)."""
        shas = sorted(set(shas))
        if not shas:
            return 0
        removed = 0
        async with self._tx() as conn:
            await lock(conn, file_keys(shas))
            used = {
                row[0]
                for row in await conn.fetch("SELECT DISTINCT sha FROM job_images WHERE sha = ANY($1::text[])", shas)
            }
            for sha in shas:
                if sha not in used and not self.files.pinned(sha):
                    removed += self.files.remove(sha)
        return removed

    # --- quotas and usage ------------------------------------------------------------------------------

    async def quota_status(
        self, requester: Requester, limits: EffectiveLimits, now: datetime | None = None
    ) -> QuotaStatus:
        now = now or self._clock()
        async with self._conn() as conn:
            used = await usage(conn, requester.user_id, requester, limits, now)
            oldest = await conn.fetchval(
                "SELECT MIN(created_at) FROM usage_ledger"
                " WHERE user_id = $1 AND created_at > $2 AND reserved + charged > 0",
                requester.user_id,
                window_start(limits, now),
            )
        return common.quota_status(limits, used, oldest, now)

    async def usage_report(self, guild_id: int, since: datetime) -> list[UsageRow]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                """
                SELECT user_id, SUM(charged) AS images, SUM(CASE WHEN charged > 0 THEN 1 ELSE 0 END) AS jobs
                FROM usage_ledger
                WHERE guild_id = $1 AND created_at >= $2
                GROUP BY user_id
                HAVING SUM(charged) > 0
                ORDER BY images DESC, user_id
                """,
                guild_id,
                ms(since),
            )
        return [UsageRow(user_id=row[0], images=int(row[1]), jobs=int(row[2])) for row in rows]

    # --- guild settings ---------------------------------------------------------------------------------

    async def guild_config(self, guild_id: int) -> GuildConfig:
        async with self._conn() as conn:
            return await _guild_config(conn, guild_id)

    async def update_guild_config(self, guild_id: int, actor_id: int, **changes: int | None) -> GuildConfig:
        common.check_guild_changes(changes)
        now_ms = self._now_ms()
        async with self._tx() as conn:
            await lock(conn, [lock_key("guild-config", guild_id)])
            current = await _guild_config(conn, guild_id)
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, updated_at) VALUES ($1, $2) ON CONFLICT (guild_id) DO NOTHING",
                guild_id,
                now_ms,
            )
            for name, value in changes.items():
                old = getattr(current, name)
                if old == value:
                    continue
                # ``name`` is one of GUILD_FIELDS (checked above), never user text
                await conn.execute(
                    f"UPDATE guild_settings SET {name} = $2, updated_at = $3 WHERE guild_id = $1",
                    guild_id,
                    value,
                    now_ms,
                )
                await _audit(
                    conn,
                    guild_id,
                    actor_id,
                    AuditAction(limit=name).text,
                    AuditValue.of_limit(old).text,
                    AuditValue.of_limit(value).text,
                    now_ms,
                )
            return await _guild_config(conn, guild_id)

    async def set_role_limits(self, guild_id: int, actor_id: int, role: RoleLimits | None, role_id: int) -> GuildConfig:
        common.check_role(role, role_id)
        now_ms = self._now_ms()
        async with self._tx() as conn:
            await lock(conn, [lock_key("guild-config", guild_id)])
            old = next((r for r in (await _guild_config(conn, guild_id)).roles if r.role_id == role_id), None)
            if role is None:
                if old is not None:
                    sql = "DELETE FROM role_limits WHERE guild_id = $1 AND role_id = $2"
                    await conn.execute(sql, guild_id, role_id)
                    await _audit(
                        conn,
                        guild_id,
                        actor_id,
                        AuditAction(role_id=role_id, removed=True).text,
                        AuditValue.of_role(old).text,
                        None,
                        now_ms,
                    )
                return await _guild_config(conn, guild_id)
            await conn.execute(
                """
                INSERT INTO role_limits (guild_id, role_id, window_images, daily_images, max_active_jobs, exempt,
                                         updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (guild_id, role_id) DO UPDATE SET
                    window_images = excluded.window_images,
                    daily_images = excluded.daily_images,
                    max_active_jobs = excluded.max_active_jobs,
                    exempt = excluded.exempt,
                    updated_at = excluded.updated_at
                """,
                guild_id,
                role_id,
                role.window_images,
                role.daily_images,
                role.max_active_jobs,
                role.exempt,
                now_ms,
            )
            if old != role:
                before, after = AuditValue.of_role(old).text, AuditValue.of_role(role).text
                await _audit(conn, guild_id, actor_id, AuditAction(role_id=role_id).text, before, after, now_ms)
            return await _guild_config(conn, guild_id)

    async def audit_log(self, guild_id: int, limit: int = 20) -> list[AuditEntry]:
        common.check_page(limit, 0)
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT guild_id, actor_id, action, old_value, new_value, created_at FROM audit_log"
                " WHERE guild_id = $1 ORDER BY id DESC LIMIT $2",
                guild_id,
                limit,
            )
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], dt(r[5])) for r in rows]

    # --- retention -----------------------------------------------------------------------------------------

    async def cleanup(self, older_than: datetime) -> CleanupReport:
        """As SQLite's: old deletable jobs, settled usage older than the cutoff, unreferenced files."""
        cutoff = ms(older_than)
        jobs, files = await self._delete_jobs("finished_at < $1", [cutoff], order="finished_at")
        prune = (
            "WITH gone AS (DELETE FROM usage_ledger WHERE job_id IN (SELECT job_id FROM usage_ledger"
            " WHERE reserved = 0 AND created_at < $1 ORDER BY created_at LIMIT $2) RETURNING 1)"
            " SELECT COUNT(*) FROM gone"
        )
        while True:
            async with self._conn() as conn:
                if await conn.fetchval(prune, cutoff, LEDGER_CHUNK) < LEDGER_CHUNK:
                    break
        stale = await asyncio.to_thread(lambda: list(self.files.stale_files(time.time() - self.files.pin_seconds)))
        for sha, path in stale:
            if sha is None:  # a temporary file from a write that crashed
                path.unlink(missing_ok=True)
                files += 1
        files += await self._release_files(s for s, _ in stale if s is not None)
        if jobs or files:
            log.info("cleanup removed %d jobs and %d files", jobs, files)
        return CleanupReport(jobs_removed=jobs, files_removed=files)

    # --- editing sessions ---------------------------------------------------------------------------------

    async def create_session(
        self, *, guild_id: int, channel_id: int, thread_id: int, owner_id: int, root_job_id: int, head_index: int
    ) -> Session:
        """``SessionExists`` if the result or the thread already has one (the UNIQUE columns decide, so a
        double click in two processes cannot make two)."""
        try:
            async with self._conn() as conn:
                row = await conn.fetchrow(
                    "INSERT INTO sessions (guild_id, channel_id, thread_id, owner_id, root_job_id, head_job_id,"
                    " head_index, created_at, guild_locale) VALUES ($1, $2, $3, $4, $5, $5, $6, $7,"
                    " COALESCE((SELECT guild_locale FROM jobs WHERE id = $5), 'en-US')) RETURNING *",
                    guild_id,
                    channel_id,
                    thread_id,
                    owner_id,
                    root_job_id,
                    head_index,
                    self._now_ms(),
                )
        except asyncpg.UniqueViolationError:
            async with self._conn() as conn:
                clash = await conn.fetchval(
                    "SELECT thread_id FROM sessions WHERE root_job_id = $1 OR thread_id = $2 LIMIT 1",
                    root_job_id,
                    thread_id,
                )
            raise SessionExists(clash if clash is not None else thread_id) from None
        return common.session_from_row(row)

    # --- editor drafts (issue 12) ------------------------------------------------------------------

    async def create_draft(self, draft: NewDraft) -> Draft:
        now_ms = self._now_ms()
        values = common.draft_values(draft, now_ms)
        places = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        async with self._tx() as conn:
            await conn.execute("DELETE FROM drafts WHERE expires_at < $1", now_ms - common.DRAFT_KEEP_MS)
            row = await conn.fetchrow(
                f"INSERT INTO drafts ({common.DRAFT_COLUMNS}) VALUES ({places}) RETURNING *", *values
            )
        return common.draft_from_row(row)

    async def get_draft(self, draft_id: int) -> Draft | None:
        async with self._conn() as conn:
            row = await conn.fetchrow("SELECT * FROM drafts WHERE id = $1", draft_id)
        return None if row is None else common.draft_from_row(row)

    async def claim_draft(self, draft_id: int) -> Draft | None:
        """Open -> confirming in one statement: of two confirms at once, one gets the draft, one None."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                "UPDATE drafts SET state = 'confirming' WHERE id = $1 AND state = 'open' RETURNING *", draft_id
            )
        return None if row is None else common.draft_from_row(row)

    async def settle_draft(self, draft_id: int, job_id: int | None) -> None:
        state = "open" if job_id is None else "confirmed"
        async with self._conn() as conn:
            await conn.execute("UPDATE drafts SET state = $1, job_id = $2 WHERE id = $3", state, job_id, draft_id)

    # --- acknowledged interactions (issue 10) ------------------------------------------------------

    async def record_interaction(self, interaction: AckedInteraction) -> None:
        async with self._conn() as conn:
            await conn.execute(
                f"INSERT INTO interactions ({common.INTERACTION_COLUMNS})"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                *common.interaction_values(interaction),
            )

    async def link_interaction(self, interaction_id: int, job_id: int) -> None:
        async with self._conn() as conn:
            await conn.execute("UPDATE interactions SET job_id = $1 WHERE id = $2", job_id, interaction_id)

    async def settle_interaction(self, interaction_id: int) -> None:
        async with self._conn() as conn:
            await conn.execute("UPDATE interactions SET answered = TRUE WHERE id = $1", interaction_id)

    async def open_interactions(self, since: datetime) -> list[AckedInteraction]:
        async with self._conn() as conn:
            rows = await conn.fetch(common.OPEN_INTERACTIONS_SQL.format(since="$1"), ms(since))
        return [common.interaction_from_row(r) for r in rows]

    async def forget_interactions(self, before: datetime) -> int:
        async with self._conn() as conn:
            status = await conn.execute("DELETE FROM interactions WHERE created_at < $1", ms(before))
        return _updated(status)

    async def get_session(self, session_id: int) -> Session | None:
        return await self._session_where("id", session_id)

    async def session_by_thread(self, thread_id: int) -> Session | None:
        return await self._session_where("thread_id", thread_id)

    async def session_by_root(self, root_job_id: int) -> Session | None:
        return await self._session_where("root_job_id", root_job_id)

    async def _session_where(self, column: str, value: int) -> Session | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(f"SELECT * FROM sessions WHERE {column} = $1", value)
        return None if row is None else common.session_from_row(row)

    async def update_session(self, session_id: int, **changes: int | bool) -> Session:
        common.check_session_changes(changes)
        names = list(changes)  # SESSION_FIELDS keys (checked above), never user text
        sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=2)) or "id = id"
        async with self._conn() as conn:
            row = await conn.fetchrow(
                f"UPDATE sessions SET {sets} WHERE id = $1 RETURNING *", session_id, *changes.values()
            )
        if row is None:
            raise common.session_gone(session_id)
        return common.session_from_row(row)

    async def attach_job_to_session(self, job_id: int, session_id: int) -> None:
        async with self._tx() as conn:
            if await conn.fetchval("SELECT 1 FROM sessions WHERE id = $1 FOR SHARE", session_id) is None:
                raise common.session_gone(session_id)
            if _updated(await conn.execute("UPDATE jobs SET session_id = $2 WHERE id = $1", job_id, session_id)) != 1:
                raise common.job_gone(job_id)

    async def session_jobs(self, session_id: int) -> list[Job]:
        return await self._fetch_jobs("WHERE j.session_id = $1 ORDER BY j.id", session_id)


# --- functions run on a connection (inside the caller's transaction when it has one) ----------------------


async def _settle(conn: asyncpg.Connection, job_id: int, settlement: Settlement, now_ms: int) -> None:
    await conn.execute(
        "UPDATE usage_ledger SET charged = $2, reserved = 0, settled_at = $3 WHERE job_id = $1",
        job_id,
        settlement.charged,
        now_ms,
    )
    if settlement.head is not None:
        await conn.execute(
            "UPDATE sessions SET head_job_id = $2, head_index = $3 WHERE id = $1",
            settlement.head.session_id,
            job_id,
            settlement.head.index,
        )


def _history_filter(user_id: int, guild_id: int | None, search: str | None) -> tuple[str, list[Any]]:
    where, params = "j.user_id = $1", [user_id]
    if guild_id is not None:
        params.append(guild_id)
        where += f" AND j.guild_id = ${len(params)}"
    if search:
        params.append(common.like_pattern(search))
        where += f" AND j.prompt_folded LIKE ${len(params)} ESCAPE '\\'"
    return where, params


async def _guild_config(conn: asyncpg.Connection, guild_id: int) -> GuildConfig:
    row = await conn.fetchrow("SELECT * FROM guild_settings WHERE guild_id = $1", guild_id)
    roles = tuple(
        common.role_from_row(r)
        for r in await conn.fetch("SELECT * FROM role_limits WHERE guild_id = $1 ORDER BY role_id", guild_id)
    )
    values = {name: row[name] for name in GUILD_FIELDS} if row is not None else {}
    return GuildConfig(guild_id=guild_id, roles=roles, **values)


async def _audit(
    conn: asyncpg.Connection, guild_id: int, actor_id: int, action: str, old: str | None, new: str | None, now_ms: int
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, old_value, new_value, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        guild_id,
        actor_id,
        action,
        old,
        new,
        now_ms,
    )
