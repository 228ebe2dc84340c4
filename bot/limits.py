"""The bot's fixed numbers, and the one specification of the limits a server admin can change.

Fixed numbers: the image API's own limits and our input guards (the README's "Limits" table is written
from this). Changeable limits: :data:`LIMITS` — each per-user/per-server quota with its name, label,
unit, minimum, default and ceiling. The settings (``LimitDefaults`` and its environment variables),
``GuildConfig``'s fields, the storage columns (:data:`LIMIT_NAMES`), the admin command's choices and the
texts that name a limit all derive from it. (Rate limits other than these live in ``bot/quota.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.models import Region

# Ideogram's own limits (../shared/ideogram/NOTES.md)
API_MAX_FILE_BYTES = 10 * 1024 * 1024  # each of image and mask
NUM_IMAGES_MIN = 1
NUM_IMAGES_MAX = 8  # per request, official API
SEED_MIN = 0
SEED_MAX = 2_147_483_647

# Our own input limits
MAX_INPUT_BYTES = 40 * 1024 * 1024  # an upload larger than this is refused before download
MAX_INPUT_PIXELS = 40_000_000  # decompression-bomb guard (about 6300 x 6300)
MIN_SIDE = 64  # smaller images are refused: the API cannot do anything useful with them
PROMPT_MAX_CHARS = 2000  # the prompt option, the prompt forms and check_prompt all use this
MASK_THRESHOLD = 128  # grey levels below this count as black (edit) after convention handling

# Result downloads
RESULT_MAX_BYTES = 50 * 1024 * 1024
RESULT_DOWNLOAD_TIMEOUT_S = 60.0

# Discord-facing
DISCORD_COUNT_MAX = 4  # images per /edit


# --- the limits a server can change -----------------------------------------------------------------


class Unit(StrEnum):
    IMAGES = "images"
    MINUTES = "minutes"
    JOBS = "jobs"


MIN_WINDOW_MINUTES = 1  # a zero-length window would mean "no limit", which 0 images already says clearly
LIMIT_CEILING = 1_000_000  # the largest value settings accept; the admin command should offer the same range


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """One changeable limit. ``name`` is the ``GuildConfig`` field and storage column; ``setting`` the
    ``LimitDefaults`` field (its environment variable is ``setting.upper()``); ``label`` the catalogue
    message that names it; ``role_label``, set when a role override may replace it (``per_role``), the
    short message that shows a role's value for it (``$value``)."""

    name: str
    setting: str
    label: str
    unit: Unit
    minimum: int
    default: int
    ceiling: int = LIMIT_CEILING
    role_label: str | None = None
    admin_max: str | None = None  # the operator's setting (``Settings`` field) capping what server admins may set

    @property
    def per_role(self) -> bool:
        return self.role_label is not None

    @property
    def admin_max_env_var(self) -> str | None:
        return self.admin_max.upper() if self.admin_max else None

    @property
    def env_var(self) -> str:
        return self.setting.upper()

    def accepts(self, value: int) -> bool:
        return not isinstance(value, bool) and isinstance(value, int) and self.minimum <= value <= self.ceiling

    def clamp(self, value: int) -> int:
        return min(max(value, self.minimum), self.ceiling)


LIMITS: tuple[LimitSpec, ...] = (
    LimitSpec(
        "window_images",
        "user_window_images",
        "limit-window-images",
        Unit.IMAGES,
        0,
        5,
        role_label="limits-role-window",
    ),
    LimitSpec("window_minutes", "user_window_minutes", "limit-window-minutes", Unit.MINUTES, MIN_WINDOW_MINUTES, 10),
    LimitSpec(
        "daily_images",
        "user_daily_images",
        "limit-daily-images",
        Unit.IMAGES,
        0,
        25,
        role_label="limits-role-daily",
        admin_max="max_user_daily_images",
    ),
    LimitSpec(
        "max_active_jobs",
        "user_max_active_jobs",
        "limit-max-active-jobs",
        Unit.JOBS,
        0,
        3,
        role_label="limits-role-at-once",
    ),
    LimitSpec(
        "guild_daily_images",
        "guild_daily_images",
        "limit-guild-daily-images",
        Unit.IMAGES,
        0,
        200,
        admin_max="max_guild_daily_images",
    ),
)
# The operator's ceilings on what server admins may set (``/limits set`` and role limits), by the
# ``Settings`` field a ``LimitSpec.admin_max`` names, with their defaults (issue 10: every image costs
# the operator, and server admins are strangers).
ADMIN_CEILINGS: dict[str, int] = {"max_user_daily_images": 100, "max_guild_daily_images": 1000}
DAILY_IMAGE_BUDGET = 500  # images per UTC day for the whole bot, all servers and DMs (``DAILY_IMAGE_BUDGET``)
LIMIT_NAMES: tuple[str, ...] = tuple(spec.name for spec in LIMITS)  # GuildConfig fields, storage columns
ROLE_LIMIT_NAMES: tuple[str, ...] = tuple(spec.name for spec in LIMITS if spec.per_role)
LIMITS_BY_NAME = {spec.name: spec for spec in LIMITS}


def limit_spec(name: str) -> LimitSpec:
    try:
        return LIMITS_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown limit {name!r}") from None


# --- one definition of the mask vocabulary ---------------------------------------------------------

AREA_WORDS: tuple[str, ...] = tuple(r.value for r in Region)  # what members may type for a region
AREA_LIST = ", ".join(AREA_WORDS)  # the catalogue's $areas argument
BOX_EXAMPLE = "10,20,60,80"  # left, top, right, bottom in percent of the width and height
