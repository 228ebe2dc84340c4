"""One headless Chromium per browser-test module (Debian's ``chromium``, driven by Playwright).

No browser can be downloaded at test time, so Playwright launches the system binary. Without it the
browser tests skip with the reason — except under ``CI=true``, where a missing browser fails the run
(``.ci/run`` installs it first).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from tests.required import unavailable

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


BROWSER_IN_CI = "the browser tests must run; .ci/run installs chromium"


def _require_browser() -> None:
    if not Path(CHROMIUM).is_file():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)", in_ci=BROWSER_IN_CI)
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        unavailable("Playwright for Python is not installed: pip install -e '.[test]'", in_ci=BROWSER_IN_CI)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    _require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
