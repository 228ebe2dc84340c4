"""Every hard number the bot enforces, in one place (the README's "Limits" table is written from this)."""

from __future__ import annotations

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
PROMPT_MAX_CHARS = 2000
MASK_THRESHOLD = 128  # grey levels below this count as black (edit) after convention handling

# Result downloads
RESULT_MAX_BYTES = 50 * 1024 * 1024
RESULT_DOWNLOAD_TIMEOUT_S = 60.0

# Discord-facing
DISCORD_COUNT_MAX = 4  # images per /edit
