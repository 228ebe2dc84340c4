"""The fake Ideogram server validates like the real API, so client tests against it mean something."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from PIL import Image

from tests.fakes.ideogram import FakeIdeogram, sample_image, sample_mask

KEY = "fake-key-for-validation-tests"
W, H = 64, 48


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def form(
    fields: dict[str, Any] | None = None,
    *,
    image: bytes | None = None,
    mask: bytes | None = None,
    image_field: str = "image",
) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field(image_field, io.BytesIO(sample_image(W, H) if image is None else image), filename="i.png")
    data.add_field("mask", io.BytesIO(sample_mask(W, H) if mask is None else mask), filename="m.png")
    for name, value in (fields if fields is not None else {"prompt": "a cat"}).items():
        for item in value if isinstance(value, list) else [value]:
            data.add_field(name, str(item))
    return data


async def post(
    http: aiohttp.ClientSession, server: FakeIdeogram, data: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    headers = {"Api-Key": KEY} if headers is None else headers
    async with http.post(server.edit_url, data=data, headers=headers) as response:
        return response.status, await response.json()


def png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


async def test_valid_v3_request_answers_the_documented_shape(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY) as server:
        status, body = await post(http, server, form({"prompt": "cat", "num_images": 2, "seed": 5}))
    assert status == 200
    assert set(body) == {"created", "data"}
    assert [item["seed"] for item in body["data"]] == [5, 6]
    item = body["data"][0]
    assert set(item) == {"url", "prompt", "resolution", "is_image_safe", "seed", "style_type"}
    assert item["resolution"] == f"{W}x{H}" and item["is_image_safe"] is True
    assert "/results/" in item["url"] and "exp=" in item["url"]


async def test_random_seed_reported_when_absent(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY) as server:
        _, body = await post(http, server, form({"prompt": "cat", "num_images": 2}))
    first, second = (item["seed"] for item in body["data"])
    assert isinstance(first, int) and second == (first + 1) % 2_147_483_648


@pytest.mark.parametrize(
    ("headers", "auth"),
    [
        ({}, "api-key"),
        ({"Api-Key": "wrong"}, "api-key"),
        ({"Authorization": f"Bearer {KEY}"}, "api-key"),
        ({"Api-Key": KEY}, "bearer"),
        ({"Authorization": "Bearer nope"}, "bearer"),
    ],
)
async def test_wrong_or_missing_auth_is_401_json(
    http: aiohttp.ClientSession, headers: dict[str, str], auth: str
) -> None:
    async with FakeIdeogram(api_key=KEY, auth=auth) as server:  # type: ignore[arg-type]
        status, body = await post(http, server, form(), headers=headers)
        assert server.requests[0].status == 401
    assert status == 401 and "error" in body


@pytest.mark.parametrize(
    ("fields", "kwargs", "message"),
    [
        ({}, {}, "prompt is required"),
        ({"prompt": "  "}, {}, "prompt is required"),
        ({"prompt": "a", "num_images": 9}, {}, "num_images must be between 1 and 8"),
        ({"prompt": "a", "num_images": 0}, {}, "num_images"),
        ({"prompt": "a", "num_images": "two"}, {}, "num_images must be an integer"),
        ({"prompt": "a", "seed": -1}, {}, "seed must be between"),
        ({"prompt": "a", "seed": 2_147_483_648}, {}, "seed must be between"),
        ({"prompt": "a", "magic_prompt": "MAYBE"}, {}, "magic_prompt must be one of"),
        ({"prompt": "a", "rendering_speed": "WARP"}, {}, "rendering_speed"),
        ({"prompt": "a", "style_type": "ANIME"}, {}, "style_type"),
        ({"prompt": "a", "style_preset": "NOPE"}, {}, "style_preset"),
        ({"prompt": "a", "color_palette": "{bad"}, {}, "color_palette"),
        ({"prompt": "a", "color_palette": '{"name":"PINK"}'}, {}, "color_palette.name"),
        ({"prompt": "a", "style_codes": ["12345678", "xyz"]}, {}, "style_codes"),
        ({"prompt": "a", "style_codes": "12345678", "style_type": "AUTO"}, {}, "style_codes cannot"),
        ({"prompt": "a", "magic_prompt_option": "ON"}, {}, "Unexpected field 'magic_prompt_option'"),
        ({"prompt": ["a", "b"]}, {}, "prompt was sent more than once"),
        ({"prompt": "a"}, {"image_field": "image_file"}, "Unexpected field 'image_file'"),
        ({"prompt": "a"}, {"image": b"not an image"}, "image is not a readable"),
        ({"prompt": "a"}, {"mask": sample_mask(W + 1, H)}, "mask must be the same size"),
        ({"prompt": "a"}, {"mask": png(Image.new("L", (W, H), 128))}, "pure black and white"),
        ({"prompt": "a"}, {"mask": png(Image.new("L", (W, H), 255))}, "no black pixels"),
        ({"prompt": "a"}, {"image": sample_image(W, H, "GIF")}, "must be JPEG, PNG or WebP"),
    ],
)
async def test_v3_validation(
    http: aiohttp.ClientSession, fields: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    async with FakeIdeogram(api_key=KEY) as server:
        status, body = await post(http, server, form(fields, **kwargs))
    assert status == 400
    assert message in body["error"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"prompt": "a"}, "model is required"),
        ({"prompt": "a", "model": "V_3"}, "model must be V_2 or V_2_TURBO"),
        ({"prompt": "a", "model": "V_2", "style_type": "FICTIONAL"}, "style_type"),
        ({"prompt": "a", "model": "V_2", "magic_prompt_option": "YES"}, "magic_prompt_option"),
        ({"prompt": "a", "model": "V_2", "rendering_speed": "TURBO"}, "Unexpected field 'rendering_speed'"),
    ],
)
async def test_legacy_validation(http: aiohttp.ClientSession, fields: dict[str, Any], message: str) -> None:
    async with FakeIdeogram(shape="legacy", api_key=KEY) as server:
        status, body = await post(http, server, form(fields, image_field="image_file"))
    assert status == 400 and message in body["error"]


async def test_legacy_valid_request(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(shape="legacy", api_key=KEY) as server:
        fields = {"prompt": "a", "model": "V_2_TURBO", "style_type": "ANIME", "magic_prompt_option": "AUTO"}
        status, body = await post(http, server, form(fields, image_field="image_file"))
    assert status == 200 and body["data"][0]["style_type"] == "ANIME"


async def test_v3_image_given_as_text_field_names_the_field(http: aiohttp.ClientSession) -> None:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("image", "not a file")
    data.add_field("mask", sample_mask(W, H), filename="m.png")
    data.add_field("prompt", "a")
    async with FakeIdeogram(api_key=KEY) as server:
        status, body = await post(http, server, data)
    assert status == 400 and "image is required (it must be a file part)" in body["error"]


async def test_only_multipart_is_accepted(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY) as server:
        status, body = await post(http, server, {"prompt": "a"})
    assert status == 400 and "multipart/form-data" in body["error"]


async def test_file_over_10mb_is_refused(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY) as server:
        status, body = await post(http, server, form(image=b"\0" * (10 * 1024 * 1024 + 1)))
    assert status == 400 and "at most 10MB" in body["error"]


async def test_mask_tolerance_accepts_near_pure_values(http: aiohttp.ClientSession) -> None:
    mask = Image.new("L", (W, H), 250)
    mask.paste(3, (0, 0, 10, 10))
    async with FakeIdeogram(api_key=KEY, mask_tolerance=8) as server:
        status, _ = await post(http, server, form(mask=png(mask)))
    assert status == 200


async def test_inflight_limit_answers_429_with_reject_reason(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY, inflight_limit=2) as server:
        status, body = await post(http, server, form({"prompt": "a", "num_images": 3}))
    assert status == 429 and body["reject_reason"] == "inflight_limit"


async def test_results_expire_and_unknown_ones_are_404(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY) as server:
        _, body = await post(http, server, form())
        url = body["data"][0]["url"]
        async with http.get(url) as response:
            assert response.status == 200 and response.content_type == "image/png"
        server.clear_results()
        async with http.get(url) as response:
            assert response.status == 404
        async with http.get(server.store_result(b"x", ttl_s=0)) as response:
            assert response.status == 410


async def test_unsafe_indices_have_no_url(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY, unsafe_indices={0}) as server:
        _, body = await post(http, server, form({"prompt": "a", "num_images": 2}))
    assert body["data"][0]["url"] is None and body["data"][0]["is_image_safe"] is False
    assert body["data"][1]["url"]


async def test_task_mode_answers_kling_shape_and_polls(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="succeed", task_polls=1) as server:
        _, body = await post(http, server, form({"prompt": "a", "num_images": 2}))
        assert body["code"] == 0 and body["data"]["task_status"] == "submitted"
        assert server.in_flight_images == 2  # counted until the task is reported done
        poll = f"{server.base_url}/v1/tasks/{body['data']['task_id']}"
        headers = {"Api-Key": KEY}
        async with http.get(poll, headers=headers) as response:
            assert (await response.json())["data"]["task_status"] == "processing"
        async with http.get(poll, headers=headers) as response:
            data = (await response.json())["data"]
        assert data["task_status"] == "succeed" and len(data["task_result"]["images"]) == 2
        assert server.in_flight_images == 0
        async with http.get(poll) as response:
            assert response.status == 401
        async with http.get(server.base_url + "/v1/tasks/unknown", headers=headers) as response:
            assert response.status == 404


async def test_fault_queue_is_per_route_and_consumed_in_order(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY) as server:
        server.fail_next(503, times=2)
        server.fail_next(500, route="result")
        assert server.pending_faults() == 2 and server.pending_faults("result") == 1
        statuses = [(await post(http, server, form()))[0] for _ in range(3)]
        assert statuses == [503, 503, 200]
        server.clear_faults()
        assert server.pending_faults("result") == 0


async def test_output_size_override(http: aiohttp.ClientSession) -> None:
    async with FakeIdeogram(api_key=KEY, output_size=(128, 32)) as server:
        _, body = await post(http, server, form())
        async with http.get(body["data"][0]["url"]) as response:
            data = await response.read()
    assert body["data"][0]["resolution"] == "128x32"
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (128, 32)


async def test_settings_helper_points_at_the_fake() -> None:
    async with FakeIdeogram(shape="legacy", auth="bearer", path="/x/edit", task_mode="fail") as server:
        settings = server.settings(ideogram_max_retries=0)
        assert settings.edit_url == server.base_url + "/x/edit"
    assert settings.ideogram_api_key.reveal() == server.api_key
    assert settings.ideogram_task_path == "/v1/tasks/{task_id}" and settings.ideogram_max_retries == 0
    assert str(settings.ideogram_api) == "legacy" and str(settings.ideogram_auth) == "bearer"
