"""The bot's error vocabulary: every failure a user can see is one of these, carrying a catalogue message.

An error carries a :class:`bot.i18n.Message` (``message_id`` + typed ``args``), never rendered text: the
adapter renders it in the reader's language (``cogs/text.py``). ``user_message`` is the English rendering,
for logs, the CLI and the stored job record; it is safe to show anyone (never a secret, never a stack
trace). ``detail`` is for the operator's log. ``code`` is stable and stored with failed jobs. ``refund``
says whether the images reserved for a job that failed this way go back to the user (the user did not
cause it); a raise site may override it.

Raising: ``InputError(msg("prompt-too-long", length=n, limit=m))`` — or, for code not yet moved to the catalogue,
``InputError("literal English text")`` (rendered as is in every language; the i18n check lists these).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import CATALOGUE, Message, msg


class BotError(Exception):
    code = "internal"
    refund = True
    retryable = False
    default_message = "error-internal"

    def __init__(
        self,
        message: Message | str | None = None,
        /,
        *,
        detail: str | None = None,
        refund: bool | None = None,
        **args: Any,
    ) -> None:
        if message is None:
            message = Message(self.default_message, args)
        elif isinstance(message, str):
            message = Message("error-literal", {"text": message})
        self.message = message
        if refund is not None:
            self.refund = refund
        super().__init__(self.user_message)
        self.detail = detail or self.user_message

    @property
    def message_id(self) -> str:
        return self.message.id

    @property
    def message_args(self) -> dict[str, Any]:
        """The typed arguments (``Exception.args`` is taken by Python)."""
        return dict(self.message.args)

    @property
    def user_message(self) -> str:
        """English, plain values: for logs, the CLI and the job record."""
        return CATALOGUE.format(self.message)

    @user_message.setter
    def user_message(self, value: str) -> None:
        """Replacing the text (e.g. a secret scrubbed out of it) keeps the message only if nothing changed."""
        if value != self.user_message:
            self.message = Message("error-literal", {"text": value})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message_id!r}, {self.user_message!r})"


class ConfigError(BotError):
    """A setting is missing or invalid; raised at start-up, names the variable."""

    code = "config"


class InputError(BotError):
    """The user's image, mask, prompt or options cannot be used; tells them how to fix it."""

    code = "bad_input"
    refund = True


class NothingToEdit(InputError):
    code = "nothing_to_edit"


class MaskMissing(InputError):
    code = "mask_missing"


class QuotaExceeded(BotError):
    """A rate limit or quota refused the job; ``retry_at`` says when it will be accepted."""

    code = "quota"

    def __init__(self, limit: str, retry_at: datetime | None, message: Message) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_at = retry_at


class NotFound(BotError):
    code = "not_found"


class Forbidden(BotError):
    code = "forbidden"


# --- The Ideogram API -------------------------------------------------------------------------


class ApiError(BotError):
    """Anything that went wrong talking to the image API."""

    code = "api_error"
    status: int | None = None


class ApiBadRequest(ApiError):
    code = "api_bad_request"


class ApiAuthError(ApiError):
    """401/403: the operator must fix the key or the plan; users only get a short notice."""

    code = "api_auth"
    operator_problem = True


class ApiCreditsError(ApiError):
    """402: out of credits or over the daily spending limit."""

    code = "api_credits"
    operator_problem = True


class ApiSafetyRejected(ApiError):
    code = "api_safety"


class ApiRateLimited(ApiError):
    code = "api_rate_limited"
    retryable = True


class ApiUnavailable(ApiError):
    """5xx, dropped connections."""

    code = "api_unavailable"
    retryable = True


class ApiTimeout(ApiError):
    code = "api_timeout"
    retryable = True


class ApiMalformedResponse(ApiError):
    code = "api_malformed"


class ApiTaskPending(ApiError):
    """A task-shaped answer arrived but no poll route is configured (we never guess one)."""

    code = "api_task_pending"


class ApiTaskFailed(ApiError):
    code = "api_task_failed"


class ResultDownloadError(ApiError):
    code = "result_download"


OPERATOR_NOTICE = msg("error-operator-notice")
"""What members see when the operator must act (bad key, no credits); the detail goes to the log."""
