"""The real bot, in this process, against the Discord simulation and the fake Ideogram.

``World`` owns the three and can stop and start the bot on the same data directory, which is how the
tests show that buttons, forms and the queue survive a restart.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image

from bot.app import InpaintBot
from bot.secret import Secret
from bot.settings import LimitDefaults, Settings
from tests.discord_sim import DiscordSim, MessageFlag, SimInteraction, SimMessage, use_sim_endpoints
from tests.fakes.ideogram import FakeIdeogram, sample_image, sample_mask

BOT_TOKEN = "MTAxMDEw.sim-bot-token.DoNotLeakThis0123456789"
IMAGE_SIZE = (96, 64)
W, H = IMAGE_SIZE
MASK_BOX = (32, 21, 64, 42)  # sample_mask's default: the middle third
EPHEMERAL = int(MessageFlag.EPHEMERAL)
# Limits for tests that make many edits as one user (the defaults would refuse the third in a window).
ROOMY = LimitDefaults(user_window_images=100, user_daily_images=100, user_max_active_jobs=10)


@dataclass
class World:
    sim: DiscordSim
    api: FakeIdeogram
    data_dir: Path
    settings: Settings
    bot: InpaintBot | None = None
    task: asyncio.Task[None] | None = None
    boots: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    async def start_bot(self, *, freeze_heap: bool = False, **overrides: Any) -> InpaintBot:
        if overrides:
            self.settings = replace(self.settings, **overrides)
        bot = InpaintBot(self.settings, freeze_heap=freeze_heap)
        self.bot = bot
        self.task = asyncio.create_task(bot.start(self.settings.discord_token.reveal()))
        self.boots += 1
        ready = asyncio.ensure_future(self.sim.wait_ready(identifies=self.boots, timeout=15))
        await asyncio.wait([ready, self.task], return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():  # start-up failed: show why instead of timing out
            ready.cancel()
            self.task.result()
            raise RuntimeError("the bot stopped during start-up")
        await ready  # setup_hook (storage, scheduler, cogs) finished before the gateway connected
        return bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        self.bot, self.task = None, None

    async def restart_bot(self) -> InpaintBot:
        await self.stop_bot()
        return await self.start_bot()

    async def edit(
        self,
        prompt: str = "a red hat",
        *,
        user=None,
        channel=None,
        image: bytes | None = None,
        mask: bytes | None = None,
        **options: Any,
    ):
        attachments: dict[str, Any] = {"image": (image if image is not None else sample_image(*IMAGE_SIZE), "in.png")}
        if mask is not None:
            attachments["mask"] = (mask, "mask.png")
        if image is False:  # explicit "no image"
            attachments.pop("image")
        return await self.sim.slash(
            "edit", {"prompt": prompt, **options}, user=user, channel=channel, attachments=attachments
        )

    async def result_message(self, channel=None, *, timeout: float = 10.0, after: int = 0) -> SimMessage:
        channel = channel or self.sim.channel
        return await self.sim.wait_for_message(
            channel, lambda m: is_result(m) and m.id > after and _from_bot(self, m), timeout=timeout
        )


def text_of(message: SimMessage) -> str:
    """Everything a user reads in a message: content, embed titles, descriptions and fields."""
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(p for p in parts if p)


async def reply(
    world: World,
    inter: SimInteraction,
    match: str | Callable[[SimMessage], bool] | None = None,
    *,
    timeout: float = 10.0,
) -> SimMessage:
    """A message the bot showed through this interaction (filled deferral, edit or follow-up) whose
    text contains ``match`` (or that ``match`` accepts); with no ``match``, any non-empty one."""
    if callable(match):
        accept = match
    else:
        accept = (lambda m: match in text_of(m)) if match else (lambda m: bool(text_of(m)))
    return await world.sim.wait_for_message(None, lambda m: m.interaction_id == inter.id and accept(m), timeout=timeout)


def is_result(message: SimMessage) -> bool:
    """A posted result (``edit-<job>-<n>.<ext>`` files), not the progress message's area preview."""
    return any(a.filename.startswith("edit-") for a in message.attachments)


def _from_bot(world: World, message: SimMessage) -> bool:
    author = getattr(message, "author", None)
    return author is None or getattr(author, "id", None) == world.sim.bot_user.id


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def outside_mask_unchanged(original: bytes, result: bytes, box: tuple[int, int, int, int] = MASK_BOX) -> bool:
    """True when every pixel outside ``box`` is identical and some pixel inside it changed."""
    before, after = decode(original), decode(result)
    assert before.size == after.size, (before.size, after.size)
    x1, y1, x2, y2 = box
    changed_inside = False
    for y in range(before.height):
        for x in range(before.width):
            same = before.getpixel((x, y)) == after.getpixel((x, y))
            inside = x1 <= x < x2 and y1 <= y < y2
            if not inside and not same:
                return False
            changed_inside |= inside and not same
    return changed_inside


@asynccontextmanager
async def make_world(tmp_path: Path, **settings: Any) -> AsyncIterator[World]:
    async with FakeIdeogram() as api, DiscordSim() as sim:
        with use_sim_endpoints(sim):
            base = api.settings(
                discord_token=Secret(BOT_TOKEN),
                data_dir=tmp_path / "data",
                discord_api_base=sim.api_base,
                discord_gateway_url=sim.gateway_url,
                shutdown_grace_s=5.0,
                web_port=0,  # any free port: health, metrics (and the editor when enabled)
            )
            world = World(sim=sim, api=api, data_dir=tmp_path / "data", settings=replace(base, **settings))
            try:
                yield world
            finally:
                await world.stop_bot()


__all__ = [
    "IMAGE_SIZE",
    "MASK_BOX",
    "World",
    "decode",
    "make_world",
    "outside_mask_unchanged",
    "sample_image",
    "sample_mask",
]
