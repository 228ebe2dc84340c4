"""Helpers for the editor tests: a world with the web server on, the link the bot answered with."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from tests.bot_harness import World, make_world, reply
from tests.discord_sim import SimInteraction, SimMessage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def editor_world(tmp_path: Path, **settings: Any) -> AsyncIterator[World]:
    """A started bot whose editor is on, at ``world.extra["base"]``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with make_world(tmp_path, public_url=base, web_port=port, **settings) as world:
        world.extra["base"] = base
        await world.start_bot()
        yield world


def link_in(message: SimMessage) -> str | None:
    return next((c["url"] for c in message.iter_components() if c.get("url")), None)


async def editor_link(world: World, inter: SimInteraction) -> str:
    """The "🖌️ Draw the area" link the bot answered ``inter`` with."""
    message = await reply(world, inter, lambda m: link_in(m) is not None)
    return link_in(message) or ""


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def box_mask_png(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    mask = Image.new("L", size, 255)
    mask.paste(0, box)
    return png(mask)
