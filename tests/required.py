"""The one rule for tests whose real component (PostgreSQL, Chromium, a server extension) is missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str, *, in_ci: str) -> NoReturn:
    """Skip here, but fail under ``CI=true``: ``.ci/run`` provides every component, so a skip there
    would hide a broken set-up behind a green run. ``in_ci`` says why CI must have it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: {in_ci})")
    pytest.skip(reason)
