"""The one path from "an image, a mask and a prompt" to "edited images in hand".

The command line calls it directly; the Discord bot reaches it through the job scheduler, so both use
exactly the same preparation, validation and API code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.ideogram import IdeogramClient
from bot.ideogram.client import ResultStore
from bot.imaging import Prepared, prepare_edit, prepare_edit_file
from bot.memory import MemoryBudget
from bot.models import ApiImage, EditResult, MaskSpec, PreparedEdit, check_area_choice
from bot.options import EditOptions, check_prompt
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EditOutcome:
    prepared: PreparedEdit
    result: EditResult
    seconds: float  # wall time of the whole edit, preparation and downloads included


class EditService:
    def __init__(self, settings: Settings, client: IdeogramClient, memory: MemoryBudget | None = None) -> None:
        self.settings = settings
        self.client = client
        self.memory = memory  # admits preparations by decoded size (``bot.memory``); None: unbounded (CLI)

    def validate(self, prompt: str, options: EditOptions) -> str:
        options.validate(self.settings.ideogram_api)
        return check_prompt(prompt)

    async def prepare(
        self, image: bytes, spec: MaskSpec, *, on_position: Callable[[int], None] | None = None
    ) -> PreparedEdit:
        check_area_choice(mask=spec.mask is not None, region=spec.region is not None, box=spec.box is not None)
        return await prepare_edit(image, spec, memory=self.memory, on_position=on_position)

    async def prepare_file(
        self,
        path: Path,
        spec: MaskSpec,
        *,
        with_preview: bool = False,
        on_position: Callable[[int], None] | None = None,
    ) -> Prepared:
        """As ``prepare`` for an image on disk: nothing but its header is read until memory admits it."""
        check_area_choice(mask=spec.mask is not None, region=spec.region is not None, box=spec.box is not None)
        return await prepare_edit_file(
            path, spec, memory=self.memory, on_position=on_position, with_preview=with_preview
        )

    async def run(self, prepared: PreparedEdit, prompt: str, options: EditOptions) -> EditResult:
        return await self.send(prepared.image, prepared.mask, prompt, options)

    async def send(
        self, image: ApiImage, mask: ApiImage, prompt: str, options: EditOptions, *, store: ResultStore | None = None
    ) -> EditResult:
        """The API call for inputs already prepared (in memory, or files in the store); with ``store``
        the results are streamed into it (see ``IdeogramClient.edit``)."""
        prompt = self.validate(prompt, options)
        return await self.client.edit(image, mask, prompt, options, store=store)

    async def edit(self, image: bytes, spec: MaskSpec, prompt: str, options: EditOptions) -> EditOutcome:
        started = time.perf_counter()
        prompt = self.validate(prompt, options)
        prepared = await self.prepare(image, spec)
        result = await self.run(prepared, prompt, options)
        seconds = time.perf_counter() - started
        log.info(
            "edit done: %d delivered, %d withheld, %.2fs (API %.2fs)",
            len(result.delivered),
            len(result.withheld),
            seconds,
            result.api_seconds,
        )
        return EditOutcome(prepared, result, seconds)
