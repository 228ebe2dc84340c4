"""Client for Ideogram's edit (inpainting) API in its official v3 and legacy shapes, and aggregators."""

from __future__ import annotations

from bot.ideogram.client import IdeogramClient

__all__ = ["IdeogramClient"]
