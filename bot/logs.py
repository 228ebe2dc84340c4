"""``LOG_FORMAT=json``: one JSON object per line, for log collectors (Loki, CloudWatch, journald…).

Fields: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message`` and, when there
is one, ``exception`` (the formatted traceback) and ``stack``. Secrets are scrubbed before any
formatter runs: ``bot.secret.install_secret_filter`` cleans each record's message and traceback when the
record is created, so this formatter only serialises what is already clean.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

LOG_FORMATS = ("text", "json")  # LOG_FORMAT's values; the first is the default


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_log_format(log_format: str) -> None:
    """Give every root handler the JSON formatter (``json``); ``text`` keeps discord.py's format."""
    if log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
