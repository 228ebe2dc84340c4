"""Remove metadata (EXIF with its GPS position, XMP, IPTC, comments) from JPEG, PNG and WebP files by
rewriting their container, never their pixels: the compressed image data is copied byte for byte, so
the decoded pixels are identical and nothing is lost to re-encoding.

What is kept: everything a decoder needs, and the colour profile (JPEG APP2 ``ICC_PROFILE``, PNG
``iCCP``/``sRGB``/``gAMA``/``cHRM``, WebP ``ICCP``). What goes:

* JPEG: APP1 (Exif, XMP), APP13 (Photoshop/IPTC), COM, and everything after the first image's
  end-of-image marker (the extra pictures of an MPO, a motion photo's video), with the APP2 ``MPF``
  index that pointed at those pictures.
* PNG: ``eXIf``, ``tEXt``, ``iTXt``, ``zTXt``, ``tIME``, and anything after ``IEND``.
* WebP: ``EXIF`` and ``XMP `` chunks (and their flags in ``VP8X``).

Callers apply the EXIF orientation *before* stripping (a rotated photo is converted and re-encoded
anyway, see ``decode``); a file these parsers do not understand makes them return None, and the
caller re-encodes it instead (Pillow writes no EXIF unless asked).
"""

from __future__ import annotations

import struct

_JPEG_DROP_MARKERS = frozenset({0xE1, 0xED, 0xFE})  # APP1, APP13, COM
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROP = frozenset({b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"})
_WEBP_DROP = frozenset({b"EXIF", b"XMP "})
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


class _Malformed(Exception):
    pass


def strip_metadata(fmt: str, data: bytes) -> bytes | None:
    """``data`` without metadata, or None when the file's structure is not understood."""
    strip = {"JPEG": _strip_jpeg, "MPO": _strip_jpeg, "PNG": _strip_png, "WEBP": _strip_webp}.get(fmt)
    if strip is None:
        return None
    try:
        return strip(data)
    except (_Malformed, struct.error, IndexError):
        return None


def _strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise _Malformed("no SOI")
    out = bytearray(b"\xff\xd8")
    pos, end = 2, len(data)
    while True:
        if pos + 2 > end or data[pos] != 0xFF:
            raise _Malformed(f"expected a marker at {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:  # EOI: the first image ends here; what follows is not this image
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _JPEG_STANDALONE:
            out += data[pos : pos + 2]
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > end:
            raise _Malformed(f"segment {marker:#x} overruns the file")
        segment = data[pos : pos + 2 + length]
        pos += 2 + length
        payload = segment[4:]
        drop = marker in _JPEG_DROP_MARKERS or (marker == 0xE2 and payload.startswith(b"MPF\0"))
        if not drop:
            out += segment
        if marker == 0xDA:  # SOS: entropy-coded data up to the next marker that is not RSTn
            scan_end = _scan_end(data, pos)
            out += data[pos:scan_end]
            pos = scan_end


def _scan_end(data: bytes, pos: int) -> int:
    """Where entropy-coded data starting at ``pos`` ends: the next 0xFF not followed by 0x00 (byte
    stuffing), a fill byte or an RST marker."""
    end = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= end:
            raise _Malformed("scan without an end")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


def _strip_png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise _Malformed("no PNG signature")
    out = bytearray(_PNG_SIGNATURE)
    pos, end = len(_PNG_SIGNATURE), len(data)
    while pos + 12 <= end:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        stop = pos + 12 + length
        if stop > end:
            raise _Malformed(f"chunk {kind!r} overruns the file")
        if kind not in _PNG_DROP:
            out += data[pos:stop]
        pos = stop
        if kind == b"IEND":
            return bytes(out)
    raise _Malformed("no IEND")


def _strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _Malformed("not a RIFF WEBP file")
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + riff_size)
    chunks: list[bytes] = []
    pos = 12
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        stop = pos + 8 + size + (size & 1)
        if pos + 8 + size > end:
            raise _Malformed(f"chunk {kind!r} overruns the file")
        chunk = data[pos : min(stop, end)]
        if kind == b"VP8X":
            if size < 10:
                raise _Malformed("short VP8X")
            flags = chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind not in _WEBP_DROP:
            chunks.append(chunk + b"\0" * (len(chunk) & 1))
        pos = stop
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
