"""EditService in-process against the fake Ideogram server: prepare → API → results, and what is refused
before any pixel work or any request (nothing billed for a typo)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import reduce
from typing import Any

import pytest
from PIL import Image, ImageChops

from bot.errors import ApiAuthError, InputError, MaskMissing, NothingToEdit
from bot.ideogram import IdeogramClient
from bot.limits import PROMPT_MAX_CHARS
from bot.models import MaskSpec, PreparedEdit, Region
from bot.options import EditOptions, LegacyModel, MagicPrompt, RenderingSpeed, StyleType
from bot.service import EditOutcome, EditService
from tests import FAST
from tests.fakes.ideogram import FakeIdeogram, pattern, sample_image, sample_mask

KEY = "sk-ideo-SERVICE-TOPSECRET-0123456789abcdef"
W, H = 128, 96
BOX = (32, 24, 96, 72)
IMAGE = sample_image(W, H)
MASK = sample_mask(W, H, BOX)
PROMPT = "a red umbrella"
NOT_AN_IMAGE = b"this is not an image at all"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIdeogram]:
    async with FakeIdeogram(api_key=KEY) as server:
        yield server


@asynccontextmanager
async def service_for(server: FakeIdeogram, **settings: Any) -> AsyncIterator[EditService]:
    config = server.settings(**settings)
    async with IdeogramClient(config, **FAST) as client:
        yield EditService(config, client)


class PrepareSpy:
    """Counts calls to ``EditService.prepare`` while still running it."""

    def __init__(self, service: EditService) -> None:
        self.calls = 0
        self._prepare = service.prepare
        service.prepare = self  # type: ignore[method-assign]

    async def __call__(self, image: bytes, spec: MaskSpec) -> PreparedEdit:
        self.calls += 1
        return await self._prepare(image, spec)


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.copy()


def edit_area(box: tuple[int, int, int, int]) -> Image.Image:
    im = Image.new("L", (W, H), 0)
    im.paste(255, box)
    return im


def changed(before: Image.Image, after: Image.Image) -> Image.Image:
    diff = ImageChops.difference(before.convert("RGB"), after.convert("RGB"))
    return reduce(ImageChops.lighter, diff.split()).point(lambda v: 255 if v else 0)


def assert_edited(after: Image.Image, area: Image.Image, *, prompt: str, seed: int, index: int) -> None:
    before = decode(IMAGE)
    moved = changed(before, after)
    assert ImageChops.subtract(moved, area).histogram()[255] == 0, "pixels changed outside the edit area"
    assert ImageChops.multiply(moved, area).histogram()[255] >= 0.9 * area.histogram()[255]
    expected = pattern("RGB", (W, H), prompt, seed, index)
    assert ImageChops.multiply(changed(expected, after), area).histogram()[255] == 0


# --- the whole path ----------------------------------------------------------------------------------


async def test_edit_prepares_calls_the_api_and_returns_the_results(fake: FakeIdeogram) -> None:
    async with service_for(fake) as service:
        outcome = await service.edit(IMAGE, MaskSpec(mask=MASK), PROMPT, EditOptions(num_images=2, seed=11))
    assert isinstance(outcome, EditOutcome)

    prepared = outcome.prepared
    assert (prepared.image.width, prepared.image.height) == (W, H)
    assert (prepared.mask.width, prepared.mask.height, prepared.mask.mime) == (W, H, "image/png")
    assert prepared.edit_fraction == pytest.approx((64 * 48) / (W * H))

    [request] = fake.edit_requests
    assert request.files["image"].data == prepared.image.data == IMAGE  # a fitting PNG passes through
    assert request.files["mask"].data == prepared.mask.data
    assert request.fields["prompt"] == [PROMPT]
    assert request.fields["num_images"] == ["2"]

    result = outcome.result
    assert [(r.index, r.seed) for r in result.images] == [(0, 11), (1, 12)]
    assert len(result.delivered) == 2 and result.withheld == ()
    for item in result.delivered:
        assert item.image is not None
        assert (item.image.width, item.image.height, item.image.mime) == (W, H, "image/png")
        assert_edited(decode(item.image.data), edit_area(BOX), prompt=PROMPT, seed=item.seed or 0, index=item.index)
    assert 0 < result.api_seconds <= outcome.seconds


async def test_legacy_shape_with_a_region() -> None:
    async with FakeIdeogram(shape="legacy", path="/ideogram/edit", auth="bearer", api_key=KEY) as server:
        async with service_for(server, ideogram_model=LegacyModel.V_2) as service:
            options = EditOptions(seed=3, style_type=StyleType.ANIME, magic_prompt=MagicPrompt.OFF)
            outcome = await service.edit(IMAGE, MaskSpec(region=Region.BOTTOM), PROMPT, options)
    [request] = server.edit_requests
    assert request.path == "/ideogram/edit"
    assert request.fields["model"] == ["V_2"]
    assert request.fields["style_type"] == ["ANIME"]
    assert outcome.prepared.edit_fraction == pytest.approx(0.5)
    [item] = outcome.result.delivered
    assert item.image is not None
    assert_edited(decode(item.image.data), edit_area((0, H // 2, W, H)), prompt=PROMPT, seed=3, index=0)


async def test_task_shaped_answer_is_followed() -> None:
    async with FakeIdeogram(api_key=KEY, task_mode="succeed", task_polls=2) as server:
        async with service_for(server) as service:
            outcome = await service.edit(IMAGE, MaskSpec(box=(25, 25, 75, 75)), PROMPT, EditOptions(seed=9))
    assert outcome.result.task_id == server.task_ids[0]
    assert len(server.poll_requests) == 3
    [item] = outcome.result.delivered
    assert item.image is not None
    assert_edited(decode(item.image.data), edit_area((32, 24, 96, 72)), prompt=PROMPT, seed=9, index=0)


async def test_withheld_images_are_results_without_pixels(fake: FakeIdeogram) -> None:
    fake.unsafe_indices = frozenset({0})
    async with service_for(fake) as service:
        outcome = await service.edit(IMAGE, MaskSpec(mask=MASK), PROMPT, EditOptions(num_images=2))
    withheld, delivered = outcome.result.images
    assert withheld.withheld and withheld.image is None and not withheld.is_safe
    assert not delivered.withheld and delivered.image is not None


async def test_api_errors_reach_the_caller_without_the_key(fake: FakeIdeogram) -> None:
    fake.fail_next(401, {"error": f"bad key {KEY}"})
    async with service_for(fake) as service:
        with pytest.raises(ApiAuthError) as caught:
            await service.edit(IMAGE, MaskSpec(mask=MASK), PROMPT, EditOptions())
    assert KEY not in caught.value.user_message
    assert KEY not in caught.value.detail
    assert len(fake.edit_requests) == 1


# --- prompt rules --------------------------------------------------------------------------------------


async def test_prompt_is_sent_stripped(fake: FakeIdeogram) -> None:
    async with service_for(fake) as service:
        await service.edit(IMAGE, MaskSpec(mask=MASK), f"  \n{PROMPT}\t ", EditOptions(seed=1))
    assert fake.edit_requests[0].fields["prompt"] == [PROMPT]


async def test_prompt_at_the_limit_is_accepted(fake: FakeIdeogram) -> None:
    prompt = "x" * PROMPT_MAX_CHARS
    async with service_for(fake) as service:
        outcome = await service.edit(IMAGE, MaskSpec(mask=MASK), prompt, EditOptions())
    assert fake.edit_requests[0].fields["prompt"] == [prompt]
    assert len(outcome.result.delivered) == 1


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("", "the prompt is empty"),
        (" \n\t ", "the prompt is empty"),
        ("x" * (PROMPT_MAX_CHARS + 1), f"too long ({PROMPT_MAX_CHARS + 1:,} characters)"),
        ("  " + "x" * (PROMPT_MAX_CHARS + 1), f"the limit is {PROMPT_MAX_CHARS:,}"),
    ],
    ids=["empty", "blank", "too-long", "too-long-after-strip"],
)
async def test_prompt_rules_are_checked_before_pixels_and_requests(
    fake: FakeIdeogram, prompt: str, message: str
) -> None:
    async with service_for(fake) as service:
        spy = PrepareSpy(service)
        with pytest.raises(InputError, match="prompt") as caught:
            await service.edit(NOT_AN_IMAGE, MaskSpec(mask=MASK), prompt, EditOptions())
    assert message in caught.value.user_message
    assert spy.calls == 0
    assert fake.requests == []


# --- options and inputs are refused before any request -----------------------------------------------------


V3_BAD_OPTIONS: list[tuple[str, EditOptions, str]] = [
    ("zero-images", EditOptions(num_images=0), "Number of images must be between 1 and 8 (got 0)"),
    ("nine-images", EditOptions(num_images=9), "Number of images must be between 1 and 8 (got 9)"),
    ("negative-seed", EditOptions(seed=-1), "Seed must be between"),
    ("huge-seed", EditOptions(seed=2**31), "Seed must be between"),
    ("model-on-v3", EditOptions(model=LegacyModel.V_2), "legacy API shape"),
    ("legacy-style-on-v3", EditOptions(style_type=StyleType.ANIME), "Style ANIME is not available"),
    ("unknown-preset", EditOptions(style_preset="NOPE"), "Unknown style preset"),
    ("codes-with-style", EditOptions(style_codes=("AAFF5733",), style_type=StyleType.AUTO), "Style codes cannot"),
    ("bad-code", EditOptions(style_codes=("xyz",)), "8 hexadecimal characters"),
    ("bad-palette", EditOptions(color_palette={"name": "NEON"}), "Colour palette must be one of"),
    ("bad-colour", EditOptions(color_palette={"members": [{"color_hex": "red"}]}), "must look like #RRGGBB"),
]
LEGACY_BAD_OPTIONS: list[tuple[str, EditOptions, str]] = [
    ("speed-on-legacy", EditOptions(rendering_speed=RenderingSpeed.TURBO), "rendering speed option needs the v3"),
    ("preset-on-legacy", EditOptions(style_preset="OIL_PAINTING"), "style preset option needs the v3"),
    ("v3-style-on-legacy", EditOptions(style_type=StyleType.FICTION), "Style FICTION is not available"),
]


@pytest.mark.parametrize(("options", "message"), [c[1:] for c in V3_BAD_OPTIONS], ids=[c[0] for c in V3_BAD_OPTIONS])
async def test_v3_options_are_validated_before_pixels_and_requests(
    fake: FakeIdeogram, options: EditOptions, message: str
) -> None:
    async with service_for(fake) as service:
        spy = PrepareSpy(service)
        with pytest.raises(InputError) as caught:
            await service.edit(NOT_AN_IMAGE, MaskSpec(mask=MASK), PROMPT, options)
    assert message in caught.value.user_message
    assert spy.calls == 0
    assert fake.requests == []


@pytest.mark.parametrize(
    ("options", "message"), [c[1:] for c in LEGACY_BAD_OPTIONS], ids=[c[0] for c in LEGACY_BAD_OPTIONS]
)
async def test_legacy_options_are_validated_before_pixels_and_requests(options: EditOptions, message: str) -> None:
    async with FakeIdeogram(shape="legacy", api_key=KEY) as server, service_for(server) as service:
        spy = PrepareSpy(service)
        with pytest.raises(InputError) as caught:
            await service.edit(NOT_AN_IMAGE, MaskSpec(mask=MASK), PROMPT, options)
    assert message in caught.value.user_message
    assert spy.calls == 0
    assert server.requests == []


async def test_more_images_than_the_in_flight_cap_is_refused_before_any_request(fake: FakeIdeogram) -> None:
    async with service_for(fake, max_images_in_flight=2) as service:
        with pytest.raises(InputError, match="at most 2 images"):
            await service.edit(IMAGE, MaskSpec(mask=MASK), PROMPT, EditOptions(num_images=3))
    assert fake.requests == []


def blank_mask(size: tuple[int, int], value: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, value).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image", "spec", "error", "message"),
    [
        (IMAGE, MaskSpec(mask=sample_mask(96, 96)), InputError, "The mask is 96×96 but the image is 128×96"),
        (IMAGE, MaskSpec(), MaskMissing, "Tell me what to change"),
        (IMAGE, MaskSpec(mask=blank_mask((W, H), 255)), NothingToEdit, "no black area"),
        (IMAGE, MaskSpec(mask=blank_mask((W, H), 0), invert=True), NothingToEdit, "no white area"),
        (NOT_AN_IMAGE, MaskSpec(region=Region.TOP), InputError, ""),
        (sample_image(48, 48), MaskSpec(region=Region.TOP), InputError, "at least 64 pixels"),
    ],
    ids=["mask-aspect", "no-mask", "mask-all-white", "inverted-all-black", "not-an-image", "too-small"],
)
async def test_unusable_inputs_are_refused_before_any_request(
    fake: FakeIdeogram, image: bytes, spec: MaskSpec, error: type[InputError], message: str
) -> None:
    async with service_for(fake) as service:
        with pytest.raises(error) as caught:
            await service.edit(image, spec, PROMPT, EditOptions())
    assert message in caught.value.user_message
    assert len(caught.value.user_message) > 20
    assert fake.requests == []


async def test_run_validates_prompt_and_options_too(fake: FakeIdeogram) -> None:
    async with service_for(fake) as service:
        prepared = await service.prepare(IMAGE, MaskSpec(mask=MASK))
        with pytest.raises(InputError, match="prompt is empty"):
            await service.run(prepared, "  ", EditOptions())
        with pytest.raises(InputError, match="Number of images"):
            await service.run(prepared, PROMPT, EditOptions(num_images=0))
        assert fake.requests == []
        result = await service.run(prepared, f" {PROMPT} ", EditOptions(seed=2))
    assert fake.edit_requests[0].fields["prompt"] == [PROMPT]
    assert len(result.delivered) == 1
