"""The edit request vocabulary: enums and the options dataclass, validated once for each API shape."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from bot import limits
from bot.errors import InputError


class ApiShape(StrEnum):
    V3 = "v3"
    LEGACY = "legacy"


class AuthScheme(StrEnum):
    API_KEY = "api-key"
    BEARER = "bearer"


class MagicPrompt(StrEnum):
    AUTO = "AUTO"
    ON = "ON"
    OFF = "OFF"


class RenderingSpeed(StrEnum):
    FLASH = "FLASH"
    TURBO = "TURBO"
    BALANCED = "BALANCED"
    DEFAULT = "DEFAULT"
    QUALITY = "QUALITY"


class StyleType(StrEnum):
    """Union of both shapes' style types; ``validate`` checks which belong to which shape."""

    AUTO = "AUTO"
    GENERAL = "GENERAL"
    REALISTIC = "REALISTIC"
    DESIGN = "DESIGN"
    FICTION = "FICTION"
    RENDER_3D = "RENDER_3D"
    ANIME = "ANIME"


V3_STYLE_TYPES = frozenset({"AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION"})
LEGACY_STYLE_TYPES = frozenset({"AUTO", "GENERAL", "REALISTIC", "DESIGN", "RENDER_3D", "ANIME"})


class LegacyModel(StrEnum):
    V_2 = "V_2"
    V_2_TURBO = "V_2_TURBO"


STYLE_PRESETS = frozenset(
    """80S_ILLUSTRATION 90S_NOSTALGIA ABSTRACT_ORGANIC ANALOG_NOSTALGIA ART_BRUT ART_DECO ART_POSTER AURA
    AVANT_GARDE BAUHAUS BLUEPRINT BLURRY_MOTION BRIGHT_ART C4D_CARTOON CHILDRENS_BOOK COLLAGE
    COLORING_BOOK_I COLORING_BOOK_II CUBISM DARK_AURA DOODLE DOUBLE_EXPOSURE DRAMATIC_CINEMA EDITORIAL
    EMOTIONAL_MINIMAL ETHEREAL_PARTY EXPIRED_FILM FLAT_ART FLAT_VECTOR FOREST_REVERIE GEO_MINIMALIST
    GLASS_PRISM GOLDEN_HOUR GRAFFITI_I GRAFFITI_II HALFTONE_PRINT HIGH_CONTRAST HIPPIE_ERA ICONIC
    JAPANDI_FUSION JAZZY LONG_EXPOSURE MAGAZINE_EDITORIAL MINIMAL_ILLUSTRATION MIXED_MEDIA MONOCHROME
    NIGHTLIFE OIL_PAINTING OLD_CARTOONS PAINT_GESTURE POP_ART RETRO_ETCHING RIVIERA_POP SPOTLIGHT_80S
    STYLIZED_RED SURREAL_COLLAGE TRAVEL_POSTER VINTAGE_GEO VINTAGE_POSTER WATERCOLOR WEIRD
    WOODBLOCK_PRINT""".split()
)
COLOR_PALETTE_PRESETS = frozenset({"EMBER", "FRESH", "JUNGLE", "MAGIC", "MELON", "MOSAIC", "PASTEL", "ULTRAMARINE"})
_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_STYLE_CODE = re.compile(r"^[0-9a-fA-F]{8}$")


