"""Before/after comparison image for the result message.

Decisions: both images are scaled to a common height (never upscaled beyond the smaller one, at most
1024 px, and the whole canvas at most 2048 px wide), labelled in a dark band above them with Pillow's
default font, and saved as JPEG quality 90 (well under 2 MB at that size).
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from bot.limits import RESULT_MAX_BYTES
from bot.models import ImageFile

from .decode import decode_for_display
from .fit import encode, to_file

MAX_HEIGHT = 1024
MAX_WIDTH = 2048
GAP = 8
BACKGROUND = (32, 32, 32)


def side_by_side(
    before: bytes,
    after: bytes,
    labels: tuple[str, str] = ("Before", "After"),
    *,
    max_height: int = MAX_HEIGHT,
    max_width: int = MAX_WIDTH,
) -> ImageFile:
    left, right = (
        decode_for_display(data, max_side=max(max_height, max_width), subject=name, max_bytes=RESULT_MAX_BYTES)
        for data, name in ((before, "before image"), (after, "after image"))
    )
    height = _common_height(left.size, right.size, max_height, max_width)
    panels = [_scaled(im, height) for im in (left, right)]
    font_size = max(12, height // 24)
    font = ImageFont.load_default(size=font_size)
    band = font_size + 2 * max(4, font_size // 3)
    width = sum(p.width for p in panels) + 3 * GAP
    canvas = Image.new("RGB", (width, band + height + GAP), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    x = GAP
    for panel, label in zip(panels, labels, strict=True):
        canvas.paste(panel, (x, band))
        draw.text((x + panel.width // 2, band // 2), label, fill="white", font=font, anchor="mm")
        x += panel.width + GAP
    return to_file(encode(canvas, "JPEG", quality=90), "JPEG", canvas.size)


def _common_height(a: tuple[int, int], b: tuple[int, int], max_height: int, max_width: int) -> int:
    height = min(a[1], b[1], max_height)
    widths = a[0] * height / a[1] + b[0] * height / b[1]
    room = max_width - 3 * GAP
    if widths > room:
        height = height * room / widths
    return max(1, int(height))


def _scaled(im: Image.Image, height: int) -> Image.Image:
    width = max(1, round(im.width * height / im.height))
    return im.convert("RGB").resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
