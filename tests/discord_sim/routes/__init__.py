"""REST routes of the simulated Discord, one module per resource.

Each group is a small class over the shared :class:`~tests.discord_sim.world.World` that lists its
``(method, path regex, handler)`` routes; :class:`~tests.discord_sim.rest.RestServer` matches a request
against all of them (404 for an unknown path, 405 for a known path with another method).
"""

from __future__ import annotations

from .base import Route, Routes
from .channels import ChannelRoutes
from .commands import CommandRoutes
from .guilds import GuildRoutes
from .interactions import InteractionRoutes
from .threads import ThreadRoutes
from .users import UserRoutes

ALL_GROUPS: tuple[type[Routes], ...] = (
    UserRoutes,
    GuildRoutes,
    CommandRoutes,
    InteractionRoutes,
    ChannelRoutes,
    ThreadRoutes,
)

__all__ = ["ALL_GROUPS", "Route", "Routes"]
