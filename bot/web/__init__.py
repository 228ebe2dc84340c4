"""The bot's own web server (aiohttp): the mask editor today, health and metrics later. No ``discord``."""

from bot.web.server import WebServer, build_app

__all__ = ["WebServer", "build_app"]
