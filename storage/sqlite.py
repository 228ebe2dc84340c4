"""The SQLite backend of ``Storage`` (aiosqlite), plus the migration runner.

Design decisions, each for a reason:

* **One connection, one thread.** aiosqlite gives each connection one worker thread. Every read and
  every transaction runs there as *one* synchronous function: one hand-off per operation instead of
  one per statement (~75 µs each here, which made a six-statement transaction the bottleneck).
  Nothing can interleave with a running transaction, so a read never sees half of one. aiosqlite
  has no public "run this on your thread" call, so ``_on_thread`` uses ``Connection._execute`` and
  ``Connection._conn`` (unchanged from aiosqlite 0.17 to 0.22); ``tests/storage/test_sqlite_backend.py``
  fails loudly if an upgrade removes them.
* **Writes: one writer, an asyncio.Lock, group commit.** ``_write`` queues a transaction function;
  a single writer task takes everything queued so far and runs it, under the write lock, as one
  ``BEGIN IMMEDIATE … COMMIT``, each call in its own SAVEPOINT so that one refusal
  (``QuotaExceeded``) or error undoes only that call. Alone, a call is its own transaction; under
  load, many share one commit and one fsync. A caller's ``await`` returns after its COMMIT. Limit
  checks and reservations therefore never race. ``BEGIN IMMEDIATE`` takes SQLite's write lock up
  front and ``busy_timeout`` makes other processes (a backup, the sqlite3 shell, a second storage
  object) wait rather than fail, so callers never see "database is locked".
* **WAL, synchronous=FULL.** WAL lets readers in other processes work during writes. FULL fsyncs the
  WAL at every commit, so a power cut cannot lose a committed transaction; NORMAL could lose the
  last ones, e.g. a "succeeded" that would make the restarted bot run (and pay for) the job again
  and post it twice. Group commit keeps the cost low. Exception: ``claim_job``, ``requeue_job`` and
  ``set_progress_message`` commit without an fsync when nothing durable shares their batch; losing
  one to a power cut only puts a job back in the queue (restart recovery does that anyway). A process
  crash loses nothing in either mode, and the database is never corrupted in either.
* **Times are BIGINT epoch milliseconds, UTC.** Exact, compact, compared as integers, portable.
* **Portable SQL** except where SQLite needs its own spelling: ``BEGIN IMMEDIATE``, PRAGMAs,
  ``INTEGER PRIMARY KEY AUTOINCREMENT`` (job ids are never reused: buttons carry them) and
  ``WITHOUT ROWID``. ``RETURNING``, ``ON CONFLICT``, partial indexes and savepoints are shared
  with PostgreSQL.
* **No business rules here.** What a call must do in its one transaction is in ``bot/store.py``; the
  decisions come from the core: limits from ``bot.quota.check_submission`` (run inside the reserving
  transaction), the payer, the charge and the session head from ``bot.settlement`` (passed in as a
  ``Settlement``), which jobs may be deleted from ``bot.retention.DELETABLE``. Row mapping, argument
  checks and audit wording are shared with the PostgreSQL backend in ``storage/common.py``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.errors import QuotaExceeded
from bot.quota import Usage, check_submission, day_start
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

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 256  # calls per group-commit transaction
DELETE_CHUNK = 50  # jobs per transaction when deleting many, so writers are never blocked for long
LEDGER_CHUNK = 500  # settled ledger rows per transaction when retention prunes them
SYNCHRONOUS_MODES = ("FULL", "NORMAL", "EXTRA")
_DELETABLE_SQL = ", ".join(f"'{status}'" for status in DELETABLE)  # JobStatus values, never user text


# --- migrations ------------------------------------------------------------------------------------


def load_migrations() -> list[Migration]:
    """The numbered ``storage/migrations/NNN_name.sql`` files (package data), in order."""
    return common.load_migrations("migrations")


def split_statements(sql: str) -> list[str]:
    """Split a script into statements with SQLite's own tokenizer (semicolons in strings are safe)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    rest = "\n".join(line for line in buffer.splitlines() if not line.strip().startswith("--"))
    if rest.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest.strip()[:80]!r}")
    return statements


def apply_migrations(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> list[int]:
    """Apply the migrations not yet recorded in ``schema_migrations``, each in its own transaction.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Returns the versions applied.
    Safe against a second process migrating at the same time: the check runs under the write lock.
    """
    conn.execute(common.MIGRATIONS_TABLE)
    newest = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    common.refuse_newer_schema(newest, migrations)
    applied = []
    for migration in migrations:
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,))
            if done.fetchone() is None:
                for statement in split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, ms(datetime.now(UTC))),
                )
                applied.append(migration.version)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    if applied:
        log.info("database migrated to schema version %d", migrations[-1].version)
    return applied


# --- the storage -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    durable: bool


