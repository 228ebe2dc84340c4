"""One typed settings object, read from the environment and an optional ``.env`` file.

Validation happens once, at start-up, and every message names the variable and what it accepts, so an
operator can fix a bad deployment from the first line of the log.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values

from bot.errors import ConfigError
from bot.limits import ADMIN_CEILINGS, DAILY_IMAGE_BUDGET, LIMIT_CEILING, LIMITS, RESULT_DOWNLOAD_TIMEOUT_S, limit_spec
from bot.logs import LOG_FORMATS
from bot.options import ApiShape, AuthScheme, LegacyModel
from bot.secret import Secret

T = TypeVar("T")

DEFAULT_EDIT_PATHS = {ApiShape.V3: "/v1/ideogram-v3/edit", ApiShape.LEGACY: "/edit"}
DEFAULT_IDEOGRAM_TIMEOUT_S = 180.0
SHUTDOWN_MARGIN_S = 10.0  # storing and posting a result once it is downloaded
DEFAULT_JOB_LEASE_S = 30.0  # a claim holds this long unless the heartbeat (every third of it) renews it


def default_shutdown_grace(ideogram_timeout_s: float) -> float:
    """The longest a started edit can take to be saved: the whole API call (retries and polling
    included), then downloading its results, then storing them. Waiting that long on SIGTERM means a
    call that was sent is never cut off and run again (Ideogram would bill both)."""
    return ideogram_timeout_s + RESULT_DOWNLOAD_TIMEOUT_S + SHUTDOWN_MARGIN_S


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The gateway shard Discord sends a server's events to (the same as discord.py's ``Guild.shard_id``);
    DMs go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class LimitDefaults:
    """Per-user and per-guild limits in images (what is billed); guilds may override them.

    One field per ``bot.limits.LIMITS`` entry (``spec.setting``), defaulting to ``spec.default``; a test
    keeps the two in step.
    """

    user_window_images: int = limit_spec("window_images").default
    user_window_minutes: int = limit_spec("window_minutes").default
    user_daily_images: int = limit_spec("daily_images").default
    user_max_active_jobs: int = limit_spec("max_active_jobs").default
    guild_daily_images: int = limit_spec("guild_daily_images").default

    def value(self, name: str) -> int:
        """The default for the limit ``name`` (a ``GuildConfig`` field)."""
        return getattr(self, limit_spec(name).setting)


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
    ideogram_timeout_s: float = DEFAULT_IDEOGRAM_TIMEOUT_S
    ideogram_max_retries: int = 3
    max_images_in_flight: int = 8
    data_dir: Path = Path("./data")
    database_url: str = ""  # empty: sqlite file in data_dir; sqlite:///path or postgresql://…
    dev_guild_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    log_level: str = "INFO"
    log_format: str = LOG_FORMATS[0]  # text; LOG_FORMAT=json: one JSON object per line (bot.logs)
    limits: LimitDefaults = field(default_factory=LimitDefaults)
    retention_days: int = 30
    # --- billing safety (issue 10) ---------------------------------------------------------------
    # default: wait out the longest started edit (derived from IDEOGRAM_TIMEOUT_S when loaded)
    shutdown_grace_s: float = default_shutdown_grace(DEFAULT_IDEOGRAM_TIMEOUT_S)
    # retry requests that were sent and then lost (timeout, dropped connection, gateway 502/504):
    # off by default because Ideogram may have run, and billed, the lost one
    ideogram_retry_maybe_billed: bool = False
    # the web server and the mask editor (issue 12); PUBLIC_URL unset = the editor is off
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str | None = None
    web_secret: Secret = field(default_factory=lambda: Secret(""))
    editor_link_minutes: int = 15
    # Memory budget for image preparation (bot.memory), in MB of peak working set. Sized for a 1 GB VPS:
    # the OS and other daemons ~250 MB, the bot's idle process ~100-150 MB (Python, discord.py, Pillow,
    # aiohttp, SQLite cache), network buffers for uploads/results ~100 MB; 256 MB of preparation keeps the
    # peak near 400 MB with headroom. One 30-megapixel photo (~260 MB weighted) then runs alone, and about
    # eight 2048² photos (~35 MB each) run side by side. Full: requests wait in order, with a position.
    memory_budget_mb: int = 256
    # --- operator controls (issue 10): the bot serves strangers' servers, and every image costs money ---
    allowed_guild_ids: frozenset[int] | None = None  # None: every server is served (warned at start-up)
    daily_image_budget: int = DAILY_IMAGE_BUDGET  # images per UTC day, the whole bot (servers and DMs)
    max_user_daily_images: int = ADMIN_CEILINGS["max_user_daily_images"]  # ceilings on what admins set
    max_guild_daily_images: int = ADMIN_CEILINGS["max_guild_daily_images"]
    allow_dms: bool = False  # edits in DMs (they count against the budget and the user's own limits)

    def serves(self, guild_id: int | None) -> bool:
        """Whether interactions from this server are answered (DMs: ``allow_dms`` decides per action)."""
        return guild_id is None or self.allowed_guild_ids is None or guild_id in self.allowed_guild_ids

    def admin_ceiling(self, name: str) -> int | None:
        """The most a server admin may set the limit ``name`` to (None: only the spec's own range)."""
        spec = limit_spec(name)
        return getattr(self, spec.admin_max) if spec.admin_max else None

    @property
    def admin_ceilings(self) -> dict[str, int]:
        """Every operator ceiling, by limit name (``bot.quota.resolve_limits`` applies them)."""
        return {spec.name: getattr(self, spec.admin_max) for spec in LIMITS if spec.admin_max}

    # --- several processes on one database (issue 14) ---------------------------------------------------
    worker_id: str = ""  # names this process in its job claims; empty: the host name and the run mode
    run_worker: bool = True  # ``python -m bot`` also runs the queue; false: a gateway only
    shard_count: int | None = None  # total gateway shards (discord.py's AutoShardedBot); None: not sharded
    shard_ids: tuple[int, ...] | None = None  # the shards this process runs; None: all of SHARD_COUNT
    worker_max_images: int | None = None  # images this process holds at most; None: MAX_IMAGES_IN_FLIGHT
    job_lease_s: float = DEFAULT_JOB_LEASE_S  # a dead process's job is re-run this long after its last heartbeat
    queue_poll_s: float = 1.0  # how often a scheduler looks for jobs other processes queued or freed

    @property
    def database_path(self) -> Path:
        """The SQLite file; ``DATABASE_URL`` may be ``sqlite:///path`` or empty."""
        if not self.database_url:
            return self.data_dir / "bot.sqlite3"
        return Path(self.database_url.removeprefix("sqlite:///").removeprefix("sqlite://"))

    def receives(self, guild_id: int | None) -> bool:
        """Whether this process's gateway receives the interactions of this server (None: a DM): Discord
        sends a server's events to one shard (``shard_of``) and this process runs ``SHARD_IDS`` (every
        shard when unsharded or without ``SHARD_IDS``)."""
        if self.shard_count is None or self.shard_ids is None:
            return True
        return shard_of(guild_id, self.shard_count) in self.shard_ids

    def owner(self, mode: str) -> str:
        """This process's name in job claims: ``WORKER_ID``, else the host name and the run mode (so a
        gateway and a worker on one host differ; several workers on one host need their own ids)."""
        return self.worker_id or f"{socket.gethostname()}:{mode}"

    @property
    def edit_url(self) -> str:
        return self.ideogram_base_url.rstrip("/") + self.ideogram_edit_path

    def secrets(self) -> tuple[Secret, ...]:
        return (self.discord_token, self.ideogram_api_key, self.web_secret)

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

        def comma_list(item: Callable[[str], T]) -> Callable[[str], list[T]]:
            """At least one ``item`` separated by commas (spaces and empty parts ignored)."""

            def convert(raw: str) -> list[T]:
                items = [item(part.strip()) for part in raw.split(",") if part.strip()]
                if not items:
                    raise ValueError(raw)
                return items

            return convert

        def url(raw: str) -> str:
            if not raw.startswith(("http://", "https://", "ws://", "wss://")):
                raise ValueError(raw)
            return raw.rstrip("/")

        def web_url(raw: str) -> str:
            return url(raw) if raw.startswith(("http://", "https://")) else url("")

        def path(raw: str) -> str:
            if not raw.startswith("/"):
                raise ValueError(raw)
            return raw

        def flag(raw: str) -> bool:
            value = raw.lower()
            if value not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return value in ("true", "1", "yes", "on")

        def one_of(*names: str) -> Callable[[str], str]:
            """One of ``names`` in any case, spelled as there."""
            spelled = {name.upper(): name for name in names}
            return lambda raw: spelled[raw.upper()]

        def choice(kind: type) -> Callable[[str], Any]:
            return lambda raw: kind(raw.upper() if kind is LegacyModel else raw.lower())

        shape = parse("IDEOGRAM_API", choice(ApiShape), ApiShape.V3, "v3 or legacy")
        task_path = parse("IDEOGRAM_TASK_PATH", path, None, "a path starting with / (with {task_id})")
        if task_path is not None and "{task_id}" not in task_path:
            raise ConfigError("IDEOGRAM_TASK_PATH is invalid: it must contain {task_id}.")
        limits = LimitDefaults(
            **{
                spec.setting: parse(
                    spec.env_var,
                    positive(int, spec.minimum, spec.ceiling),
                    spec.default,
                    f"a whole number from {spec.minimum} to {spec.ceiling}",
                )
                for spec in LIMITS
            }
        )
        timeout_s = parse(
            "IDEOGRAM_TIMEOUT_S", positive(float, 1, 3600), DEFAULT_IDEOGRAM_TIMEOUT_S, "seconds between 1 and 3600"
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
            ideogram_timeout_s=timeout_s,
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
            log_format=parse("LOG_FORMAT", one_of(*LOG_FORMATS), LOG_FORMATS[0], " or ".join(LOG_FORMATS)),
            limits=limits,
            retention_days=parse("RETENTION_DAYS", positive(int, 1, 36500), 30, "days ≥ 1"),
            shutdown_grace_s=parse(
                "SHUTDOWN_GRACE_S",
                positive(float, 0, 7200),
                default_shutdown_grace(timeout_s),
                "seconds from 0 to 7200",
            ),
            ideogram_retry_maybe_billed=parse("IDEOGRAM_RETRY_MAYBE_BILLED", flag, False, "true or false"),
            web_host=get("WEB_HOST") or "127.0.0.1",
            web_port=parse("WEB_PORT", positive(int, 0, 65535), 8080, "a port number from 0 to 65535"),
            public_url=parse("PUBLIC_URL", web_url, None, "an http(s):// URL, e.g. https://bot.example.org"),
            web_secret=Secret(get("WEB_SECRET") or ""),
            editor_link_minutes=parse("EDITOR_LINK_MINUTES", positive(int, 1, 60), 15, "minutes from 1 to 60"),
            memory_budget_mb=parse("MEMORY_BUDGET_MB", positive(int, 32, 1_048_576), 256, "megabytes ≥ 32"),
            allowed_guild_ids=parse(
                "ALLOWED_GUILD_IDS",
                lambda raw: frozenset(comma_list(snowflake)(raw)),
                None,
                "Discord server ids separated by commas (like 123456789012345678,234567890123456789)",
            ),
            daily_image_budget=parse(
                "DAILY_IMAGE_BUDGET",
                positive(int, 0, LIMIT_CEILING),
                DAILY_IMAGE_BUDGET,
                f"a whole number of images from 0 to {LIMIT_CEILING}",
            ),
            **{
                name: parse(
                    name.upper(), positive(int, 0, LIMIT_CEILING), default, f"a whole number from 0 to {LIMIT_CEILING}"
                )
                for name, default in ADMIN_CEILINGS.items()
            },
            allow_dms=parse("ALLOW_DMS", flag, False, "true or false"),
            worker_id=get("WORKER_ID") or "",
            run_worker=parse("RUN_WORKER", flag, True, "true or false"),
            shard_count=parse("SHARD_COUNT", positive(int, 1, 100_000), None, "a whole number ≥ 1"),
            shard_ids=parse(
                "SHARD_IDS",
                lambda raw: tuple(comma_list(positive(int, 0))(raw)),
                None,
                "shard numbers separated by commas, e.g. 0,1",
            ),
            worker_max_images=parse("WORKER_MAX_IMAGES", positive(int, 1, 64), None, "a whole number from 1 to 64"),
            job_lease_s=parse("JOB_LEASE_S", positive(float, 1, 3600), DEFAULT_JOB_LEASE_S, "seconds from 1 to 3600"),
            queue_poll_s=parse("QUEUE_POLL_S", positive(float, 0.05, 60), 1.0, "seconds from 0.05 to 60"),
        )

    def __post_init__(self) -> None:
        if self.shard_ids is not None and (
            self.shard_count is None or any(i >= self.shard_count for i in self.shard_ids)
        ):
            raise ConfigError("SHARD_IDS is invalid: it needs SHARD_COUNT, and every id must be below it.")
        scheme = self.database_url.partition(":")[0].lower()
        if self.database_url and scheme not in ("sqlite", "postgresql", "postgres"):
            raise ConfigError("DATABASE_URL is invalid: use sqlite:///path or postgresql://user@host/database.")
        if self.allowed_guild_ids is not None and self.dev_guild_id not in (None, *self.allowed_guild_ids):
            raise ConfigError("DEV_GUILD_ID is not in ALLOWED_GUILD_IDS: the bot would leave the server it syncs to.")
