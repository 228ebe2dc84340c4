"""Log scrubbing: secrets and interaction tokens never reach a handler, whoever logged them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.secret import Secret, install_secret_filter, scrub_tokens, uninstall_secret_filter

TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnNlY3JldA.part-2_x"
KEY = "sk-ideo-TOPSECRET-0123456789"


@pytest.fixture
def installed() -> Iterator[None]:
    install_secret_filter([Secret(KEY)])
    try:
        yield
    finally:
        uninstall_secret_filter()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"POST https://discord.com/api/v10/interactions/1234567890123456789/{TOKEN}/callback",
            "POST https://discord.com/api/v10/interactions/1234567890123456789/[redacted]/callback",
        ),
        (
            f"PATCH https://discord.com/api/v10/webhooks/987654321098765432/{TOKEN}/messages/@original",
            "PATCH https://discord.com/api/v10/webhooks/987654321098765432/[redacted]/messages/@original",
        ),
        (
            f"{{'t': 'INTERACTION_CREATE', 'd': {{'token': '{TOKEN}'}}}}",
            "{'t': 'INTERACTION_CREATE', 'd': {'token': '[redacted]'}}",
        ),
        (f'{{"token": "{TOKEN}", "type": 5}}', '{"token": "[redacted]", "type": 5}'),
        (f"NewJob(private=False, reply_token='{TOKEN}')", "NewJob(private=False, reply_token='[redacted]')"),
        ("GET /api/v10/channels/123/messages", "GET /api/v10/channels/123/messages"),
    ],
)
def test_tokens_are_found_by_shape(text: str, expected: str) -> None:
    assert scrub_tokens(text) == expected


def test_every_record_is_scrubbed_message_args_and_traceback(installed: None, caplog: pytest.LogCaptureFixture) -> None:
    """caplog's handler is added after the install: the record factory still scrubs its records."""
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("discord.webhook.async_")
    log.debug("Webhook ID %s with %s %s has returned status code %s", 1, "POST", f"/webhooks/1/{TOKEN}", 204)
    log.debug("%s", {"op": 0, "d": {"token": TOKEN, "key": KEY}})
    try:
        raise RuntimeError(f"failed at /interactions/5/{TOKEN}/callback")
    except RuntimeError:
        log.exception("boom")
    assert len(caplog.records) == 3
    assert TOKEN not in caplog.text and KEY not in caplog.text
    assert "/webhooks/1/[redacted]" in caplog.text and "'token': '[redacted]'" in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage() and TOKEN not in (record.exc_text or "")


def test_installing_twice_does_not_stack(installed: None) -> None:
    install_secret_filter([Secret(KEY)])
    factory = logging.getLogRecordFactory()
    assert not isinstance(getattr(factory, "inner", None), type(factory))