class SqliteStorage:
    """``Storage`` on one SQLite file; see the module docstring for the concurrency design."""

    def __init__(
        self,
        path: Path | str,
        files: LocalFileStore,
        *,
        synchronous: str = "FULL",
        busy_timeout_s: float = 10.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
        self.path = Path(path)
        self.files = files
        self.synchronous = synchronous.upper()
        self.busy_timeout_s = busy_timeout_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._pending: list[_Call] = []
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._sync_now: str | None = None  # the connection's current PRAGMA synchronous

    # --- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, configure and migrate. Creates the data directories if needed."""
        if self._db is not None:
            return
        await asyncio.to_thread(self._make_dirs)
        db = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=self.busy_timeout_s, cached_statements=256
        )
        try:
            await db._execute(_configure, db._conn, self.synchronous, int(self.busy_timeout_s * 1000))
            self._sync_now = self.synchronous
            await db._execute(_migrate, db._conn)
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        """Refuse new writes, let the queued ones commit, then close. Idempotent."""
        if self._db is None or self._closing:
            return
        self._closing = True
        try:
            if self._writer is not None:
                await asyncio.wait([self._writer])
            async with self._write_lock:
                db, self._db = self._db, None
                try:
                    await db.execute("PRAGMA optimize")
                finally:
                    await db.close()
        finally:
            self._closing = False

    async def __aenter__(self) -> SqliteStorage:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- operations (health checks, metrics) --------------------------------------------------------

    async def ping(self) -> None:
        """A round trip through the database thread: waits behind a long transaction, as callers would."""
        await self._read(_ping)

    async def ops_counts(self, since: datetime) -> OpsCounts:
        return await self._read(_ops_counts, ms(since))

    def _make_dirs(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.files.root.mkdir(parents=True, exist_ok=True)

    # --- running code on the database thread -------------------------------------------------------

    async def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        db = self._db
        if db is None:
            raise RuntimeError("storage is not open")
        return await db._execute(fn, db._conn, *args)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on the database thread (between transactions, never inside one)."""
        return await self._on_thread(fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any, durable: bool = True) -> T:
        """Run ``fn(conn, *args)`` in a write transaction, grouped with other queued writes.

        Returns once the transaction has committed. A caller cancelled before its turn is skipped;
        one cancelled while its transaction runs does not undo it (the result is dropped).
        ``durable=False`` commits without an fsync unless a durable call shares the batch (see ``claim_job``):
        a power cut may lose it, a process crash cannot; the next durable commit flushes it anyway.
        """
        if self._db is None or self._closing:
            raise RuntimeError("storage is not open")
        call = _Call(fn, args, asyncio.get_running_loop().create_future(), durable)
        self._pending.append(call)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name="sqlite-writer")
        return await call.future

    async def _drain(self) -> None:
        """The single writer: runs queued calls in batches until the queue is empty."""
        batch: list[_Call] = []
        try:
            while self._pending:
                batch = [c for c in self._pending[:MAX_BATCH] if not c.future.done()]
                del self._pending[:MAX_BATCH]
                async with self._write_lock:
                    await self._run_batch(batch)
        except BaseException as exc:  # e.g. cancelled at loop shutdown: nobody may wait forever
            for call in [*batch, *self._pending]:
                if not call.future.done():
                    call.future.set_exception(RuntimeError(f"storage writer stopped: {exc!r}"))
            self._pending.clear()
            raise
        finally:
            self._writer = None

    async def _run_batch(self, batch: list[_Call]) -> None:
        if not batch:
            return
        mode = self.synchronous if any(c.durable for c in batch) else "NORMAL"
        switch, self._sync_now = (mode if mode != self._sync_now else None), None
        try:
            outcomes = await self._on_thread(_run_transaction, [(c.fn, c.args) for c in batch], switch)
            self._sync_now = mode
        except Exception as exc:  # the whole transaction failed: every call in it failed
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(exc)
            return
        for call, (ok, value) in zip(batch, outcomes, strict=True):
            if call.future.done():
                continue
            if ok:
                call.future.set_result(value)
            else:
                call.future.set_exception(value)

    def _now_ms(self) -> int:
        return ms(self._clock())

    # --- jobs ----------------------------------------------------------------------------------------

    async def submit_job(self, job: NewJob, limits: EffectiveLimits, now: datetime | None = None) -> Job:
        """Check every limit and reserve ``images_requested`` in the same transaction as the insert.

        Raises ``QuotaExceeded`` (nothing stored) or ``NotFound`` when the input or mask file is not
        in the file store (``files.put`` them first). Window and daily limits count the payer's
        images; active jobs count the requester's.
        """
        options = common.options_json(job)
        created = await self._write(_submit, self.files, job, options, limits, ms(now or self._clock()))
        self.files.unpin(job.input_sha, job.mask_sha)
        return created

    async def precheck(
        self, requester: Requester, payer_user_id: int | None, images: int, limits: EffectiveLimits
    ) -> None:
        """``submit_job``'s limit checks without reserving anything, so a caller can refuse before it
        downloads and prepares images. Advisory: ``submit_job`` checks again atomically."""
        payer = payer_of(requester, payer_user_id)
        refusal = await self._read(_refusal, requester, payer, images, limits, self._clock())
        if refusal is not None:
            raise refusal

    async def get_job(self, job_id: int) -> Job | None:
        return await self._read(_get_job, job_id)

    async def jobs_with_status(
        self,
        *statuses: JobStatus,
        guild_id: int | None = None,
        after_id: int | None = None,
        job_ids: Sequence[int] | None = None,
    ) -> list[Job]:
        """Oldest first (queue order)."""
        params: list[Any] = common.check_statuses(statuses)
        where = f"j.status IN ({_marks(statuses)})"
        order = "j.id"
        if statuses == (JobStatus.RUNNING,):  # a few rows among many: by the status index, not a scan in id order
            where, params, order = "j.status = 'running'", [], "+j.id"
        if guild_id is not None:
            where += " AND j.guild_id = ?"
            params.append(guild_id)
        if after_id is not None:
            where += " AND j.id > ?"
            params.append(after_id)
        if job_ids is not None:
            where += f" AND j.id IN ({_marks(job_ids) if job_ids else 'NULL'})"
            params.extend(job_ids)
        return await self._read(_fetch_jobs, f"WHERE {where} ORDER BY {order}", params)

    async def claim_job(self, job_id: int, lease: Lease | None = None) -> Job | None:
        """queued → running, attempts + 1. None if the job is not queued (e.g. just cancelled).

        With ``lease``: owned by ``lease.owner`` until ``lease.seconds`` from now, and, if it has a
        capacity, refused with ``CapacityFull`` when the images in flight (every process) leave no room.
        The single writer makes the check and the claim one serial step.

        Not fsynced on its own: if a power cut loses it the job is simply queued again, which is what
        restart recovery does with a running job anyway (a process crash never loses it).
        """
        return await self._write(_claim, job_id, lease, self._now_ms(), durable=False)

    async def renew_leases(self, owner: str, job_ids: Sequence[int], seconds: float) -> set[int]:
        """The heartbeat: extend ``owner``'s leases on these running jobs; returns those it still holds."""
        if not job_ids:
            return set()
        return await self._write(_renew, owner, tuple(job_ids), self._now_ms() + round(seconds * 1000), durable=False)

    async def release_images(self, job_id: int) -> None:
        await self._write(_release_images, job_id, durable=False)

    async def images_in_flight(self) -> int:
        return await self._read(_images_in_flight, self._now_ms())

    async def turns(self, keys: Sequence[str]) -> dict[str, int]:
        """When each round-robin key was last stamped by a claim (epoch ms); absent: never."""
        if not keys:
            return {}
        sql = f"SELECT key, turn FROM fair_turns WHERE key IN ({_marks(keys)})"
        return dict(await self._read(lambda conn: conn.execute(sql, tuple(keys)).fetchall()))

    async def lost_jobs(self, owner: str | None = None) -> list[Job]:
        """Running jobs whose lease has expired; with ``owner`` (a process starting up) also unleased ones
        and ``owner``'s own from its previous life."""
        where, params = _lost_where(owner, self._now_ms())
        return await self._read(_fetch_jobs, f"WHERE j.status = 'running' AND {where} ORDER BY j.id", params)

    async def requeue_lost(self, job_id: int, owner: str | None = None) -> Job | None:
        """running → queued (attempt kept) only if the job is still lost, as ``lost_jobs`` says."""
        where, params = _lost_where(owner, self._now_ms(), alias="")
        sql = f"{_REQUEUE} AND {where}"
        return await self._write(_requeue_lost, job_id, sql, params, durable=False)

    async def requeue_job(self, job_id: int, *, keep_attempt: bool = True) -> Job | None:
        """running → queued (shutdown, restart recovery). The reservation stays. Not fsynced (as claim).

        ``keep_attempt=False`` gives the attempt back: a clean shutdown did not interrupt the job by
        accident, so it must not count towards "re-run at most once" after a crash."""
        sql = _REQUEUE if keep_attempt else _REQUEUE_RETURNING_ATTEMPT
        return await self._write(_transition, job_id, sql, (), durable=False)

    async def complete_job(self, job_id: int, outputs: Sequence[OutputImage], settlement: Settlement) -> Job:
        """running → succeeded; records the outputs and applies ``settlement`` (``bot.settlement.succeeded``)
        in the same transaction. ``NotFound`` if not running."""
        done = await self._write(_complete, self.files, job_id, tuple(outputs), settlement, self._now_ms())
        self.files.unpin(*(o.sha for o in outputs))
        return done

    async def fail_job(self, job_id: int, code: str, message: str, settlement: Settlement) -> Job | None:
        """queued|running → failed, applying ``settlement`` (``bot.settlement.failed``). None otherwise."""
        message = message[: common.ERROR_MESSAGE_MAX]
        return await self._write(_fail, job_id, code, message, settlement, self._now_ms())

    async def cancel_job(self, job_id: int, settlement: Settlement) -> Job | None:
        """queued → cancelled, applying ``settlement`` (``bot.settlement.cancelled``). None once it has
        started (or finished)."""
        return await self._write(_cancel, job_id, settlement, self._now_ms())

    async def set_progress_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        await self._write(_set_progress, job_id, channel_id, message_id, durable=False)

    async def mark_posted(self, job_id: int, channel_id: int, message_id: int) -> bool:
        """Record the result message once: True the first time, False afterwards (restart-safe)."""
        return await self._write(_mark_posted, job_id, channel_id, message_id)

    async def job_images(self, job_id: int) -> list[JobImage]:
        """Input, mask, then outputs in index order."""
        return await self._read(_job_images, job_id)

    async def undelivered_jobs(self, since: datetime) -> list[Job]:
        """Finished (succeeded or failed) since ``since`` but never posted: re-deliver after a crash."""
        where = (
            "WHERE j.status IN ('succeeded', 'failed') AND j.result_message_id IS NULL"
            " AND j.finished_at >= ? ORDER BY j.id"
        )
        return await self._read(_fetch_jobs, where, [ms(since)])

    async def job_by_message(self, channel_id: int, message_id: int) -> Job | None:
        """The job whose results were posted as this message (``mark_posted``), if any."""
        where = "WHERE j.result_message_id = ? AND j.result_channel_id = ? LIMIT 1"
        jobs = await self._read(_fetch_jobs, where, [message_id, channel_id])
        return jobs[0] if jobs else None

    # --- history -------------------------------------------------------------------------------------

    async def history(
        self,
        user_id: int,
        *,
        guild_id: int | None = None,
        search: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Job]:
        """The user's jobs as requester, newest first. ``guild_id`` None: everywhere. ``search``: a
        case-insensitive (Unicode casefold) substring of the prompt; ``%`` and ``_`` are literal."""
        common.check_page(limit, offset)
        where, params = _history_filter(user_id, guild_id, search)
        return await self._read(
            _fetch_jobs, f"WHERE {where} ORDER BY j.id DESC LIMIT ? OFFSET ?", [*params, limit, offset]
        )

    async def count_history(self, user_id: int, *, guild_id: int | None = None, search: str | None = None) -> int:
        where, params = _history_filter(user_id, guild_id, search)
        return await self._read(_scalar, f"SELECT COUNT(*) FROM jobs AS j WHERE {where}", params)

    async def delete_job(self, job_id: int) -> bool:
        """Delete a job in ``bot.retention.DELETABLE``, its image rows, and the files nothing else
        references. False if the job does not exist or is not deletable. Its usage stays counted."""
        removed, _ = await self._delete_jobs("id = ?", [job_id])
        return removed == 1

    async def delete_user_history(self, user_id: int) -> int:
        """Delete every deletable job the user requested; returns how many. Active jobs are kept, and
        usage stays counted (deleting history must not reset a quota) until retention removes it."""
        removed, _ = await self._delete_jobs("user_id = ?", [user_id])
        return removed

    async def _delete_jobs(self, where: str, params: list[Any], order: str = "id") -> tuple[int, int]:
        """Delete finished jobs matching ``where`` in chunks of ``DELETE_CHUNK``, each its own short
        transaction, then their unreferenced files. ``order`` names the indexed column the chunks walk."""
        jobs = files = 0
        while True:
            count, shas = await self._write(_delete_chunk, where, params, DELETE_CHUNK, order)
            await self._read(_checkpoint)
            jobs += count
            files += await self._read(_release_files, self.files, sorted(shas))
            if count < DELETE_CHUNK:
                return jobs, files

    # --- quotas and usage ------------------------------------------------------------------------------

    async def quota_status(
        self, requester: Requester, limits: EffectiveLimits, now: datetime | None = None
    ) -> QuotaStatus:
        return await self._read(_quota_status, requester, limits, now or self._clock())

    async def usage_report(self, guild_id: int, since: datetime) -> list[UsageRow]:
        """Per payer in the server since ``since``: charged images and the jobs that were charged.
        Refunded jobs and reservations of jobs still running are not included. Most images first."""
        return await self._read(_usage_report, guild_id, ms(since))

    # --- guild settings ---------------------------------------------------------------------------------

    async def guild_config(self, guild_id: int) -> GuildConfig:
        return await self._read(_guild_config, guild_id)

    async def update_guild_config(self, guild_id: int, actor_id: int, **changes: int | None) -> GuildConfig:
        """Set server overrides by ``GuildConfig`` field name; None resets one to the bot default.

        ``ValueError`` for an unknown name or a value that is not a whole number ≥ 0 (≥ 1 for
        ``window_minutes``). 0 blocks edits. Every actual change is written to the audit log.
        """
        common.check_guild_changes(changes)
        return await self._write(_update_guild_config, guild_id, actor_id, dict(changes), self._now_ms())

    async def set_role_limits(self, guild_id: int, actor_id: int, role: RoleLimits | None, role_id: int) -> GuildConfig:
        """Save a role's override, or remove it with ``role=None``; audited."""
        common.check_role(role, role_id)
        return await self._write(_set_role_limits, guild_id, actor_id, role, role_id, self._now_ms())

    async def audit_log(self, guild_id: int, limit: int = 20) -> list[AuditEntry]:
        """Newest first."""
        common.check_page(limit, 0)
        return await self._read(_audit_log, guild_id, limit)

    # --- editing sessions ----------------------------------------------------------------------------

    async def create_session(
        self, *, guild_id: int, channel_id: int, thread_id: int, owner_id: int, root_job_id: int, head_index: int
    ) -> Session:
        """A session whose head is its root job's image ``head_index``. ``SessionExists`` if the result
        or the thread already has one (checked in the transaction, so a double click cannot make two)."""
        values = (guild_id, channel_id, thread_id, owner_id, root_job_id, root_job_id, head_index, self._now_ms())
        return await self._write(_create_session, values)

    async def get_session(self, session_id: int) -> Session | None:
        return await self._read(_session_where, "id = ?", session_id)

    async def session_by_thread(self, thread_id: int) -> Session | None:
        return await self._read(_session_where, "thread_id = ?", thread_id)

    async def session_by_root(self, root_job_id: int) -> Session | None:
        return await self._read(_session_where, "root_job_id = ?", root_job_id)

    async def update_session(self, session_id: int, **changes: int | bool) -> Session:
        """Change ``head_job_id``, ``head_index``, ``locked``, ``owner_pays`` or ``closed``.
        ``ValueError`` for anything else, ``NotFound`` for an unknown session."""
        common.check_session_changes(changes)
        return await self._write(_update_session, session_id, dict(changes))

    async def attach_job_to_session(self, job_id: int, session_id: int) -> None:
        """Make a job a version of a session (``NotFound`` if either does not exist)."""
        await self._write(_attach_job, job_id, session_id)

    async def session_jobs(self, session_id: int) -> list[Job]:
        """Every job of the session, any status, oldest first."""
        return await self._read(_fetch_jobs, "WHERE j.session_id = ? ORDER BY j.id", [session_id])

    # --- retention -----------------------------------------------------------------------------------

    async def cleanup(self, older_than: datetime) -> CleanupReport:
        """Delete jobs that finished before ``older_than`` (never queued/running ones) with their image
        rows, settled usage older than that, then every file no row references: those of the deleted
        jobs, and files left unreferenced for over ``files.pin_seconds`` (refused submissions, crashes).
        A file still referenced by any other job is kept."""
        cutoff = ms(older_than)
        # walks jobs_finished_at (not the primary key) so each chunk reads only the rows it deletes
        jobs, files = await self._delete_jobs("finished_at < ?", [cutoff], order="finished_at")
        while await self._write(_prune_ledger, cutoff, LEDGER_CHUNK) == LEDGER_CHUNK:
            await self._read(_checkpoint)
        stale = await asyncio.to_thread(lambda: list(self.files.stale_files(time.time() - self.files.pin_seconds)))
        files += await self._read(_sweep_files, self.files, stale)
        if jobs or files:
            log.info("cleanup removed %d jobs and %d files", jobs, files)
        return CleanupReport(jobs_removed=jobs, files_removed=files)

    # --- editor drafts (issue 12) ------------------------------------------------------------------
    # One block (records in ``bot.store``): async methods, then their database-thread functions.

    async def create_draft(self, draft: NewDraft) -> Draft:
        return await self._write(self._insert_draft, draft, self._now_ms())

    async def get_draft(self, draft_id: int) -> Draft | None:
        return await self._read(self._draft_by_id, draft_id)

    async def claim_draft(self, draft_id: int) -> Draft | None:
        """Open -> confirming, atomically: of two confirms at once, one gets the draft, one gets None."""
        return await self._write(self._claim_draft, draft_id)

    async def settle_draft(self, draft_id: int, job_id: int | None) -> None:
        """After a confirm: ``job_id`` makes it confirmed for good; None (refused) opens it again."""
        await self._write(self._settle_draft, draft_id, job_id)

    @staticmethod
    def _insert_draft(conn: sqlite3.Connection, d: NewDraft, now_ms: int) -> Draft:
        conn.execute("DELETE FROM drafts WHERE expires_at < ?", (now_ms - common.DRAFT_KEEP_MS,))
        draft_id = conn.execute(
            f"INSERT INTO drafts ({common.DRAFT_COLUMNS}) VALUES ({', '.join('?' * 22)})",
            common.draft_values(d, now_ms),
        ).lastrowid
        return SqliteStorage._draft_by_id(conn, draft_id)  # type: ignore[return-value]

    @staticmethod
    def _draft_by_id(conn: sqlite3.Connection, draft_id: int) -> Draft | None:
        row = conn.execute("SELECT * FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        return None if row is None else common.draft_from_row(row)

    @staticmethod
    def _claim_draft(conn: sqlite3.Connection, draft_id: int) -> Draft | None:
        claimed = conn.execute("UPDATE drafts SET state = 'confirming' WHERE id = ? AND state = 'open'", (draft_id,))
        return SqliteStorage._draft_by_id(conn, draft_id) if claimed.rowcount else None

    @staticmethod
    def _settle_draft(conn: sqlite3.Connection, draft_id: int, job_id: int | None) -> None:
        state = "open" if job_id is None else "confirmed"
        conn.execute("UPDATE drafts SET state = ?, job_id = ? WHERE id = ?", (state, job_id, draft_id))

    # --- acknowledged interactions (issue 10) ------------------------------------------------------

    async def record_interaction(self, interaction: AckedInteraction) -> None:
        await self._write(self._insert_interaction, interaction)

    async def link_interaction(self, interaction_id: int, job_id: int) -> None:
        await self._write(self._update_interaction, "job_id = ?", (job_id,), interaction_id)

    async def settle_interaction(self, interaction_id: int) -> None:
        await self._write(self._update_interaction, "answered = 1", (), interaction_id)

    async def open_interactions(self, since: datetime) -> list[AckedInteraction]:
        return await self._read(self._open_interactions, ms(since))

    async def forget_interactions(self, before: datetime) -> int:
        return await self._write(self._delete_interactions, ms(before))

    @staticmethod
    def _insert_interaction(conn: sqlite3.Connection, i: AckedInteraction) -> None:
        conn.execute(
            f"INSERT OR IGNORE INTO interactions ({common.INTERACTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            common.interaction_values(i),
        )

    @staticmethod
    def _update_interaction(conn: sqlite3.Connection, change: str, args: tuple[Any, ...], interaction_id: int) -> None:
        conn.execute(f"UPDATE interactions SET {change} WHERE id = ?", (*args, interaction_id))

    @staticmethod
    def _open_interactions(conn: sqlite3.Connection, since_ms: int) -> list[AckedInteraction]:
        rows = conn.execute(common.OPEN_INTERACTIONS_SQL.format(since="?"), (since_ms,)).fetchall()
        return [common.interaction_from_row(r) for r in rows]

    @staticmethod
    def _delete_interactions(conn: sqlite3.Connection, before_ms: int) -> int:
        return conn.execute("DELETE FROM interactions WHERE created_at < ?", (before_ms,)).rowcount


# --- database-thread functions: each takes the sqlite3 connection first ---------------------------------


def _configure(conn: sqlite3.Connection, synchronous: str, busy_ms: int) -> None:
    conn.row_factory = sqlite3.Row
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        log.warning("SQLite WAL mode is not available here (journal_mode=%s)", mode)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {busy_ms:d}")


def _migrate(conn: sqlite3.Connection) -> list[int]:
    return apply_migrations(conn, load_migrations())


def _run_transaction(
    conn: sqlite3.Connection, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]], synchronous: str | None
) -> list[tuple[bool, Any]]:
    """One ``BEGIN IMMEDIATE … COMMIT`` for a batch; a SAVEPOINT per call isolates its failure."""
    outcomes: list[tuple[bool, Any]] = []
    if synchronous is not None:  # only allowed outside a transaction
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for fn, args in calls:
            conn.execute("SAVEPOINT call")
            try:
                result = fn(conn, *args)
            except Exception as exc:
                conn.execute("ROLLBACK TO call")
                conn.execute("RELEASE call")
                outcomes.append((False, exc))
            else:
                conn.execute("RELEASE call")
                outcomes.append((True, result))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


