"""Moving an install: copy a SQLite database into an empty PostgreSQL one (``python -m bot migrate --to …``).

Everything is copied in one PostgreSQL transaction, so a failure leaves the target empty: jobs (with
their ids: buttons and messages name them), images, the usage ledger (quotas carry over), guild
limits, role overrides, the audit log and editing sessions. Both schemas hold the same data in the
same representation (see ``storage/migrations/postgres/001_initial.sql``), so rows are copied as they
are, booleans aside. Then the id sequences move past every id SQLite ever handed out (also those of
deleted rows), so no id is reused, and the row counts of both sides are compared.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg

from storage.files import LocalFileStore
from storage.postgres import PostgresStorage
from storage.sqlite import SqliteStorage

# In foreign-key order (a job's parent has a lower id, so ordering by the key keeps parents first).
TABLES = {
    "jobs": "id",
    "job_images": "job_id, kind, idx",
    "usage_ledger": "job_id",
    "guild_settings": "guild_id",
    "role_limits": "guild_id, role_id",
    "audit_log": "id",
    "sessions": "id",
}
SEQUENCES = ("jobs", "audit_log", "sessions")  # tables whose ids come from a sequence


class TargetNotEmpty(RuntimeError):
    """The PostgreSQL database already holds data; copying into it could mix two installs."""


async def copy_sqlite_to_postgres(sqlite_path: Path, target_url: str, files: LocalFileStore) -> dict[str, int]:
    """Copy every table; returns the row counts (verified equal on both sides)."""
    async with SqliteStorage(sqlite_path, files):  # brings an older SQLite file up to the current schema
        pass
    async with PostgresStorage(target_url, files, max_pool=1):  # creates the PostgreSQL schema
        pass
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        target = await asyncpg.connect(target_url)
        try:
            async with target.transaction():
                for table in TABLES:
                    if await target.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                        raise TargetNotEmpty(
                            f"the PostgreSQL database already has rows in {table}; migrate into an empty database"
                        )
                counts = {}
                for table, order in TABLES.items():
                    counts[table] = await _copy_table(source, target, table, order)
                for table in SEQUENCES:
                    await _move_sequence(source, target, table)
                for table, copied in counts.items():
                    landed = await target.fetchval(f"SELECT COUNT(*) FROM {table}")
                    if landed != copied:
                        raise RuntimeError(f"{table}: copied {copied} rows but PostgreSQL has {landed}")
            return counts
        finally:
            await target.close()
    finally:
        source.close()


async def _copy_table(source: sqlite3.Connection, target: asyncpg.Connection, table: str, order: str) -> int:
    columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    booleans = {
        row[0]
        for row in await target.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND data_type = 'boolean'",
            table,
        )
    }
    flags = [name in booleans for name in columns]
    records = [
        tuple(bool(value) if flag and value is not None else value for value, flag in zip(row, flags, strict=True))
        for row in source.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
    ]
    if records:
        await target.copy_records_to_table(table, records=records, columns=columns)
    return len(records)


async def _move_sequence(source: sqlite3.Connection, target: asyncpg.Connection, table: str) -> None:
    """Past the largest id SQLite used, deleted rows included (``sqlite_sequence`` remembers them)."""
    used = source.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
    try:
        row = source.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    except sqlite3.OperationalError:  # no AUTOINCREMENT table ever written
        row = None
    highest = max(used, row[0] if row else 0)
    if highest > 0:
        await target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), $1)", highest)


def migrate(sqlite_path: Path, target_url: str, files: LocalFileStore) -> int:
    """The ``migrate`` command: copy, print the counts, 0 on success; 1 with a reason otherwise."""
    scheme = target_url.partition(":")[0].lower()
    if scheme not in ("postgresql", "postgres"):
        print("migrate --to needs a postgresql://… URL", flush=True)
        return 1
    if not sqlite_path.exists():
        print(f"There is no SQLite database at {sqlite_path} to migrate.", flush=True)
        return 1
    try:
        counts = asyncio.run(copy_sqlite_to_postgres(sqlite_path, target_url, files))
    except TargetNotEmpty as exc:
        print(f"Refused: {exc}.", flush=True)
        return 1
    for table, count in counts.items():
        print(f"{table}: {count} rows copied and verified")
    print("Done. Set DATABASE_URL to the PostgreSQL URL and restart the bot.")
    return 0
