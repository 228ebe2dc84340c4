"""One typed settings object, read from the environment and an optional ``.env`` file.

Validation happens once, at start-up, and every message names the variable and what it accepts, so an
operator can fix a bad deployment from the first line of the log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values

from bot.errors import ConfigError
from bot.options import ApiShape, AuthScheme, LegacyModel
from bot.secret import Secret

T = TypeVar("T")

DEFAULT_EDIT_PATHS = {ApiShape.V3: "/v1/ideogram-v3/edit", ApiShape.LEGACY: "/edit"}


@dataclass(frozen=True, slots=True)
class LimitDefaults:
    """Per-user and per-guild limits in images (what is billed); guilds may override them."""

    user_window_images: int = 5
    user_window_minutes: int = 10
    user_daily_images: int = 25
    user_max_active_jobs: int = 3
    guild_daily_images: int = 200


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: Secret = field(default_factory=lambda: Secret(""))
    ideogram_api_key: Secret = field(default_factory=lambda: Secret(""))
    ideogram_base_url: str = "https://api.ideogram.ai"
    ideogram_api: ApiShape = ApiShape.V3
    ideogram_edit_path: str = DEFAULT_EDIT_PATHS[ApiShape.V3]
    ideogram_auth: AuthScheme = AuthScheme.API_KEY
    ideogram_model: LegacyModel = LegacyModel.V_2_TURBO
    ideogram_task_path: str | None = None
    ideogram_timeout_s: float = 180.0
    ideogram_max_retries: int = 3
    max_images_in_flight: int = 8
    data_dir: Path = Path("./data")
    database_url: str = ""  # empty: sqlite file in data_dir
    dev_guild_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    log_level: str = "INFO"
    limits: LimitDefaults = field(default_factory=LimitDefaults)
    retention_days: int = 30
    shutdown_grace_s: float = 30.0
    # Memory budget for image preparation (bot.memory), in MB of peak working set. Sized for a 1 GB VPS:
    # the OS and other daemons ~250 MB, the bot's idle process ~100-150 MB (Python, discord.py, Pillow,
    # aiohttp, SQLite cache), network buffers for uploads/results ~100 MB; 256 MB of preparation keeps the
    # peak near 400 MB with headroom. One 30-megapixel photo (~260 MB weighted) then runs alone, and about
    # eight 2048² photos (~35 MB each) run side by side. Full: requests wait in order, with a position.
    memory_budget_mb: int = 256

    @property
    def database_path(self) -> Path:
        """The SQLite file; ``DATABASE_URL`` may be ``sqlite:///path`` or empty."""
        if not self.database_url:
            return self.data_dir / "bot.sqlite3"
        return Path(self.database_url.removeprefix("sqlite:///").removeprefix("sqlite://"))

    @property
    def edit_url(self) -> str:
        return self.ideogram_base_url.rstrip("/") + self.ideogram_edit_path

    def secrets(self) -> tuple[Secret, ...]:
        return (self.discord_token, self.ideogram_api_key)

    def problems(self, *, need_discord: bool, need_api: bool) -> list[str]:
        """What is missing for a given use (``check`` lists these; ``run`` refuses to start)."""
        missing = []
        if need_discord and not self.discord_token:
            missing.append("DISCORD_TOKEN is not set: the bot token from the Developer Portal.")
        if need_api and not self.ideogram_api_key:
            missing.append("IDEOGRAM_API_KEY is not set: the key for the image API.")
        return missing

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"):
        """Environment variables win over the ``.env`` file, as in every twelve-factor tool."""
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value is not None and value.strip() != "" else None

        def parse(name: str, convert: Callable[[str], T], default: T, accepted: str) -> T:
            raw = get(name)
            if raw is None:
                return default
            try:
                return convert(raw)
            except (ValueError, KeyError):
                # the raw value is deliberately not echoed: it might be a misplaced secret
                raise ConfigError(f"{name} is invalid: expected {accepted}.") from None

        def positive(kind: Callable[[str], Any], low: float = 1, high: float = 10**9):
            def convert(raw: str) -> Any:
                value = kind(raw)
                if not low <= value <= high:
                    raise ValueError(raw)
                return value

            return convert

        def snowflake(raw: str) -> int:
            # Discord ids are 64-bit snowflakes: 17–20 digits today; anything in (0, 2**63) is well-formed
            value = int(raw)
            if not 0 < value < 2**63:
                raise ValueError(raw)
            return value

        def url(raw: str) -> str:
            if not raw.startswith(("http://", "https://", "ws://", "wss://")):
                raise ValueError(raw)
            return raw.rstrip("/")

        def path(raw: str) -> str:
            if not raw.startswith("/"):
                raise ValueError(raw)
            return raw

        def one_of(*names: str) -> Callable[[str], str]:
            def convert(raw: str) -> str:
                if raw.upper() not in names:
                    raise ValueError(raw)
                return raw.upper()

            return convert

        def choice(kind: type) -> Callable[[str], Any]:
            return lambda raw: kind(raw.upper() if kind is LegacyModel else raw.lower())

        shape = parse("IDEOGRAM_API", choice(ApiShape), ApiShape.V3, "v3 or legacy")
        task_path = parse("IDEOGRAM_TASK_PATH", path, None, "a path starting with / (with {task_id})")
        if task_path is not None and "{task_id}" not in task_path:
            raise ConfigError("IDEOGRAM_TASK_PATH is invalid: it must contain {task_id}.")
        defaults = LimitDefaults()
        limits = LimitDefaults(
            **{
                f.name: parse(
                    f.name.upper(),
                    positive(int, 0 if f.name != "user_window_minutes" else 1, 10**6),
                    getattr(defaults, f.name),
                    "a whole number ≥ 0",
                )
                for f in fields(LimitDefaults)
            }
        )
        return cls(
            discord_token=Secret(get("DISCORD_TOKEN") or ""),
            ideogram_api_key=Secret(get("IDEOGRAM_API_KEY") or ""),
            ideogram_base_url=parse("IDEOGRAM_BASE_URL", url, "https://api.ideogram.ai", "an http(s):// URL"),
            ideogram_api=shape,
            ideogram_edit_path=parse("IDEOGRAM_EDIT_PATH", path, DEFAULT_EDIT_PATHS[shape], "a path starting with /"),
            ideogram_auth=parse("IDEOGRAM_AUTH", choice(AuthScheme), AuthScheme.API_KEY, "api-key or bearer"),
            ideogram_model=parse("IDEOGRAM_MODEL", choice(LegacyModel), LegacyModel.V_2_TURBO, "V_2 or V_2_TURBO"),
            ideogram_task_path=task_path,
            ideogram_timeout_s=parse(
                "IDEOGRAM_TIMEOUT_S", positive(float, 1, 3600), 180.0, "seconds between 1 and 3600"
            ),
            ideogram_max_retries=parse("IDEOGRAM_MAX_RETRIES", positive(int, 0, 10), 3, "a whole number from 0 to 10"),
            max_images_in_flight=parse("MAX_IMAGES_IN_FLIGHT", positive(int, 1, 64), 8, "a whole number from 1 to 64"),
            data_dir=Path(get("DATA_DIR") or "./data"),
            database_url=get("DATABASE_URL") or "",
            dev_guild_id=parse(
                "DEV_GUILD_ID", snowflake, None, "a Discord server id (a number like 123456789012345678)"
            ),
            discord_api_base=parse("DISCORD_API_BASE", url, None, "an http(s):// URL"),
            discord_gateway_url=parse("DISCORD_GATEWAY_URL", url, None, "a ws(s):// URL"),
            log_level=parse(
                "LOG_LEVEL",
                one_of("DEBUG", "INFO", "WARNING", "ERROR"),
                "INFO",
                "DEBUG, INFO, WARNING or ERROR",
            ),
            limits=limits,
            retention_days=parse("RETENTION_DAYS", positive(int, 1, 36500), 30, "days ≥ 1"),
            shutdown_grace_s=parse("SHUTDOWN_GRACE_S", positive(float, 0, 3600), 30.0, "seconds from 0 to 3600"),
            memory_budget_mb=parse("MEMORY_BUDGET_MB", positive(int, 32, 1_048_576), 256, "megabytes ≥ 32"),
        )

    def __post_init__(self) -> None:
        if self.database_url and not self.database_url.startswith("sqlite"):
            raise ConfigError("DATABASE_URL is invalid: only sqlite:///path is supported in this version.")
