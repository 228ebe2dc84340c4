"""``LOG_FORMAT=json``: one JSON object per line, and secrets scrubbed before the formatter runs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.app import configure_logging
from bot.logs import JsonFormatter, configure_log_format
from bot.secret import Secret, install_secret_filter, uninstall_secret_filter
from bot.settings import Settings

KEY = "sk-ideo-TOPSECRET-0123456789"
TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnNlY3JldA.part-2_x"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """A JSON handler added *after* the scrubber was installed, as a log shipper would be."""
    install_secret_filter([Secret(KEY)])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        uninstall_secret_filter()


def entries(stream: io.StringIO) -> list[dict]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]  # every line is one whole object


def test_each_record_is_one_json_object_with_the_fields(json_lines: io.StringIO) -> None:
    logging.getLogger("tests.json").warning("job %d queued:\n%s", 7, "two lines")
    (entry,) = entries(json_lines)
    assert set(entry) == {"time", "level", "logger", "message"}
    assert entry["level"] == "WARNING" and entry["logger"] == "tests.json"
    assert entry["message"] == "job 7 queued:\ntwo lines"
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_secrets_and_tokens_are_scrubbed_in_message_and_exception(json_lines: io.StringIO) -> None:
    log = logging.getLogger("tests.json")
    log.info("calling with key %s", KEY)
    log.debug("POST /interactions/1234567890123456789/%s/callback", TOKEN)
    try:
        raise RuntimeError(f"the API refused {KEY}")
    except RuntimeError:
        log.exception("edit failed")
    first, second, third = entries(json_lines)
    raw = json_lines.getvalue()
    assert KEY not in raw and TOKEN not in raw
    assert first["message"] == "calling with key [redacted]"
    assert "[redacted]/callback" in second["message"]
    assert third["message"] == "edit failed"
    assert "RuntimeError: the API refused [redacted]" in third["exception"]
    assert third["exception"].startswith("Traceback")


def test_configure_logging_json_gives_root_handlers_the_json_formatter() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        configure_logging(Settings.from_mapping({"LOG_FORMAT": "json", "IDEOGRAM_API_KEY": KEY}))
        added = [h for h in root.handlers if h not in saved_handlers]
        assert added and all(isinstance(h.formatter, JsonFormatter) for h in added)
    finally:
        for handler in [h for h in root.handlers if h not in saved_handlers]:
            root.removeHandler(handler)
        root.setLevel(saved_level)
        uninstall_secret_filter()


def test_text_is_the_default_and_other_values_are_refused() -> None:
    assert Settings.from_mapping({}).log_format == "text"
    assert Settings.from_mapping({"LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(Exception, match="LOG_FORMAT is invalid: expected text or json"):
        Settings.from_mapping({"LOG_FORMAT": "xml"})
    handler = logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        configure_log_format("text")
        assert not isinstance(handler.formatter, JsonFormatter)
    finally:
        root.removeHandler(handler)
