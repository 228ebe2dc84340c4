"""PostgreSQL advisory locks, and the transaction that holds its locks for its statements only.

Why the locks are advisory and why submissions and settlements commit asynchronously, then flush
outside their locks: see ``storage/postgres.py``'s module docstring."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import asyncpg


def lock_key(kind: str, value: object) -> int:
    """A signed 64-bit advisory lock key for ``kind:value`` (a collision only serialises more)."""
    digest = hashlib.blake2b(f"inpaint-bot:{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_calls(exclusive: Iterable[int] = (), shared: Iterable[int] = ()) -> list[str]:
    """Advisory transaction lock calls, each group in a fixed (sorted) order, so two transactions never
    wait for each other in a circle. The keys are integers, written into the text: a query of several
    statements (see ``released_before_flush``) takes no parameters."""
    calls = [f"pg_advisory_xact_lock('{key:d}'::bigint)" for key in sorted(set(exclusive))]
    return calls + [f"pg_advisory_xact_lock_shared('{key:d}'::bigint)" for key in sorted(set(shared))]


async def lock(conn: asyncpg.Connection, exclusive: Iterable[int] = (), shared: Iterable[int] = ()) -> None:
    """Take advisory transaction locks in one round trip."""
    if calls := lock_calls(exclusive, shared):
        await conn.execute("SELECT " + ", ".join(calls))


# A transaction that writes WAL (so it has an xid and a commit record to wait for) and nothing else:
# committed synchronously, it returns once the WAL up to its commit, so every earlier commit, is flushed.
# ``SELECT pg_current_xact_id()`` would not do: a transaction that writes no WAL commits asynchronously.
FLUSH_WAL = "SELECT pg_logical_emit_message(true, 'inpaint-bot', 'flush')"


@asynccontextmanager
async def released_before_flush(
    conn: asyncpg.Connection, exclusive: Iterable[int] = (), shared: Iterable[int] = ()
) -> AsyncIterator[None]:
    """A transaction under advisory locks that holds them for its statements, not for its WAL flush.

    One round trip opens it, makes its own commit asynchronous and takes the locks. One round trip
    closes it: ``COMMIT``, which releases the locks as soon as the commit record is in the WAL buffers
    (the rows are visible from then on), then, in the same query, ``FLUSH_WAL``, which returns once
    the WAL is on disk past that commit. So the caller is answered only once the transaction is
    durable; concurrent flushes are merged by PostgreSQL's group commit. An exception raised in the
    block (a refusal, an error, a cancellation) rolls back.

    Its statements run with generic plans: they are prepared once and run hundreds of times a second
    with the same shape, and planning a custom one each time doubled the batch statement's cost."""
    calls = [
        "set_config('synchronous_commit', 'off', true)",
        "set_config('plan_cache_mode', 'force_generic_plan', true)",
        *lock_calls(exclusive, shared),
    ]
    try:
        await conn.execute("BEGIN; SELECT " + ", ".join(calls))
        yield
    except BaseException:
        if not conn.is_closed() and conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        raise
    await conn.execute(f"COMMIT; {FLUSH_WAL}")
