"""IdeogramClient against the fake server: request shapes, retries, errors, tasks, downloads, the cap."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver
from PIL import Image
from yarl import URL

from bot.errors import (
    OPERATOR_NOTICE,
    ApiAuthError,
    ApiBadRequest,
    ApiCreditsError,
    ApiError,
    ApiMalformedResponse,
    ApiRateLimited,
    ApiSafetyRejected,
    ApiTaskFailed,
    ApiTaskPending,
    ApiTimeout,
    ApiUnavailable,
    BotError,
    InputError,
    ResultDownloadError,
)
from bot.i18n import text as catalogue_text
from bot.ideogram import IdeogramClient
from bot.ideogram.client import Retry, retry_for_exception
from bot.ideogram.download import AddressRefused, PublicResolver, ResultUrlPolicy, ResultUrlRefused
from bot.ideogram.request import PART_CHUNK, ImagePart
from bot.imaging import decode
from bot.inflight import ImageSlots
from bot.models import ApiImage, ImageFile, ImageOnDisk
from bot.options import (
    ApiShape,
    AuthScheme,
    EditOptions,
    LegacyModel,
    MagicPrompt,
    RenderingSpeed,
    StyleType,
)
from bot.secret import Secret
from bot.settings import Settings
from storage.files import LocalFileStore
from tests import FAST
from tests.fakes.ideogram import FakeIdeogram, sample_image, sample_mask
from tests.imaging_samples import encode, photo

KEY = "sk-ideo-TOPSECRET-0123456789abcdef"
W, H = 96, 64
BOX = (20, 16, 60, 48)


def png_file(data: bytes, mime: str = "image/png") -> ImageFile:
    with Image.open(io.BytesIO(data)) as img:
        return ImageFile(data=data, mime=mime, width=img.width, height=img.height)


IMAGE = png_file(sample_image(W, H))
MASK = png_file(sample_mask(W, H, BOX))


@pytest.fixture
async def fake() -> AsyncIterator[FakeIdeogram]:
    async with FakeIdeogram(api_key=KEY) as server:
        yield server


def make_client(server: FakeIdeogram, *, client_kw: dict[str, Any] | None = None, **settings: Any):
    return IdeogramClient(server.settings(**settings), **{**FAST, **(client_kw or {})})


async def edit(client: IdeogramClient, prompt: str = "a red balloon", **options: Any):
    return await client.edit(IMAGE, MASK, prompt, EditOptions(**options))


def pixels(data: bytes, mode: str = "RGB") -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert(mode)


# --- request shapes ---------------------------------------------------------------------------------


async def test_v3_sends_every_field(fake: FakeIdeogram) -> None:
    palette = {"members": [{"color_hex": "#ff0000", "color_weight": 0.5}, {"color_hex": "#00f"}]}
    async with make_client(fake) as client:
        result = await edit(
            client,
            "  a red balloon  ",
            num_images=2,
            seed=42,
            magic_prompt=MagicPrompt.ON,
            rendering_speed=RenderingSpeed.QUALITY,
            style_type=StyleType.REALISTIC,
            style_preset="OIL_PAINTING",
            color_palette=palette,
        )
    [request] = fake.edit_requests
    assert request.method == "POST" and request.path == "/v1/ideogram-v3/edit"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert request.headers["Api-Key"] == KEY
    assert "Authorization" not in request.headers
    assert request.headers["Accept"] == "application/json"
    assert set(request.files) == {"image", "mask"}
    assert request.files["image"].data == IMAGE.data and request.files["mask"].data == MASK.data
    assert request.files["image"].content_type == "image/png"
    assert {k: v for k, v in request.fields.items()} == {
        "prompt": ["a red balloon"],
        "magic_prompt": ["ON"],
        "num_images": ["2"],
        "seed": ["42"],
        "rendering_speed": ["QUALITY"],
        "style_type": ["REALISTIC"],
        "style_preset": ["OIL_PAINTING"],
        "color_palette": [json.dumps(palette, separators=(",", ":"))],
    }
    assert [r.seed for r in result.images] == [42, 43]
    assert result.images[0].prompt_used == "a red balloon (enhanced by MagicPrompt)"
    assert result.images[0].style_type == "REALISTIC"
    assert result.attempts == 1 and result.created and result.task_id is None
    assert result.api_seconds > 0


async def test_v3_style_codes_one_field_each_and_unset_fields_omitted(fake: FakeIdeogram) -> None:
    async with make_client(fake) as client:
        await edit(client, style_codes=("AAFF5733", "0133ff57"))
    [request] = fake.edit_requests
    assert request.fields == {
        "prompt": ["a red balloon"],
        "num_images": ["1"],
        "style_codes": ["AAFF5733", "0133ff57"],
    }


async def test_legacy_sends_every_field() -> None:
    async with FakeIdeogram(shape="legacy", api_key=KEY) as server, make_client(server) as client:
        result = await edit(
            client,
            num_images=3,
            seed=7,
            magic_prompt=MagicPrompt.OFF,
            style_type=StyleType.RENDER_3D,
            model=LegacyModel.V_2,
        )
        [request] = server.edit_requests
        assert request.path == "/edit"
        assert set(request.files) == {"image_file", "mask"}
        assert request.fields == {
            "prompt": ["a red balloon"],
            "model": ["V_2"],
            "magic_prompt_option": ["OFF"],
            "num_images": ["3"],
            "seed": ["7"],
            "style_type": ["RENDER_3D"],
        }
        assert [r.seed for r in result.images] == [7, 8, 9]


async def test_legacy_model_defaults_to_settings() -> None:
    async with FakeIdeogram(shape="legacy", api_key=KEY) as server:
        async with make_client(server, ideogram_model=LegacyModel.V_2) as client:
            await edit(client)
        assert server.edit_requests[0].fields["model"] == ["V_2"]
        async with make_client(server) as client:
            await edit(client)
        assert server.edit_requests[1].fields["model"] == ["V_2_TURBO"]


async def test_aggregator_v3_with_bearer() -> None:
    path = "/ideogram/v1/ideogram-v3/edit"
    async with FakeIdeogram(path=path, auth="bearer", api_key=KEY) as server:
        settings = Settings(
            ideogram_api_key=Secret(KEY),
            ideogram_base_url=server.base_url,
            ideogram_edit_path=path,
            ideogram_auth=AuthScheme.BEARER,
        )
        async with IdeogramClient(settings, **FAST) as client:
            result = await edit(client)
        [request] = server.edit_requests
        assert request.path == path
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert request.headers["Accept"] == "application/json"
        assert "Api-Key" not in request.headers
        assert len(result.delivered) == 1


async def test_aggregator_legacy_path() -> None:
    async with FakeIdeogram(shape="legacy", path="/ideogram/edit", api_key=KEY) as server:
        settings = Settings(
            ideogram_api_key=Secret(KEY),
            ideogram_base_url=server.base_url + "/",
            ideogram_api=ApiShape.LEGACY,
            ideogram_edit_path="/ideogram/edit",
        )
        async with IdeogramClient(settings, **FAST) as client:
            result = await edit(client)
        assert server.edit_requests[0].path == "/ideogram/edit"
        assert server.edit_requests[0].headers["Api-Key"] == KEY
        assert len(result.delivered) == 1


async def test_shape_mismatch_is_a_bad_request_naming_the_field() -> None:
    async with FakeIdeogram(shape="legacy", api_key=KEY) as server:
        async with make_client(server, ideogram_api=ApiShape.V3) as client:
            with pytest.raises(ApiBadRequest) as caught:
                await edit(client)
    assert "'image'" in caught.value.user_message


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "kind", "in_user_message"),
    [
        (400, {"error": "Mask must match the image size."}, ApiBadRequest, "Mask must match the image size."),
        (422, {"error": "Prompt failed the safety check."}, ApiSafetyRejected, "Prompt failed the safety check."),
        (402, {"reject_reason": "insufficient_funds"}, ApiCreditsError, "out of credits"),
        (401, {"error": "Unauthorized"}, ApiAuthError, catalogue_text(OPERATOR_NOTICE)),
        (403, {"detail": "Not allowed"}, ApiAuthError, catalogue_text(OPERATOR_NOTICE)),
    ],
)
async def test_client_errors_are_mapped_and_not_retried(
    fake: FakeIdeogram, status: int, body: dict[str, Any], kind: type[ApiError], in_user_message: str
) -> None:
    fake.fail_next(status, body, times=5)
    async with make_client(fake, ideogram_max_retries=3) as client:
        with pytest.raises(kind) as caught:
            await edit(client)
    error = caught.value
    assert in_user_message in error.user_message
    assert error.status == status
    assert len(fake.edit_requests) == 1  # no retry


async def test_auth_error_does_not_blame_the_user_and_tells_the_operator(fake: FakeIdeogram) -> None:
    async with make_client(fake, ideogram_api_key=Secret("sk-wrong-key-987654321")) as client:
        with pytest.raises(ApiAuthError) as caught:
            await edit(client)
    error = caught.value
    assert error.message == OPERATOR_NOTICE and error.user_message == catalogue_text(OPERATOR_NOTICE)
    assert "IDEOGRAM_API_KEY" in error.detail and "operator" in error.detail
    assert "bot's side" in error.user_message and "key" not in error.user_message.lower()
    assert fake.edit_requests[0].status == 401


async def test_credits_reason_reaches_the_operator(fake: FakeIdeogram) -> None:
    fake.fail_next(402, {"error": "Daily spend limit reached", "reject_reason": "daily_limit"})
    async with make_client(fake) as client:
        with pytest.raises(ApiCreditsError) as caught:
            await edit(client)
    assert "Daily spend limit reached (daily_limit)" in caught.value.detail


@pytest.mark.parametrize("style", ["nested", "detail", "code_message"])
async def test_aggregator_error_wrappers_are_read(style: str) -> None:
    async with FakeIdeogram(api_key=KEY, error_style=style) as server:  # type: ignore[arg-type]
        server.fail_next(400)
        async with make_client(server) as client:
            with pytest.raises(ApiBadRequest) as caught:
                await edit(client)
    assert "Injected failure 400." in caught.value.user_message


async def test_long_reason_is_truncated(fake: FakeIdeogram) -> None:
    fake.fail_next(400, {"error": "x" * 5000})
    async with make_client(fake) as client:
        with pytest.raises(ApiBadRequest) as caught:
            await edit(client)
    assert len(caught.value.user_message) < 400


async def test_html_error_page_is_not_shown(fake: FakeIdeogram) -> None:
    fake.malformed_next(b"<html><body><h1>503 Service Unavailable</h1></body></html>", status=503, times=9)
    async with make_client(fake, ideogram_max_retries=1) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
    assert "<html" not in caught.value.user_message and "503" in caught.value.user_message
    assert len(fake.edit_requests) == 2


# --- retries --------------------------------------------------------------------------------------


async def test_429_then_success(fake: FakeIdeogram) -> None:
    fake.fail_next(429, {"error": "Too many", "reject_reason": "inflight_limit"})
    async with make_client(fake) as client:
        result = await edit(client)
    assert result.attempts == 2
    assert [r.status for r in fake.edit_requests] == [429, 200]


async def test_503_beyond_retries_gives_unavailable_after_exactly_max_plus_one(fake: FakeIdeogram) -> None:
    fake.fail_next(503, times=10)
    async with make_client(fake, ideogram_max_retries=2) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
    assert len(fake.edit_requests) == 3
    assert caught.value.status == 503


async def test_429_beyond_retries_gives_rate_limited(fake: FakeIdeogram) -> None:
    fake.fail_next(429, times=10)
    async with make_client(fake, ideogram_max_retries=1) as client:
        with pytest.raises(ApiRateLimited):
            await edit(client)
    assert len(fake.edit_requests) == 2


async def test_zero_retries_means_one_attempt(fake: FakeIdeogram) -> None:
    fake.fail_next(500, times=3)
    async with make_client(fake, ideogram_max_retries=0) as client:
        with pytest.raises(ApiUnavailable):
            await edit(client)
    assert len(fake.edit_requests) == 1


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.mark.parametrize("header", ["7", "HTTP-DATE"])
async def test_retry_after_is_honoured(fake: FakeIdeogram, header: str) -> None:
    if header == "HTTP-DATE":
        from email.utils import formatdate

        header = formatdate(time.time() + 7.5, usegmt=True)
    fake.fail_next(429, headers={"Retry-After": header})
    sleep = SleepRecorder()
    async with make_client(fake, client_kw={"sleep": sleep}) as client:
        result = await edit(client)
    assert result.attempts == 2
    assert len(sleep.delays) == 1 and 6.0 <= sleep.delays[0] <= 7.5  # not the 1 ms jitter


async def test_retry_after_beyond_deadline_gives_up_at_once(fake: FakeIdeogram) -> None:
    fake.fail_next(429, headers={"Retry-After": "600"}, times=3)
    sleep = SleepRecorder()
    async with make_client(fake, ideogram_timeout_s=5.0, client_kw={"sleep": sleep}) as client:
        with pytest.raises(ApiRateLimited) as caught:
            await edit(client)
    assert sleep.delays == [] and len(fake.edit_requests) == 1
    assert "Retry-After" in caught.value.detail


async def test_backoff_is_exponential_with_full_jitter(fake: FakeIdeogram) -> None:
    fake.fail_next(503, times=3)
    sleep = SleepRecorder()
    kw = {"sleep": sleep, "rand": lambda: 1.0, "backoff_base_s": 0.5, "backoff_max_s": 1.5}
    async with make_client(fake, ideogram_max_retries=3, client_kw=kw) as client:
        await edit(client)
    assert sleep.delays == [0.5, 1.0, 1.5]


# --- billing-safe retries: only what Ideogram did not bill is sent again, unless the operator opts in


async def test_dropped_connection_is_not_retried_by_default(fake: FakeIdeogram) -> None:
    fake.drop_next()
    async with make_client(fake, ideogram_max_retries=3) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
    assert len(fake.edit_requests) == 1, "the dropped request may have run: sending it again could bill twice"
    assert "after sending" in caught.value.detail


async def test_dropped_connection_is_retried_with_the_opt_in(fake: FakeIdeogram) -> None:
    fake.drop_next()
    async with make_client(fake, ideogram_retry_maybe_billed=True) as client:
        result = await edit(client)
    assert result.attempts == 2
    assert [r.status for r in fake.edit_requests] == [None, 200]


async def test_dropped_every_time_gives_unavailable_with_the_opt_in(fake: FakeIdeogram) -> None:
    fake.drop_next(times=5)
    async with make_client(fake, ideogram_max_retries=2, ideogram_retry_maybe_billed=True) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
    assert len(fake.edit_requests) == 3
    assert "could not reach" in caught.value.user_message


async def test_answer_cut_off_mid_body_is_not_retried_by_default(fake: FakeIdeogram) -> None:
    fake.truncate_next()
    async with make_client(fake, ideogram_max_retries=3) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
    assert len(fake.edit_requests) == 1
    assert "ClientPayloadError" in caught.value.detail


async def test_answer_cut_off_mid_body_is_retried_with_the_opt_in(fake: FakeIdeogram) -> None:
    fake.truncate_next()
    async with make_client(fake, ideogram_retry_maybe_billed=True) as client:
        result = await edit(client)
    assert result.attempts == 2 and len(fake.edit_requests) == 2


async def test_client_side_timeout_is_not_retried_by_default(fake: FakeIdeogram) -> None:
    fake.delay_next(3.0)
    async with make_client(fake, ideogram_timeout_s=1.0, ideogram_max_retries=3) as client:
        assert client.attempt_timeout_s == 1.0, "without retries an attempt may use the whole deadline"
        with pytest.raises(ApiTimeout):
            await edit(client)
    assert len(fake.edit_requests) == 1


async def test_client_side_timeout_is_retried_with_the_opt_in(fake: FakeIdeogram) -> None:
    fake.delay_next(3.0)
    async with make_client(fake, ideogram_timeout_s=2.0, ideogram_retry_maybe_billed=True) as client:
        assert client.attempt_timeout_s == 1.0
        result = await edit(client)
    assert result.attempts == 2 and len(fake.edit_requests) == 2


@pytest.mark.parametrize("status", [502, 504, 520, 524])
async def test_gateway_errors_are_not_retried_by_default(fake: FakeIdeogram, status: int) -> None:
    fake.fail_next(status, times=3)
    async with make_client(fake, ideogram_max_retries=3) as client:
        with pytest.raises(ApiError) as caught:
            await edit(client)
    assert len(fake.edit_requests) == 1, "the gateway's upstream may have finished (and billed)"
    assert caught.value.status == status


@pytest.mark.parametrize("status", [502, 504])
async def test_gateway_errors_are_retried_with_the_opt_in(fake: FakeIdeogram, status: int) -> None:
    fake.fail_next(status)
    async with make_client(fake, ideogram_retry_maybe_billed=True) as client:
        result = await edit(client)
    assert result.attempts == 2 and [r.status for r in fake.edit_requests] == [status, 200]


@pytest.mark.parametrize("status", [429, 500, 503, 507, 408])
async def test_rejections_and_the_apis_own_errors_are_retried(fake: FakeIdeogram, status: int) -> None:
    fake.fail_next(status, times=2)
    async with make_client(fake, ideogram_max_retries=3) as client:
        result = await edit(client)
    assert result.attempts == 3 and [r.status for r in fake.edit_requests] == [status, status, 200]


async def test_connection_refused_is_retried_and_then_succeeds(fake: FakeIdeogram) -> None:
    """Nothing was sent, so nothing was billed: retried without the opt-in. The fake only starts
    listening during the first backoff, so the first attempt is refused."""
    port = _free_port()
    late = FakeIdeogram(api_key=KEY, port=port)
    started: list[bool] = []

    async def sleep(delay: float) -> None:
        if not started:
            started.append(True)
            await late.start()

    settings = fake.settings(ideogram_base_url=f"http://127.0.0.1:{port}", ideogram_max_retries=2)
    try:
        async with IdeogramClient(settings, **{**FAST, "sleep": sleep}) as client:
            result = await edit(client)
    finally:
        await late.stop()
    assert result.attempts == 2 and started
    assert len(late.edit_requests) == 1


async def test_connection_refused_every_time_is_retried_to_the_limit(fake: FakeIdeogram) -> None:
    sleep = SleepRecorder()
    settings = fake.settings(ideogram_base_url=f"http://127.0.0.1:{_free_port()}", ideogram_max_retries=2)
    async with IdeogramClient(settings, **{**FAST, "sleep": sleep}) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
    assert len(sleep.delays) == 2, "three attempts: the first and two retries"
    assert "before sending" in caught.value.detail


async def test_tls_handshake_failure_is_retried(fake: FakeIdeogram) -> None:
    """https to a plain-http port: the handshake fails before the request is sent."""
    sleep = SleepRecorder()
    settings = fake.settings(ideogram_base_url=f"https://127.0.0.1:{fake.port}", ideogram_max_retries=2)
    async with IdeogramClient(settings, **{**FAST, "sleep": sleep}) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
    assert len(sleep.delays) == 2 and fake.edit_requests == []
    assert "before sending" in caught.value.detail


def test_exceptions_are_classified_by_whether_the_request_was_sent() -> None:
    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
    dns = aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert retry_for_exception(dns) is Retry.SAFE and retry_for_exception(refused) is Retry.SAFE
    assert retry_for_exception(aiohttp.ConnectionTimeoutError()) is Retry.SAFE
    for lost in (
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("cut"),
        aiohttp.SocketTimeoutError(),
        TimeoutError(),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
    ):
        assert retry_for_exception(lost) is Retry.MAYBE_BILLED, lost


# --- malformed answers --------------------------------------------------------------------------------


async def test_malformed_json_is_a_typed_error_not_retried(fake: FakeIdeogram) -> None:
    fake.malformed_next(b'{"data": [', content_type="application/json")
    async with make_client(fake) as client:
        with pytest.raises(ApiMalformedResponse):
            await edit(client)
    assert len(fake.edit_requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"foo": 1},
        [1, 2, 3],
        "just a string",
        {"data": []},
        {"data": [1]},
        {"data": [{"url": 12}]},
        {"data": {"task_status": "submitted"}},
        {"data": {"task_id": ["x"]}},
    ],
)
async def test_unexpected_json_shapes(fake: FakeIdeogram, body: Any) -> None:
    fake.respond_next(json.dumps(body))
    async with make_client(fake) as client:
        with pytest.raises(ApiMalformedResponse):
            await edit(client)


async def test_error_wrapper_with_status_200(fake: FakeIdeogram) -> None:
    fake.respond_next({"code": 1102, "message": "Account balance is not enough", "data": None})
    async with make_client(fake) as client:
        with pytest.raises(ApiMalformedResponse) as caught:
            await edit(client)
    assert "Account balance is not enough" in caught.value.user_message


async def test_wrapped_synchronous_answer_is_accepted(fake: FakeIdeogram) -> None:
    png = sample_image(40, 30)
    fake.respond_next({"code": 0, "message": "ok", "data": {"created": "c", "data": [{"url": fake.store_result(png)}]}})
    async with make_client(fake) as client:
        result = await edit(client)
    image = result.images[0].image
    assert image is not None and image.data == png and (image.width, image.height) == (40, 30)
    assert result.created == "c" and result.images[0].is_safe


# --- timeout --------------------------------------------------------------------------------------


async def test_whole_request_timeout_covers_retries() -> None:
    async with FakeIdeogram(api_key=KEY, latency_s=5.0) as server:
        async with make_client(
            server, ideogram_timeout_s=0.4, ideogram_max_retries=5, ideogram_retry_maybe_billed=True
        ) as client:
            started = time.monotonic()
            with pytest.raises(ApiTimeout) as caught:
                await edit(client)
            elapsed = time.monotonic() - started
        assert 0.35 <= elapsed < 1.5
        assert "0.4" in caught.value.user_message
        assert 1 <= len(server.edit_requests) <= 3
        for _ in range(200):  # abandoned requests are cancelled server-side once the client hangs up
            if server.in_flight_images == 0:
                break
            await asyncio.sleep(0.01)
        assert server.in_flight_images == 0


# --- task-shaped answers ------------------------------------------------------------------------------


async def test_task_answer_without_task_path_is_pending_with_id_and_setting() -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="succeed") as server:
        async with make_client(server, ideogram_task_path=None) as client:
            with pytest.raises(ApiTaskPending) as caught:
                await edit(client)
        assert not server.poll_requests  # never guess a poll URL
        [task_id] = server.task_ids
    error = caught.value
    for text in (error.user_message, error.detail, str(error)):
        assert task_id in text and "IDEOGRAM_TASK_PATH" in text


async def test_task_is_polled_to_success() -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="succeed", task_polls=3) as server:
        async with make_client(server) as client:
            result = await edit(client, num_images=2, seed=100)
        polls = server.poll_requests
        assert len(polls) == 4
        assert all(p.headers["Api-Key"] == KEY and p.method == "GET" for p in polls)
        assert polls[0].path == f"/v1/tasks/{result.task_id}"
        assert len(result.delivered) == 2 and result.attempts == 1
        assert server.in_flight_images == 0


async def test_task_poll_answer_in_synchronous_shape() -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="succeed", task_poll_style="sync") as server:
        async with make_client(server) as client:
            result = await edit(client, num_images=2, seed=1)
    assert [r.seed for r in result.images] == [1, 2]
    assert result.task_id is not None


async def test_task_on_aggregator_route_with_bearer() -> None:
    async with FakeIdeogram(
        api_key=KEY, auth="bearer", path="/ideogram/v1/ideogram-v3/edit", task_mode="succeed",
        task_path="/ideogram/v1/tasks/{task_id}",
    ) as server:  # fmt: skip
        async with make_client(server) as client:
            result = await edit(client)
        assert server.poll_requests[-1].headers["Authorization"] == f"Bearer {KEY}"
        assert len(result.delivered) == 1


async def test_task_polling_to_failure() -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="fail", task_failure="GPU on fire") as server:
        async with make_client(server) as client:
            with pytest.raises(ApiTaskFailed) as caught:
                await edit(client)
    assert "GPU on fire" in caught.value.user_message


async def test_poll_errors_are_retried() -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="succeed", task_polls=0) as server:
        server.fail_next(503, route="poll")
        async with make_client(server) as client:
            result = await edit(client)
        assert [p.status for p in server.poll_requests] == [503, 200]
        assert len(result.delivered) == 1


async def test_lost_polls_are_retried_without_the_opt_in() -> None:
    """Polling creates nothing billable; giving up on a lost poll would lose a task already paid for."""
    async with FakeIdeogram(api_key=KEY, task_mode="succeed", task_polls=0) as server:
        server.drop_next(route="poll")
        server.truncate_next(route="poll")
        async with make_client(server, ideogram_max_retries=3) as client:
            assert not client.settings.ideogram_retry_maybe_billed
            result = await edit(client)
        assert [p.status for p in server.poll_requests] == [None, 200, 200]
        assert len(server.edit_requests) == 1 and len(result.delivered) == 1


async def test_task_that_never_finishes_times_out() -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="succeed", task_polls=10_000) as server:
        async with make_client(server, ideogram_timeout_s=0.3) as client:
            with pytest.raises(ApiTimeout) as caught:
                await edit(client)
    assert "task" in caught.value.detail


# --- results --------------------------------------------------------------------------------------------


async def test_safety_withheld_image_is_kept_without_pixels() -> None:
    async with FakeIdeogram(api_key=KEY, unsafe_indices={1}) as server:
        async with make_client(server) as client:
            result = await edit(client, num_images=3)
    assert [r.index for r in result.images] == [0, 1, 2]
    assert result.images[1].withheld and not result.images[1].is_safe
    assert [r.index for r in result.delivered] == [0, 2]
    assert [r.index for r in result.withheld] == [1]


async def test_output_resolution_is_read_from_the_image() -> None:
    async with FakeIdeogram(api_key=KEY, output_size=(200, 150)) as server:
        async with make_client(server) as client:
            result = await edit(client)
    image = result.images[0].image
    assert image is not None and (image.width, image.height) == (200, 150)
    assert image.mime == "image/png" and result.images[0].resolution == "200x150"


async def test_expired_result_link() -> None:
    async with FakeIdeogram(api_key=KEY, result_ttl_s=0) as server:
        async with make_client(server) as client:
            with pytest.raises(ResultDownloadError) as caught:
                await edit(client)
        assert server.result_requests[0].status == 410
    assert "expired" in caught.value.user_message


@pytest.mark.parametrize("url", ["ftp://example.com/x.png", "file:///etc/passwd", "data:image/png;base64,AA", "//x"])
async def test_non_http_result_url_is_refused(fake: FakeIdeogram, url: str) -> None:
    fake.respond_next({"created": "c", "data": [{"url": url, "is_image_safe": True}]})
    async with make_client(fake) as client:
        with pytest.raises(ResultDownloadError):
            await edit(client)


async def _refused_download(fake: FakeIdeogram, url: str) -> ResultUrlRefused:
    fake.respond_next({"created": "c", "data": [{"url": url, "is_image_safe": True}]})
    async with make_client(fake) as client:
        with pytest.raises(ResultUrlRefused) as caught:
            await edit(client)
    assert "only public https links" in caught.value.user_message
    return caught.value


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://example.com/x.png", "plain http"),
        ("https://10.0.0.7/x.png", "private address 10.0.0.7"),
        ("https://192.168.1.1/x.png", "private address 192.168.1.1"),
        ("https://169.254.169.254/latest/meta-data", "link-local address 169.254.169.254"),
        ("https://127.0.0.1/x.png", "loopback address 127.0.0.1"),
        ("https://[::1]/x.png", "loopback address ::1"),
        ("https://[::ffff:10.1.2.3]/x.png", "private address 10.1.2.3"),
        ("https://0.0.0.0/x.png", "unspecified address 0.0.0.0"),
        ("https://100.64.0.1/x.png", "non-public address 100.64.0.1"),
        ("https://user:pw@example.com/x.png", "credentials"),
    ],
)
async def test_result_links_that_are_not_public_https_are_refused(fake: FakeIdeogram, url: str, why: str) -> None:
    error = await _refused_download(fake, url)
    assert why in error.detail
    assert fake.result_requests == []


async def test_http_is_only_allowed_on_the_loopback_base_urls_own_origin(fake: FakeIdeogram) -> None:
    other = f"http://127.0.0.1:{_free_port()}/results/x.png"
    error = await _refused_download(fake, other)
    assert "plain http" in error.detail
    async with make_client(fake) as client:  # the fake's own links (same origin as the base URL) work
        result = await edit(client)
    assert result.images[0].image is not None


async def test_host_resolving_to_a_private_address_is_refused(fake: FakeIdeogram) -> None:
    error = await _refused_download(fake, f"https://localhost:{fake.port}/results/x.png")
    assert "localhost resolves to a loopback address" in error.detail
    assert fake.result_requests == []


class StubResolver(AbstractResolver):
    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        return [
            {"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0}
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_resolver_refuses_a_host_with_any_private_address() -> None:
    """The connector connects to what the resolver returned, so a rebinding DNS server cannot swap a
    private address in after the check; one private address among public ones refuses the host."""
    public = PublicResolver(inner=StubResolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"))
    assert [r["host"] for r in await public.resolve("example.com", 443)] == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]
    for mixed in (("93.184.215.14", "10.0.0.1"), ("fe80::1",), ("fd00::1",), ("::ffff:127.0.0.1",)):
        with pytest.raises(AddressRefused):
            await PublicResolver(inner=StubResolver(*mixed)).resolve("rebind.example", 443)
    allowed = PublicResolver(frozenset({"localhost"}), inner=StubResolver("127.0.0.1"))
    assert [r["host"] for r in await allowed.resolve("localhost", 80)] == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("https://10.0.0.1/steal.png", "a URL on a private address 10.0.0.1"),
        ("https://[::1]/steal.png", "a URL on a loopback address ::1"),
        ("http://cdn.example/x.png", "a redirect to http:// (only https)"),
        ("https://bot:secret@cdn.example/x.png", "a URL with credentials in it"),
        ("ftp://cdn.example/x.png", "a redirect to ftp:// (only https)"),
    ],
)
async def test_every_redirect_hop_is_checked_like_the_first_link(fake: FakeIdeogram, location: str, why: str) -> None:
    fake.respond_next({}, status=302, headers={"Location": location}, route="result")
    async with make_client(fake) as client:
        with pytest.raises(ResultUrlRefused) as caught:
            await edit(client)
    assert why in caught.value.detail
    assert len(fake.result_requests) == 1


def test_a_redirect_may_go_to_another_public_https_host() -> None:
    """Signed result links commonly redirect to a storage or CDN host; each hop is checked like the
    first link (which may already be any public https host), and names are resolved by the
    connector's ``PublicResolver``. Nothing redirects into the loopback test origin from elsewhere."""
    policy = ResultUrlPolicy.for_base_url("http://127.0.0.1:8080")
    current = URL("https://ideogram.ai/api/images/ephemeral/a.png?exp=1&sig=2")
    target = policy.check_redirect(0, current, "https://storage.example.net/bucket/a.png?X-Sig=3")
    assert str(target) == "https://storage.example.net/bucket/a.png?X-Sig=3"
    assert policy.check_redirect(0, current, "/api/images/ephemeral/b.png").path == "/api/images/ephemeral/b.png"
    with pytest.raises(ResultUrlRefused) as caught:
        policy.check_redirect(0, current, "http://127.0.0.1:8080/results/x.png")
    assert "to the loopback test origin" in caught.value.detail


