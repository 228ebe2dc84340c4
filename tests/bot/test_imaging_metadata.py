"""EXIF (GPS included), XMP, IPTC and text metadata are stripped without re-encoding the pixels; the
colour profile stays; a rotated photo keeps its rotation applied."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from bot.imaging import prepare_edit_sync
from bot.imaging.decode import decode_image
from bot.imaging.metadata import strip_metadata
from bot.models import MaskSpec, Region
from tests.imaging_samples import decode, encode, photo

TOP = MaskSpec(region=Region.TOP)
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="48,51.5N"/></x:xmpmeta>'
LATITUDE = (48.0, 51.0, 29.0)


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return exif


def with_app13(jpeg: bytes) -> bytes:
    payload = b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0\0\0\0\x0c" + b"\x1c\x02\x78\0\x07caption"
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def gps_jpeg(orientation: int = 1) -> bytes:
    jpeg = encode(
        photo((256, 192)),
        "JPEG",
        quality=90,
        exif=gps_exif(orientation).tobytes(),
        icc_profile=ICC,
        xmp=XMP,
        comment=b"shot at home",
    )
    return with_app13(jpeg)


def no_metadata(data: bytes) -> None:
    for marker in (b"Exif\0\0", b"PhoneMaker", b"xmpmeta", b"shot at home", b"Photoshop 3.0", b"caption"):
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0 and not im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in im.info and "xmp" not in im.info and "comment" not in im.info


def scan_data(jpeg: bytes) -> bytes:
    return jpeg[jpeg.index(b"\xff\xda") :]


def test_jpeg_with_gps_exif_is_sent_without_it_pixels_and_colour_profile_unchanged() -> None:
    data = gps_jpeg()
    with Image.open(io.BytesIO(data)) as im:  # the sample really carries it all
        assert im.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] == LATITUDE
        assert im.info["xmp"] and im.info["comment"] and im.info["icc_profile"] == ICC
    prepared = prepare_edit_sync(data, TOP)
    sent = prepared.image.data
    no_metadata(sent)
    assert decode(sent).tobytes() == decode(data).tobytes(), "decoded pixels identical"
    assert scan_data(sent) == scan_data(data), "not re-encoded: the compressed data is copied"
    assert decode(sent).info["icc_profile"] == ICC
    assert prepared.image.mime == "image/jpeg" and not prepared.notes


def test_progressive_jpeg_is_stripped_too() -> None:
    data = encode(photo(), "JPEG", progressive=True, exif=gps_exif().tobytes(), icc_profile=ICC)
    sent = prepare_edit_sync(data, TOP).image.data
    no_metadata(sent)
    assert decode(sent).tobytes() == decode(data).tobytes() and decode(sent).info["icc_profile"] == ICC


def test_rotated_photo_keeps_its_rotation_and_loses_its_exif() -> None:
    data = gps_jpeg(orientation=6)  # stored landscape, shown portrait
    prepared = prepare_edit_sync(data, TOP)
    sent = prepared.image.data
    no_metadata(sent)
    assert decode(sent).size == (192, 256), "the rotation is applied to the pixels"
    assert decode(sent).info.get("icc_profile") == ICC
    assert any("rotated" in note for note in prepared.notes)


def png_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        kinds.append(kind)
        pos += 12 + length
    return kinds


def test_png_text_and_exif_chunks_are_dropped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "shot at home")
    info.add_text("Author", "PhoneMaker owner", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    data = encode(photo(), "PNG", pnginfo=info, exif=gps_exif().tobytes(), icc_profile=ICC)
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"} <= set(png_chunks(data))
    source = decode_image(data)
    assert source.original is not None, "passed through, not converted"
    sent = source.original.data
    assert not {b"tEXt", b"zTXt", b"iTXt", b"eXIf"} & set(png_chunks(sent))
    no_metadata(sent)
    assert decode(sent).tobytes() == decode(data).tobytes() and decode(sent).info["icc_profile"] == ICC


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_exif_and_xmp_chunks_are_dropped(lossless: bool) -> None:
    data = encode(photo(), "WEBP", lossless=lossless, exif=gps_exif().tobytes(), xmp=XMP, icc_profile=ICC)
    assert b"EXIF" in data and b"XMP " in data
    source = decode_image(data)
    assert source.original is not None
    sent = source.original.data
    assert b"EXIF" not in sent and b"XMP " not in sent and b"ICCP" in sent
    no_metadata(sent)
    assert struct.unpack("<I", sent[4:8])[0] == len(sent) - 8, "RIFF size rewritten"
    assert decode(sent).tobytes() == decode(data).tobytes() and decode(sent).info["icc_profile"] == ICC


def test_a_reused_mask_file_loses_its_text_chunks() -> None:
    mask = Image.new("L", (256, 192), 255)
    mask.paste(0, (0, 0, 256, 96))
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "secret-editor on alice-laptop")
    data = encode(mask, "PNG", pnginfo=info)
    prepared = prepare_edit_sync(encode(photo(), "PNG"), MaskSpec(mask=data))
    assert b"alice-laptop" not in prepared.mask.data
    assert decode(prepared.mask.data).tobytes() == mask.tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_unknown_structures_are_not_guessed_at(fmt: str) -> None:
    assert strip_metadata(fmt, b"definitely not an image") is None