_JOB_SELECT = """
SELECT j.*, i.sha AS input_sha, m.sha AS mask_sha
FROM jobs AS j
LEFT JOIN job_images AS i ON i.job_id = j.id AND i.kind = 'input' AND i.idx = 0
LEFT JOIN job_images AS m ON m.job_id = j.id AND m.kind = 'mask' AND m.idx = 0
"""


def _fetch_jobs(conn: sqlite3.Connection, tail: str, params: Sequence[Any]) -> list[Job]:
    return [common.job_from_row(row) for row in conn.execute(_JOB_SELECT + tail, params)]


def _get_job(conn: sqlite3.Connection, job_id: int) -> Job | None:
    jobs = _fetch_jobs(conn, "WHERE j.id = ?", [job_id])
    return jobs[0] if jobs else None


def _scalar(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Any:
    return conn.execute(sql, params).fetchone()[0]


_USAGE_SQL = """
SELECT
    (SELECT COALESCE(SUM(reserved + charged), 0) FROM usage_ledger WHERE user_id = ? AND created_at > ?),
    (SELECT COALESCE(SUM(reserved + charged), 0) FROM usage_ledger WHERE user_id = ? AND created_at >= ?),
    (SELECT COUNT(*) FROM jobs WHERE user_id = ? AND status IN ('queued', 'running')),
    (SELECT COALESCE(SUM(reserved + charged), 0) FROM usage_ledger WHERE guild_id = ? AND created_at >= ?),
    (SELECT COALESCE(SUM(reserved + charged), 0) FROM usage_ledger WHERE created_at >= ?)
"""


def _usage(
    conn: sqlite3.Connection, payer: int, requester: Requester, limits: EffectiveLimits, now: datetime
) -> tuple[Usage, int]:
    window_start = ms(now) - limits.window_seconds * 1000
    today = ms(day_start(now))
    row = conn.execute(
        _USAGE_SQL, (payer, window_start, payer, today, requester.user_id, requester.guild_id, today, today)
    ).fetchone()
    guild_used = row[3] if requester.guild_id is not None else None
    usage = Usage(
        window_used=row[0], daily_used=row[1], active_jobs=row[2], guild_daily_used=guild_used, bot_daily_used=row[4]
    )
    return usage, window_start


def _window_entries(conn: sqlite3.Connection, payer: int, window_start: int) -> list[tuple[datetime, int]]:
    rows = conn.execute(
        "SELECT created_at, reserved + charged FROM usage_ledger"
        " WHERE user_id = ? AND created_at > ? AND reserved + charged > 0 ORDER BY created_at",
        (payer, window_start),
    )
    return [(dt(at), images) for at, images in rows]


def _refusal(
    conn: sqlite3.Connection, requester: Requester, payer: int, images: int, limits: EffectiveLimits, now: datetime
) -> QuotaExceeded | None:
    usage, window_start = _usage(conn, payer, requester, limits, now)
    return check_submission(limits, usage, images, now, lambda: _window_entries(conn, payer, window_start))


def _submit(
    conn: sqlite3.Connection, files: LocalFileStore, job: NewJob, options: str, limits: EffectiveLimits, now_ms: int
) -> Job:
    for sha in (job.input_sha, job.mask_sha):
        if not files.exists(sha):
            raise common.file_missing(sha)
    requester = job.requester
    payer = payer_of(requester, job.payer_user_id)
    refusal = _refusal(conn, requester, payer, job.images_requested, limits, dt(now_ms))
    if refusal is not None:
        raise refusal
    job_id = conn.execute(
        f"INSERT INTO jobs ({', '.join(common.SUBMITTED_COLUMNS)})"
        f" VALUES ({', '.join('?' for _ in common.SUBMITTED_COLUMNS)})",
        common.submitted_values(job, payer, options, now_ms),
    ).lastrowid
    conn.execute(
        "INSERT INTO job_images (job_id, kind, idx, sha) VALUES (?, 'input', 0, ?), (?, 'mask', 0, ?)",
        (job_id, job.input_sha, job_id, job.mask_sha),
    )
    conn.execute(
        "INSERT INTO usage_ledger (job_id, user_id, guild_id, reserved, created_at) VALUES (?, ?, ?, ?, ?)",
        (job_id, payer, requester.guild_id, job.images_requested, now_ms),
    )
    return common.queued_job(job, job_id, payer, options, now_ms)


_CLAIM = (
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ? WHERE id = ? AND status = 'queued'"
)
_CLAIM_LEASED = (
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ?, lease_owner = ?, lease_until = ?,"
    " images_in_flight = ? WHERE id = ? AND status = 'queued'"
)
_REQUEUE = (
    "UPDATE jobs SET status = 'queued', started_at = NULL, lease_owner = NULL, lease_until = NULL, images_in_flight = 0"
    " WHERE id = ? AND status = 'running'"
)
_REQUEUE_RETURNING_ATTEMPT = (
    "UPDATE jobs SET status = 'queued', started_at = NULL, lease_owner = NULL, lease_until = NULL,"
    " images_in_flight = 0, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
    " WHERE id = ? AND status = 'running'"
)


def _lost_where(owner: str | None, now_ms: int, alias: str = "j.") -> tuple[str, list[Any]]:
    if owner is None:
        return f"{alias}lease_until < ?", [now_ms]
    return f"({alias}lease_until IS NULL OR {alias}lease_until < ? OR {alias}lease_owner = ?)", [now_ms, owner]


def _claim(conn: sqlite3.Connection, job_id: int, lease: Lease | None, now_ms: int) -> Job | None:
    if lease is None:
        return _transition(conn, job_id, _CLAIM, (now_ms,))
    row = conn.execute("SELECT images_requested FROM jobs WHERE id = ? AND status = 'queued'", (job_id,)).fetchone()
    if row is None:
        return None
    images = lease.admit(row[0], 0 if lease.capacity is None else _images_in_flight(conn, now_ms))
    params = (now_ms, lease.owner, now_ms + round(lease.seconds * 1000), images)
    claimed = _transition(conn, job_id, _CLAIM_LEASED, params)
    if claimed is not None and lease.turn_keys:
        conn.executemany(
            "INSERT INTO fair_turns (key, turn) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET turn = max(turn, excluded.turn)",
            [(key, now_ms) for key in lease.turn_keys],
        )
    return claimed


def _images_in_flight(conn: sqlite3.Connection, now_ms: int) -> int:
    sql = "SELECT COALESCE(SUM(images_in_flight), 0) FROM jobs WHERE status = 'running' AND lease_until >= ?"
    return conn.execute(sql, (now_ms,)).fetchone()[0]


def _renew(conn: sqlite3.Connection, owner: str, job_ids: tuple[int, ...], until_ms: int) -> set[int]:
    sql = (
        f"UPDATE jobs SET lease_until = ? WHERE id IN ({_marks(job_ids)}) AND status = 'running'"
        " AND lease_owner = ? RETURNING id"
    )
    return {row[0] for row in conn.execute(sql, (until_ms, *job_ids, owner)).fetchall()}


def _release_images(conn: sqlite3.Connection, job_id: int) -> None:
    conn.execute("UPDATE jobs SET images_in_flight = 0 WHERE id = ?", (job_id,))


def _requeue_lost(conn: sqlite3.Connection, job_id: int, sql: str, params: list[Any]) -> Job | None:
    if conn.execute(sql, (job_id, *params)).rowcount != 1:
        return None
    return _get_job(conn, job_id)


def _transition(conn: sqlite3.Connection, job_id: int, sql: str, params: tuple[Any, ...]) -> Job | None:
    """A status change that only applies from the right state; None when it does not."""
    if conn.execute(sql, (*params, job_id)).rowcount != 1:
        return None
    return _get_job(conn, job_id)


def _complete(
    conn: sqlite3.Connection,
    files: LocalFileStore,
    job_id: int,
    outputs: tuple[OutputImage, ...],
    settlement: Settlement,
    now_ms: int,
) -> Job:
    missing = [o.sha for o in outputs if o.sha is not None and not files.exists(o.sha)]
    if missing:
        raise ValueError(f"output files not in the file store (call files.put first): {missing}")
    delivered = sum(1 for o in outputs if o.sha is not None)
    updated = conn.execute(
        "UPDATE jobs SET status = 'succeeded', finished_at = ?, images_delivered = ?, images_withheld = ?"
        " WHERE id = ? AND status = 'running'",
        (now_ms, delivered, len(outputs) - delivered, job_id),
    )
    if updated.rowcount != 1:
        raise common.not_running(job_id)
    conn.executemany(
        "INSERT INTO job_images (job_id, kind, idx, sha, seed, is_safe, prompt_used, resolution, width, height, mime)"
        " VALUES (?, 'output', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (job_id, o.index, o.sha, o.seed, o.is_safe, o.prompt_used, o.resolution, o.width, o.height, o.mime)
            for o in outputs
        ],
    )
    _settle(conn, job_id, settlement, now_ms)
    return _get_job(conn, job_id)  # type: ignore[return-value]