async def test_same_origin_redirects_are_followed_a_few_times(fake: FakeIdeogram) -> None:
    png = sample_image(40, 30)
    target = fake.store_result(png)
    fake.respond_next({}, status=302, headers={"Location": target}, route="result")
    fake.respond_next({"created": "c", "data": [{"url": fake.store_result(b"x"), "is_image_safe": True}]})
    async with make_client(fake) as client:
        result = await edit(client)
    image = result.images[0].image
    assert image is not None and image.data == png
    assert [r.status for r in fake.result_requests] == [302, 200]

    fake.respond_next({}, status=307, headers={"Location": target}, route="result", times=9)
    async with make_client(fake) as client:
        with pytest.raises(ResultUrlRefused) as caught:
            await edit(client)
    assert "more than 3 redirects" in caught.value.detail


async def test_oversized_result_is_refused(fake: FakeIdeogram) -> None:
    async with make_client(fake, client_kw={"result_max_bytes": 200}) as client:
        with pytest.raises(ResultDownloadError) as caught:
            await edit(client)
    assert "larger" in caught.value.user_message


async def test_result_that_is_not_an_image(fake: FakeIdeogram) -> None:
    fake.respond_next({"data": [{"url": fake.store_result(b"definitely not a png"), "is_image_safe": True}]})
    async with make_client(fake) as client:
        with pytest.raises(ResultDownloadError) as caught:
            await edit(client)
    assert "not a readable image" in caught.value.user_message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
