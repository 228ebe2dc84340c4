"""Pure parsing and request-building helpers of the Ideogram client (no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ApiError, ApiMalformedResponse, ApiTimeout, ApiUnavailable
from bot.ideogram.client import _check_bytes, _check_file
from bot.ideogram.request import auth_headers, form_fields
from bot.ideogram.response import (
    TaskStatus,
    error_for_status,
    extract_reason,
    is_retryable_status,
    parse_answer,
    parse_poll,
    parse_retry_after,
    reason_from_body,
)
from bot.options import ApiShape, AuthScheme, EditOptions, LegacyModel
from bot.secret import Secret
from bot.settings import Settings
from tests.fakes.ideogram import sample_image


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"error": "bad mask"}, "bad mask"),
        ({"error": {"message": "nested msg", "type": "x"}}, "nested msg"),
        ({"message": "plain message"}, "plain message"),
        ({"msg": "short msg"}, "short msg"),
        ({"detail": "fastapi detail"}, "fastapi detail"),
        ({"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]}, "field required"),
        ({"code": "invalid_key", "message": "Key revoked"}, "Key revoked"),
        ({"reject_reason": "inflight_limit"}, "inflight_limit"),
        ({"error": "Too many", "reject_reason": "inflight_limit"}, "Too many (inflight_limit)"),
        ({"error": True, "message": "boolean error flag skipped"}, "boolean error flag skipped"),
        ({"error": "multi\nline\t\x00text"}, "multi line text"),
        ({"unrelated": 1}, None),
        (["a", {"msg": "b"}], "a; b"),
        (12, None),
        (None, None),
    ],
)
def test_extract_reason(body: Any, reason: str | None) -> None:
    assert extract_reason(body) == reason


def test_reason_from_body_handles_text_and_html() -> None:
    assert reason_from_body(b'{"error": "x"}') == "x"
    assert reason_from_body(b"upstream timed out") == "upstream timed out"
    assert reason_from_body(b"<html>502</html>") is None
    assert reason_from_body(b"") is None
    assert len(reason_from_body(b"y" * 10_000) or "") == 300


def test_parse_sync_answer() -> None:
    answer = parse_answer(
        {
            "created": "2000-01-23T04:56:07+00:00",
            "data": [
                {"url": "https://x/1.png", "prompt": "p", "resolution": "1024x1024", "is_image_safe": True,
                 "seed": 12345, "style_type": "AUTO"},
                {"url": None, "is_image_safe": False, "seed": "7"},
            ],
        }
    )  # fmt: skip
    assert answer.status is TaskStatus.SUCCEED and answer.created == "2000-01-23T04:56:07+00:00"
    first, second = answer.items
    assert (first.url, first.seed, first.resolution, first.is_safe) == ("https://x/1.png", 12345, "1024x1024", True)
    assert (second.url, second.is_safe, second.seed, second.index) == (None, False, 7, 1)


def test_parse_kling_task_answers() -> None:
    submitted = parse_answer(
        {"code": 0, "message": "SUCCEED", "request_id": "r1",
         "data": {"task_id": "CjMT7", "task_status": "submitted", "created_at": 1, "updated_at": 1}}
    )  # fmt: skip
    assert (submitted.status, submitted.task_id, submitted.request_id) == (TaskStatus.PENDING, "CjMT7", "r1")
    done = parse_poll(
        {"code": 0, "data": {"task_id": "CjMT7", "task_status": "succeed",
                             "task_result": {"images": [{"index": 0, "url": "https://x/a.png"}]}}}
    )  # fmt: skip
    assert done.status is TaskStatus.SUCCEED and done.items[0].is_safe and done.items[0].url == "https://x/a.png"
    failed = parse_poll({"data": {"task_id": 5, "task_status": "failed", "task_status_msg": "nsfw"}})
    assert (failed.status, failed.failure, failed.task_id) == (TaskStatus.FAILED, "nsfw", "5")
    assert parse_poll({"data": {"task_status": "processing"}}).status is TaskStatus.PENDING


def test_initial_answer_may_already_be_finished_task() -> None:
    answer = parse_answer(
        {"data": {"task_id": "t", "task_status": "SUCCEED", "task_result": {"images": [{"url": "http://x"}]}}}
    )
    assert answer.status is TaskStatus.SUCCEED and answer.task_id == "t"


@pytest.mark.parametrize(
    "payload",
    [
        {"data": {"task_id": "t", "task_status": "succeed"}},  # no task_result
        {"data": {"task_id": "t", "task_status": "succeed", "task_result": {"images": "x"}}},
        {"created": "x"},
        {"data": None},
    ],
)
def test_malformed_answers(payload: Any) -> None:
    with pytest.raises(ApiMalformedResponse):
        parse_poll(payload) if "task_id" in str(payload) else parse_answer(payload)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), ("", None), (None, None), ("nan", None)],
)
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0


def test_status_mapping_and_retryability() -> None:
    assert isinstance(error_for_status(503, None), ApiUnavailable)
    assert isinstance(error_for_status(408, None), ApiTimeout)
    odd = error_for_status(404, "Not Found")
    assert type(odd) is ApiError and odd.status == 404 and "IDEOGRAM_EDIT_PATH" in odd.detail
    assert [s for s in (400, 401, 402, 403, 404, 408, 422, 429, 500, 502, 503) if is_retryable_status(s)] == [
        408, 429, 500, 502, 503,
    ]  # fmt: skip


def test_form_fields_only_send_what_is_set() -> None:
    assert form_fields(ApiShape.V3, "p", EditOptions(), LegacyModel.V_2_TURBO) == [
        ("prompt", "p"),
        ("num_images", "1"),
    ]
    assert form_fields(ApiShape.LEGACY, "p", EditOptions(), LegacyModel.V_2_TURBO) == [
        ("prompt", "p"),
        ("model", "V_2_TURBO"),
        ("num_images", "1"),
    ]


def test_auth_headers() -> None:
    key = Secret("sk-123456")
    assert auth_headers(Settings(ideogram_api_key=key)) == {"Accept": "application/json", "Api-Key": "sk-123456"}
    assert auth_headers(Settings(ideogram_api_key=key, ideogram_auth=AuthScheme.BEARER)) == {
        "Accept": "application/json",
        "Authorization": "Bearer sk-123456",
    }


def test_decode_reads_real_size_and_format() -> None:
    image = _check_bytes(sample_image(30, 20, "JPEG"))
    assert image is not None and (image.mime, image.width, image.height) == ("image/jpeg", 30, 20)
    assert _check_bytes(sample_image(30, 20, "WEBP")).mime == "image/webp"  # type: ignore[union-attr]
    assert _check_bytes(b"\x89PNG\r\n\x1a\n truncated") is None
    assert _check_bytes(b"") is None


def test_a_result_is_read_with_the_inputs_decoders_only() -> None:
    """Results go through the input's check (``decode.check_complete``): the same decoder whitelist,
    so a format Pillow reads but we never decode (here TGA) is not an image, as an upload would not be."""
    assert _check_bytes(sample_image(30, 20, "TGA")) is None
    assert _check_bytes(sample_image(30, 20, "BMP")) is not None


def test_a_stored_result_is_checked_from_its_file(tmp_path: Path) -> None:
    """The same verdicts as for bytes, read from the file (a result streamed into the store)."""
    cases = {
        "jpeg": sample_image(30, 20, "JPEG"),
        "cut": sample_image(30, 20, "JPEG")[:-40],
        "png": sample_image(30, 20, "PNG"),
        "junk": b"\x89PNG\r\n\x1a\n truncated",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        on_disk, in_memory = _check_file(path, "0" * 64), _check_bytes(data)
        assert (on_disk is None) == (in_memory is None) == (name in ("cut", "junk")), name
        if on_disk is not None and in_memory is not None:
            assert (on_disk.mime, on_disk.width, on_disk.height) == (in_memory.mime, 30, 20)
            assert (on_disk.path, on_disk.size, on_disk.sha) == (path, len(data), "0" * 64)