def _fail(
    conn: sqlite3.Connection, job_id: int, code: str, message: str, settlement: Settlement, now_ms: int
) -> Job | None:
    updated = conn.execute(
        "UPDATE jobs SET status = 'failed', finished_at = ?, error_code = ?, error_message = ?"
        " WHERE id = ? AND status IN ('queued', 'running')",
        (now_ms, code, message, job_id),
    )
    if updated.rowcount != 1:
        return None
    _settle(conn, job_id, settlement, now_ms)
    return _get_job(conn, job_id)


def _cancel(conn: sqlite3.Connection, job_id: int, settlement: Settlement, now_ms: int) -> Job | None:
    updated = conn.execute(
        "UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'", (now_ms, job_id)
    )
    if updated.rowcount != 1:
        return None
    _settle(conn, job_id, settlement, now_ms)
    return _get_job(conn, job_id)


def _settle(conn: sqlite3.Connection, job_id: int, settlement: Settlement, now_ms: int) -> None:
    """Charge what the core decided, release the rest of the reservation, move the head if asked."""
    conn.execute(
        "UPDATE usage_ledger SET charged = ?, reserved = 0, settled_at = ? WHERE job_id = ?",
        (settlement.charged, now_ms, job_id),
    )
    if settlement.head is not None:
        conn.execute(
            "UPDATE sessions SET head_job_id = ?, head_index = ? WHERE id = ?",
            (job_id, settlement.head.index, settlement.head.session_id),
        )


