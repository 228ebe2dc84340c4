"""Safe opening and normalisation of user images.

Every file a user gives us goes through :func:`open_image`: Pillow may only use the decoders we list
(no Ghostscript for EPS, no exotic plugins), the pixel cap is checked from the header before any pixel is
decoded (``Image.open`` is lazy), and every Pillow failure becomes an :class:`InputError` that tells the
user what is wrong.

:func:`decode_image` then decides whether the original bytes can go to the API untouched. Decisions:

* Pass-through needs: JPEG (MPO counts as JPEG: phones add extra pictures after the first JPEG, which
  every decoder ignores), PNG or WebP; 8-bit L or RGB; no alpha/palette/tRNS; one frame; no EXIF
  rotation; within the API's file size. Anything else is decoded and converted to 8-bit RGB/L.
* On the pass-through path the pixels are never decoded in full; the file is only checked for being
  complete (``_check_intact``; the API's results get the same check, ``check_complete``): PNG by its
  chunk checksums (``verify``, no inflate); JPEG by its end-of-image marker (the header was already
  parsed by ``Image.open``), and when that marker is not last (cut off, or data appended such as a
  motion photo's video) by a 1/8-scale decode, which reads the whole entropy-coded stream but skips
  most of the IDCT; WebP by a normal decode. Corrupted bytes in the middle of a JPEG, or a PNG with
  correct checksums but a broken zlib stream, slip through (libjpeg only warns about the former
  anyway); the API then rejects the file.
* Metadata never leaves: a pass-through file is sent and stored without its EXIF (GPS position
  included), XMP, IPTC and text chunks, by a byte-level rewrite that keeps the pixels' encoding and
  the colour profile (``metadata``); a converted file is re-encoded with the colour profile only.
  EXIF orientation ≠ 1 means conversion, so the rotation is applied before the EXIF goes.
* PNG ``eXIf`` orientation is only seen when the chunk comes before the pixel data (the usual place),
  because reading a late one would require decoding the pass-through image.
* Transparent pixels are flattened onto white; the alpha channel is kept so the pipeline can use it as
  the mask. 16-bit greys are scaled (not clipped) to 8 bits. CMYK uses the embedded ICC profile when
  there is one.
* Pillow's global ``Image.MAX_IMAGE_PIXELS`` is left alone (other code in the process relies on it); our
  own cap ``MAX_INPUT_PIXELS`` is stricter and is checked explicitly; Pillow's own
  ``DecompressionBombError`` (for absurd sizes) is still caught and reported the same way.
"""

from __future__ import annotations

import functools
import io
import os
import re
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from bot.errors import InputError
from bot.i18n import Message, msg
from bot.limits import API_MAX_FILE_BYTES, MAX_INPUT_BYTES, MAX_INPUT_PIXELS, MIN_SIDE
from bot.models import ImageFile, ImageOnDisk

from .metadata import strip_metadata

# Pillow formats we are willing to decode. Everything else is refused with a description of the file.
_WANTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
PASSTHROUGH_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
LOSSY_FORMATS = frozenset({"JPEG", "MPO"})  # re-encoded as JPEG, not PNG
FRIENDLY_NAMES = {"MPO": "JPEG", "WEBP": "WebP"}
SUPPORTED_HINT = msg("decode-hint")

# What ``im.info`` may hold that is metadata, not pixels (the colour profile is kept apart)
_METADATA_INFO_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop")

# Errors Pillow raises for damaged data while reading headers or pixels.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)


@functools.cache
def accepted_formats() -> tuple[str, ...]:
    """The decoders we allow, limited to those this Pillow build has (AVIF is optional)."""
    Image.init()
    return tuple(f for f in _WANTED_FORMATS if f in Image.OPEN)


def friendly_format(fmt: str | None) -> str:
    return FRIENDLY_NAMES.get(fmt or "", fmt or "image")


def mime_of(fmt: str) -> str:
    """Pillow's format name as a MIME type (MPO, a phone's multi-picture JPEG, is a JPEG)."""
    return PASSTHROUGH_FORMATS.get(fmt) or Image.MIME.get(fmt) or f"image/{fmt.lower()}"


