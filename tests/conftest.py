"""Fixtures shared across the test tree (pytest finds them by name; no import needed)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage.sqlite import SqliteStorage
from tests.storage_support import Clock, make_storage


@pytest.fixture
def clock() -> Clock:
    """A settable clock for the storage's own timestamps, starting at ``storage_support.T0``."""
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStorage]:
    """An opened SQLite storage in ``tmp_path`` on the ``clock`` fixture."""
    async with make_storage(tmp_path, clock) as opened:
        yield opened


@pytest.fixture
def no_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Everything is logged at DEBUG; neither the fake Ideogram's API key nor the e2e bot token may
    appear anywhere. Use with ``pytestmark = pytest.mark.usefixtures("no_secrets_in_logs")``."""
    from tests.bot_harness import BOT_TOKEN
    from tests.fakes.ideogram import FakeIdeogram

    caplog.set_level(logging.DEBUG)
    yield
    for secret in (FakeIdeogram().api_key, BOT_TOKEN):
        assert secret not in caplog.text
