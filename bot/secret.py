"""A string wrapper that never shows its value, so keys cannot leak through logs or reprs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any


class Secret:
    """Holds a credential; ``str``/``repr``/``format`` all print a mask, only ``reveal`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # pickling would be a way out of the mask
        raise TypeError("Secret values cannot be pickled")


def redact(text: str, secrets: Iterable[Secret | str | None]) -> str:
    """Replace every occurrence of any secret in ``text``; used on anything that leaves the process."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            text = text.replace(value, "[redacted]")
    return text


# Interaction and webhook tokens are credentials too (for 15 minutes an interaction token can post as
# the bot in that channel). discord.py logs them at DEBUG: REST routes ``/webhooks/{app}/{token}…`` and
# ``/interactions/{id}/{token}/callback``, and every gateway event, INTERACTION_CREATE's ``token``
# field included; aiosqlite logs the arguments of every call at DEBUG, records holding a token
# included. Tokens are not known in advance, so they are found by shape.
_TOKEN_PATTERNS = (
    re.compile(r"(/(?:webhooks|interactions)/\d+/)([^/?#\s'\"]+)"),
    # ``"token": "…"`` (JSON), ``'token': '…'`` (a dict's repr), ``reply_token='…'`` (a dataclass's repr,
    # e.g. in aiosqlite's DEBUG lines, which show every call's arguments)
    re.compile(r"""((?<![\w-])\w*token["']?\s*[:=]\s*["'])([^"']+)(?=["'])""", re.IGNORECASE),
)


def scrub_tokens(text: str) -> str:
    """Replace interaction/webhook tokens in URL paths and ``token`` fields (JSON or a dict's repr)."""
    if "token" not in text and "/webhooks/" not in text and "/interactions/" not in text:
        return text
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class SecretFilter(logging.Filter):
    """Scrubs secrets and interaction tokens from a record's message (args merged in) and traceback."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def clean(self, text: str) -> str:
        return scrub_tokens(redact(text, self._secrets))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: logging reports it when the record is emitted
            return True
        cleaned = self.clean(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class _ScrubbingRecordFactory:
    """Wraps the log record factory so every record is scrubbed as it is created: before any handler
    sees it, including handlers added later (a test's log capture, an error reporter)."""

    def __init__(self, inner: Callable[..., logging.LogRecord], secret_filter: SecretFilter) -> None:
        self.inner = inner
        self.secret_filter = secret_filter

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        self.secret_filter.filter(record)
        return record


def install_secret_filter(secrets: Iterable[Secret]) -> None:
    """Scrub every log record of the process (a record factory) and put the filter on every root
    handler too. Installing again replaces the previous scrubber (new secrets), never stacks."""
    secret_filter = SecretFilter(secrets)
    current = logging.getLogRecordFactory()
    inner = current.inner if isinstance(current, _ScrubbingRecordFactory) else current
    logging.setLogRecordFactory(_ScrubbingRecordFactory(inner, secret_filter))
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(secret_filter)


def uninstall_secret_filter() -> None:
    """Undo ``install_secret_filter`` (tests)."""
    current = logging.getLogRecordFactory()
    if isinstance(current, _ScrubbingRecordFactory):
        logging.setLogRecordFactory(current.inner)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