# --- What is this file? -------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "sevenzip"),
    (b"8BPS", "psd"),
    (b"\x1aE\xdf\xa3", "webm"),
    (b"OggS", "ogg"),
    (b"fLaC", "flac"),
    (b"ID3", "mp3"),
    (b"MZ", "exe"),
    (b"\x7fELF", "elf"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"\xff\x0a", "jxl"),
    (b"\x00\x00\x00\x0cJXL ", "jxl"),
    (b"\x89PNG\r\n\x1a\n", "damaged-png"),
    (b"\xff\xd8\xff", "damaged-jpeg"),
    (b"GIF8", "damaged-gif"),
    (b"II*\x00", "tiff-unreadable"),
    (b"MM\x00*", "tiff-unreadable"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def describe_bytes(data: bytes) -> str:
    """A key naming what a non-image file probably is (``file-kind`` in the catalogue), or "unrecognised"."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "heif"
        if brand in (b"avif", b"avis"):
            return "avif-unreadable"
        return "quicktime" if brand == b"qt  " else "mp4"
    if head[:4] == b"RIFF":
        kind = {b"WAVE": "wav", b"AVI ": "avi", b"WEBP": "damaged-webp"}
        return kind.get(head[8:12], "riff")
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return _describe_text(data[:2048])


def _describe_text(head: bytes) -> str:
    try:
        text = head.decode("utf-8").lstrip("\ufeff \t\r\n").lower()
    except UnicodeDecodeError:
        return "unrecognised"
    if "<svg" in text:
        return "svg"
    if text.startswith(("<!doctype html", "<html")):
        return "html"
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return "text" if text and printable >= 0.95 * len(text) else "unrecognised"


def _subject(subject: str) -> str:
    """The catalogue's selector for what a file is ("before image" → ``before-image``)."""
    return subject.replace(" ", "-")


def _the_file(subject: str) -> Message:
    return msg("decode-the-file", subject=_subject(subject))


def _noun(subject: str) -> Message:
    return msg("decode-subject", subject=_subject(subject))


def not_an_image_error(data: bytes, subject: str) -> InputError:
    kind = describe_bytes(data)
    file, what = _the_file(subject), msg("file-kind", kind=kind)
    if kind == "unrecognised":
        message = msg("decode-not-recognised", file=file, hint=SUPPORTED_HINT)
    elif kind.startswith("damaged-") or kind.endswith("-unreadable"):
        message = msg("decode-looks-damaged", file=file, kind=what)
    elif kind == "heif":
        heic = msg("decode-heic-hint")
        message = msg("decode-not-an-image-heic", file=file, kind=what, hint=SUPPORTED_HINT, heic=heic)
    else:
        message = msg("decode-not-an-image", file=file, kind=what, hint=SUPPORTED_HINT)
    return InputError(message, detail=f"unidentified {subject}: {kind}; first bytes {data[:16]!r}")


# --- Opening --------------------------------------------------------------------------------------


def _too_many_pixels(subject: str, pixels: int, size: tuple[int, int] | None) -> InputError:
    megapixels = f"{pixels / 1e6:.0f}"
    dims = msg("decode-dims-size", size=f"{size[0]}×{size[1]}", megapixels=megapixels) if size else None
    dims = dims or msg("decode-dims", megapixels=megapixels)
    return InputError(
        msg("decode-too-many-pixels", subject=_noun(subject), dims=dims, limit=f"{MAX_INPUT_PIXELS / 1e6:.0f}"),
        detail=f"{subject} over pixel cap: {dims}",
    )


def open_image(data: bytes, *, subject: str = "image", max_bytes: int | None = MAX_INPUT_BYTES) -> Image.Image:
    """Open lazily (header only) with our format whitelist and pixel cap; no pixel is decoded here."""
    _check_length(len(data), subject, max_bytes)
    return _open(io.BytesIO(data), subject, lambda: data)


def _check_length(size: int, subject: str, max_bytes: int | None) -> None:
    if not size:
        raise InputError(msg("decode-empty", subject=_noun(subject)))
    if max_bytes is not None and size > max_bytes:
        raise InputError(
            msg("decode-too-big", subject=_noun(subject), size=f"{size / 2**20:.0f}", limit=max_bytes // 2**20)
        )


def _open(fp: BinaryIO, subject: str, head: Callable[[], bytes]) -> Image.Image:
    """``open_image`` from a file object; ``head()``: the file's first bytes, to say what it is instead."""
    try:
        im = Image.open(fp, formats=accepted_formats())
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_many_pixels(subject, int(found.group(1)) if found else MAX_INPUT_PIXELS, None) from exc
    except UnidentifiedImageError as exc:
        raise not_an_image_error(head(), subject) from exc
    except _DECODE_ERRORS as exc:
        raise _damaged(subject, None, exc) from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        raise _damaged(subject, im.format, ValueError(f"size {im.size}"))
    if width * height > MAX_INPUT_PIXELS:
        raise _too_many_pixels(subject, width * height, im.size)
    return im


def _damaged(subject: str, fmt: str | None, exc: BaseException) -> InputError:
    message = (
        msg("decode-damaged-format", file=_the_file(subject), format=friendly_format(fmt))
        if fmt
        else msg("decode-damaged", file=_the_file(subject))
    )
    return InputError(
        message,
        detail=f"{subject} decode failed: {type(exc).__name__}: {exc}",
    )


@contextmanager
def decoding(im: Image.Image, subject: str) -> Iterator[None]:
    """Turn Pillow's many failure types while decoding pixels into one clear error. Keep the block to
    Pillow calls only: our own bugs must not be reported as a damaged file."""
    fmt, size = im.format, im.size
    try:
        yield
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(subject, size[0] * size[1], size) from exc
    except _DECODE_ERRORS as exc:
        raise _damaged(subject, fmt, exc) from exc


def load_pixels(im: Image.Image, *, subject: str = "image") -> None:
    with decoding(im, subject):
        im.load()


def decode_for_display(
    data: bytes, *, max_side: int | None, subject: str, keep_alpha: bool = False, max_bytes: int
) -> Image.Image:
    """Decode for previews and thumbnails: JPEGs are decoded at a reduced DCT scale when only
    ``max_side`` pixels are needed (Pillow's ``draft``, no-op for other formats), EXIF rotation is
    applied, and the result is 8-bit RGB/L (RGBA/LA when ``keep_alpha`` and there is transparency)."""
    im = open_image(data, subject=subject, max_bytes=max_bytes)
    with decoding(im, subject):
        if max_side:
            im.draft(None, (max_side, max_side))
        im.load()
    if header_orientation(im) != 1:
        ImageOps.exif_transpose(im, in_place=True)
    if keep_alpha and im.has_transparency_data:
        out = im.convert("LA" if im.mode in ("L", "LA") else "RGBA")
    else:
        out = split_alpha(im)[0]
    if max_side:
        out.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return out


def header_orientation(im: Image.Image) -> int:
    """EXIF orientation known without decoding (PngImageFile.getexif would decode to find late chunks)."""
    if im.format == "PNG" and "exif" not in im.info and not _pixels_loaded(im):
        return 1
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODE_ERRORS:
        return 1  # unreadable EXIF: treat as unrotated rather than refuse the photo
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _pixels_loaded(im: Image.Image) -> bool:
    return getattr(im, "fp", None) is None or not getattr(im, "tile", None)


def oriented_size(im: Image.Image, orientation: int) -> tuple[int, int]:
    return (im.height, im.width) if orientation in (5, 6, 7, 8) else im.size


def is_16bit(im: Image.Image) -> bool:
    """16-bit greys open as I;16*; 16-bit RGB(A) PNGs open as 8-bit RGB but their raw mode tells
    (only while the tile list exists, i.e. before ``load``)."""
    if im.mode.startswith("I;16"):
        return True
    tile = getattr(im, "tile", None)
    return bool(tile) and im.format == "PNG" and ";16" in str(tile[0].args)


def is_animated(im: Image.Image) -> bool:
    """More than one frame, except MPO (the extra pictures of a phone JPEG are not an animation)."""
    return im.format != "MPO" and bool(getattr(im, "is_animated", False))


# --- Mode normalisation -------------------------------------------------------------------------


def to_8bit(im: Image.Image) -> Image.Image:
    """Any mode without alpha → 8-bit L or RGB, scaling 16-bit data instead of clipping it."""
    if im.mode in ("L", "RGB"):
        return im
    if im.mode.startswith("I;16"):
        return im.point(lambda v: v * (1 / 256)).convert("L")
    if im.mode == "I":
        high = im.getextrema()[1]
        return (im.point(lambda v: v * (1 / 256)) if isinstance(high, int) and high > 255 else im).convert("L")
    if im.mode == "1" or im.mode == "F":
        return im.convert("L")
    if im.mode == "CMYK":
        return _cmyk_to_rgb(im)
    return im.convert("RGB")


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    icc = im.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to Pillow's plain conversion
    return im.convert("RGB")


def split_alpha(im: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Flatten transparency onto white. Returns (8-bit RGB/L pixels, alpha or None when fully opaque)."""
    if not im.has_transparency_data:
        return to_8bit(im), None
    grey = im.mode in ("L", "LA", "1") or im.mode.startswith("I")
    rgba = im.convert("LA" if grey else "RGBA")
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        return rgba.convert(rgba.mode[:-1]), None
    flat = Image.new(rgba.mode[:-1], rgba.size, 255 if grey else (255, 255, 255))
    flat.paste(rgba, mask=alpha)
    return flat, alpha


# --- The input image ----------------------------------------------------------------------------


@dataclass(slots=True)
class SourceImage:
    """A validated input image: either its original bytes (pass-through) or normalised pixels."""

    format: str  # Pillow's name of the source format
    size: tuple[int, int]  # as the API will see it (after EXIF rotation)
    original: ImageFile | None  # the untouched bytes when they can be sent as they are
    pixels: Image.Image | None  # 8-bit RGB/L, transparency flattened onto white; None on pass-through
    alpha: Image.Image | None = None  # the alpha channel (L) when some pixels were not fully opaque
    lossless: bool = True  # the source was lossless: prefer PNG when re-encoding
    icc_profile: bytes | None = None  # kept when re-encoding RGB/L so colours do not shift
    notes: list[str] = field(default_factory=list)

    def require_pixels(self) -> Image.Image:
        """Decode a pass-through image after all (only needed when it must be downscaled)."""
        if self.pixels is None:
            assert self.original is not None
            im = open_image(self.original.data)
            load_pixels(im)
            self.pixels = to_8bit(im)
            self.icc_profile = im.info.get("icc_profile")
        return self.pixels


def decode_image(data: bytes, *, max_bytes: int = API_MAX_FILE_BYTES) -> SourceImage:
    """Validate the user's image and decide pass-through vs conversion (see the module docstring)."""
    im = open_image(data, subject="image")
    fmt = im.format or "?"
    orientation = header_orientation(im)
    size = oriented_size(im, orientation)
    if min(size) < MIN_SIDE:
        raise InputError(msg("decode-too-small", size=f"{size[0]}×{size[1]}", min=MIN_SIDE))
    animated = is_animated(im)
    if (
        fmt in PASSTHROUGH_FORMATS
        and not animated
        and orientation == 1
        and im.mode in ("L", "RGB")
        and not im.has_transparency_data
        and not is_16bit(im)
        and len(data) <= max_bytes
    ):
        width, height = im.width, im.height
        _check_intact(im, fmt, data[-64:])  # may shrink im (JPEG draft): sizes are taken before
        stripped = strip_metadata(fmt, data)
        if stripped is not None:
            original = ImageFile(stripped, PASSTHROUGH_FORMATS[fmt], width, height)
            return SourceImage(fmt, size, original, None, lossless=fmt not in LOSSY_FORMATS)
        im = open_image(data, subject="image")  # a structure the stripper does not know: re-encode
    return _convert(im, animated=animated)


def _check_intact(im: Image.Image, fmt: str, tail: bytes) -> None:
    """Prove the file is complete without paying for a full decode (see module docstring); ``tail``:
    its last 64 bytes."""
    if fmt in LOSSY_FORMATS and tail.rstrip(b"\0").endswith(b"\xff\xd9"):
        return  # header parsed and the end-of-image marker present: not cut off
    with decoding(im, "image"):
        if fmt == "PNG":
            im.verify()
            return
        if fmt in LOSSY_FORMATS:
            im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()


def _convert(im: Image.Image, *, animated: bool) -> SourceImage:
    fmt = im.format or "?"
    notes = _conversion_notes(im, animated)  # before load(), which drops the tile list is_16bit reads
    load_pixels(im)
    if header_orientation(im) != 1:
        ImageOps.exif_transpose(im, in_place=True)
        notes.append("rotated to match the photo's EXIF orientation")
    icc = im.info.get("icc_profile") if im.mode in ("RGB", "L", "RGBA", "LA", "P") else None
    for key in _METADATA_INFO_KEYS:  # Pillow carries some of them (JPEG comments) into a re-encode
        im.info.pop(key, None)
    try:
        pixels, alpha = split_alpha(im)
    except ValueError as exc:  # a colour mode Pillow cannot convert
        raise InputError(
            msg("decode-colour-mode", mode=str(im.mode)),
            detail=f"conversion failed: {exc}",
        ) from exc
    return SourceImage(
        fmt,
        pixels.size,
        None,
        pixels,
        alpha=alpha,
        lossless=fmt not in LOSSY_FORMATS,
        icc_profile=icc,
        notes=notes,
    )


def _conversion_notes(im: Image.Image, animated: bool) -> list[str]:
    fmt = im.format or "?"
    notes: list[str] = []
    reason = _mode_reason(im)
    if fmt not in PASSTHROUGH_FORMATS:
        notes.append(f"converted from {friendly_format(fmt)}")
    elif reason:
        notes.append(f"converted from {friendly_format(fmt)} ({reason})")
    if animated:
        kind = "multi-page TIFF" if fmt == "TIFF" else f"animated {friendly_format(fmt)}"
        notes.append(f"used the first {'page' if fmt == 'TIFF' else 'frame'} of the {kind}")
    return notes


def _mode_reason(im: Image.Image) -> str | None:
    """Why a file in an API format is still converted; transparency gets its own note in the pipeline."""
    if is_16bit(im):
        return "16-bit"
    if im.mode == "CMYK":
        return "CMYK colours"
    if im.mode in ("P", "PA"):
        return "palette colours"
    if im.mode not in ("L", "RGB", "LA", "RGBA"):
        return f"{im.mode} mode"
    return None


class ImageInfo(NamedTuple):
    """What an image's header says: Pillow's format (MPO reported as JPEG) and the displayed size."""

    format: str
    width: int
    height: int

    @property
    def mime(self) -> str:
        return mime_of(self.format)


def load_image_info(source: bytes | Path, *, max_bytes: int | None = MAX_INPUT_BYTES) -> ImageInfo:
    """Cheap header-only probe of bytes or a file (blocking: run it in a thread): format and size as
    displayed (EXIF rotation applied when the header says so). Raises InputError for what the header
    alone shows: not an image we read, damaged header, over the byte (``max_bytes``; None: no cap) or
    pixel cap; a missing file raises ``FileNotFoundError``. MIN_SIDE and the pixels are checked by
    ``prepare_edit``."""
    with _opened(source, "image", max_bytes) as (im, _):
        return _info(im)


def check_complete(source: bytes | Path) -> ImageInfo:
    """``load_image_info`` of a result downloaded from the API (no byte cap: the download has its own),
    then proof that it is whole, as for a pass-through input (``_check_intact``: PNG chunk checksums, a
    JPEG's end marker or else a 1/8-scale decode, other formats decoded). Raises ``InputError``."""
    with _opened(source, "image", None) as (im, tail):
        info = _info(im)
        _check_intact(im, im.format or "?", tail)
    return info


def image_on_disk(path: Path, sha: str | None = None, *, complete: bool = False) -> ImageOnDisk:
    """An image file on disk (a stored input or result, whose byte size its own caps already bounded)
    described from its header alone: ``load_image_info``'s format, size and errors; ``complete``: also
    proved whole (``check_complete``)."""
    info = check_complete(path) if complete else load_image_info(path, max_bytes=None)
    return ImageOnDisk(path, info.mime, info.width, info.height, path.stat().st_size, sha)


def _info(im: Image.Image) -> ImageInfo:
    width, height = oriented_size(im, header_orientation(im))
    return ImageInfo("JPEG" if im.format == "MPO" else im.format or "?", width, height)


@contextmanager
def _opened(source: bytes | Path, subject: str, max_bytes: int | None) -> Iterator[tuple[Image.Image, bytes]]:
    """``open_image`` of bytes or of a file (read piecewise, never whole), with the source's last 64
    bytes (``_check_intact``). A missing file is not a damaged one: ``FileNotFoundError`` passes."""
    if isinstance(source, bytes):
        yield open_image(source, subject=subject, max_bytes=max_bytes), source[-64:]
        return
    with source.open("rb") as fp:
        size = os.fstat(fp.fileno()).st_size
        _check_length(size, subject, max_bytes)
        fp.seek(max(0, size - 64))
        tail = fp.read()
        fp.seek(0)

        def head() -> bytes:
            fp.seek(0)
            return fp.read(2048)

        with _open(fp, subject, head) as im:
            yield im, tail
