"""The composition root: builds the Discord client and wires the core services, storage and cogs.

The only module under ``bot/`` that imports ``discord``, ``cogs`` or ``storage`` (see
``docs/architecture.md``; ``tests/test_architecture.py`` keeps it so).

Lifecycle follows discord.py's ``examples/advanced_startup.py``: resources are opened in
``setup_hook`` (after login, before the gateway), cogs are loaded there, and ``close`` stops the queue
with a grace period before the connection goes away, so SIGTERM loses no job.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal
from enum import StrEnum
from pathlib import Path

import discord
from discord.ext import commands

from bot.editor import EditorService, LinkSigner, load_secret
from bot.history import HistoryService
from bot.ideogram import IdeogramClient
from bot.imaging.decode import accepted_formats
from bot.interactions import InteractionService
from bot.jobs import JobService
from bot.limits_service import LimitsService
from bot.logs import configure_log_format
from bot.memory import MemoryBudget
from bot.queue_service import QueueService
from bot.retention import retention_loop
from bot.runtime import freeze_startup_heap
from bot.scheduler import Scheduler
from bot.secret import install_secret_filter
from bot.service import EditService
from bot.sessions import SessionService
from bot.settings import Settings
from bot.store import Storage
from bot.web import WebServer, ops_server
from cogs.delivery import DiscordNotifier
from cogs.endpoints import apply_endpoints
from cogs.errors import BotTree
from cogs.translator import CatalogueTranslator
from storage.factory import open_storage
from storage.files import LocalFileStore

log = logging.getLogger(__name__)


class RunMode(StrEnum):
    """``gateway``: ``python -m bot`` (the Discord connection, plus the queue unless ``RUN_WORKER=false``);
    ``worker``: ``python -m bot worker`` (the queue only, over Discord's REST API: no gateway)."""

    GATEWAY = "gateway"
    WORKER = "worker"


# Loaded in this order: an extension other cogs import (forms, editor) must be loaded before them, so
# that their import finds the loaded module instead of executing a second copy.
EXTENSIONS = (
    "cogs.forms",
    "cogs.results",
    "cogs.editor",
    "cogs.edit",
    "cogs.history",
    "cogs.admin",
    "cogs.queue",
    "cogs.sessions",
    "cogs.operator",
)


class InpaintBot(commands.Bot):
    """Holds the core services; cogs reach them as ``bot.jobs``, ``bot.history`` and so on (never
    ``bot.storage``: only the services touch storage)."""

    storage: Storage
    ideogram: IdeogramClient
    edits: EditService
    scheduler: Scheduler
    jobs: JobService
    notifier: DiscordNotifier
    sessions: SessionService
    history: HistoryService
    limits: LimitsService
    queue: QueueService
    interactions: InteractionService
    editor: EditorService
    web: WebServer | None = None

    def __init__(
        self,
        settings: Settings,
        *,
        sync_only: bool = False,
        mode: RunMode = RunMode.GATEWAY,
        freeze_heap: bool = False,
        **options: object,
    ) -> None:
        """``freeze_heap``: end start-up with ``_started`` (the process's bot; not a test's, whose
        process outlives it)."""
        intents = discord.Intents.none()
        intents.guilds = True  # channel, thread and upload-limit cache; not a privileged intent
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=BotTree,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            max_messages=None,
            **options,
        )
        self.settings = settings
        self.sync_only = sync_only
        self.mode = mode
        self.freeze_heap = freeze_heap

    @property
    def runs_queue(self) -> bool:
        return self.mode is RunMode.WORKER or self.settings.run_worker

    async def setup_hook(self) -> None:
        self.storage = open_storage(self.settings)
        await self.storage.open()
        self.ideogram = IdeogramClient(self.settings)
        self.memory = MemoryBudget.from_megabytes(self.settings.memory_budget_mb)  # preparations and re-encodes
        self.edits = EditService(self.settings, self.ideogram, self.memory)
        self.notifier = DiscordNotifier(self)
        cap = self.settings.max_images_in_flight
        self.scheduler = Scheduler(
            self.storage,
            self.edits,
            self.notifier,
            capacity=min(self.settings.worker_max_images or cap, cap),  # WORKER_MAX_IMAGES unset: the whole cap
            global_capacity=cap,
            owner=self.settings.owner(self.mode),
            lease_seconds=self.settings.job_lease_s,
            poll_seconds=self.settings.queue_poll_s,
            claims=self.runs_queue,
            # a gateway answers its own shards' members (interrupted interactions, queue positions); a worker none
            receives=self.settings.receives if self.mode is RunMode.GATEWAY else None,
            place=lambda requester: self.jobs.check_place(requester),  # JobService comes next, built on it
        )
        self.jobs = JobService(self.settings, self.storage, self.edits, self.scheduler)
        self.sessions = SessionService(self.storage, self.jobs)
        self.history = HistoryService(self.storage, self.jobs)
        self.limits = LimitsService(self.settings, self.storage)
        self.queue = QueueService(self.storage, self.scheduler, self.jobs)
        self.interactions = InteractionService(self.storage)
        self.editor = EditorService(self.settings, self.storage, self.jobs, LinkSigner(load_secret(self.settings)))
        if self.mode is RunMode.WORKER:  # no gateway: no commands, buttons or editor to serve
            await self._start_queue()
            # health (database + the image API instead of a gateway) and metrics of this process
            self.web = ops_server(self.settings, self.storage, lambda: self.ideogram.slots.in_use)
            await self.web.start()
            log.info("worker %s running the queue", self.scheduler.owner)
            return
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.tree.set_translator(CatalogueTranslator())
        await self.sync_commands(force=self.sync_only)
        if self.sync_only:
            return
        await self._start_queue()
        self.web = ops_server(
            self.settings,
            self.storage,
            lambda: self.ideogram.slots.in_use,
            editor=self.editor,
            gateway=self.gateway_connected,
        )
        await self.web.start()  # health and metrics always; the editor's routes only with PUBLIC_URL
        self.retention = asyncio.create_task(
            retention_loop(self.storage, self.settings.retention_days), name="retention"
        )

    async def _start_queue(self) -> None:
        """Start-up objects are built (storage, services, cogs, catalogues) and nothing is in flight:
        the gateway is not connected and the scheduler has claimed nothing yet. So the heap is frozen
        now (``_started``), before the scheduler's first pass claims jobs whose objects would be frozen
        with it."""
        if self.freeze_heap:
            _started()
        await self.scheduler.start()

    async def sync_commands(self, *, force: bool = False) -> None:
        """Sync only when the command set changed: Discord rate-limits command writes per day."""
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        # the translated payload (zh-CN descriptions and choice names), so a translation change re-syncs
        translator = self.tree.translator
        commands = self.tree.get_commands(guild=guild)
        if translator is None:
            payload = [command.to_dict(self.tree) for command in commands]
        else:
            payload = [await command.get_translated_payload(self.tree, translator) for command in commands]
        digest = hashlib.sha256(json.dumps([payload, guild and guild.id], sort_keys=True).encode()).hexdigest()
        marker = Path(self.settings.data_dir) / "commands.sha256"
        if not force and marker.is_file() and marker.read_text() == digest:
            log.info("slash commands unchanged; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(digest)
        where = f"guild {guild.id}" if guild else "globally"
        log.info("synced %d slash commands %s", len(synced), where)

    def gateway_connected(self) -> bool:
        """Readiness: every shard's gateway connection is open (interactions arrive from then on, before
        discord.py's ``is_ready``, which also waits for the guilds to stream in)."""
        if self.is_closed():
            return False
        shards = getattr(self, "shards", None)  # an AutoShardedBot's ShardInfo per shard
        if shards:
            return all(not shard.is_closed() for shard in shards.values())
        return self.ws is not None and self.ws.open

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guild(s)", self.user, len(self.guilds))

    async def close(self) -> None:
        if self.web is not None:  # first: no confirm may queue a job while the queue stops
            await self.web.stop()
        retention = getattr(self, "retention", None)
        if retention is not None:
            retention.cancel()
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None:
            await scheduler.stop(self.settings.shutdown_grace_s)
        await super().close()
        if hasattr(self, "ideogram"):
            await self.ideogram.close()
        if hasattr(self, "storage"):
            await self.storage.close()


class ShardedInpaintBot(InpaintBot, commands.AutoShardedBot):
    """The gateway split across processes: ``SHARD_COUNT`` shards in all, ``SHARD_IDS`` in this one
    (discord.py's ``AutoShardedBot``; Discord routes each server's events to one shard)."""


def build_bot(settings: Settings, *, sync_only: bool = False, mode: RunMode = RunMode.GATEWAY) -> InpaintBot:
    """The process's bot (its start-up heap is frozen, see ``InpaintBot._start_queue``)."""
    if mode is RunMode.GATEWAY and settings.shard_count is not None:
        return ShardedInpaintBot(
            settings,
            sync_only=sync_only,
            mode=mode,
            freeze_heap=True,
            shard_count=settings.shard_count,
            shard_ids=settings.shard_ids,
        )
    return InpaintBot(settings, sync_only=sync_only, mode=mode, freeze_heap=True)


def configure_logging(settings: Settings) -> None:
    discord.utils.setup_logging(level=getattr(logging, settings.log_level), root=True)
    configure_log_format(settings.log_format)
    install_secret_filter(settings.secrets())


async def start_bot(settings: Settings, *, sync_only: bool = False) -> None:
    apply_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    bot = build_bot(settings, sync_only=sync_only)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stopping.append(asyncio.create_task(bot.close())))
    async with bot:
        await bot.login(settings.discord_token.reveal())  # login runs setup_hook (which syncs)
        if sync_only:
            return
        await bot.connect()  # login + connect is discord.py's ``start``
    if stopping:
        await asyncio.gather(*stopping, return_exceptions=True)


