"""Reading what the API (or an aggregator in front of it) answered: results, tasks and errors.

Everything here is defensive: aggregators wrap answers and errors in several shapes, and an answer we
do not understand must become a typed error, never a crash. No I/O, so each shape is unit-testable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from bot.errors import (
    OPERATOR_NOTICE,
    ApiAuthError,
    ApiBadRequest,
    ApiCreditsError,
    ApiError,
    ApiMalformedResponse,
    ApiRateLimited,
    ApiSafetyRejected,
    ApiTimeout,
    ApiUnavailable,
)
from bot.i18n import UserText, msg

REASON_MAX_CHARS = 300
_REASON_KEYS = ("error", "message", "msg", "detail", "error_message", "description")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class TaskStatus(StrEnum):
    PENDING = "pending"
    SUCCEED = "succeed"
    FAILED = "failed"


# Kling uses submitted/processing/succeed/failed; other aggregators vary the spelling.
_SUCCEED = frozenset({"succeed", "succeeded", "success", "successful", "completed", "complete", "done"})
_FAILED = frozenset({"failed", "fail", "failure", "error", "cancelled", "canceled", "rejected"})


@dataclass(frozen=True, slots=True)
class ResultItem:
    """One entry of ``data``: where to fetch an image and what the API said about it."""

    index: int
    url: str | None
    is_safe: bool
    prompt: str | None = None
    resolution: str | None = None
    seed: int | None = None
    style_type: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A parsed answer: final ``items``, or a task (``task_id``) still to be followed."""

    status: TaskStatus
    items: tuple[ResultItem, ...] = ()
    created: str | None = None
    task_id: str | None = None
    failure: str | None = None  # the task's failure reason
    request_id: str | None = None


def clean_reason(text: str, limit: int = REASON_MAX_CHARS) -> str:
    """One line, no control characters, bounded length: safe to log and to show."""
    text = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def extract_reason(body: Any, *, depth: int = 0) -> str | None:
    """The human-readable reason from any of the error shapes seen in the wild.

    ``{"error": "..."}``, ``{"error": {"message": ...}}``, ``{"message"}``, ``{"msg"}``, ``{"detail"}``
    (also FastAPI's list form), ``{"code", "message"}``, plus ``reject_reason`` appended.
    """
    if depth > 3 or body is None:
        return None
    if isinstance(body, str):
        return clean_reason(body) or None
    if isinstance(body, list):
        parts = [r for r in (extract_reason(x, depth=depth + 1) for x in body[:3]) if r]
        return clean_reason("; ".join(parts)) if parts else None
    if not isinstance(body, dict):
        return None
    reason = None
    for key in _REASON_KEYS:
        value = body.get(key)
        if isinstance(value, bool):
            continue
        reason = extract_reason(value, depth=depth + 1) if value is not None else None
        if reason:
            break
    reject = body.get("reject_reason")
    if isinstance(reject, str) and reject.strip():
        reject = clean_reason(reject, 80)
        reason = f"{reason} ({reject})" if reason and reject not in reason else (reason or reject)
    return clean_reason(reason) if reason else None


