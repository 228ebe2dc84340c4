"""In-memory builders for the odd files users upload (no fixtures on disk)."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image, ImageDraw

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def photo(size: tuple[int, int] = (256, 192), mode: str = "RGB") -> Image.Image:
    """Smooth, photo-like content (gradients) that compresses like a picture, not like noise."""
    width, height = size
    red = Image.linear_gradient("L").resize(size)
    green = Image.linear_gradient("L").rotate(90).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    im = Image.merge("RGB", (red, green, blue))
    ImageDraw.Draw(im).ellipse((width // 4, height // 4, width // 2, height // 2), fill=(250, 240, 10))
    return im.convert(mode)


def grainy_photo(size: tuple[int, int] = (512, 512)) -> Image.Image:
    """A photo with sensor-like grain: PNG is several times larger than JPEG, as for real photos."""
    return Image.blend(photo(size), noise(size), 0.1)


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Incompressible pixels: the way to get a big file quickly."""
    bands = len(mode)
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * bands))


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_rgb48(size: tuple[int, int] = (96, 80)) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow can read but not write these)."""
    width, height = size
    row = b"".join(struct.pack(">3H", x * 65535 // width, 32768, 0) for x in range(width))
    raw = b"".join(b"\x00" + row for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


def png_gray16(size: tuple[int, int] = (96, 80)) -> bytes:
    """16-bit greyscale PNG; left half 0x8000 (mid grey), right half 0xFFFF (white)."""
    im = Image.new("I;16", size, 0x8000)
    im.paste(0xFFFF, (size[0] // 2, 0, size[0], size[1]))
    return encode(im, "PNG")


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header claims ``width``×``height`` (a decompression bomb shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def cmyk_jpeg(size: tuple[int, int] = (128, 96)) -> bytes:
    return encode(Image.new("CMYK", size, (0, 255, 255, 0)), "JPEG", quality=95)  # red ink


def palette_png_with_transparency(size: tuple[int, int] = (128, 96)) -> bytes:
    """Palette PNG: index 0 transparent (the left half), index 1 opaque blue."""
    im = Image.new("P", size, 1)
    im.putpalette([0, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    im.paste(0, (0, 0, size[0] // 2, size[1]))
    return encode(im, "PNG", transparency=0)


def rgba_png_with_hole(size: tuple[int, int] = (128, 96), hole: tuple[int, int, int, int] = (32, 24, 64, 48)) -> bytes:
    im = photo(size).convert("RGBA")
    im.paste((0, 0, 0, 0), hole)
    return encode(im, "PNG")


def exif_rotated_jpeg(size: tuple[int, int] = (160, 96), orientation: int = 6) -> bytes:
    """Stored landscape with a red top-left corner; orientation 6 means "rotate 90° clockwise to view"."""
    im = Image.new("RGB", size, (255, 255, 255))
    im.paste((255, 0, 0), (0, 0, 32, 32))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(im, "JPEG", quality=95, exif=exif.tobytes())


def animated_gif(size: tuple[int, int] = (96, 96)) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def ideogram_mask(
    size: tuple[int, int], box: tuple[int, int, int, int], *, edit: int = 0, keep: int = 255
) -> Image.Image:
    """Mode L mask: ``box`` painted ``edit``, the rest ``keep``."""
    im = Image.new("L", size, keep)
    im.paste(edit, box)
    return im


def antialiased_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    """A black ellipse with soft (grey) edges, like a brush stroke from a paint program."""
    big = Image.new("L", (size[0] * 4, size[1] * 4), 255)
    ImageDraw.Draw(big).ellipse(tuple(v * 4 for v in box), fill=0)
    return encode(big.resize(size, Image.Resampling.LANCZOS), "PNG")


PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TEXT_BYTES = b"hello, this is not an image\njust some notes I saved as picture.png\n"