def _set_progress(conn: sqlite3.Connection, job_id: int, channel_id: int, message_id: int) -> None:
    conn.execute(
        "UPDATE jobs SET progress_channel_id = ?, progress_message_id = ? WHERE id = ?",
        (channel_id, message_id, job_id),
    )


def _mark_posted(conn: sqlite3.Connection, job_id: int, channel_id: int, message_id: int) -> bool:
    updated = conn.execute(
        "UPDATE jobs SET result_channel_id = ?, result_message_id = ? WHERE id = ? AND result_message_id IS NULL",
        (channel_id, message_id, job_id),
    )
    return updated.rowcount == 1


def _job_images(conn: sqlite3.Connection, job_id: int) -> list[JobImage]:
    rows = conn.execute(
        "SELECT * FROM job_images WHERE job_id = ?"
        " ORDER BY CASE kind WHEN 'input' THEN 0 WHEN 'mask' THEN 1 ELSE 2 END, idx",
        (job_id,),
    )
    return [common.image_from_row(row) for row in rows]


def _history_filter(user_id: int, guild_id: int | None, search: str | None) -> tuple[str, list[Any]]:
    where, params = "j.user_id = ?", [user_id]
    if guild_id is not None:
        where += " AND j.guild_id = ?"
        params.append(guild_id)
    if search:
        where += " AND j.prompt_folded LIKE ? ESCAPE '\\'"
        params.append(common.like_pattern(search))
    return where, params