async def test_cut_off_result_is_not_an_image(fake: FakeIdeogram, fmt: str) -> None:
    """A result whose download stopped half-way is refused, not posted as a broken picture."""
    whole = encode(photo((256, 256)), fmt)
    fake.respond_next({"data": [{"url": fake.store_result(whole[: len(whole) // 2]), "is_image_safe": True}]})
    async with make_client(fake) as client:
        with pytest.raises(ResultDownloadError) as caught:
            await edit(client)
    assert "not a readable image" in caught.value.user_message


async def test_result_download_server_error(fake: FakeIdeogram) -> None:
    fake.fail_next(500, route="result")
    async with make_client(fake) as client:
        with pytest.raises(ResultDownloadError) as caught:
            await edit(client)
    assert "HTTP 500" in caught.value.user_message


async def test_results_downloaded_without_credentials(fake: FakeIdeogram) -> None:
    async with make_client(fake) as client:
        await edit(client, num_images=4)
    assert len(fake.result_requests) == 4
    for request in fake.result_requests:
        assert "Api-Key" not in request.headers and "Authorization" not in request.headers
        assert KEY not in str(dict(request.headers))


# --- the in-flight cap --------------------------------------------------------------------------------


async def test_in_flight_images_never_exceed_the_cap() -> None:
    sizes = [3, 5, 2, 6, 4, 4, 1, 7, 8, 1, 2, 5, 3, 3, 2, 6]
    async with FakeIdeogram(api_key=KEY, latency_s=0.05) as server:
        async with make_client(server, max_images_in_flight=8) as client:
            results = await asyncio.gather(*(edit(client, num_images=n) for n in sizes))
        assert [len(r.images) for r in results] == sizes
        assert server.peak_in_flight_images == 8  # reached the cap and never more (sum(sizes) is 62)
        assert client.slots.peak == 8
        assert len(server.edit_requests) == len(sizes)
        assert max(float(r.extras["queue_seconds"]) for r in results) > 0.04


async def test_cap_is_shared_between_clients() -> None:
    slots = ImageSlots(4)
    async with FakeIdeogram(api_key=KEY, latency_s=0.03) as server:
        async with (
            make_client(server, client_kw={"slots": slots}) as a,
            make_client(server, client_kw={"slots": slots}) as b,
        ):
            await asyncio.gather(*(edit(c, num_images=n) for c, n in [(a, 3), (b, 2), (a, 1), (b, 4), (a, 2)]))
        assert server.peak_in_flight_images <= 4 and slots.peak == 4


async def test_more_images_than_the_cap_is_an_input_error(fake: FakeIdeogram) -> None:
    async with make_client(fake, max_images_in_flight=2) as client:
        with pytest.raises(InputError):
            await edit(client, num_images=3)
    assert fake.requests == []


# --- validation before sending ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "options", "image", "mask"),
    [
        ("ok", {"num_images": 9}, IMAGE, MASK),
        ("ok", {"seed": -1}, IMAGE, MASK),
        ("ok", {"model": LegacyModel.V_2}, IMAGE, MASK),
        ("ok", {"style_type": StyleType.ANIME}, IMAGE, MASK),
        ("ok", {"style_codes": ("XYZ",)}, IMAGE, MASK),
        ("   ", {}, IMAGE, MASK),
        ("x" * 2001, {}, IMAGE, MASK),
        ("ok", {}, IMAGE, ImageFile(MASK.data, "image/png", W + 1, H)),
        ("ok", {}, ImageFile(IMAGE.data, "image/gif", W, H), MASK),
    ],
)
async def test_invalid_requests_are_refused_before_sending(
    fake: FakeIdeogram, prompt: str, options: dict[str, Any], image: ImageFile, mask: ImageFile
) -> None:
    async with make_client(fake) as client:
        with pytest.raises(InputError):
            await client.edit(image, mask, prompt, EditOptions(**options))
    assert fake.requests == []


async def test_legacy_options_refused_on_legacy_shape_rules() -> None:
    async with FakeIdeogram(shape="legacy", api_key=KEY) as server:
        async with make_client(server) as client:
            with pytest.raises(InputError):
                await edit(client, rendering_speed=RenderingSpeed.TURBO)
        assert server.requests == []


# --- mask honesty -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["memory", "disk"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
async def test_white_mask_pixels_are_identical_black_ones_changed(
    fake: FakeIdeogram, fmt: str, where: str, tmp_path: Path
) -> None:
    data = sample_image(W, H, fmt)
    image: ApiImage = ImageFile(data, "image/jpeg" if fmt == "JPEG" else "image/png", W, H)
    mask: ApiImage = MASK
    if where == "disk":  # sent from the files, and the fake still validates and applies the mask
        image, mask = on_disk(tmp_path, "image", image), on_disk(tmp_path, "mask", MASK)
    async with make_client(fake) as client:
        result = await client.edit(image, mask, "a dragon", EditOptions(num_images=2, seed=9))
    original = pixels(data)
    mask = pixels(MASK.data, "L")
    outputs = [pixels(r.image.data) for r in result.images if r.image is not None]
    assert len(outputs) == 2
    kept = changed = 0
    for y in range(H):
        for x in range(W):
            if mask.getpixel((x, y)) == 255:
                assert all(out.getpixel((x, y)) == original.getpixel((x, y)) for out in outputs)
                kept += 1
            else:
                changed += outputs[0].getpixel((x, y)) != original.getpixel((x, y))
    black = (BOX[2] - BOX[0]) * (BOX[3] - BOX[1])
    assert kept == W * H - black
    assert changed > black * 0.9
    assert outputs[0].tobytes() != outputs[1].tobytes()  # seed+index give different content


# --- secrets ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _chain(error: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


async def test_key_never_leaks(fake: FakeIdeogram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    fake.fail_next(401, {"error": f"Invalid key {KEY}"})
    fake.fail_next(500, {"error": {"message": f"boom while using {KEY}"}}, times=3)
    async with make_client(fake, ideogram_max_retries=2) as client:
        assert KEY not in repr(client)
        for _ in range(2):
            with pytest.raises(ApiError) as caught:
                await edit(client)
            errors.append(caught.value)
        result = await edit(client)
    dead = Settings(
        ideogram_api_key=Secret(KEY), ideogram_base_url=f"http://127.0.0.1:{_free_port()}", ideogram_max_retries=1
    )
    async with IdeogramClient(dead, **FAST) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await edit(client)
        errors.append(caught.value)
    assert [type(e) for e in errors] == [ApiAuthError, ApiUnavailable, ApiUnavailable]
    assert "[redacted]" in errors[1].detail
    for error in errors:
        for link in _chain(error):
            for text in (str(link), repr(link), getattr(link, "detail", ""), getattr(link, "user_message", "")):
                assert KEY not in text
        assert isinstance(error, BotError)
    assert KEY not in repr(result) and all(KEY not in repr(r) for r in result.images)
    assert caplog.records, "the client should log"
    for record in caplog.records:
        assert KEY not in record.getMessage()
    assert KEY not in caplog.text


async def test_redirects_are_not_followed_with_the_key(fake: FakeIdeogram) -> None:
    elsewhere = fake.base_url + "/elsewhere"
    fake.respond_next({}, status=307, headers={"Location": elsewhere})
    async with make_client(fake) as client:
        with pytest.raises(ApiError) as caught:
            await edit(client)
    assert caught.value.status == 307 and "IDEOGRAM_BASE_URL" in caught.value.detail
    assert [r.path for r in fake.requests] == ["/v1/ideogram-v3/edit"]


async def test_cancelling_an_edit_frees_its_slots() -> None:
    async with FakeIdeogram(api_key=KEY, latency_s=5.0) as server:
        async with make_client(server) as client:
            task = asyncio.create_task(edit(client, num_images=4))
            for _ in range(200):
                if server.in_flight_images:
                    break
                await asyncio.sleep(0.01)
            assert client.slots.in_use == 4
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert client.slots.in_use == 0


def big_png(side: int = 900) -> ImageFile:
    """An uncompressed PNG of ``side``² (2.4 MB at 900): many ``PART_CHUNK``s."""
    noise = Image.frombytes("RGB", (side, side), bytes(range(256)) * (side * side * 3 // 256 + 1))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG", compress_level=0)
    return ImageFile(buffer.getvalue(), "image/png", side, side)


def on_disk(directory: Path, name: str, file: ImageFile) -> ImageOnDisk:
    path = directory / f"{name}.{file.extension}"
    path.write_bytes(file.data)
    return ImageOnDisk(path, file.mime, file.width, file.height, file.size)


@pytest.mark.parametrize("where", ["memory", "disk"])
async def test_large_upload_is_resent_whole_on_retry(fake: FakeIdeogram, tmp_path: Path, where: str) -> None:
    image, mask = big_png(), png_file(sample_mask(900, 900))
    assert len(image.data) > 2 * 1024 * 1024
    sent: tuple[ApiImage, ApiImage] = (image, mask)
    if where == "disk":
        sent = (on_disk(tmp_path, "image", image), on_disk(tmp_path, "mask", mask))
    fake.fail_next(503)
    async with make_client(fake) as client:
        result = await client.edit(*sent, "fill", EditOptions())
    assert result.attempts == 2 and len(fake.edit_requests) == 2
    assert all(r.files["image"].data == image.data for r in fake.edit_requests)  # the second one whole too
    assert all(r.files["mask"].data == mask.data for r in fake.edit_requests)
    assert result.images[0].image is not None and result.images[0].image.width == 900


# --- inputs from their files, results into the store (issue 11) --------------------------------------------


class ReadLog:
    """Wraps ``Path.open`` for files in one directory: every read's requested size, and closes."""

    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads: list[tuple[str, int]] = []
        self.closed: list[str] = []
        real_open = Path.open
        log = self

        class Recorded:
            def __init__(self, path: Path, file: Any) -> None:
                self._path, self._file = path, file

            def read(self, size: int = -1) -> bytes:
                log.reads.append((self._path.name, size))
                return self._file.read(size)

            def close(self) -> None:
                log.closed.append(self._path.name)
                self._file.close()

        def recording_open(path: Path, *args: Any, **kwargs: Any) -> Any:
            file = real_open(path, *args, **kwargs)
            return Recorded(path, file) if path.parent == directory else file

        monkeypatch.setattr(Path, "open", recording_open)


async def test_inputs_on_disk_are_sent_from_their_files_in_chunks(
    fake: FakeIdeogram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image, mask = big_png(), png_file(sample_mask(900, 900))
    sent = on_disk(tmp_path, "image", image), on_disk(tmp_path, "mask", mask)
    log = ReadLog(tmp_path, monkeypatch)
    async with make_client(fake) as client:
        result = await client.edit(*sent, "fill", EditOptions())
    request = fake.edit_requests[0]
    assert request.files["image"].data == image.data and request.files["mask"].data == mask.data
    image_reads = [size for name, size in log.reads if name == "image.png"]
    assert len(image_reads) >= len(image.data) // PART_CHUNK  # piece by piece ...
    assert all(0 < size <= PART_CHUNK for _, size in log.reads)  # ... never read whole
    assert sorted(log.closed) == ["image.png", "mask.png"]  # and closed once sent
    assert result.images[0].image is not None


class Sink:
    """Collects what a payload writes (aiohttp's ``AbstractStreamWriter.write``)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.writes = 0

    async def write(self, chunk: bytes | memoryview) -> None:
        self.data += chunk
        self.writes += 1


@pytest.mark.parametrize("where", ["memory", "disk"])
async def test_an_image_part_writes_the_whole_image_every_time(tmp_path: Path, where: str) -> None:
    """aiohttp may write one payload twice (a 307, a dropped kept-alive connection): both whole."""
    image = big_png(400)
    part = ImagePart(on_disk(tmp_path, "image", image) if where == "disk" else image)
    assert part.size == len(image.data) and part.content_type == "image/png"
    for _ in range(2):
        sink = Sink()
        await part.write(sink)  # type: ignore[arg-type]
        assert sink.data == image.data and sink.writes == -(-len(image.data) // PART_CHUNK)


async def test_an_image_file_shorter_than_announced_fails_the_attempt(tmp_path: Path) -> None:
    """The body's Content-Length was announced from the size: a shrunk file must not send less."""
    stored = on_disk(tmp_path, "image", big_png(400))
    stored.path.write_bytes(stored.path.read_bytes()[:1000])
    with pytest.raises(OSError, match="ended after 1000 of"):
        await ImagePart(stored).write(Sink())  # type: ignore[arg-type]


class CountingStore:
    """A real ``LocalFileStore`` that counts the bytes each ``put_stream`` was handed."""

    def __init__(self, root: Path) -> None:
        self.files = LocalFileStore(root)
        self.received: list[int] = []

    async def put_stream(self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> str:
        index = len(self.received)  # several results stream at once
        self.received.append(0)

        async def counted() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                self.received[index] += len(chunk)
                yield chunk

        return await self.files.put_stream(counted(), max_bytes=max_bytes)

    def path(self, sha: str) -> Path:
        return self.files.path(sha)

    def kept(self) -> list[Path]:
        return [path for path in self.files.root.rglob("*") if path.is_file()]


@pytest.mark.parametrize("chunked", [None, 1000])
async def test_results_are_streamed_into_the_store_and_handed_on_as_files(
    fake: FakeIdeogram, tmp_path: Path, chunked: int | None
) -> None:
    fake.chunked_results = chunked  # with and without a Content-Length
    store = CountingStore(tmp_path / "images")
    async with make_client(fake) as client:
        result = await client.edit(IMAGE, MASK, "a kite", EditOptions(num_images=2), store=store)
    images = [r.image for r in result.images]
    assert all(isinstance(image, ImageOnDisk) for image in images)
    for image in images:
        assert isinstance(image, ImageOnDisk) and image.sha is not None
        data = image.path.read_bytes()
        assert image.path == store.path(image.sha) and hashlib.sha256(data).hexdigest() == image.sha
        assert (image.mime, image.width, image.height, image.size) == ("image/png", W, H, len(data))
        assert store.files.pinned(image.sha)  # kept until a job row references it
    assert sorted(store.received) == sorted(image.size for image in images if image)


async def test_a_result_announcing_more_than_the_cap_is_refused_before_reading(
    fake: FakeIdeogram, tmp_path: Path
) -> None:
    store = CountingStore(tmp_path / "images")
    async with make_client(fake, client_kw={"result_max_bytes": 200}) as client:
        with pytest.raises(ResultDownloadError) as caught:
            await client.edit(IMAGE, MASK, "a kite", EditOptions(), store=store)
    assert "larger" in caught.value.user_message
    assert store.received == [] and store.kept() == []


async def test_a_result_growing_past_the_cap_is_dropped_without_being_read_whole(
    fake: FakeIdeogram, tmp_path: Path
) -> None:
    """No Content-Length: the download stops at the cap, the connection is dropped (the server
    cannot send the rest), and nothing is kept in the store."""
    cap, body = 256 * 1024, bytes(24 * 1024 * 1024)
    fake.chunked_results = 64 * 1024
    fake.respond_next({"data": [{"url": fake.store_result(body), "is_image_safe": True}]})
    store = CountingStore(tmp_path / "images")
    async with make_client(fake, client_kw={"result_max_bytes": cap}) as client:
        with pytest.raises(ResultDownloadError) as caught:
            await client.edit(IMAGE, MASK, "a kite", EditOptions(), store=store)
    assert "larger" in caught.value.user_message
    assert store.received and store.received[0] <= cap and store.kept() == []
    await asyncio.sleep(0.05)  # let the fake notice the dropped connection
    assert fake.result_bytes_sent < len(body) // 2  # socket buffers aside, the rest was never sent


async def test_a_stored_result_that_is_not_an_image_is_refused(fake: FakeIdeogram, tmp_path: Path) -> None:
    fake.respond_next({"data": [{"url": fake.store_result(b"definitely not a png"), "is_image_safe": True}]})
    store = CountingStore(tmp_path / "images")
    async with make_client(fake) as client:
        with pytest.raises(ResultDownloadError) as caught:
            await client.edit(IMAGE, MASK, "a kite", EditOptions(), store=store)
    assert "not a readable image" in caught.value.user_message
    sha = hashlib.sha256(b"definitely not a png").hexdigest()
    assert store.files.exists(sha) and store.files.pinned(sha)  # unreferenced: swept once the pin expires


async def test_results_are_checked_on_the_pillow_pool(
    fake: FakeIdeogram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check decodes (a cut-off JPEG, a WebP): Pillow work, so on ``bot.imaging.executor``'s
    lower-priority pool, not the loop's default executor, whether the result is in memory or stored."""
    threads: list[str] = []
    check = decode._check_intact

    def recorded(*args: Any) -> None:
        threads.append(threading.current_thread().name)
        check(*args)

    monkeypatch.setattr(decode, "_check_intact", recorded)
    async with make_client(fake) as client:
        await edit(client)
        await client.edit(IMAGE, MASK, "a kite", EditOptions(), store=CountingStore(tmp_path / "images"))
    assert len(threads) == 2 and all(name.startswith("pillow") for name in threads), threads


async def test_passed_in_session_is_not_closed(fake: FakeIdeogram) -> None:
    async with aiohttp.ClientSession() as session:
        async with IdeogramClient(fake.settings(), session=session, **FAST) as client:
            await edit(client)
        assert not session.closed
