"""The mask editor's core: drafts, signed single-use links, and turning a drawn mask into a queued job.

A command that has an image but no area creates a *draft* (what the command knew: requester, roles,
reply token, prompt, options, image) and hands the user a link to the web editor. The link's token is
``<draft id>.<user id>.<expiry>.<HMAC-SHA256>`` under a secret that is ``WEB_SECRET`` or generated once
and kept in ``DATA_DIR``: forging or altering any part breaks the signature (403), an old link is
refused (410), and a draft is confirmed at most once (409). Confirm goes through ``JobService`` exactly
like ``/edit`` (same checks, quota reservation, queue); the adapter then shows progress in Discord.

This module imports no ``discord`` and no web framework: ``bot.web`` and ``cogs.editor`` call it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import logging
import os
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from PIL import Image

from bot.errors import BotError, InputError, NotFound
from bot.i18n import msg
from bot.imaging import prepare_edit, preview_async
from bot.imaging.decode import decode_for_display, header_orientation, open_image
from bot.jobs import JobService, Origin
from bot.limits import MAX_INPUT_BYTES
from bot.models import ImageFile, MaskSpec, PreparedEdit
from bot.options import EditOptions
from bot.settings import Settings
from bot.store import Draft, DraftState, ImageKind, Job, JobAction, NewDraft, Storage

log = logging.getLogger(__name__)

SECRET_FILE = "web_secret"
MAX_MASK_BYTES = 16 * 1024 * 1024  # a full-resolution black/white PNG is far smaller
BROWSER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

# User-facing texts: messages of the Fluent catalogue (bot/locales/*/services.ftl and edit.ftl).
FORGED = msg("editor-link-forged")
EXPIRED = msg("editor-link-expired")
USED = msg("editor-link-used")
IMAGE_GONE = msg("editor-image-gone")
SESSION_CLOSED = msg("editor-session-closed")
NOT_ENABLED = msg("editor-off")


class LinkForged(BotError):
    code = "link_forged"


class LinkExpired(BotError):
    code = "link_expired"


class LinkUsed(BotError):
    code = "link_used"


@dataclass(frozen=True, slots=True)
class LinkClaims:
    draft_id: int
    user_id: int
    expires_at: datetime


class LinkSigner:
    """HMAC-SHA256 over the draft id, the user id and the expiry; compared in constant time."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret must be at least 16 bytes")
        self._key = secret

    def sign(self, draft_id: int, user_id: int, expires_at: datetime) -> str:
        body = f"{draft_id}.{user_id}.{int(expires_at.timestamp())}"
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str, now: datetime) -> LinkClaims:
        """``LinkForged`` for anything not signed by us (checked first), then ``LinkExpired``."""
        body, _, mac = token.rpartition(".")
        if not body or len(token) > 200 or not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            raise LinkForged(FORGED)
        try:
            draft_id, user_id, expires = (int(part) for part in body.split("."))
        except ValueError:
            raise LinkForged(FORGED) from None
        expires_at = datetime.fromtimestamp(expires, UTC)
        if now >= expires_at:
            raise LinkExpired(EXPIRED)
        return LinkClaims(draft_id, user_id, expires_at)

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def load_secret(settings: Settings) -> bytes:
    """``WEB_SECRET``, else a random secret generated on first use and kept in ``DATA_DIR`` (mode 600),
    so links survive restarts."""
    if settings.web_secret:
        return settings.web_secret.reveal().encode()
    path = Path(settings.data_dir) / SECRET_FILE
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(secret)
    return secret


class DraftNotifier(Protocol):
    """The adapter's side of a confirm: show progress where the command was answered."""

    async def submitted(self, job: Job, draft: Draft, prepared: PreparedEdit | None) -> None: ...


@dataclass(frozen=True, slots=True)
class DraftView:
    """What the page needs (never the reply token)."""

    prompt: str
    width: int
    height: int
    place: str
    private: bool
    has_mask: bool
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Confirmed:
    job_id: int
    place: str
    private: bool