@dataclass(frozen=True, slots=True)
class EditOptions:
    """Everything about an edit except the pixels. ``None`` means "let the API decide"."""

    num_images: int = 1
    seed: int | None = None
    magic_prompt: MagicPrompt | None = None
    rendering_speed: RenderingSpeed | None = None  # v3 only
    style_type: StyleType | None = None
    style_preset: str | None = None  # v3 only
    color_palette: dict[str, Any] | None = None  # v3 only: {"name": ...} or {"members": [...]}
    style_codes: tuple[str, ...] = field(default_factory=tuple)  # v3 only
    model: LegacyModel | None = None  # legacy only; settings supply the default

    def validate(self, shape: ApiShape) -> None:
        """Raise ``InputError`` naming the first field that the API would reject."""
        if not limits.NUM_IMAGES_MIN <= self.num_images <= limits.NUM_IMAGES_MAX:
            raise InputError(
                f"Number of images must be between {limits.NUM_IMAGES_MIN} and "
                f"{limits.NUM_IMAGES_MAX} (got {self.num_images})."
            )
        if self.seed is not None and not limits.SEED_MIN <= self.seed <= limits.SEED_MAX:
            raise InputError(f"Seed must be between {limits.SEED_MIN} and {limits.SEED_MAX} (got {self.seed}).")
        if shape is ApiShape.V3:
            if self.model is not None:
                raise InputError("A model can only be chosen with the legacy API shape.")
            if self.style_type is not None and self.style_type not in V3_STYLE_TYPES:
                raise InputError(
                    f"Style {self.style_type} is not available here; choose one of {', '.join(sorted(V3_STYLE_TYPES))}."
                )
            if self.style_preset is not None and self.style_preset not in STYLE_PRESETS:
                raise InputError(f"Unknown style preset {self.style_preset!r}.")
            if self.style_codes and (self.style_type is not None or self.style_preset):
                raise InputError("Style codes cannot be combined with a style or a style preset.")
            for code in self.style_codes:
                if not _STYLE_CODE.match(code):
                    raise InputError(f"Style code {code!r} must be 8 hexadecimal characters.")
            if self.color_palette is not None:
                _validate_palette(self.color_palette)
        else:
            v3_only = {
                "rendering speed": self.rendering_speed,
                "style preset": self.style_preset,
                "colour palette": self.color_palette,
                "style codes": self.style_codes or None,
            }
            for name, value in v3_only.items():
                if value is not None:
                    raise InputError(f"The {name} option needs the v3 API shape.")
            if self.style_type is not None and self.style_type not in LEGACY_STYLE_TYPES:
                raise InputError(
                    f"Style {self.style_type} is not available here; choose one of "
                    f"{', '.join(sorted(LEGACY_STYLE_TYPES))}."
                )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["style_codes"] = list(self.style_codes)
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in data.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EditOptions:
        def enum(kind: type[StrEnum], key: str) -> Any:
            return kind(data[key]) if data.get(key) is not None else None

        return cls(
            num_images=int(data.get("num_images", 1)),
            seed=data.get("seed"),
            magic_prompt=enum(MagicPrompt, "magic_prompt"),
            rendering_speed=enum(RenderingSpeed, "rendering_speed"),
            style_type=enum(StyleType, "style_type"),
            style_preset=data.get("style_preset"),
            color_palette=data.get("color_palette"),
            style_codes=tuple(data.get("style_codes") or ()),
            model=enum(LegacyModel, "model"),
        )


def _validate_palette(palette: dict[str, Any]) -> None:
    if set(palette) == {"name"}:
        if palette["name"] not in COLOR_PALETTE_PRESETS:
            raise InputError(f"Colour palette must be one of {', '.join(sorted(COLOR_PALETTE_PRESETS))}.")
        return
    members = palette.get("members") if set(palette) == {"members"} else None
    if not isinstance(members, list) or not 1 <= len(members) <= 8:
        raise InputError("A colour palette is a preset name or a list of 1 to 8 colours.")
    for member in members:
        hex_ = member.get("color_hex") if isinstance(member, dict) else None
        if not isinstance(hex_, str) or not _HEX_COLOUR.match(hex_):
            raise InputError(f"Colour {hex_!r} must look like #RRGGBB.")
        weight = member.get("color_weight")
        if weight is not None and not 0.05 <= float(weight) <= 1.0:
            raise InputError("A colour weight must be between 0.05 and 1.0.")


def check_prompt(prompt: str) -> str:
    """The one prompt rule, checked before any pixel work so a typo costs nothing; returns it stripped."""
    text = prompt.strip() if isinstance(prompt, str) else ""
    if not text:
        raise InputError("Please describe the edit: the prompt is empty.")
    if len(text) > limits.PROMPT_MAX_CHARS:
        raise InputError(
            f"The prompt is too long ({len(text)} characters); the limit is {limits.PROMPT_MAX_CHARS}. "
            "Shorten it and try again."
        )
    return text


def palette_json(palette: dict[str, Any]) -> str:
    """The form-field encoding the spec asks for (``color_palette`` is sent as a JSON string)."""
    return json.dumps(palette, separators=(",", ":"))