def reason_from_body(raw: bytes) -> str | None:
    """The reason from an error body that may not even be JSON (an HTML error page is dropped)."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        return extract_reason(json.loads(text))
    except ValueError:
        return None if text.startswith("<") else clean_reason(text)


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        preview = clean_reason(raw.decode("utf-8", "replace"), 120)
        raise malformed(f"the answer is not JSON: {preview!r}") from None


def parse_answer(payload: Any) -> Answer:
    """The first answer to an edit: the synchronous result list, or a task to follow."""
    return _parse(payload, initial=True)


def parse_poll(payload: Any) -> Answer:
    """A task-query answer: Kling-style ``data.task_status``, or itself the synchronous shape."""
    return _parse(payload, initial=False)


def _parse(payload: Any, *, initial: bool) -> Answer:
    if not isinstance(payload, dict):
        raise malformed(f"expected a JSON object, got {type(payload).__name__}")
    request_id = _opt_str(payload.get("request_id"))
    data = payload.get("data")
    if isinstance(data, dict) and "task_id" not in data and isinstance(data.get("data"), list):
        payload, data = data, data["data"]  # {"code":0,"data":{"created":..,"data":[...]}}
    if isinstance(data, list):
        return Answer(
            TaskStatus.SUCCEED,
            items=_items(data),
            created=_opt_str(payload.get("created")),
            request_id=request_id,
        )
    if isinstance(data, dict) and (data.get("task_id") is not None or not initial):
        return _task(data, request_id)
    if _is_error_wrapper(payload):
        reason = extract_reason(payload) or "no reason given"
        raise ApiMalformedResponse(
            msg("api-error-reason", reason=UserText(reason)),
            detail=f"Ideogram answered 2xx with an error wrapper (code={payload.get('code')!r}): {reason}",
        )
    keys = ", ".join(sorted(map(str, payload))[:10])
    raise malformed(f"unexpected answer shape (keys: {keys or 'none'})")


def _task(data: dict[str, Any], request_id: str | None) -> Answer:
    task_id = data.get("task_id")
    if task_id is not None and not isinstance(task_id, str | int):
        raise malformed("task_id is not a string")
    task_id = str(task_id) if task_id is not None else None
    status = str(data.get("task_status") or "").strip().lower()
    if status in _FAILED:
        reason = _opt_str(data.get("task_status_msg")) or extract_reason(data) or "no reason given"
        return Answer(TaskStatus.FAILED, task_id=task_id, failure=clean_reason(reason), request_id=request_id)
    if status in _SUCCEED:
        result = data.get("task_result")
        images = result.get("images") if isinstance(result, dict) else None
        if images is None and isinstance(result, dict):
            images = result.get("data")
        if not isinstance(images, list):
            raise malformed("task succeeded but task_result.images is missing")
        return Answer(TaskStatus.SUCCEED, items=_items(images), task_id=task_id, request_id=request_id)
    return Answer(TaskStatus.PENDING, task_id=task_id, request_id=request_id)


def _items(data: list[Any]) -> tuple[ResultItem, ...]:
    if not data:
        raise malformed("the result list is empty")
    items = []
    for position, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise malformed(f"result {position} is not an object")
        url = entry.get("url")
        if url is not None and not isinstance(url, str):
            raise malformed(f"result {position} has a non-string url")
        url = (url.strip() or None) if url else None
        safe = entry.get("is_image_safe")
        items.append(
            ResultItem(
                index=position,
                url=url,
                # absent flag: trust the presence of a URL (Kling-style results carry no flag)
                is_safe=bool(safe) if isinstance(safe, bool) else url is not None,
                prompt=_opt_str(entry.get("prompt")),
                resolution=_opt_str(entry.get("resolution")),
                seed=_opt_int(entry.get("seed")),
                style_type=_opt_str(entry.get("style_type")),
            )
        )
    return tuple(items)


def _is_error_wrapper(payload: dict[str, Any]) -> bool:
    code = payload.get("code")
    return (code not in (None, 0, "0", 200, "200", "success")) or "error" in payload


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value)[:200]


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def malformed(what: str) -> ApiMalformedResponse:
    return ApiMalformedResponse(
        msg("api-malformed"),
        detail=f"Malformed Ideogram answer: {what}",
    )


# --- HTTP status → typed error ------------------------------------------------------------------


def error_for_status(status: int, reason: str | None, *, where: str = "edit") -> ApiError:
    """The typed error for a non-2xx answer. Messages blame the user only for what the user did."""
    said = f": {reason}" if reason else ""
    error: ApiError
    if status == 400 or status == 413 or status == 415:
        error = ApiBadRequest(
            msg("api-bad-request-reason", reason=UserText(reason)) if reason else msg("api-bad-request"),
            detail=f"Ideogram {where} answered {status}{said}",
        )
    elif status in (401, 403):
        what = (
            "the API key (IDEOGRAM_API_KEY) is missing or invalid"
            if status == 401
            else "the API key has no access to this endpoint or model (check the plan, IDEOGRAM_BASE_URL "
            "and IDEOGRAM_EDIT_PATH)"
        )
        error = ApiAuthError(
            OPERATOR_NOTICE,
            detail=f"Ideogram {where} answered {status}: {what}; the operator must fix it{said}",
        )
    elif status == 402:
        error = ApiCreditsError(
            msg("api-credits"),
            detail=f"Ideogram {where} answered 402 (top up credits or raise the limit){said}",
        )
    elif status == 422:
        error = ApiSafetyRejected(
            msg("api-safety-reason", reason=UserText(reason)) if reason else msg("api-safety"),
            detail=f"Ideogram {where} answered 422{said}",
        )
    elif status == 429:
        error = ApiRateLimited(
            msg("api-rate-limited"),
            detail=f"Ideogram {where} answered 429 after all retries{said}",
        )
    elif status == 408:
        error = ApiTimeout(
            msg("api-timeout-408"),
            detail=f"Ideogram {where} answered 408{said}",
        )
    elif status >= 500:
        error = ApiUnavailable(
            msg("api-unavailable", status=str(status)),
            detail=f"Ideogram {where} answered {status} after all retries{said}",
        )
    else:
        hint = " (check IDEOGRAM_BASE_URL, IDEOGRAM_EDIT_PATH and IDEOGRAM_TASK_PATH)"
        error = ApiError(
            msg("api-unexpected-status", status=str(status)),
            detail=f"Ideogram {where} answered unexpected status {status}{hint}{said}",
        )
    error.status = status
    return error


def is_retryable_status(status: int) -> bool:
    return status == 429 or status == 408 or status >= 500


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
