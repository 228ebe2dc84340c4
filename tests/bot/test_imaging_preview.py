"""Preview (what will change), before/after comparison, and the async entry points."""

from __future__ import annotations

import asyncio

import pytest
from PIL import Image, ImageChops

from bot.imaging import (
    fit_for_upload_async,
    prepare_edit,
    prepare_edit_sync,
    preview,
    preview_async,
    side_by_side,
    side_by_side_async,
    thumbnail_async,
)
from bot.imaging.preview import TINT, TINT_OPACITY
from bot.models import ImageFile, MaskSpec, Region
from tests.imaging_samples import decode, encode, photo


def test_preview_tints_the_edit_region_and_is_downscaled() -> None:
    base = photo((2000, 1500))
    prepared = prepare_edit_sync(encode(base, "JPEG"), MaskSpec(region=Region.LEFT))
    shown = preview(prepared)
    im = decode(shown.data)
    assert im.size == (1024, 768) == (shown.width, shown.height)
    small = base.resize((1024, 768))
    edited, kept = im.getpixel((200, 600)), im.getpixel((800, 600))
    original_edited = small.getpixel((200, 600))
    assert edited[0] > original_edited[0] + 40 or edited[2] > original_edited[2] + 40  # magenta tint
    assert edited[1] < original_edited[1]
    assert kept == pytest.approx(small.getpixel((800, 600)), abs=12)
    # The outline along the boundary is solid magenta.
    red, green, blue = im.getpixel((512, 300))
    assert red > 200 and blue > 200 and green < 60


def test_preview_uses_only_pixel_operations_that_release_the_gil(monkeypatch: pytest.MonkeyPatch) -> None:
    """Previews run in the Pillow pool beside the event loop: blend, composite and ImageChops hold the
    GIL for their whole run, so the loop's thread would wait for them (issue 11, ack latency)."""

    def holds_the_gil(*args: object, **kwargs: object) -> None:
        raise AssertionError("a GIL-holding Pillow operation in the preview")

    monkeypatch.setattr(Image, "blend", holds_the_gil)
    monkeypatch.setattr(Image, "composite", holds_the_gil)
    for name in ("subtract", "add", "multiply", "difference", "lighter", "darker"):
        monkeypatch.setattr(ImageChops, name, holds_the_gil)
    base = photo((400, 300))
    shown = preview(prepare_edit_sync(encode(base, "PNG"), MaskSpec(region=Region.LEFT)))
    im = decode(shown.data)
    tinted, original = im.getpixel((100, 150)), base.getpixel((100, 150))
    expected = tuple(round(v + TINT_OPACITY * (t - v)) for v, t in zip(original, TINT, strict=True))
    assert tinted == pytest.approx(expected, abs=8)  # the tint at its opacity (JPEG: not exact)
    kept = im.getpixel((300, 150))
    assert kept == pytest.approx(base.getpixel((300, 150)), abs=12)


def test_preview_of_a_small_image_keeps_its_size() -> None:
    prepared = prepare_edit_sync(encode(photo((256, 192)), "PNG"), MaskSpec(box=(10, 10, 20, 20)))
    shown = preview(prepared)
    assert (shown.width, shown.height) == (256, 192)
    assert shown.mime in ("image/jpeg", "image/png")


def test_side_by_side_scales_to_a_common_height() -> None:
    before = encode(photo((400, 300)), "PNG")
    after = encode(photo((800, 800)), "JPEG")
    combined = side_by_side(before, after)
    im = decode(combined.data)
    assert im.size == (combined.width, combined.height)
    # Common height 300: 400 + 300 wide panels, three 8 px gaps, a label band on top.
    assert combined.width == 400 + 300 + 3 * 8
    assert combined.height > 300
    assert len(combined.data) < 3 * 1024 * 1024
    band = im.crop((0, 0, combined.width, combined.height - 300 - 8)).convert("L")
    low, high = band.getextrema()
    assert high - low > 100  # the labels were drawn


def test_side_by_side_limits_width_for_panoramas() -> None:
    wide = encode(photo((3000, 300)), "PNG")
    combined = side_by_side(wide, wide, labels=("Original", "Edited"))
    assert combined.width <= 2048


async def test_async_variants_run_off_the_loop() -> None:
    data = encode(photo((256, 192)), "PNG")
    prepared = await prepare_edit(data, MaskSpec(region=Region.CENTER))
    results = await asyncio.gather(
        preview_async(prepared),
        side_by_side_async(data, data),
        fit_for_upload_async(ImageFile(data, "image/png", 256, 192), 1_000),
        thumbnail_async(data, 64),
    )
    for result in results:
        assert decode(result.data).size == (result.width, result.height)
    assert len(results[2].data) <= 1_000
    assert max(results[3].width, results[3].height) == 64
