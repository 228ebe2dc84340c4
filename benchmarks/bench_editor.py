"""The mask editor in headless Chromium on a large photo (not run by CI).

    python benchmarks/bench_editor.py [width] [height]

Measures, on a 12-megapixel image by default: page ready (image decoded, canvases sized), one brush
stroke across the image, one magic-wand fill of a large flat area, and Preview (mask export to PNG,
upload, server-side validation and tinting). Targets: stroke under 100 ms, wand and preview under 2 s.
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw
from playwright.async_api import async_playwright

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.web.support import editor_link, editor_world


def photo(width: int, height: int) -> bytes:
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    ImageDraw.Draw(im).rectangle((width // 4, height // 4, width // 2, height // 2), fill=(200, 30, 40))
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def main(width: int, height: int) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        async with editor_world(Path(tempfile.mkdtemp())) as world:
            url = await editor_link(world, await world.edit("a red hat", image=photo(width, height)))
            page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            started = time.perf_counter()
            await page.goto(url)
            await page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            print(f"page ready:      {time.perf_counter() - started:6.2f} s  ({width}x{height})")
            box = await page.locator("#overlay").bounding_box()
            at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
            undo = "!document.getElementById('undo').disabled"
            started = time.perf_counter()
            await page.mouse.move(*at(0.05, 0.8))
            await page.mouse.down()
            await page.mouse.move(*at(0.95, 0.9), steps=30)
            await page.mouse.up()
            await page.wait_for_function(undo)
            print(f"brush stroke:    {time.perf_counter() - started:6.2f} s  (30 moves)")
            await page.get_by_role("button", name="Magic wand").click()
            started = time.perf_counter()
            await page.mouse.click(*at(0.3, 0.3))
            await page.evaluate("new Promise((done) => requestAnimationFrame(() => done()))")
            print(f"magic wand:      {time.perf_counter() - started:6.2f} s")
            started = time.perf_counter()
            await page.get_by_role("button", name="Preview").click()
            await page.get_by_role("status").filter(has_text="Preview ready").wait_for(timeout=60_000)
            print(f"preview:         {time.perf_counter() - started:6.2f} s  (export, upload, validate, tint)")
        await browser.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args or [4000, 3000])))
