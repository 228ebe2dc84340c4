"""Building the edit request: form fields per API shape, the multipart body and the auth headers.

Kept free of I/O so the exact wire fields can be unit-tested without a server.
"""

from __future__ import annotations

import io

import aiohttp

from bot import limits
from bot.errors import InputError
from bot.i18n import msg
from bot.models import ImageFile
from bot.options import ApiShape, AuthScheme, EditOptions, LegacyModel, check_prompt, palette_json
from bot.settings import Settings

API_MIMES = frozenset({"image/png", "image/jpeg", "image/webp"})
FILE_FIELDS = {ApiShape.V3: ("image", "mask"), ApiShape.LEGACY: ("image_file", "mask")}


def validate_request(shape: ApiShape, image: ImageFile, mask: ImageFile, prompt: str, options: EditOptions) -> str:
    """Reject what the API would reject, before anything is sent (nothing billed, no round trip).

    Returns the prompt as it will be sent (surrounding whitespace removed).
    """
    options.validate(shape)
    text = check_prompt(prompt)
    for name, file in (("image", image), ("mask", mask)):
        if file.mime not in API_MIMES:
            raise InputError(msg("request-file-type", file=name, mime=file.mime))
        if len(file.data) > limits.API_MAX_FILE_BYTES:
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
    image: ImageFile,
    mask: ImageFile,
    prompt: str,
    options: EditOptions,
    default_model: LegacyModel,
) -> aiohttp.FormData:
    """A fresh multipart body. aiohttp bodies are single-use, so call this once per attempt."""
    form = aiohttp.FormData(default_to_multipart=True)
    image_field, mask_field = FILE_FIELDS[shape]
    # BytesIO, not bytes: aiohttp warns that big raw bytes bodies block the loop while being written
    form.add_field(image_field, io.BytesIO(image.data), filename=f"image.{image.extension}", content_type=image.mime)
    form.add_field(mask_field, io.BytesIO(mask.data), filename=f"mask.{mask.extension}", content_type=mask.mime)
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