class EditorService:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        jobs: JobService,
        signer: LinkSigner,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.jobs = jobs
        self.signer = signer
        self.notifier: DraftNotifier | None = None  # set by the composition root
        self._clock = clock or (lambda: datetime.now(UTC))
        self._shown: OrderedDict[str, tuple[bytes, str, int, int]] = OrderedDict()  # sha -> browser image

    @property
    def enabled(self) -> bool:
        return bool(self.settings.public_url)

    def link(self, draft: Draft) -> str:
        token = self.signer.sign(draft.id, draft.requester.user_id, draft.expires_at)
        return f"{self.settings.public_url}/e/{token}"

    def expiry(self) -> datetime:
        return self._clock() + timedelta(minutes=self.settings.editor_link_minutes)

    # --- creating drafts (called by the adapter) ---------------------------------------------------

    async def draft_for_upload(
        self, origin: Origin, image: bytes, prompt: str, options: EditOptions, *, place: str, application_id: int
    ) -> str:
        """``/edit`` or the context menu with an image but no area: the link to draw it."""
        sha = await self.storage.files.put(image)
        return await self._create(origin, sha, prompt, options, place=place, application_id=application_id)

    async def draft_for_result(
        self, origin: Origin, job: Job, *, image_index: int | None = None, place: str, application_id: int
    ) -> str:
        """**Draw mask** on a result: edit its image ``image_index`` (default: the first one shown),
        starting from the mask it was made with."""
        outputs = sorted(
            (i for i in await self.storage.job_images(job.id) if i.kind is ImageKind.OUTPUT and i.sha),
            key=lambda i: i.index,
        )
        if not outputs:
            raise NotFound(msg("result-no-image"))
        if image_index is not None:
            chosen = [i for i in outputs if i.index == image_index]
            if not chosen:
                shown = ", ".join(str(i.index + 1) for i in outputs)
                raise InputError(msg("result-images-are", images=shown))
            outputs = chosen
        options = replace(EditOptions.from_json(job.options), seed=None)  # like Use as base: a new seed
        return await self._create(
            origin,
            outputs[0].sha or "",
            job.prompt,
            options,
            place=place,
            application_id=application_id,
            mask_sha=job.mask_sha or None,
            parent_job_id=job.id,
            image_index=outputs[0].index,
        )

    async def _create(
        self,
        origin: Origin,
        image_sha: str,
        prompt: str,
        options: EditOptions,
        *,
        place: str,
        application_id: int,
        mask_sha: str | None = None,
        parent_job_id: int | None = None,
        image_index: int = 0,
    ) -> str:
        draft = await self.storage.create_draft(
            NewDraft(
                requester=origin.requester,
                prompt=prompt,
                options=options.to_json(),
                image_sha=image_sha,
                expires_at=self.expiry(),
                role_ids=origin.role_ids,
                private=origin.private,
                reply_token=origin.reply_token,
                application_id=application_id,
                payer_user_id=origin.payer_user_id,
                session_id=origin.session_id,
                open_thread=origin.open_thread,
                mask_sha=mask_sha,
                parent_job_id=parent_job_id,
                image_index=image_index,
                place=place,
            )
        )
        log.info("editor draft %d created for user %d", draft.id, draft.requester.user_id)
        return self.link(draft)

    # --- the page (called by bot.web) --------------------------------------------------------------

    async def open(self, token: str) -> Draft:
        """The draft a link names, if the link is genuine, current and unused."""
        claims = self.signer.verify(token, self._clock())
        draft = await self.storage.get_draft(claims.draft_id)
        if draft is None or draft.requester.user_id != claims.user_id:
            raise LinkForged(FORGED)  # a valid signature for a draft that is gone: treat as unknown
        if draft.state is not DraftState.OPEN:
            raise LinkUsed(USED)
        return draft

    async def view(self, token: str) -> DraftView:
        draft = await self.open(token)
        _, _, width, height = await self._browser_image(draft)
        return DraftView(
            prompt=draft.prompt,
            width=width,
            height=height,
            place=draft.place,
            private=draft.private,
            has_mask=draft.mask_sha is not None,
            expires_at=draft.expires_at,
        )

    async def image(self, token: str) -> tuple[bytes, str]:
        data, mime, _, _ = await self._browser_image(await self.open(token))
        return data, mime

    async def start_mask(self, token: str) -> bytes | None:
        """The mask the draft starts from (re-editing a result), as PNG at the image's size."""
        draft = await self.open(token)
        if draft.mask_sha is None:
            return None
        _, _, width, height = await self._browser_image(draft)
        data = await self._file(draft.mask_sha)
        return await asyncio.to_thread(_mask_at, data, (width, height))

    async def preview(self, token: str, mask: bytes) -> ImageFile:
        """The image with the area tinted, as Discord shows it; validates the mask like an upload."""
        draft = await self.open(token)
        prepared = await self._prepare(draft, mask)
        return await preview_async(prepared)

    async def confirm(self, token: str, prompt: str, mask: bytes) -> Confirmed:
        """Queue the edit exactly like ``/edit``; refusals leave the draft open to try again."""
        draft = await self.open(token)
        claimed = await self.storage.claim_draft(draft.id)
        if claimed is None:
            raise LinkUsed(USED)
        try:
            await self._check_mask_size(draft, mask)
            origin = Origin(
                requester=draft.requester,
                role_ids=draft.role_ids,
                private=draft.private,
                reply_token=draft.reply_token,
                payer_user_id=draft.payer_user_id,
                session_id=draft.session_id,
                open_thread=draft.open_thread,
            )
            options = EditOptions.from_json(draft.options)
            spec = MaskSpec(mask=mask)
            if draft.session_id is not None:  # closed since the link was made? (access was checked then)
                session = await self.storage.get_session(draft.session_id)
                if session is None or session.closed:
                    raise InputError(SESSION_CLOSED)
            if draft.parent_job_id is not None:
                parent = await self.storage.get_job(draft.parent_job_id)
                if parent is None:
                    raise NotFound(msg("editor-result-gone"))
                submitted = await self.jobs.submit_followup(
                    origin,
                    parent,
                    JobAction.USE_AS_BASE,
                    prompt=prompt,
                    image_index=draft.image_index,
                    spec=spec,
                    options=options,
                )
            else:
                self.jobs.check(prompt, options)
                await self.jobs.precheck(origin, options.num_images)
                image = await self._file(draft.image_sha)
                submitted = await self.jobs.submit(origin, image, spec, prompt, options)
        except BaseException:
            await self.storage.settle_draft(draft.id, None)
            raise
        await self.storage.settle_draft(draft.id, submitted.job.id)
        log.info("editor draft %d confirmed as job %d", draft.id, submitted.job.id)
        if self.notifier is not None:
            try:
                await self.notifier.submitted(submitted.job, draft, submitted.prepared)
            except Exception:  # the job is queued and will be posted; progress is a nicety
                log.warning("job %d: could not show its progress in Discord", submitted.job.id, exc_info=True)
        return Confirmed(submitted.job.id, draft.place, draft.private)

    # --- helpers -------------------------------------------------------------------------------------

    async def _prepare(self, draft: Draft, mask: bytes) -> PreparedEdit:
        await self._check_mask_size(draft, mask)
        return await prepare_edit(await self._file(draft.image_sha), MaskSpec(mask=mask))

    async def _check_mask_size(self, draft: Draft, mask: bytes) -> None:
        """The editor draws at the image's full size: any other size is a broken upload."""
        if len(mask) > MAX_MASK_BYTES:
            raise InputError(msg("editor-mask-too-large", megabytes=MAX_MASK_BYTES // 1_048_576))
        _, _, width, height = await self._browser_image(draft)
        size = await asyncio.to_thread(_size_of, mask)
        if size != (width, height):
            raise InputError(msg("editor-mask-size", mw=str(size[0]), mh=str(size[1]), iw=str(width), ih=str(height)))

    async def _file(self, sha: str) -> bytes:
        try:
            return await self.storage.files.get(sha)
        except NotFound:
            raise LinkExpired(IMAGE_GONE) from None

    async def _browser_image(self, draft: Draft) -> tuple[bytes, str, int, int]:
        """The image as the pipeline sees it (EXIF rotation applied), in a format every browser shows."""
        cached = self._shown.get(draft.image_sha)
        if cached is None:
            cached = await asyncio.to_thread(browser_image, await self._file(draft.image_sha))
            self._shown[draft.image_sha] = cached
            while len(self._shown) > 4:
                self._shown.popitem(last=False)
        return cached


def browser_image(data: bytes) -> tuple[bytes, str, int, int]:
    """The original bytes when a browser shows them exactly as the pipeline reads them, else a PNG."""
    im = open_image(data, max_bytes=MAX_INPUT_BYTES)
    fmt = "JPEG" if im.format == "MPO" else im.format or ""
    if fmt in BROWSER_FORMATS and header_orientation(im) == 1 and not im.has_transparency_data:
        return data, BROWSER_FORMATS[fmt], im.width, im.height
    shown = decode_for_display(data, max_side=None, subject="image", max_bytes=MAX_INPUT_BYTES)
    buffer = io.BytesIO()
    shown.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue(), "image/png", shown.width, shown.height


def _size_of(data: bytes) -> tuple[int, int]:
    return open_image(data, subject="mask").size


def _mask_at(data: bytes, size: tuple[int, int]) -> bytes:
    mask = open_image(data, subject="mask").convert("L")
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()
