"""Making images fit byte limits: the API's 10 MB per file, and a Discord channel's upload limit.

Decisions:

* For the API, lossless sources try PNG first, then JPEG at quality 95 and 90; lossy sources (JPEG) go
  straight to JPEG, since a PNG of a photo is always larger. If nothing fits, the image is downscaled
  in steps sized from how far over the limit the last attempt was (LANCZOS, always from the full-size
  pixels), and the mask follows with NEAREST so it stays pure 0/255 and aligned.
* For Discord uploads, results are re-encoded as JPEG (every client previews it inline); transparency is
  flattened onto white.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from PIL import Image

from bot.errors import InputError
from bot.i18n import msg
from bot.limits import MIN_SIDE, RESULT_MAX_BYTES
from bot.models import ImageFile

from .decode import decode_for_display
from .mask import encode_mask

API_JPEG_QUALITIES = (95, 90)
UPLOAD_JPEG_QUALITIES = (90, 80)
DOWNSCALE_QUALITY = 90
MAX_STEPS = 12
MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(slots=True)
class FittedPair:
    image: ImageFile
    mask: ImageFile
    mask_pixels: Image.Image  # the mask at its final size, for counting what will change
    notes: list[str] = field(default_factory=list)


def encode(im: Image.Image, fmt: str, *, quality: int = 95, icc_profile: bytes | None = None) -> bytes:
    """Encode without metadata except the colour profile (no EXIF: it may carry GPS positions)."""
    buffer = io.BytesIO()
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "JPEG":
        im.save(buffer, "JPEG", quality=quality, **options)
    elif fmt == "PNG":
        # Level 1: files ~13 % larger than level 6 but 4-6× faster to write (a 40-megapixel level-6
        # PNG takes over ten seconds); these files are transient and only the byte limit matters.
        im.save(buffer, "PNG", compress_level=1, **options)
    else:
        im.save(buffer, fmt, quality=quality, **options)
    return buffer.getvalue()


def to_file(data: bytes, fmt: str, size: tuple[int, int]) -> ImageFile:
    return ImageFile(data, MIMES[fmt], size[0], size[1])


def megabytes(limit: int) -> str:
    return f"{limit / 2**20:g} MB"


def fit_pair(
    image: Image.Image,
    mask: Image.Image,
    *,
    max_bytes: int,
    lossless: bool = True,
    icc_profile: bytes | None = None,
    mask_data: bytes | None = None,
) -> FittedPair:
    """Encode image and mask so each is within ``max_bytes``, downscaling both together if needed."""
    attempts = [("PNG", 0)] if lossless else []
    attempts += [("JPEG", q) for q in API_JPEG_QUALITIES]
    data, fmt = b"", "JPEG"
    for fmt, quality in attempts:
        data = encode(image, fmt, quality=quality, icc_profile=icc_profile)
        if len(data) <= max_bytes:
            break
    mask_bytes = mask_data if mask_data is not None else encode_mask(mask)
    if len(data) <= max_bytes and len(mask_bytes) <= max_bytes:
        notes = [f"saved as JPEG to fit the {megabytes(max_bytes)} limit"] if lossless and fmt == "JPEG" else []
        return FittedPair(to_file(data, fmt, image.size), to_file(mask_bytes, "PNG", mask.size), mask, notes)
    return _downscale_pair(image, mask, max_bytes, over=max(len(data), len(mask_bytes)) / max_bytes, icc=icc_profile)


def _downscale_pair(
    image: Image.Image, mask: Image.Image, max_bytes: int, *, over: float, icc: bytes | None
) -> FittedPair:
    scale = 1.0
    for _ in range(MAX_STEPS):
        scale *= min(0.9, 0.95 / math.sqrt(over))
        size = (round(image.width * scale), round(image.height * scale))
        if min(size) < MIN_SIDE:
            break
        small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        data = encode(small, "JPEG", quality=DOWNSCALE_QUALITY, icc_profile=icc)
        small_mask = mask.resize(size, Image.Resampling.NEAREST)
        mask_bytes = encode_mask(small_mask)
        if len(data) <= max_bytes and len(mask_bytes) <= max_bytes:
            note = (
                f"downscaled from {image.width}×{image.height} to {size[0]}×{size[1]} "
                f"to fit the {megabytes(max_bytes)} limit"
            )
            return FittedPair(to_file(data, "JPEG", size), to_file(mask_bytes, "PNG", size), small_mask, [note])
        over = max(len(data), len(mask_bytes)) / max_bytes
    raise InputError(
        msg("image-cannot-fit", limit=megabytes(max_bytes)),
        detail=f"fit_pair gave up at scale {scale:.3f} for {image.size}",
    )


def fit_for_upload(image: ImageFile, max_bytes: int) -> ImageFile:
    """Return ``image`` unchanged when it fits, else a JPEG (downscaled if needed) within ``max_bytes``.
    Raises ValueError when even a tiny version does not fit (a misconfigured limit, not a user error)."""
    if len(image.data) <= max_bytes:
        return image
    pixels = decode_for_display(image.data, max_side=None, subject="result", max_bytes=RESULT_MAX_BYTES)
    data = b""
    for quality in UPLOAD_JPEG_QUALITIES:
        data = encode(pixels, "JPEG", quality=quality)
        if len(data) <= max_bytes:
            return to_file(data, "JPEG", pixels.size)
    scale = 1.0
    for _ in range(MAX_STEPS):
        scale *= min(0.9, 0.95 / math.sqrt(len(data) / max_bytes))
        size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
        data = encode(pixels.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), "JPEG", quality=85)
        if len(data) <= max_bytes:
            return to_file(data, "JPEG", size)
        if min(size) <= 16:
            break
    raise ValueError(f"cannot fit a {image.width}x{image.height} image into {max_bytes} bytes")


def thumbnail(data: bytes, max_side: int) -> ImageFile:
    """A small preview within ``max_side``: JPEG, or PNG when the image has transparency."""
    pixels = decode_for_display(data, max_side=max_side, subject="image", keep_alpha=True, max_bytes=RESULT_MAX_BYTES)
    if pixels.mode in ("RGBA", "LA"):
        return to_file(encode(pixels, "PNG"), "PNG", pixels.size)
    return to_file(encode(pixels, "JPEG", quality=85), "JPEG", pixels.size)
