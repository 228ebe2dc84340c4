"""What-will-change preview: the input with the edit region tinted magenta and outlined.

Decisions: JPEG at quality 85 (a preview, small to upload), at most 1024 px on the longer side. The
mask is shrunk with BOX and any touched pixel counts as edited, so thin strokes stay visible.

Previews are made in the Pillow pool while the bot's event loop serves other members, so every pixel
operation here is one that releases the GIL (``paste``/fill with a mask, ``point``, ``filter``,
decode, encode): ``Image.blend`` and ``ImageChops`` hold it for their whole run (~5 ms at 1024²), and
the loop's thread waits that long for it after each of its own system calls.
"""

from __future__ import annotations

from PIL import Image, ImageFilter, ImageOps

from bot.limits import RESULT_MAX_BYTES
from bot.models import ImageFile, PreparedEdit

from .decode import decode_for_display, load_pixels, open_image
from .fit import encode, to_file

PREVIEW_MAX_SIDE = 1024
TINT = (255, 0, 255)
TINT_OPACITY = 0.45
_TINT_LEVEL = round(TINT_OPACITY * 255)  # as a paste mask value: TINT_OPACITY of the tint over the image


def preview(prepared: PreparedEdit, *, max_side: int = PREVIEW_MAX_SIDE) -> ImageFile:
    out = decode_for_display(
        prepared.image.data, max_side=max_side, subject="image", max_bytes=RESULT_MAX_BYTES
    ).convert("RGB")
    edit = _edit_area(prepared.mask.data, out.size)
    box = (0, 0, *out.size)
    out.paste(TINT, box, mask=edit.point(lambda v: _TINT_LEVEL if v else 0))  # blend, inside the area only
    # Max/MinFilter on a 0/255 mask, done as box blur + threshold (identical result): the rank filters
    # hold the GIL ~50 ms at 1024².
    grown = edit.filter(ImageFilter.BoxBlur(2)).point(lambda v: 255 if v else 0)  # MaxFilter(5)
    shrunk = edit.filter(ImageFilter.BoxBlur(1)).point(lambda v: 255 if v == 255 else 0)  # MinFilter(3)
    grown.paste(0, box, mask=shrunk)  # the outline: grown minus shrunk
    out.paste(TINT, box, mask=grown)
    return to_file(encode(out, "JPEG", quality=85), "JPEG", out.size)


def _edit_area(mask_data: bytes, size: tuple[int, int]) -> Image.Image:
    """255 where the API will repaint, at ``size``."""
    mask = open_image(mask_data, subject="mask", max_bytes=RESULT_MAX_BYTES)
    load_pixels(mask, subject="mask")
    edit = ImageOps.invert(mask.convert("L"))
    if edit.size != size:
        edit = edit.resize(size, Image.Resampling.BOX).point(lambda v: 255 if v else 0)
    return edit