async def start_worker(settings: Settings) -> None:
    """Run the queue without a gateway connection: ``login`` (REST: the application id, the HTTP
    session) runs ``setup_hook``, which starts the scheduler; results and progress go out over REST
    with the stored interaction tokens and channel ids. SIGTERM stops it like the gateway."""
    apply_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    bot = build_bot(settings, mode=RunMode.WORKER)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with bot:  # leaving it closes the bot: the queue stops with its grace period
        await bot.login(settings.discord_token.reveal())
        await stop.wait()


def _started() -> None:
    """Start-up is over and nothing is in flight yet (``InpaintBot._start_queue``, before the gateway
    connects and the scheduler claims): load what would otherwise load on first use, then take the
    start-up heap out of garbage collection (``bot.runtime``). Pillow imports its ~40 format plugins on
    the first image it opens: in the first burst's threads, holding the GIL for tens of milliseconds."""
    accepted_formats()
    freeze_startup_heap()


def run_bot(settings: Settings, *, sync_only: bool = False, worker: bool = False) -> int:
    configure_logging(settings)
    try:
        asyncio.run(start_worker(settings) if worker else start_bot(settings, sync_only=sync_only))
    except discord.LoginFailure:
        log.error("Discord refused the token: check DISCORD_TOKEN (Developer Portal > Bot > Reset Token).")
        return 2
    except discord.PrivilegedIntentsRequired:  # pragma: no cover - we request none
        log.error("This bot needs no privileged intents; check the Developer Portal settings.")
        return 2
    return 0


def migrate_database(settings: Settings, target_url: str) -> int:
    """``python -m bot migrate --to postgresql://…``: copy this install's SQLite database into an
    empty PostgreSQL one (wired here: only the composition root may reach a storage backend)."""
    from storage.transfer import migrate

    return migrate(settings.database_path, target_url, LocalFileStore(settings.data_dir / "images"))
