"""The bot's own web server (aiohttp): health checks and metrics always, the mask editor with PUBLIC_URL.
No ``discord``."""

from bot.web.server import WebServer, build_app, ops_server

__all__ = ["WebServer", "build_app", "ops_server"]
