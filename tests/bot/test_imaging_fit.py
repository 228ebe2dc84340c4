"""Byte limits: the API's 10 MB, Discord's upload limit, thumbnails."""

from __future__ import annotations

import pytest

from bot.imaging import fit_for_upload, prepare_edit_sync, thumbnail
from bot.limits import API_MAX_FILE_BYTES
from bot.models import ImageFile, MaskSpec, Region
from tests.imaging_samples import decode, encode, grainy_photo, ideogram_mask, noise, photo


def test_png_over_10_mb_is_fitted_with_its_mask() -> None:
    size = (2000, 1900)  # random RGB: an 11.4 MB PNG
    data = encode(noise(size), "PNG", compress_level=1)
    assert len(data) > API_MAX_FILE_BYTES
    mask = encode(ideogram_mask(size, (500, 500, 1500, 1400)), "PNG")
    prepared = prepare_edit_sync(data, MaskSpec(mask=mask))
    assert len(prepared.image.data) <= API_MAX_FILE_BYTES
    assert len(prepared.mask.data) <= API_MAX_FILE_BYTES
    image, fitted_mask = decode(prepared.image.data), decode(prepared.mask.data)
    assert image.size == fitted_mask.size == (prepared.image.width, prepared.image.height)
    assert prepared.notes  # says what was done (JPEG and/or downscale)


def test_downscaling_keeps_image_and_mask_aligned() -> None:
    data = encode(noise((600, 400)), "PNG")
    prepared = prepare_edit_sync(data, MaskSpec(region=Region.LEFT), max_bytes=150_000)
    assert len(prepared.image.data) <= 150_000
    assert prepared.image.mime == "image/jpeg"
    width, height = prepared.image.width, prepared.image.height
    assert (width, height) < (600, 400) and abs(width / height - 1.5) < 0.01
    mask = decode(prepared.mask.data)
    assert mask.size == (width, height)
    assert mask.getpixel((width // 2 - 2, 5)) == 0 and mask.getpixel((width // 2 + 2, 5)) == 255
    assert sum(mask.histogram()[1:255]) == 0
    assert prepared.edit_fraction == pytest.approx(0.5, abs=0.01)
    assert any(note.startswith("downscaled from 600×400 to") for note in prepared.notes)


def test_lossless_source_tries_jpeg_before_downscaling() -> None:
    im = grainy_photo((512, 512))
    data = encode(im, "BMP")  # 768 KB; its PNG is ~4× its JPEG
    png_size = len(encode(im, "PNG"))
    prepared = prepare_edit_sync(data, MaskSpec(region=Region.TOP), max_bytes=png_size - 1)
    assert prepared.image.mime == "image/jpeg"
    assert (prepared.image.width, prepared.image.height) == (512, 512)
    assert any("saved as JPEG" in note for note in prepared.notes)


def test_pass_through_candidate_over_the_limit_is_re_encoded() -> None:
    data = encode(noise((300, 300)), "JPEG", quality=100)
    prepared = prepare_edit_sync(data, MaskSpec(region=Region.TOP), max_bytes=len(data) // 3)
    assert prepared.image.data != data
    assert len(prepared.image.data) <= len(data) // 3


def test_fit_for_upload_returns_small_files_unchanged() -> None:
    file = ImageFile(encode(photo(), "PNG"), "image/png", 256, 192)
    assert fit_for_upload(file, 10_000_000) is file


def test_fit_for_upload_reencodes_and_downscales() -> None:
    file = ImageFile(encode(noise((800, 600)), "PNG"), "image/png", 800, 600)
    fitted = fit_for_upload(file, 200_000)
    assert fitted.mime == "image/jpeg" and len(fitted.data) <= 200_000
    assert decode(fitted.data).size == (fitted.width, fitted.height)
    assert fitted.width < 800 and abs(fitted.width / fitted.height - 4 / 3) < 0.01


def test_fit_for_upload_flattens_transparency() -> None:
    im = noise((400, 300)).convert("RGBA")
    im.putalpha(0)
    fitted = fit_for_upload(ImageFile(encode(im, "PNG"), "image/png", 400, 300), 50_000)
    assert decode(fitted.data).mode == "RGB"
    assert decode(fitted.data).getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=6)


def test_thumbnail_of_a_jpeg() -> None:
    thumb = thumbnail(encode(photo((2048, 1536)), "JPEG"), 256)
    assert thumb.mime == "image/jpeg" and (thumb.width, thumb.height) == (256, 192)
    assert decode(thumb.data).size == (256, 192)


def test_thumbnail_keeps_transparency_as_png() -> None:
    im = photo((512, 512)).convert("RGBA")
    im.putalpha(128)
    thumb = thumbnail(encode(im, "PNG"), 128)
    assert thumb.mime == "image/png" and decode(thumb.data).mode == "RGBA"
    assert (thumb.width, thumb.height) == (128, 128)
