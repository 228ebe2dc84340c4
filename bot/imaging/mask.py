"""Masks in every convention users bring, turned into Ideogram's: L mode, pure 0/255, black = edit.

Decisions:

* ``invert`` means "the bright (or opaque) part of my mask is what to change". It applies only to a mask
  file; region, box and the image's own transparency already say exactly what to change.
* A mask file's alpha channel carries the meaning (DALL·E convention: transparent = edit) when at least
  one pixel is mostly transparent (alpha < MASK_THRESHOLD). A fully opaque alpha channel says nothing, so
  the colours are used instead. Strokes painted on a transparent layer (opaque = edit) need ``invert``.
* Colours and grey levels become luminance (ITU-R 601, Pillow's ``convert("L")``), thresholded at
  MASK_THRESHOLD; anti-aliased edges become hard.
* Size: the mask may be any size with the image's aspect ratio (1 % tolerance); it is resized with
  NEAREST, after thresholding, so it stays pure 0/255.
* Regions: halves for top/bottom/left/right, the middle 50 %×50 % for center, and a ring 15 % of the
  shorter side wide for border. Boxes are in percent of the image, rounded outwards to whole pixels.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from dataclasses import dataclass, field

from PIL import Image, ImageOps

from bot.errors import InputError, MaskMissing, NothingToEdit
from bot.i18n import UserText, msg
from bot.limits import AREA_LIST, BOX_EXAMPLE, MASK_THRESHOLD
from bot.models import Region

from .decode import header_orientation, is_16bit, load_pixels, open_image, to_8bit
from .metadata import strip_metadata

ASPECT_TOLERANCE = 0.01
BORDER_FRACTION = 0.15

# Lookup tables for Image.point: grey level → mask value (0 = edit, 255 = keep).
EDIT_IF_DARK = [0 if v < MASK_THRESHOLD else 255 for v in range(256)]
EDIT_IF_BRIGHT = [255 - v for v in EDIT_IF_DARK]

MASK_HELP = msg("mask-help", areas=AREA_LIST, box=BOX_EXAMPLE)
BOX_HELP = msg("box-help", box=BOX_EXAMPLE)


@dataclass(slots=True)
class BuiltMask:
    """A mask in the API's convention at the image's size; ``data`` is set when the user's file can be
    sent as it is (already a pure black/white L PNG of the right size)."""

    image: Image.Image
    data: bytes | None = None
    notes: list[str] = field(default_factory=list)
    from_image_alpha: bool = False  # built from the input image's own transparency
    black: int = -1  # pixels to repaint; -1 = not counted yet

    def __post_init__(self) -> None:
        if self.black < 0:
            self.black = black_pixels(self.image)


def missing_mask_error() -> MaskMissing:
    return MaskMissing(MASK_HELP)


def black_pixels(mask: Image.Image) -> int:
    """Pixels to repaint in a 0/255 mask (histogram, no per-pixel Python)."""
    return mask.histogram()[0]


# --- Mask files -----------------------------------------------------------------------------------


def mask_from_file(data: bytes, size: tuple[int, int], *, invert: bool = False) -> BuiltMask:
    """Decode a user's mask file and convert it to black = edit at ``size``. A file that already is
    what the API wants (pure 0/255 L PNG, right size, no invert) is reused byte for byte."""
    im = open_image(data, subject="mask")
    plain_png = im.format == "PNG" and im.mode == "L" and not im.has_transparency_data and not is_16bit(im)
    load_pixels(im, subject="mask")
    if header_orientation(im) != 1:
        ImageOps.exif_transpose(im, in_place=True)
        plain_png = False
    if im.size != size:
        _check_aspect(im.size, size)
    notes: list[str] = []
    grey, from_alpha = _meaningful_channel(im)
    if from_alpha:
        notes.append("used the mask's transparent area as the area to change")
    hist = grey.histogram()
    soft = any(hist[1:255])
    if soft:
        notes.append("made the mask's soft edges pure black and white")
    lut = EDIT_IF_BRIGHT if invert else EDIT_IF_DARK
    # Pure 0/255 in our convention already: thresholding would be an identity copy.
    mask = grey.point(lut) if soft or invert or from_alpha else grey
    black = sum(count for value, count in enumerate(hist) if lut[value] == 0)
    if mask.size != size:
        notes.append(f"mask resized from {_dims(mask.size)} to {_dims(size)}")
        mask = mask.resize(size, Image.Resampling.NEAREST)
        black = black_pixels(mask)
    if black == 0:
        raise _nothing_to_edit(invert=invert, from_alpha=from_alpha)
    reusable = plain_png and not (soft or invert or from_alpha) and mask.size == im.size
    return BuiltMask(mask, strip_metadata("PNG", data) if reusable else None, notes, black=black)


def _meaningful_channel(im: Image.Image) -> tuple[Image.Image, bool]:
    """The 8-bit channel that says what to edit, and whether it is the alpha channel."""
    if im.has_transparency_data and not im.mode.startswith("I"):
        la = im.convert("LA")
        alpha = la.getchannel("A")
        if alpha.getextrema()[0] < MASK_THRESHOLD:
            return alpha, True
        return la.getchannel("L"), False
    grey = to_8bit(im)
    return (grey if grey.mode == "L" else grey.convert("L")), False


def _check_aspect(mask_size: tuple[int, int], size: tuple[int, int]) -> None:
    (mw, mh), (iw, ih) = mask_size, size
    if abs(mw * ih - iw * mh) <= ASPECT_TOLERANCE * iw * mh:
        return
    rotated = abs(mh * ih - iw * mw) <= ASPECT_TOLERANCE * iw * mw
    raise InputError(
        msg("mask-shape", mask=_dims(mask_size), image=_dims(size), rotated="yes" if rotated else "no"),
        detail=f"mask aspect mismatch {mask_size} vs {size}",
    )


def _nothing_to_edit(*, invert: bool, from_alpha: bool) -> NothingToEdit:
    if from_alpha:
        return NothingToEdit(msg("mask-nothing-alpha", invert="yes" if invert else "no"))
    return NothingToEdit(msg("mask-nothing-inverted" if invert else "mask-nothing-black"))


# --- Transparency, regions, boxes ---------------------------------------------------------------


def mask_from_alpha(alpha: Image.Image) -> Image.Image:
    """Mostly transparent pixels (alpha < MASK_THRESHOLD) are the area to change."""
    return alpha.point(EDIT_IF_DARK)


def region_mask(size: tuple[int, int], region: Region) -> Image.Image:
    width, height = size
    if region is Region.BORDER:
        ring = max(1, round(BORDER_FRACTION * min(width, height)))
        mask = Image.new("L", size, 0)
        if width > 2 * ring and height > 2 * ring:
            mask.paste(255, (ring, ring, width - ring, height - ring))
        return mask
    boxes = {
        Region.TOP: (0, 0, width, height // 2),
        Region.BOTTOM: (0, height // 2, width, height),
        Region.LEFT: (0, 0, width // 2, height),
        Region.RIGHT: (width // 2, 0, width, height),
        Region.CENTER: (width // 4, height // 4, width - width // 4, height - height // 4),
    }
    mask = Image.new("L", size, 255)
    mask.paste(0, boxes[Region(region)])
    return mask


def box_mask(size: tuple[int, int], box: tuple[float, float, float, float]) -> Image.Image:
    """Black inside the box (percent of the image), rounded outwards so it is never empty."""
    x1, y1, x2, y2 = validate_box(box)
    width, height = size
    left, top = math.floor(x1 * width / 100), math.floor(y1 * height / 100)
    right = max(left + 1, math.ceil(x2 * width / 100))
    bottom = max(top + 1, math.ceil(y2 * height / 100))
    mask = Image.new("L", size, 255)
    mask.paste(0, (left, top, min(right, width), min(bottom, height)))
    return mask


def validate_box(box: tuple[float, ...]) -> tuple[float, float, float, float]:
    if len(box) != 4:
        raise InputError(msg("box-count", count=len(box), help=BOX_HELP))
    values = tuple(float(v) for v in box)
    for value in values:
        if not math.isfinite(value) or not 0 <= value <= 100:
            raise InputError(msg("box-range", value=_num(value), help=BOX_HELP))
    x1, y1, x2, y2 = values
    if x1 >= x2:
        raise InputError(msg("box-left-right", left=_num(x1), right=_num(x2)))
    if y1 >= y2:
        raise InputError(msg("box-top-bottom", top=_num(y1), bottom=_num(y2)))
    return x1, y1, x2, y2


def parse_box(text: str) -> tuple[float, float, float, float]:
    """Parse "10,20,60,80", "10 20 60 80", "10%, 20%, 60%, 80%" or "(10;20;60;80)" into a valid box."""
    cleaned = text.replace("%", " ").strip().strip("()[]{}").strip()
    tokens = [t for t in re.split(r"[\s,;]+", cleaned) if t]
    if not tokens:
        raise InputError(msg("box-empty", help=BOX_HELP))
    values: list[float] = []
    for token in tokens:
        try:
            values.append(float(token))
        except ValueError:
            raise InputError(msg("box-not-a-number", token=UserText(token[:20]), help=BOX_HELP)) from None
    if len(values) != 4:
        raise InputError(msg("box-count", count=len(values), help=BOX_HELP))
    return validate_box(tuple(values))


# --- Helpers --------------------------------------------------------------------------------------


def encode_mask(mask: Image.Image) -> bytes:
    """PNG, mode L. Run-length deflate suits masks (long runs of 0 or 255): as fast as level 1 and
    smaller than level 9 for them."""
    buffer = io.BytesIO()
    mask.save(buffer, "PNG", compress_type=zlib.Z_RLE)
    return buffer.getvalue()


def _dims(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def _num(value: float) -> str:
    return f"{value:g}"
