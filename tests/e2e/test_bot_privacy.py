"""A photo's EXIF (its GPS position) reaches neither Ideogram nor the bot's disk."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import ExifTags, Image

from tests.bot.test_imaging_metadata import ICC, gps_jpeg, no_metadata
from tests.bot_harness import decode, make_world


async def test_photo_exif_is_stripped_before_the_api_and_the_disk(tmp_path: Path) -> None:
    photo = gps_jpeg()
    with Image.open(io.BytesIO(photo)) as im:
        assert im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    async with make_world(tmp_path) as world:
        await world.start_bot()
        await world.edit("a red hat", image=photo, region="top")
        await world.result_message()
        [request] = world.api.edit_requests
        sent = request.files["image"].data
        stored = [p.read_bytes() for p in (world.data_dir / "images").rglob("*") if p.is_file()]
    no_metadata(sent)
    assert decode(sent).tobytes() == decode(photo).tobytes() and Image.open(io.BytesIO(sent)).info["icc_profile"] == ICC
    jpegs = [data for data in stored if data.startswith(b"\xff\xd8")]
    assert jpegs == [sent], "the stored input is the stripped file"
    for data in stored:
        assert b"Exif\0\0" not in data
