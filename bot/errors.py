"""The bot's error vocabulary: every failure a user can see is one of these, with its message here.

``user_message`` is safe to show anyone (never a secret, never a stack trace). ``detail`` is for the
operator's log. ``code`` is stable and stored with failed jobs. ``refund`` says whether the images
reserved for a job that failed this way go back to the user (the user did not cause it).
"""

from __future__ import annotations

from datetime import datetime


class BotError(Exception):
    code = "internal"
    refund = True
    retryable = False

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail or user_message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.user_message!r})"


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

    def __init__(self, limit: str, retry_at: datetime | None, user_message: str) -> None:
        super().__init__(user_message)
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


OPERATOR_NOTICE = (
    "The image service is not available right now because of a configuration problem on the bot's "
    "side. The bot's operator has the details in its log; your images were not charged."
)
