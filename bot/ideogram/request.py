"""Building the edit request: form fields per API shape, the multipart body and the auth headers.

Kept free of I/O so the exact wire fields can be unit-tested without a server; the one exception is
``ImagePart``, which reads an input from its file while the body is being written (issue 11: eight
calls in flight must not hold eight images and masks in memory).
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp.abc import AbstractStreamWriter

from bot import limits
from bot.errors import InputError
from bot.i18n import msg
from bot.models import ApiImage, ImageFile
from bot.options import ApiShape, AuthScheme, EditOptions, LegacyModel, check_prompt, palette_json
from bot.settings import Settings

API_MIMES = frozenset({"image/png", "image/jpeg", "image/webp"})
FILE_FIELDS = {ApiShape.V3: ("image", "mask"), ApiShape.LEGACY: ("image_file", "mask")}


def validate_request(shape: ApiShape, image: ApiImage, mask: ApiImage, prompt: str, options: EditOptions) -> str:
    """Reject what the API would reject, before anything is sent (nothing billed, no round trip).

    Returns the prompt as it will be sent (surrounding whitespace removed).
    """
    options.validate(shape)
    text = check_prompt(prompt)
    for name, file in (("image", image), ("mask", mask)):
        if file.mime not in API_MIMES:
            raise InputError(msg("request-file-type", file=name, mime=file.mime))
        if file.size > limits.API_MAX_FILE_BYTES:
            mb = limits.API_MAX_FILE_BYTES // (1024 * 1024)
            raise InputError(msg("request-file-size", file=name, megabytes=mb))
    if (image.width, image.height) != (mask.width, mask.height):
        raise InputError(
            msg("request-sizes-differ", mask=f"{mask.width}x{mask.height}", image=f"{image.width}x{image.height}")
        )
    return text


def form_fields(
    shape: ApiShape, prompt: str, options: EditOptions, default_model: LegacyModel
) -> list[tuple[str, str]]:
    """The text fields in wire order; only options that are set are sent (the API picks defaults)."""
    fields: list[tuple[str, str]] = [("prompt", prompt)]
    if shape is ApiShape.LEGACY:
        fields.append(("model", str(options.model or default_model)))
        if options.magic_prompt is not None:
            fields.append(("magic_prompt_option", str(options.magic_prompt)))
        fields.append(("num_images", str(options.num_images)))
        if options.seed is not None:
            fields.append(("seed", str(options.seed)))
        if options.style_type is not None:
            fields.append(("style_type", str(options.style_type)))
        return fields
    if options.magic_prompt is not None:
        fields.append(("magic_prompt", str(options.magic_prompt)))
    fields.append(("num_images", str(options.num_images)))
    if options.seed is not None:
        fields.append(("seed", str(options.seed)))
    if options.rendering_speed is not None:
        fields.append(("rendering_speed", str(options.rendering_speed)))
    if options.style_type is not None:
        fields.append(("style_type", str(options.style_type)))
    if options.style_preset:
        fields.append(("style_preset", options.style_preset))
    if options.color_palette is not None:
        fields.append(("color_palette", palette_json(options.color_palette)))
    fields.extend(("style_codes", code) for code in options.style_codes)
    return fields


def build_form(
    shape: ApiShape,
    image: ApiImage,
    mask: ApiImage,
    prompt: str,
    options: EditOptions,
    default_model: LegacyModel,
) -> aiohttp.FormData:
    """A fresh multipart body. aiohttp bodies are single-use, so call this once per attempt: each
    attempt then sends its files whole, from their first byte (``ImagePart``)."""
    form = aiohttp.FormData(default_to_multipart=True)
    image_field, mask_field = FILE_FIELDS[shape]
    form.add_field(image_field, ImagePart(image), filename=f"image.{image.extension}")
    form.add_field(mask_field, ImagePart(mask), filename=f"mask.{mask.extension}")
    for name, value in form_fields(shape, prompt, options, default_model):
        # the v3 spec declares color_palette's part as application/json
        content_type = "application/json" if name == "color_palette" else None
        form.add_field(name, value, content_type=content_type)
    return form


def auth_headers(settings: Settings) -> dict[str, str]:
    """The only place the key is revealed; the dict is passed per request, never stored on the session,
    so result downloads (another host) never see it."""
    key = settings.ideogram_api_key.reveal()
    headers = {"Accept": "application/json"}
    if settings.ideogram_auth is AuthScheme.BEARER:
        headers["Authorization"] = f"Bearer {key}"
    else:
        headers["Api-Key"] = key
    return headers


PART_CHUNK = 256 * 1024


class ImagePart(aiohttp.Payload):
    """One file part of the body, written in ``PART_CHUNK`` pieces: from its file (opened when the
    body is written, read off the event loop, closed at once) or from bytes (sliced, never copied —
    aiohttp's ``BytesIO`` payload copies the buffer, and a ``bytes`` one hands the transport all of it).

    Every write starts from the first byte, so a payload aiohttp sends twice (it may, on a dropped
    kept-alive connection or a 307) is sent whole each time; our retries build a new one anyway. The
    size is declared up front (the body gets a Content-Length, as Ideogram expects), so a file that is
    not that size any more fails the attempt instead of sending a body shorter than announced."""

    def __init__(self, image: ApiImage) -> None:
        super().__init__(image, content_type=image.mime)
        self._size = image.size

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        limit = self._size if content_length is None else min(content_length, self._size)
        image: ApiImage = self._value
        if isinstance(image, ImageFile):
            view = memoryview(image.data)
            for start in range(0, limit, PART_CHUNK):
                await writer.write(view[start : min(start + PART_CHUNK, limit)])
            return
        file = await asyncio.to_thread(image.path.open, "rb")
        try:
            sent = 0
            while sent < limit:
                chunk = await asyncio.to_thread(file.read, min(PART_CHUNK, limit - sent))
                if not chunk:
                    raise OSError(f"{image.path.name} ended after {sent} of {image.size} bytes")
                await writer.write(chunk)
                sent += len(chunk)
        finally:
            file.close()

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("an image part is binary")  # aiohttp only calls it for text payloads
