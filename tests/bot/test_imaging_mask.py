"""Masks: every convention, regions, boxes, and the errors users see."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from bot.errors import InputError, MaskMissing, NothingToEdit
from bot.imaging import box_mask, parse_box, prepare_edit_sync, region_mask
from bot.models import MaskSpec, PreparedEdit, Region
from tests.imaging_samples import (
    PDF_BYTES,
    antialiased_mask,
    decode,
    encode,
    ideogram_mask,
    photo,
    png_gray16,
)

SIZE = (256, 192)
BOX = (64, 48, 128, 96)  # x1, y1, x2, y2 in pixels: 64×48 = 1/16 of the image
IMAGE = encode(photo(SIZE), "PNG")


def prepare_with_mask(mask: bytes, *, invert: bool = False, image: bytes = IMAGE) -> PreparedEdit:
    return prepare_edit_sync(image, MaskSpec(mask=mask, invert=invert))


def assert_box_is_black(prepared: PreparedEdit, box: tuple[int, int, int, int] = BOX) -> Image.Image:
    mask = decode(prepared.mask.data)
    assert prepared.mask.mime == "image/png" and mask.mode == "L" and mask.size == SIZE
    x1, y1, x2, y2 = box
    for point in ((x1, y1), (x2 - 1, y2 - 1), ((x1 + x2) // 2, (y1 + y2) // 2)):
        assert mask.getpixel(point) == 0, point
    for point in ((x1 - 1, y1), (x2, y2 - 1), (0, 0), (SIZE[0] - 1, SIZE[1] - 1)):
        assert mask.getpixel(point) == 255, point
    assert_binary(mask)
    return mask


def assert_binary(mask: Image.Image) -> None:
    histogram = mask.histogram()
    assert sum(histogram[1:255]) == 0


def test_ideogram_mask_is_used_as_is_and_its_bytes_reused() -> None:
    data = encode(ideogram_mask(SIZE, BOX), "PNG")
    prepared = prepare_with_mask(data)
    assert_box_is_black(prepared)
    assert prepared.mask.data == data
    assert prepared.edit_fraction == pytest.approx(1 / 16)
    assert prepared.notes == ()


def test_invert_for_white_means_edit() -> None:
    data = encode(ideogram_mask(SIZE, BOX, edit=255, keep=0), "PNG")
    assert_box_is_black(prepare_with_mask(data, invert=True))


def test_rgb_jpeg_mask_works_too() -> None:
    data = encode(ideogram_mask(SIZE, BOX).convert("RGB"), "JPEG", quality=90)
    assert_box_is_black(prepare_with_mask(data))


def test_dalle_style_transparent_area_is_the_edit() -> None:
    im = photo(SIZE).convert("RGBA")
    im.paste((0, 0, 0, 0), BOX)
    prepared = prepare_with_mask(encode(im, "PNG"))
    assert_box_is_black(prepared)
    assert "used the mask's transparent area as the area to change" in prepared.notes


def test_strokes_on_a_transparent_layer_need_invert() -> None:
    im = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), BOX)
    assert_box_is_black(prepare_with_mask(encode(im, "PNG"), invert=True))


def test_opaque_alpha_channel_is_ignored_and_colours_used() -> None:
    im = ideogram_mask(SIZE, BOX).convert("RGBA")  # alpha all 255: says nothing
    prepared = prepare_with_mask(encode(im, "PNG"))
    assert_box_is_black(prepared)
    assert not any("transparent" in note for note in prepared.notes)


def test_antialiased_mask_is_thresholded_to_pure_black_and_white() -> None:
    data = antialiased_mask(SIZE, BOX)
    assert sum(decode(data).histogram()[1:255]) > 0  # the sample really is soft
    prepared = prepare_with_mask(data)
    mask = decode(prepared.mask.data)
    assert_binary(mask)
    assert set(mask.getcolors() or []) == {(mask.histogram()[0], 0), (mask.histogram()[255], 255)}
    assert mask.getpixel((96, 72)) == 0 and mask.getpixel((5, 5)) == 255
    assert "made the mask's soft edges pure black and white" in prepared.notes


def test_coloured_mask_uses_luminance() -> None:
    im = Image.new("RGB", SIZE, (255, 255, 255))
    ImageDraw.Draw(im).rectangle((BOX[0], BOX[1], BOX[2] - 1, BOX[3] - 1), fill=(255, 0, 0))  # luma 76
    assert_box_is_black(prepare_with_mask(encode(im, "PNG")))


def test_16bit_mask_is_scaled_before_thresholding() -> None:
    im = Image.new("I;16", SIZE, 0x9000)  # 144 after scaling: keep
    im.paste(0x1000, BOX)  # 16 after scaling: edit (clipping would make it 255: keep)
    assert_box_is_black(prepare_with_mask(encode(im, "PNG")))


def test_16bit_mask_with_nothing_dark_is_nothing_to_edit() -> None:
    with pytest.raises(NothingToEdit):
        prepare_with_mask(png_gray16((128, 96)))  # 0x8000 and 0xFFFF: both ≥ threshold


def test_smaller_mask_with_same_aspect_is_resized_nearest() -> None:
    half = ideogram_mask((128, 96), (32, 24, 64, 48))
    prepared = prepare_with_mask(encode(half, "PNG"))
    assert_box_is_black(prepared)
    assert "mask resized from 128×96 to 256×192" in prepared.notes


def test_mask_within_one_percent_aspect_is_accepted() -> None:
    prepared = prepare_with_mask(encode(ideogram_mask((129, 96), (32, 24, 64, 48)), "PNG"))
    assert decode(prepared.mask.data).size == SIZE


def test_mismatched_aspect_ratio_names_both_sizes() -> None:
    with pytest.raises(InputError) as caught:
        prepare_with_mask(encode(ideogram_mask((100, 100), (10, 10, 50, 50)), "PNG"))
    assert "100×100" in caught.value.user_message and "256×192" in caught.value.user_message


def test_rotated_mask_gets_a_hint() -> None:
    with pytest.raises(InputError, match="rotated"):
        prepare_with_mask(encode(ideogram_mask((192, 256), (10, 10, 50, 50)), "PNG"))


def test_all_white_mask_is_nothing_to_edit() -> None:
    with pytest.raises(NothingToEdit) as caught:
        prepare_with_mask(encode(Image.new("L", SIZE, 255), "PNG"))
    assert "invert" in caught.value.user_message


def test_all_black_mask_with_invert_is_nothing_to_edit() -> None:
    with pytest.raises(NothingToEdit, match="With invert on"):
        prepare_with_mask(encode(Image.new("L", SIZE, 0), "PNG"), invert=True)


def test_all_black_mask_repaints_everything() -> None:
    prepared = prepare_with_mask(encode(Image.new("L", SIZE, 0), "PNG"))
    assert prepared.edit_fraction == 1.0


def test_mask_that_is_not_an_image_says_mask() -> None:
    with pytest.raises(InputError) as caught:
        prepare_with_mask(PDF_BYTES)
    assert caught.value.user_message.startswith("The mask file is a PDF document")


def test_missing_mask_explains_all_three_ways() -> None:
    with pytest.raises(MaskMissing) as caught:
        prepare_edit_sync(IMAGE, MaskSpec())
    message = caught.value.user_message.lower()
    for word in ("mask", "black", "invert", "transparent", "region", "box"):
        assert word in message
    assert len(message) < 400


def test_mask_file_wins_over_region() -> None:
    spec = MaskSpec(mask=encode(ideogram_mask(SIZE, BOX), "PNG"), region=Region.TOP)
    assert_box_is_black(prepare_edit_sync(IMAGE, spec))


# --- Regions and boxes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "black", "white", "fraction"),
    [
        (Region.TOP, (128, 95), (128, 96), 0.5),
        (Region.BOTTOM, (128, 96), (128, 95), 0.5),
        (Region.LEFT, (127, 100), (128, 100), 0.5),
        (Region.RIGHT, (128, 100), (127, 100), 0.5),
        (Region.CENTER, (64, 48), (63, 48), 0.25),
        (Region.BORDER, (28, 100), (29, 100), 1 - (256 - 58) * (192 - 58) / (256 * 192)),
    ],
)
def test_regions(region: Region, black: tuple[int, int], white: tuple[int, int], fraction: float) -> None:
    prepared = prepare_edit_sync(IMAGE, MaskSpec(region=region))
    mask = decode(prepared.mask.data)
    assert mask.getpixel(black) == 0 and mask.getpixel(white) == 255
    assert prepared.edit_fraction == pytest.approx(fraction)
    assert_binary(mask)


def test_center_is_the_middle_half_of_each_side() -> None:
    mask = region_mask((400, 200), Region.CENTER)
    assert mask.getbbox() is not None
    assert mask.point(lambda v: 255 - v).getbbox() == (100, 50, 300, 150)


def test_border_ring_is_fifteen_percent_of_the_shorter_side() -> None:
    mask = region_mask((400, 200), Region.BORDER)
    assert mask.getbbox() == (30, 30, 370, 170)  # the white (kept) interior


def test_box_in_percent() -> None:
    prepared = prepare_edit_sync(IMAGE, MaskSpec(box=(25, 25, 50, 50)))
    assert_box_is_black(prepared)


def test_tiny_box_still_marks_a_pixel() -> None:
    mask = box_mask((100, 100), (50, 50, 50.1, 50.1))
    assert mask.histogram()[0] == 1


def test_invalid_box_in_spec_is_an_input_error() -> None:
    with pytest.raises(InputError, match="left edge"):
        prepare_edit_sync(IMAGE, MaskSpec(box=(60, 10, 10, 80)))


@pytest.mark.parametrize(
    "text",
    ["10,20,60,80", "10 20 60 80", "10%, 20%, 60%, 80%", "(10; 20; 60; 80)", " 10.0 ,20, 60 ,80 "],
)
def test_parse_box_accepts_common_spellings(text: str) -> None:
    assert parse_box(text) == (10.0, 20.0, 60.0, 80.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("10,20,60", "found 3"),
        ("10,20,60,80,90", "found 5"),
        ("10,abc,60,80", "“abc” in the box is not a number"),
        ("10,20,160,80", "160 is out of range"),
        ("100,200,600,800", "not pixels"),
        ("-5,20,60,80", "out of range"),
        ("nan,20,60,80", "out of range"),
        ("60,20,10,80", "left edge must be smaller"),
        ("10,80,60,20", "top edge must be smaller"),
        ("10,20,10,80", "left edge must be smaller"),
    ],
)
def test_parse_box_errors_are_clear(text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_box(text)
    assert expected in caught.value.user_message
