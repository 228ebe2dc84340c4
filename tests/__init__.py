"""Tests mirror the source tree (``bot/``, ``storage/``, ``e2e/``, ``sim/``, ``fakes/``).

Shared fixtures live in ``tests/conftest.py``; Discord ids in ``tests/ids.py``; the e2e rig and its
constants in ``tests/bot_harness.py``; constants more than one unit test file needs, here.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# IdeogramClient timings for tests against the local fake: retries and polls in milliseconds, not seconds.
FAST = {"backoff_base_s": 0.001, "backoff_max_s": 0.01, "poll_interval_s": 0.002, "poll_max_interval_s": 0.01}
