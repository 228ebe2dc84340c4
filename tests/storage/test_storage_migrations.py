"""Opening the database: pragmas, numbered migrations, in-place upgrades, the factory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store import JobStatus, Requester
from storage.factory import open_storage
from storage.files import LocalFileStore
from storage.sqlite import Migration, SqliteStorage, apply_migrations, load_migrations, split_statements
from tests.storage_support import T0, UNLIMITED, cid, finish, gid, make_storage, submit, uid

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "storage" / "migrations"


def versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def index_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_migrations_are_package_data_numbered_in_order() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    # numbers are reserved per branch, so a branch may have gaps until the others are merged
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert migrations[0].name == "initial"
    on_disk = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
    assert on_disk == [f"{m.version:03d}_{m.name}.sql" for m in migrations]


async def test_a_new_database_is_migrated_and_configured(tmp_path: Path) -> None:
    async with make_storage(tmp_path) as storage:
        conn = storage._db
        assert conn is not None
        pragmas = {
            name: (await (await conn.execute(f"PRAGMA {name}")).fetchone())[0]
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2, "busy_timeout": 10000}
    assert versions(tmp_path / "bot.sqlite3") == [m.version for m in load_migrations()]


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    async with make_storage(tmp_path) as storage:
        job = await submit(storage)
    with sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None) as conn:
        assert apply_migrations(conn, load_migrations()) == []
    async with make_storage(tmp_path) as storage:
        assert await storage.get_job(job.id) == job


async def test_an_old_database_upgrades_in_place(tmp_path: Path) -> None:
    """A database that only has 001 and data in it gets the later migrations and keeps working."""
    path = tmp_path / "bot.sqlite3"
    files = LocalFileStore(tmp_path / "images")
    input_sha, mask_sha = await files.put(b"old input"), await files.put(b"old mask")
    conn = sqlite3.connect(path, isolation_level=None)
    assert apply_migrations(conn, load_migrations()[:1]) == [1]
    created = int(T0.timestamp() * 1000)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO jobs (id, user_id, guild_id, channel_id, action, prompt, prompt_folded, options, status,"
        " images_requested, payer_user_id, created_at)"
        " VALUES (1, ?, ?, ?, 'edit', 'Old Prompt', 'old prompt', '{\"num_images\": 2}', 'queued', 2, ?, ?)",
        (uid(42), gid(10), cid(100), uid(42), created),
    )
    conn.executemany(
        "INSERT INTO job_images (job_id, kind, idx, sha) VALUES (1, ?, 0, ?)",
        [("input", input_sha), ("mask", mask_sha)],
    )
    conn.execute(
        "INSERT INTO usage_ledger (job_id, user_id, guild_id, reserved, created_at) VALUES (1, ?, ?, 2, ?)",
        (uid(42), gid(10), created),
    )
    conn.execute("COMMIT")
    conn.close()
    assert versions(path) == [1]
    assert "jobs_status_user" not in index_names(path)

    async with SqliteStorage(path, files) as storage:
        assert versions(path) == [m.version for m in load_migrations()]
        assert "jobs_status_user" in index_names(path)
        old = await storage.get_job(1)
        assert old is not None
        assert (old.prompt, old.status, old.input_sha) == ("Old Prompt", JobStatus.QUEUED, input_sha)
        assert old.options == {"num_images": 2}
        assert [j.id for j in await storage.history(uid(42), search="old")] == [1]
        status = await storage.quota_status(Requester(uid(42), gid(10)), UNLIMITED, T0)
        assert (status.window_used, status.active_jobs) == (2, 1)
        done = await finish(storage, old, delivered=2)
        assert done.status is JobStatus.SUCCEEDED
        new = await submit(storage, user=uid(42))
        assert new.id == 2


def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    good = Migration(1, "good", "CREATE TABLE a (x INTEGER);")
    bad = Migration(2, "bad", "CREATE TABLE b (x INTEGER);\nINSERT INTO missing_table VALUES (1);")
    with pytest.raises(sqlite3.OperationalError):
        apply_migrations(conn, [good, bad])
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" in tables and "b" not in tables
    assert [v for (v,) in conn.execute("SELECT version FROM schema_migrations")] == [1]
    assert not conn.in_transaction


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    apply_migrations(conn, [Migration(1, "a", "CREATE TABLE a (x);"), Migration(2, "b", "CREATE TABLE b (x);")])
    with pytest.raises(RuntimeError, match="newer than this bot knows"):
        apply_migrations(conn, [Migration(1, "a", "CREATE TABLE a (x);")])


def test_split_statements_respects_strings_and_comments() -> None:
    sql = (
        "-- a comment; with a semicolon\nCREATE TABLE t (x TEXT DEFAULT 'a;b');\n\n"
        "INSERT INTO t VALUES ('c;d');\n-- trailing\n"
    )
    assert split_statements(sql) == [
        "-- a comment; with a semicolon\nCREATE TABLE t (x TEXT DEFAULT 'a;b');",
        "INSERT INTO t VALUES ('c;d');",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE t (x")


def test_factory_builds_an_unopened_sqlite_storage(tmp_path: Path) -> None:
    storage = open_storage(Settings(data_dir=tmp_path / "data"))
    assert isinstance(storage, SqliteStorage)
    assert storage.path == tmp_path / "data" / "bot.sqlite3"
    assert storage.files.root == tmp_path / "data" / "images"
    assert storage._db is None
    elsewhere = open_storage(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/other.db"))
    assert elsewhere.path == tmp_path / "other.db"
