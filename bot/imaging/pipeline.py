"""From the user's image and mask spec to a :class:`PreparedEdit` the API accepts.

Everything here is CPU work; the ``async`` functions run the synchronous ones on the Pillow pool
(``bot.imaging.executor``: one thread per core, separate from the default pool that does file I/O) so
the event loop never decodes pixels.

The mask comes from, in order: a mask file, a region, a box, the image's own transparency
(``MaskSpec``'s documented priority); with none of them we raise ``MaskMissing``. When the image has
transparent pixels but something else is the mask, they are filled with white and a note says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.errors import NothingToEdit
from bot.i18n import msg
from bot.limits import API_MAX_FILE_BYTES
from bot.memory import MemoryBudget, preparation_weight
from bot.models import ImageFile, MaskSpec, PreparedEdit

from .compare import side_by_side
from .decode import SourceImage, decode_image, load_image_info
from .executor import run_pillow
from .fit import fit_for_upload, fit_pair, thumbnail, to_file
from .mask import (
    BuiltMask,
    black_pixels,
    box_mask,
    encode_mask,
    mask_from_alpha,
    mask_from_file,
    missing_mask_error,
    region_mask,
)
from .preview import preview

__all__ = [
    "Prepared",
    "fit_file_for_upload_async",
    "fit_for_upload_async",
    "load_image_info",
    "prepare_edit",
    "prepare_edit_file",
    "prepare_edit_sync",
    "preview_async",
    "side_by_side_async",
    "thumbnail_async",
]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A preparation and, when asked for, its preview (made while the memory was held)."""

    edit: PreparedEdit
    preview: ImageFile | None


def prepare_edit_sync(image: bytes, spec: MaskSpec, *, max_bytes: int = API_MAX_FILE_BYTES) -> PreparedEdit:
    """Validate and normalise the image, build the mask, and fit both within ``max_bytes``.
    Raises InputError (incl. NothingToEdit, MaskMissing) with a message for the user."""
    source = decode_image(image, max_bytes=max_bytes)
    built = build_mask(spec, source)
    notes = [*source.notes, *built.notes]
    if source.alpha is not None and not built.from_image_alpha:
        notes.append("filled the image's transparent pixels with white")
    image_file, mask_file, final_mask, fit_notes = _encode(source, built, max_bytes)
    notes += fit_notes
    black = built.black if final_mask is built.image else black_pixels(final_mask)
    if black == 0:
        raise NothingToEdit(msg("mask-vanished"))
    return PreparedEdit(
        image=image_file,
        mask=mask_file,
        edit_fraction=black / (final_mask.width * final_mask.height),
        notes=tuple(notes),
    )


def build_mask(spec: MaskSpec, source: SourceImage) -> BuiltMask:
    if spec.mask is not None:
        return mask_from_file(spec.mask, source.size, invert=spec.invert)
    if spec.region is not None:
        return BuiltMask(region_mask(source.size, spec.region))
    if spec.box is not None:
        return BuiltMask(box_mask(source.size, spec.box))
    if source.alpha is not None:
        note = "used the image's transparent area as the mask"
        built = BuiltMask(mask_from_alpha(source.alpha), None, [note], from_image_alpha=True)
        if built.black:
            return built
    raise missing_mask_error()


def _encode(
    source: SourceImage, mask: BuiltMask, max_bytes: int
) -> tuple[ImageFile, ImageFile, Image.Image, list[str]]:
    """Pass-through image plus mask when both fit; otherwise re-encode (and maybe downscale) both."""
    if source.original is not None:
        mask_data = mask.data if mask.data is not None else encode_mask(mask.image)
        if len(mask_data) <= max_bytes:
            return source.original, to_file(mask_data, "PNG", mask.image.size), mask.image, []
    fitted = fit_pair(
        source.require_pixels(),
        mask.image,
        max_bytes=max_bytes,
        lossless=source.lossless,
        icc_profile=source.icc_profile,
        mask_data=mask.data,
    )
    return fitted.image, fitted.mask, fitted.mask_pixels, fitted.notes


# --- Async entry points -----------------------------------------------------------------------------


async def prepare_edit(
    image: bytes,
    spec: MaskSpec,
    *,
    max_bytes: int = API_MAX_FILE_BYTES,
    memory: MemoryBudget | None = None,
    on_position: Callable[[int], None] | None = None,
) -> PreparedEdit:
    """With ``memory``, waits (FIFO) until the image's weight, read from its header, fits in the budget;
    ``on_position(n)`` hears the place in that queue while it waits (see ``bot.memory``)."""
    if memory is None:
        return await run_pillow(prepare_edit_sync, image, spec, max_bytes=max_bytes)
    async with memory.request(preparation_weight(image), on_position=on_position):
        return await run_pillow(prepare_edit_sync, image, spec, max_bytes=max_bytes)


def _prepare_file_sync(path: Path, spec: MaskSpec, max_bytes: int, with_preview: bool) -> Prepared:
    prepared = prepare_edit_sync(path.read_bytes(), spec, max_bytes=max_bytes)
    return Prepared(prepared, preview(prepared) if with_preview else None)


async def prepare_edit_file(
    path: Path,
    spec: MaskSpec,
    *,
    max_bytes: int = API_MAX_FILE_BYTES,
    memory: MemoryBudget | None = None,
    on_position: Callable[[int], None] | None = None,
    with_preview: bool = False,
) -> Prepared:
    """``prepare_edit`` for an image on disk (a streamed attachment): only its header is read while the
    request waits for memory; the file is read, decoded (and its preview made) once admitted."""
    if memory is None:
        return await run_pillow(_prepare_file_sync, path, spec, max_bytes, with_preview)
    weight = await asyncio.to_thread(preparation_weight, path)
    async with memory.request(weight, on_position=on_position):
        return await run_pillow(_prepare_file_sync, path, spec, max_bytes, with_preview)


async def fit_for_upload_async(image: ImageFile, max_bytes: int, *, memory: MemoryBudget | None = None) -> ImageFile:
    """With ``memory``, a result that must be re-encoded (larger than ``max_bytes``) waits for its
    weight in the same budget as preparations; one that fits is returned at once, untouched."""
    if memory is None or len(image.data) <= max_bytes:
        return await run_pillow(fit_for_upload, image, max_bytes)
    async with memory.request(preparation_weight(image.data)):
        return await run_pillow(fit_for_upload, image, max_bytes)


def _fit_file(path: Path, mime: str, width: int, height: int, max_bytes: int) -> ImageFile:
    return fit_for_upload(ImageFile(path.read_bytes(), mime, width, height), max_bytes)


async def fit_file_for_upload_async(
    path: Path, mime: str, width: int, height: int, max_bytes: int, *, memory: MemoryBudget | None = None
) -> ImageFile:
    """``fit_for_upload_async`` for a stored result too large to upload as it is: weighed from its
    header, and only read (in the Pillow pool) once the budget admits it, so results waiting to be
    re-encoded hold no memory."""
    if memory is None:
        return await run_pillow(_fit_file, path, mime, width, height, max_bytes)
    weight = await asyncio.to_thread(preparation_weight, path)
    async with memory.request(weight):
        return await run_pillow(_fit_file, path, mime, width, height, max_bytes)


async def preview_async(prepared: PreparedEdit) -> ImageFile:
    return await run_pillow(preview, prepared)


async def side_by_side_async(before: bytes, after: bytes, labels: tuple[str, str] = ("Before", "After")) -> ImageFile:
    return await run_pillow(side_by_side, before, after, labels)


async def thumbnail_async(data: bytes, max_side: int) -> ImageFile:
    return await run_pillow(thumbnail, data, max_side)
