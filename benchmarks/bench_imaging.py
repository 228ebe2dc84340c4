"""Preparation cost vs a bare Pillow decode of the same file (not run by CI).

    python benchmarks/bench_imaging.py [repeats]

Target: on the pass-through path (JPEG/PNG the API accepts, with a mask or a region),
``prepare_edit_sync`` takes at most 1.5× ``Image.open(...).load()``. Conversion rows (transparency,
inverted or resized masks) are shown for information; they must decode and re-encode, so no target.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw

from bot.imaging import prepare_edit_sync
from bot.models import MaskSpec, Region

TARGET = 1.5


def photo(side: int, *, grain: float = 0.25) -> Image.Image:
    """Gradients, shapes and grain. The default grain gives JPEGs (quality 92) of about 0.3 MB per
    megapixel and PNGs of about 1.9 MB per megapixel, like downscaled phone photos; ``grain=0`` makes a
    smooth synthetic picture whose JPEG decodes unusually fast."""
    size = (side, side)
    bands = [
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").rotate(90).resize(size),
    ]
    im = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(im)
    for i in range(12):
        x, y = (i * 97) % side, (i * 173) % side
        draw.ellipse((x, y, x + side // 5, y + side // 6), fill=(40 * i % 255, 200, 90))
    if not grain:
        return im
    noise = Image.merge("RGB", [Image.effect_noise(size, 30) for _ in range(3)])
    return Image.blend(im, noise, grain)


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


def mask_png(side: int, *, invert: bool = False, scale: float = 1.0) -> bytes:
    size = round(side * scale)
    im = Image.new("L", (size, size), 0 if invert else 255)
    ImageDraw.Draw(im).ellipse((size // 4, size // 4, size * 3 // 4, size * 2 // 3), fill=255 if invert else 0)
    return encode(im, "PNG")


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (plugin imports, caches)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bare_decode(data: bytes) -> None:
    Image.open(io.BytesIO(data)).load()


def cases() -> list[tuple[str, bytes, MaskSpec, bool]]:
    """(label, image bytes, spec, counts toward the target)."""
    rows: list[tuple[str, bytes, MaskSpec, bool]] = []
    for side in (1024, 2048):
        im = photo(side)
        files = {"JPEG": encode(im, "JPEG", quality=92), "PNG": encode(im, "PNG")}
        for fmt, data in files.items():
            rows.append((f"{side}² {fmt}, mask file", data, MaskSpec(mask=mask_png(side)), True))
            rows.append((f"{side}² {fmt}, region", data, MaskSpec(region=Region.CENTER), True))
        rows.append((f"{side}² JPEG, inverted half-size mask", files["JPEG"], _inverted(side), False))
        smooth = encode(photo(side, grain=0), "JPEG", quality=92)
        rows.append((f"{side}² smooth synthetic JPEG, region", smooth, MaskSpec(region=Region.CENTER), False))
        rgba = im.convert("RGBA")
        rgba.paste((0, 0, 0, 0), (side // 4, side // 4, side // 2, side // 2))
        rows.append((f"{side}² PNG with transparency", encode(rgba, "PNG"), MaskSpec(), False))
    return rows


def _inverted(side: int) -> MaskSpec:
    return MaskSpec(mask=mask_png(side, invert=True, scale=0.5), invert=True)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    print(f"Pillow {Image.__version__}, {repeats} repeats, median times; target: prepare ≤ {TARGET}× bare decode")
    header = f"{'case':<42} {'file':>9} {'decode ms':>10} {'prepare ms':>11} {'ratio':>6}  target"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for label, data, spec, counted in cases():
        decode = median_ms(lambda data=data: bare_decode(data), repeats)
        prepare = median_ms(lambda data=data, spec=spec: prepare_edit_sync(data, spec), repeats)
        ratio = prepare / decode
        verdict = ("ok" if ratio <= TARGET else "MISSED") if counted else "(info)"
        if counted:
            worst = max(worst, ratio)
        print(f"{label:<42} {len(data) / 1e6:>7.2f}MB {decode:>10.1f} {prepare:>11.1f} {ratio:>6.2f}  {verdict}")
    print(f"worst pass-through ratio: {worst:.2f} (target ≤ {TARGET})")


if __name__ == "__main__":
    main()
