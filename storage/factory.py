"""Choose the storage backend from settings. The rest of the bot only ever sees ``Storage``."""

from __future__ import annotations

from bot.errors import ConfigError
from bot.settings import Settings
from bot.store import Storage
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage


def open_storage(settings: Settings) -> Storage:
    """An *un-opened* backend for ``settings.database_url``; the caller awaits ``open()``/``close()``.

    Images always live under ``DATA_DIR/images`` whatever the database is.
    """
    files = LocalFileStore(settings.data_dir / "images")
    scheme = settings.database_url.partition(":")[0].lower() if settings.database_url else "sqlite"
    if scheme == "sqlite":
        return SqliteStorage(settings.database_path, files)
    # A PostgreSQL backend plugs in here: ``storage/postgres.py`` with a ``PostgresStorage(url, files)``
    # implementing ``Storage`` (asyncpg; its own numbered migrations; ``bot.quota.check_submission``
    # called in the transaction that reserves, serialised per payer and guild with
    # ``pg_advisory_xact_lock``),
    # selected for ``postgres://`` / ``postgresql://`` URLs (Settings.__post_init__ must allow them).
    raise ConfigError(f"DATABASE_URL is invalid: the {scheme!r} backend is not supported in this version.")
