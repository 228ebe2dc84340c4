"""Point the unmodified discord.py client at other REST and gateway addresses.

Operators use this for a REST rate-limit proxy or a gateway proxy; the test-suite uses it to drive the
real client against a local Discord simulation (``tests/discord_sim``). discord.py has no option for
either address, but reads two class attributes every time it needs one:

* ``discord.http.Route.BASE`` -- prefixed to every REST route when the route is built, so interaction
  callbacks and interaction webhooks (follow-ups, ``@original`` edits) follow it too;
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -- where a plain ``Client``/``Bot`` connects and
  where it goes back after an INVALID_SESSION. After READY the client resumes at the
  ``resume_gateway_url`` the gateway sent, exactly as with Discord.

Decisions:

* ``None`` or an empty string leaves that address alone (the library default: real Discord), so the
  function is safe to call unconditionally at start-up.
* ``DISCORD_API_BASE`` may be given with or without the version path: ``http://host:8080`` and
  ``http://host:8080/api`` get ``/api/v10`` (resp. ``/v10``) appended, using the API version the
  library speaks; ``…/api/v9`` or ``…/api/v10`` is used as given; any other path is used verbatim (a
  proxy with its own prefix). A trailing slash is dropped because routes start with ``/``.
* Bad schemes raise :class:`~bot.errors.ConfigError` naming the variable, so a typo fails at start-up
  instead of as a confusing connection error later.
* ``discord.http._set_api_version`` overwrites ``Route.BASE``: call this function after it, never
  before. ``AutoShardedClient`` without ``shard_count`` asks ``GET /gateway/bot`` for its gateway
  address instead, so with such a client the REST side (or proxy) decides the gateway.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import discord.http
import yarl
from discord.gateway import DiscordWebSocket

from bot.errors import ConfigError

_VERSIONED = re.compile(r"/api/v\d+$")


def api_base_url(api_base: str) -> str:
    """The REST base discord.py should prefix to routes, normalised as the module docstring says."""
    raw = api_base.strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"DISCORD_API_BASE must be an http(s):// URL such as http://127.0.0.1:8080/api/v10, got {raw!r}."
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"DISCORD_API_BASE must not have a query or fragment, got {raw!r}.")
    base = raw.rstrip("/")
    path = parts.path.rstrip("/")
    version = discord.http.INTERNAL_API_VERSION
    if _VERSIONED.search(path):
        return base
    if path == "":
        return f"{base}/api/v{version}"
    if path.endswith("/api"):
        return f"{base}/v{version}"
    return base


def gateway_address(gateway_url: str) -> yarl.URL:
    """The gateway URL as discord.py stores it; the client adds ``v``, ``encoding`` and ``compress``."""
    raw = gateway_url.strip()
    url = yarl.URL(raw)
    if url.scheme not in ("ws", "wss") or not url.host:
        raise ConfigError(
            f"DISCORD_GATEWAY_URL must be a ws(s):// URL such as ws://127.0.0.1:8080/gateway, got {raw!r}."
        )
    return url.with_query(None).with_fragment(None)


def apply_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Set discord.py's REST base and gateway address process-wide (see the module docstring)."""
    if api_base:
        discord.http.Route.BASE = api_base_url(api_base)
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = gateway_address(gateway_url)