def _delete_chunk(
    conn: sqlite3.Connection, where: str, params: Sequence[Any], limit: int, order: str = "id"
) -> tuple[int, set[str]]:
    """Delete up to ``limit`` finished jobs matching ``where``; returns how many and their files."""
    ids = [
        row[0]
        for row in conn.execute(
            # ``+status``: the status test filters but must not pick the index (jobs_status_user would
            # read every finished job and sort them); ``where`` and ``order`` choose it instead
            f"SELECT id FROM jobs WHERE {where} AND +status IN ({_DELETABLE_SQL}) ORDER BY {order} LIMIT ?",
            (*params, limit),
        )
    ]
    if not ids:
        return 0, set()
    marks = _marks(ids)
    shas = {
        row[0]
        for row in conn.execute(
            f"SELECT DISTINCT sha FROM job_images WHERE job_id IN ({marks}) AND sha IS NOT NULL", ids
        )
    }
    conn.execute(f"DELETE FROM jobs WHERE id IN ({marks})", ids)  # images cascade; ledger rows stay
    return len(ids), shas


def _release_files(conn: sqlite3.Connection, files: LocalFileStore, shas: Iterable[str]) -> int:
    """Delete the files no row references. Runs on the database thread, so no insert can slip in
    between the check and the unlink; pinned files (just ``put``, job not created yet) are kept."""
    removed = 0
    for sha in shas:
        if files.pinned(sha):
            continue
        if conn.execute("SELECT 1 FROM job_images WHERE sha = ? LIMIT 1", (sha,)).fetchone() is not None:
            continue
        removed += files.remove(sha)
    return removed


