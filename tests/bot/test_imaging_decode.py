"""Input decoding: pass-through, conversions, and every way a file can be wrong."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image

from bot.errors import InputError, MaskMissing
from bot.imaging import load_image_info, prepare_edit_sync
from bot.imaging.decode import decode_image, image_on_disk
from bot.models import MaskSpec, Region
from tests.imaging_samples import (
    PDF_BYTES,
    TEXT_BYTES,
    animated_gif,
    cmyk_jpeg,
    decode,
    encode,
    exif_rotated_jpeg,
    noise,
    palette_png_with_transparency,
    photo,
    png_claiming_size,
    png_gray16,
    png_rgb48,
    rgba_png_with_hole,
    truncated,
)

TOP = MaskSpec(region=Region.TOP)


@pytest.mark.parametrize(
    ("fmt", "mode", "mime"),
    [
        ("PNG", "RGB", "image/png"),
        ("PNG", "L", "image/png"),
        ("JPEG", "RGB", "image/jpeg"),
        ("WEBP", "RGB", "image/webp"),
    ],
)
def test_api_formats_pass_through_byte_for_byte(fmt: str, mode: str, mime: str) -> None:
    data = encode(photo(mode=mode), fmt)
    prepared = prepare_edit_sync(data, TOP)
    assert prepared.image.data is data or prepared.image.data == data
    assert prepared.image.mime == mime
    assert (prepared.image.width, prepared.image.height) == (256, 192)
    assert (prepared.mask.width, prepared.mask.height) == (256, 192)
    assert prepared.notes == ()


def test_pass_through_jpeg_keeps_its_full_size() -> None:
    """The integrity check decodes JPEGs at 1/8 scale; the reported size must stay the real one."""
    data = encode(photo((640, 480)), "JPEG")
    source = decode_image(data)
    assert source.original is not None and source.original.data == data
    assert source.size == (640, 480)
    assert (source.original.width, source.original.height) == (640, 480)


def test_jpeg_with_data_after_its_end_marker_passes_through() -> None:
    """Motion photos append a video after the JPEG: no end marker last, so the slower check runs."""
    jpeg = encode(photo(), "JPEG")
    data = jpeg + b"ftypmp42" + bytes(range(256)) * 8
    prepared = prepare_edit_sync(data, TOP)
    assert prepared.image.data == jpeg, "the JPEG passes through as it is; the appended video is dropped"


def test_jpeg_cut_off_exactly_at_a_segment_is_caught() -> None:
    data = encode(noise((256, 256)), "JPEG", progressive=True)
    with pytest.raises(InputError, match="damaged or incomplete"):
        prepare_edit_sync(truncated(data, 0.8), TOP)


def test_mpo_from_a_phone_passes_through_as_jpeg() -> None:
    first, second = photo(), photo().rotate(180)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    prepared = prepare_edit_sync(data, TOP)
    sent = prepared.image.data
    scan = sent[sent.index(b"\xff\xda") :]
    assert scan in data and scan.endswith(b"\xff\xd9"), "the first picture's compressed data, byte for byte"
    assert len(sent) < len(data) // 2 and b"MPF\0" not in sent, "the extra picture and its index are dropped"
    assert decode(sent).tobytes() == decode(data).tobytes()
    assert prepared.image.mime == "image/jpeg"


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    prepared = prepare_edit_sync(cmyk_jpeg(), TOP)
    im = decode(prepared.image.data)
    assert im.mode == "RGB" and prepared.image.mime == "image/jpeg"
    red, green, blue = im.getpixel((64, 48))
    assert red > 200 and green < 60 and blue < 60
    assert any("CMYK" in note for note in prepared.notes)


def test_16bit_grey_png_is_scaled_not_clipped() -> None:
    prepared = prepare_edit_sync(png_gray16(), TOP)
    im = decode(prepared.image.data)
    assert im.mode == "L"
    assert im.getpixel((10, 40)) == 128  # 0x8000 → 128, not 255
    assert im.getpixel((90, 40)) == 255
    assert "converted from PNG (16-bit)" in prepared.notes


def test_48bit_rgb_png_is_converted_to_8bit() -> None:
    data = png_rgb48()
    prepared = prepare_edit_sync(data, TOP)
    assert prepared.image.data != data
    im = decode(prepared.image.data)
    assert im.mode == "RGB"
    assert im.getpixel((95, 0))[0] > 240 and im.getpixel((0, 0)) == (0, 128, 0)
    assert "converted from PNG (16-bit)" in prepared.notes


def test_palette_png_with_transparency_uses_the_transparent_half() -> None:
    prepared = prepare_edit_sync(palette_png_with_transparency(), MaskSpec())
    image, mask = decode(prepared.image.data), decode(prepared.mask.data)
    assert image.mode == "RGB"
    assert image.getpixel((10, 10)) == (255, 255, 255)  # transparent → flattened onto white
    assert image.getpixel((100, 10)) == (0, 0, 255)
    assert mask.getpixel((10, 10)) == 0 and mask.getpixel((100, 10)) == 255
    assert prepared.edit_fraction == pytest.approx(0.5)
    assert "used the image's transparent area as the mask" in prepared.notes


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_rgba_image_hole_becomes_the_mask_and_image_is_flattened(fmt: str) -> None:
    data = rgba_png_with_hole() if fmt == "PNG" else encode(decode(rgba_png_with_hole()), "WEBP", lossless=True)
    prepared = prepare_edit_sync(data, MaskSpec())
    image, mask = decode(prepared.image.data), decode(prepared.mask.data)
    assert image.mode == "RGB" and prepared.image.mime == "image/png"
    assert mask.getpixel((40, 30)) == 0 and mask.getpixel((10, 10)) == 255 and mask.getpixel((64, 48)) == 255
    assert image.getpixel((40, 30)) == (255, 255, 255)
    assert prepared.edit_fraction == pytest.approx(32 * 24 / (128 * 96))


def test_grey_alpha_png_stays_grey() -> None:
    im = photo(mode="L").convert("LA")
    im.putalpha(Image.new("L", im.size, 255))
    im.paste((0, 0), (0, 0, 64, 64))
    prepared = prepare_edit_sync(encode(im, "PNG"), MaskSpec())
    assert decode(prepared.image.data).mode == "L"
    assert decode(prepared.mask.data).getpixel((10, 10)) == 0


def test_transparency_with_another_mask_is_filled_white_and_said() -> None:
    prepared = prepare_edit_sync(rgba_png_with_hole(), MaskSpec(region=Region.BOTTOM))
    assert decode(prepared.image.data).getpixel((40, 30)) == (255, 255, 255)
    assert decode(prepared.mask.data).getpixel((40, 30)) == 255  # the region wins, not the hole
    assert "filled the image's transparent pixels with white" in prepared.notes


def test_semi_transparent_image_without_a_mask_is_mask_missing() -> None:
    im = photo().convert("RGBA")
    im.putalpha(200)  # see-through but not "transparent" (alpha ≥ MASK_THRESHOLD)
    with pytest.raises(MaskMissing):
        prepare_edit_sync(encode(im, "PNG"), MaskSpec())


def test_exif_orientation_6_rotates_pixels_and_swaps_size() -> None:
    data = exif_rotated_jpeg((160, 96), orientation=6)
    prepared = prepare_edit_sync(data, TOP)
    assert (prepared.image.width, prepared.image.height) == (96, 160)
    im = decode(prepared.image.data)
    assert im.size == (96, 160)
    # Stored top-left red corner; rotating 90° clockwise moves it to the top-right.
    assert im.getpixel((90, 5))[0] > 200 and im.getpixel((90, 5))[1] < 60
    assert im.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=8)
    assert (decode(prepared.mask.data).size) == (96, 160)
    assert "rotated to match the photo's EXIF orientation" in prepared.notes


def test_animated_gif_uses_first_frame() -> None:
    prepared = prepare_edit_sync(animated_gif(), TOP)
    im = decode(prepared.image.data).convert("RGB")
    assert im.getpixel((50, 50)) == (255, 0, 0)
    assert prepared.image.mime == "image/png"
    assert "converted from GIF" in prepared.notes
    assert any("first frame" in note for note in prepared.notes)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_bmp_and_tiff_are_converted_to_png(fmt: str) -> None:
    source = photo()
    prepared = prepare_edit_sync(encode(source, fmt), TOP)
    assert prepared.image.mime == "image/png"
    assert decode(prepared.image.data).getpixel((100, 100)) == source.getpixel((100, 100))
    assert f"converted from {fmt}" in prepared.notes


def test_rgba_png_without_transparent_pixels_becomes_rgb_silently() -> None:
    prepared = prepare_edit_sync(encode(photo().convert("RGBA"), "PNG"), TOP)
    assert decode(prepared.image.data).mode == "RGB"
    assert prepared.notes == ()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF_BYTES, "PDF document"),
        (TEXT_BYTES, "text file"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "HEIC"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG"),
        (b"PK\x03\x04" + b"\x00" * 40, "ZIP"),
        (bytes(range(256)) * 4, "unrecognised"),
    ],
)
def test_non_images_are_named(data: bytes, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        prepare_edit_sync(data, TOP)
    assert expected in caught.value.user_message
    assert "PNG, JPEG or WebP" in caught.value.user_message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_reported_as_damaged(fmt: str) -> None:
    data = truncated(encode(noise((256, 256)), fmt))
    with pytest.raises(InputError) as caught:
        prepare_edit_sync(data, TOP)
    assert "damaged or incomplete" in caught.value.user_message


def test_corrupt_png_header_is_reported() -> None:
    data = bytearray(encode(photo(), "PNG"))
    data[20:24] = b"\xff\xff\xff\xff"  # IHDR no longer matches its checksum
    with pytest.raises(InputError) as caught:
        prepare_edit_sync(bytes(data), TOP)
    assert "PNG" in caught.value.user_message


def test_decompression_bomb_is_refused_from_the_header() -> None:
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        prepare_edit_sync(png_claiming_size(8000, 8000), TOP)
    assert time.perf_counter() - started < 0.5  # nothing was decoded
    assert "8000×8000" in caught.value.user_message and "40 megapixels" in caught.value.user_message


def test_absurd_bomb_caught_by_pillows_own_guard_is_reported_the_same_way() -> None:
    with pytest.raises(InputError) as caught:
        prepare_edit_sync(png_claiming_size(20000, 20000), TOP)
    assert "400 megapixels" in caught.value.user_message


def test_too_small_and_empty_images_are_refused() -> None:
    with pytest.raises(InputError, match="at least 64 pixels"):
        prepare_edit_sync(encode(photo((50, 200)), "PNG"), TOP)
    with pytest.raises(InputError, match="empty"):
        prepare_edit_sync(b"", TOP)


def test_load_image_info_reads_only_the_header() -> None:
    assert load_image_info(encode(photo((300, 200)), "PNG")) == ("PNG", 300, 200)
    assert load_image_info(exif_rotated_jpeg((160, 96))) == ("JPEG", 96, 160)
    with pytest.raises(InputError, match="8000×8000"):
        load_image_info(png_claiming_size(8000, 8000))
    with pytest.raises(InputError, match="PDF"):
        load_image_info(PDF_BYTES)


def test_load_image_info_does_not_decode() -> None:
    big = png_claiming_size(6000, 6000)  # under the cap; its pixel data is missing entirely
    assert load_image_info(big) == ("PNG", 6000, 6000)


def test_an_image_on_disk_is_described_from_its_file_like_its_bytes(tmp_path: Path) -> None:
    """One header probe for bytes and files (the scheduler's stored inputs): the same format, size and
    errors; the file's MIME type and byte size come with it; a missing file is not a damaged one."""
    cases = {"png": encode(photo((300, 200)), "PNG"), "rotated": exif_rotated_jpeg((160, 96))}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert load_image_info(path) == load_image_info(data), name
    stored = image_on_disk(tmp_path / "rotated", "0" * 64)
    assert (stored.mime, stored.width, stored.height) == ("image/jpeg", 96, 160)
    assert (stored.size, stored.sha) == (len(cases["rotated"]), "0" * 64)
    (tmp_path / "pdf").write_bytes(PDF_BYTES)
    with pytest.raises(InputError, match="PDF"):
        image_on_disk(tmp_path / "pdf")
    with pytest.raises(FileNotFoundError):
        image_on_disk(tmp_path / "missing")


def test_pass_through_image_is_not_decoded_in_full() -> None:
    data = encode(photo((512, 512)), "PNG")
    source = decode_image(data)
    assert source.pixels is None and source.original is not None
    assert isinstance(source.require_pixels(), Image.Image)
