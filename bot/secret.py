"""A string wrapper that never shows its value, so keys cannot leak through logs or reprs."""

from __future__ import annotations

import logging
from collections.abc import Iterable


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


class SecretFilter(logging.Filter):
    """Scrubs secrets from every record a handler emits, whatever library logged it."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            cleaned = redact(message, self._secrets)
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact(record.exc_text, self._secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


def install_secret_filter(secrets: Iterable[Secret]) -> None:
    """Put the filter on every root handler, so third-party log lines are scrubbed too."""
    secret_filter = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