def _sweep_files(conn: sqlite3.Connection, files: LocalFileStore, stale: list[tuple[str | None, Path]]) -> int:
    removed = 0
    for sha, path in stale:
        if sha is None:  # a temporary file from a write that crashed
            path.unlink(missing_ok=True)
            removed += 1
        else:
            removed += _release_files(conn, files, [sha])
    return removed


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL back into the database now, after each deletion chunk: each checkpoint then has one
    chunk's pages to write. Left to SQLite, one commit in every ~1,000 pages pays for all of them, and
    at a million jobs those pages are scattered over a large file (hundreds of ms holding the writer)."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _prune_ledger(conn: sqlite3.Connection, cutoff_ms: int, limit: int) -> int:
    """Delete up to ``limit`` settled ledger rows older than the cutoff (index ``usage_ledger_settled``)."""
    return conn.execute(
        "DELETE FROM usage_ledger WHERE job_id IN (SELECT job_id FROM usage_ledger"
        " WHERE reserved = 0 AND created_at < ? ORDER BY created_at LIMIT ?)",
        (cutoff_ms, limit),
    ).rowcount


def _quota_status(
    conn: sqlite3.Connection, requester: Requester, limits: EffectiveLimits, now: datetime
) -> QuotaStatus:
    usage, window_start = _usage(conn, requester.user_id, requester, limits, now)
    oldest = conn.execute(
        "SELECT MIN(created_at) FROM usage_ledger WHERE user_id = ? AND created_at > ? AND reserved + charged > 0",
        (requester.user_id, window_start),
    ).fetchone()[0]
    return common.quota_status(limits, usage, oldest, now)


