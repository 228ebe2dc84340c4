"""Choose the storage backend from settings. The rest of the bot only ever sees ``Storage``."""

from __future__ import annotations

from bot.errors import ConfigError
from bot.settings import Settings
from bot.store import Storage
from storage.files import LocalFileStore
from storage.sqlite import SqliteStorage

POSTGRES_SCHEMES = ("postgresql", "postgres")


def open_storage(settings: Settings) -> Storage:
    """An *un-opened* backend for ``settings.database_url``; the caller awaits ``open()``/``close()``.

    ``sqlite:///path`` (or no URL: ``DATA_DIR/bot.sqlite3``) or ``postgresql://…`` / ``postgres://…``.
    Images always live under ``DATA_DIR/images`` whatever the database is (with several processes,
    a volume they all mount).
    """
    files = LocalFileStore(settings.data_dir / "images")
    scheme = settings.database_url.partition(":")[0].lower() if settings.database_url else "sqlite"
    if scheme == "sqlite":
        return SqliteStorage(settings.database_path, files)
    if scheme in POSTGRES_SCHEMES:
        from storage.postgres import PostgresStorage  # asyncpg is only imported when it is used

        return PostgresStorage(settings.database_url, files)
    raise ConfigError(f"DATABASE_URL is invalid: the {scheme!r} backend is not supported in this version.")
