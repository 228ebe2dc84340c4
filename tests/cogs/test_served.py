"""Every button the bot registers asks the operator's allow-list first (``cogs.served.Served``): a new
``DynamicItem`` that forgot it would let an unlisted server's clicks run."""

from __future__ import annotations

import importlib
import pkgutil

import discord

import cogs
from cogs.served import Served


def all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= all_subclasses(sub)
    return found


def test_every_dynamic_item_in_the_cogs_is_served() -> None:
    for module in pkgutil.iter_modules(cogs.__path__):
        importlib.import_module(f"cogs.{module.name}")
    items = {c for c in all_subclasses(discord.ui.DynamicItem) if c.__module__.startswith("cogs.")}
    assert len(items) >= 6, items  # results, cancel, session, draw mask, history paging, confirm delete
    missing = sorted(c.__qualname__ for c in items if not issubclass(c, Served))
    assert missing == [], f"DynamicItems without the allow-list check (add Served to their bases): {missing}"