def _ping(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT 1").fetchone()


def _ops_counts(conn: sqlite3.Connection, since_ms: int) -> OpsCounts:
    used = conn.execute(common.OPS_USED_SQL.format(since="?"), (since_ms,)).fetchone()[0]
    return common.ops_counts(conn.execute(common.OPS_JOBS_SQL).fetchall(), used)


def _usage_report(conn: sqlite3.Connection, guild_id: int, since_ms: int) -> list[UsageRow]:
    rows = conn.execute(
        """
        SELECT user_id, SUM(charged) AS images, SUM(CASE WHEN charged > 0 THEN 1 ELSE 0 END) AS jobs
        FROM usage_ledger
        WHERE guild_id = ? AND created_at >= ?
        GROUP BY user_id
        HAVING SUM(charged) > 0
        ORDER BY images DESC, user_id
        """,
        (guild_id, since_ms),
    )
    return [UsageRow(user_id=row[0], images=row[1], jobs=row[2]) for row in rows]


def _guild_config(conn: sqlite3.Connection, guild_id: int) -> GuildConfig:
    row = conn.execute("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)).fetchone()
    roles = tuple(
        common.role_from_row(r)
        for r in conn.execute("SELECT * FROM role_limits WHERE guild_id = ? ORDER BY role_id", (guild_id,))
    )
    values = {name: row[name] for name in GUILD_FIELDS} if row is not None else {}
    return GuildConfig(guild_id=guild_id, roles=roles, **values)


def _update_guild_config(
    conn: sqlite3.Connection, guild_id: int, actor_id: int, changes: dict[str, int | None], now_ms: int
) -> GuildConfig:
    current = _guild_config(conn, guild_id)
    conn.execute(
        "INSERT INTO guild_settings (guild_id, updated_at) VALUES (?, ?) ON CONFLICT (guild_id) DO NOTHING",
        (guild_id, now_ms),
    )
    for name, value in changes.items():
        old = getattr(current, name)
        if old == value:
            continue
        # ``name`` is one of GUILD_FIELDS (checked by the caller), never user text
        conn.execute(
            f"UPDATE guild_settings SET {name} = ?, updated_at = ? WHERE guild_id = ?", (value, now_ms, guild_id)
        )
        before, after = AuditValue.of_limit(old).text, AuditValue.of_limit(value).text
        _audit(conn, guild_id, actor_id, AuditAction(limit=name).text, before, after, now_ms)
    return _guild_config(conn, guild_id)


def _set_role_limits(
    conn: sqlite3.Connection, guild_id: int, actor_id: int, role: RoleLimits | None, role_id: int, now_ms: int
) -> GuildConfig:
    old = next((r for r in _guild_config(conn, guild_id).roles if r.role_id == role_id), None)
    if role is None:
        if old is not None:
            conn.execute("DELETE FROM role_limits WHERE guild_id = ? AND role_id = ?", (guild_id, role_id))
            _audit(
                conn,
                guild_id,
                actor_id,
                AuditAction(role_id=role_id, removed=True).text,
                AuditValue.of_role(old).text,
                None,
                now_ms,
            )
        return _guild_config(conn, guild_id)
    conn.execute(
        """
        INSERT INTO role_limits (guild_id, role_id, window_images, daily_images, max_active_jobs, exempt, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (guild_id, role_id) DO UPDATE SET
            window_images = excluded.window_images,
            daily_images = excluded.daily_images,
            max_active_jobs = excluded.max_active_jobs,
            exempt = excluded.exempt,
            updated_at = excluded.updated_at
        """,
        (guild_id, role_id, role.window_images, role.daily_images, role.max_active_jobs, role.exempt, now_ms),
    )
    if old != role:
        before, after = AuditValue.of_role(old).text, AuditValue.of_role(role).text
        _audit(conn, guild_id, actor_id, AuditAction(role_id=role_id).text, before, after, now_ms)
    return _guild_config(conn, guild_id)


def _audit(
    conn: sqlite3.Connection, guild_id: int, actor_id: int, action: str, old: str | None, new: str | None, now_ms: int
) -> None:
    conn.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, old_value, new_value, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, actor_id, action, old, new, now_ms),
    )


def _audit_log(conn: sqlite3.Connection, guild_id: int, limit: int) -> list[AuditEntry]:
    rows = conn.execute(
        "SELECT guild_id, actor_id, action, old_value, new_value, created_at FROM audit_log"
        " WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
        (guild_id, limit),
    )
    return [AuditEntry(r[0], r[1], r[2], r[3], r[4], dt(r[5])) for r in rows]


def _session_where(conn: sqlite3.Connection, where: str, value: int) -> Session | None:
    row = conn.execute(f"SELECT * FROM sessions WHERE {where}", (value,)).fetchone()
    return None if row is None else common.session_from_row(row)


def _create_session(conn: sqlite3.Connection, values: tuple[int, ...]) -> Session:
    thread_id, root_job_id = values[2], values[4]
    clash = conn.execute(
        "SELECT thread_id FROM sessions WHERE root_job_id = ? OR thread_id = ?", (root_job_id, thread_id)
    ).fetchone()
    if clash is not None:
        raise SessionExists(clash[0])
    session_id = conn.execute(
        "INSERT INTO sessions (guild_id, channel_id, thread_id, owner_id, root_job_id, head_job_id, head_index,"
        " created_at, guild_locale) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
        " COALESCE((SELECT guild_locale FROM jobs WHERE id = ?5), 'en-US'))",
        values,
    ).lastrowid
    return _session_where(conn, "id = ?", session_id)  # type: ignore[return-value]


def _update_session(conn: sqlite3.Connection, session_id: int, changes: dict[str, int | bool]) -> Session:
    for name, value in changes.items():  # names are SESSION_FIELDS keys (checked by the caller)
        conn.execute(f"UPDATE sessions SET {name} = ? WHERE id = ?", (value, session_id))
    session = _session_where(conn, "id = ?", session_id)
    if session is None:
        raise common.session_gone(session_id)
    return session


def _attach_job(conn: sqlite3.Connection, job_id: int, session_id: int) -> None:
    if _session_where(conn, "id = ?", session_id) is None:
        raise common.session_gone(session_id)
    if conn.execute("UPDATE jobs SET session_id = ? WHERE id = ?", (session_id, job_id)).rowcount != 1:
        raise common.job_gone(job_id)


# --- small helpers ---------------------------------------------------------------------------------------


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))
