"""Plain data passed between the image pipeline, the Ideogram client and the edit service."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.errors import InputError
from bot.i18n import msg


class Region(StrEnum):
    """Named regions users can pick instead of drawing a mask."""

    TOP = "top"
    BOTTOM = "bottom"
    LEFT = "left"
    RIGHT = "right"
    CENTER = "center"
    BORDER = "border"


@dataclass(frozen=True, slots=True)
class ImageFile:
    """Encoded image bytes ready to send or store, with what we know about them."""

    data: bytes
    mime: str  # image/png, image/jpeg, image/webp
    width: int
    height: int

    @property
    def extension(self) -> str:
        return extension_of(self.mime)

    @property
    def size(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:  # never dump megabytes into a log line
        return f"ImageFile({self.mime}, {self.width}x{self.height}, {len(self.data)} bytes)"


@dataclass(frozen=True, slots=True)
class ImageOnDisk:
    """An encoded image in a file, usually the content-addressed store (``sha`` is its name there):
    sent to the API and handed from the download to the store without being read whole (issue 11)."""

    path: Path
    mime: str
    width: int
    height: int
    size: int  # bytes
    sha: str | None = None

    @property
    def extension(self) -> str:
        return extension_of(self.mime)


ApiImage = ImageFile | ImageOnDisk  # what the client sends, and what a downloaded result is


def extension_of(mime: str) -> str:
    return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(mime, "bin")


@dataclass(frozen=True, slots=True)
class MaskSpec:
    """How the user said what to change. At most one of ``mask``/``region``/``box`` is used,
    in that order; with none of them the image's own transparency is the mask."""

    mask: bytes | None = None
    invert: bool = False  # True: the mask is white = edit (Stable Diffusion convention)
    region: Region | None = None
    box: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2 in percent

    def __repr__(self) -> str:
        mask = f"{len(self.mask)} bytes" if self.mask is not None else None
        return f"MaskSpec(mask={mask}, invert={self.invert}, region={self.region}, box={self.box})"


def check_area_choice(*, mask: bool, region: bool, box: bool) -> None:
    """One way to say what changes: the one check for ``/edit``, the forms and the CLI (run before
    anything is downloaded or read, so it takes what was given, not the bytes)."""
    if region and box:
        raise InputError(msg("area-region-and-box"))
    if mask and (region or box):
        raise InputError(msg("area-mask-and-region"))


@dataclass(frozen=True, slots=True)
class PreparedEdit:
    """Image and mask in the API's convention (black = edit), same size, each within the API's
    file limit."""

    image: ImageFile
    mask: ImageFile  # PNG, mode L, pure 0/255
    edit_fraction: float  # share of pixels that will be repainted, 0 < f <= 1
    notes: tuple[str, ...] = ()  # what was done to the inputs, in words a user understands


@dataclass(frozen=True, slots=True)
class ResultImage:
    index: int
    seed: int | None
    is_safe: bool
    prompt_used: str | None
    resolution: str | None  # as the API reported it, e.g. "1024x1024"
    # None when withheld by the safety filter; on disk when the client was given a store to stream into
    image: ApiImage | None = None
    style_type: str | None = None

    @property
    def withheld(self) -> bool:
        return self.image is None


@dataclass(frozen=True, slots=True)
class EditResult:
    images: tuple[ResultImage, ...]
    created: str | None = None
    task_id: str | None = None
    api_seconds: float = 0.0  # time spent waiting for the API (incl. polling, excl. downloads)
    attempts: int = 1
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def delivered(self) -> tuple[ResultImage, ...]:
        return tuple(r for r in self.images if r.image is not None)

    @property
    def withheld(self) -> tuple[ResultImage, ...]:
        return tuple(r for r in self.images if r.image is None)
