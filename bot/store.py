"""The storage interface the core needs, and the records it passes around (backends in `storage/` implement it).

Callers depend on ``Storage`` only, never on a backend. All times are timezone-aware UTC ``datetime``s.
Images are counted in images (the unit Ideogram bills).

**The backend contract.** A backend is a thin transactional store: it decides nothing. Every rule comes
from the core, either run inside the transaction as a pure function or passed in as a value. What each
backend must do *inside one transaction*, and why:

* ``submit_job``: check every limit with ``bot.quota.check_submission`` against usage read in that
  same transaction, then insert the job, its input/mask rows and its ledger reservation (payer from
  ``bot.settlement.payer_of``). Concurrent submissions that share a payer, requester or server must
  be serialised, or two could each see room for the last images and both be accepted (overshoot);
  with the operator's daily budget (``EffectiveLimits.bot_daily_images``) that is every submission.
* ``complete_job`` / ``fail_job`` / ``cancel_job``: the status change only from the right state, and
  the ``Settlement`` the core decided (charge, release the rest, move a session head), together: a
  crash between them would bill a job that never finished, or show a head that never succeeded.
* ``claim_job`` / ``requeue_job`` / ``mark_posted``: a conditional update (from the right state, or
  once), so two workers cannot both run or both post a job. ``claim_job`` with a ``Lease`` that has a
  capacity also sums the images in flight of every process (running, lease live) in the same
  transaction, serialised against other claims, so the global cap holds across processes.
* ``requeue_lost``: only while the job is still lost (its lease expired, or as the start-up of its own
  owner), so a job another process has just re-claimed is never requeued under it.
* ``delete_job`` / ``delete_user_history`` / ``cleanup``: only jobs whose status is in
  ``bot.retention.DELETABLE``, checked in the deleting statement (a job claimed a moment ago stays);
  a file is removed only when no row references it, checked so no new reference can slip in between.
* ``create_session``: one session per result and per thread (``SessionExists``), checked with the insert.
* ``update_guild_config`` / ``set_role_limits``: the change and its audit entry together.

Every backend passes the same contract suite, ``tests/storage/test_contract_*.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from bot.errors import InputError
from bot.i18n import Channel, msg
from bot.limits import ROLE_LIMIT_NAMES


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


class JobAction(StrEnum):
    EDIT = "edit"  # /edit or the "Edit image" context menu
    REROLL = "reroll"  # same inputs, new seed
    EDIT_AGAIN = "edit_again"  # new prompt, same image and mask
    USE_AS_BASE = "use_as_base"  # a result becomes the new input


class ImageKind(StrEnum):
    INPUT = "input"
    MASK = "mask"
    OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class Requester:
    user_id: int
    guild_id: int | None = None  # None in DMs
    channel_id: int | None = None
    thread_id: int | None = None
    # whose language (issue 13): the member's, for what only they see; the server's, for what it posts
    locale: str = "en-US"
    guild_locale: str = "en-US"


@dataclass(frozen=True, slots=True)
class EffectiveLimits:
    """The limits that apply to one submission, after guild and role overrides are resolved."""

    window_images: int
    window_seconds: int
    daily_images: int
    max_active_jobs: int
    guild_daily_images: int
    exempt: bool = False  # exempt roles skip the per-user limits (never the guild's daily cap)
    bot_daily_images: int | None = None  # the operator's DAILY_IMAGE_BUDGET for the whole bot; None: none
    daily_ceiling: int | None = None  # the operator's MAX_USER_DAILY_IMAGES: binds exempt members too


@dataclass(frozen=True, slots=True)
class NewJob:
    requester: Requester
    action: JobAction
    prompt: str
    options: dict[str, Any]  # EditOptions.to_json()
    images_requested: int
    input_sha: str  # content address of the prepared input image
    mask_sha: str  # content address of the normalised mask (black = edit)
    seed: int | None = None
    parent_job_id: int | None = None
    session_id: int | None = None
    payer_user_id: int | None = None  # who is charged; the requester when None
    private: bool = False
    reply_token: str | None = None  # interaction token for private follow-ups (valid 15 min)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    requester: Requester
    action: JobAction
    prompt: str
    options: dict[str, Any]
    seed: int | None
    status: JobStatus
    attempts: int
    images_requested: int
    images_delivered: int
    images_withheld: int
    input_sha: str
    mask_sha: str
    created_at: datetime
    payer_user_id: int
    parent_job_id: int | None = None
    session_id: int | None = None
    private: bool = False
    reply_token: str | None = field(default=None, repr=False)
    error_code: str | None = None
    error_message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress_channel_id: int | None = None
    progress_message_id: int | None = None
    result_channel_id: int | None = None
    result_message_id: int | None = None

    @property
    def posted(self) -> bool:
        return self.result_message_id is not None


@dataclass(frozen=True, slots=True)
class OutputImage:
    """One image the API produced; ``sha`` is None when the safety filter withheld it."""

    index: int
    sha: str | None
    seed: int | None
    is_safe: bool
    prompt_used: str | None
    resolution: str | None
    width: int | None = None
    height: int | None = None
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class JobImage:
    job_id: int
    kind: ImageKind
    index: int
    sha: str | None
    seed: int | None = None
    is_safe: bool = True
    prompt_used: str | None = None
    resolution: str | None = None
    width: int | None = None
    height: int | None = None
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """What ``/quota`` shows: usage against each limit and when each frees up."""

    limits: EffectiveLimits
    window_used: int
    window_frees_at: datetime | None  # when the oldest image in the window leaves it
    daily_used: int
    daily_resets_at: datetime  # next midnight UTC
    active_jobs: int
    guild_daily_used: int | None  # None in DMs
    bot_daily_used: int | None = None  # the whole bot's images today; None without DAILY_IMAGE_BUDGET


@dataclass(frozen=True, slots=True)
class RoleLimits:
    role_id: int
    window_images: int | None = None
    daily_images: int | None = None
    max_active_jobs: int | None = None
    exempt: bool = False


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """Per-guild overrides; ``None`` means "use the bot-wide default from settings"."""

    guild_id: int
    window_images: int | None = None
    window_minutes: int | None = None
    daily_images: int | None = None
    max_active_jobs: int | None = None
    guild_daily_images: int | None = None
    roles: tuple[RoleLimits, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    guild_id: int
    actor_id: int
    action: str  # stored as ``AuditAction.text``: "set daily_images", "role 123", "role 123 removed"
    old_value: str | None
    new_value: str | None
    created_at: datetime

    @property
    def what(self) -> AuditAction:
        return AuditAction.parse(self.action)

    @property
    def values(self) -> tuple[AuditValue | None, AuditValue | None]:
        """The old and new values, read back (None: nothing, e.g. after a removal)."""
        role_id = self.what.role_id or 0
        return AuditValue.parse(self.old_value, role_id), AuditValue.parse(self.new_value, role_id)


@dataclass(frozen=True, slots=True)
class AuditAction:
    """What an audit entry changed: a server limit (``limit``) or a role's overrides (``role_id``). The
    one place that knows how an action is written in the audit log and read back."""

    limit: str | None = None
    role_id: int | None = None
    removed: bool = False

    @property
    def text(self) -> str:
        if self.role_id is not None:
            return f"role {self.role_id}" + (" removed" if self.removed else "")
        return f"set {self.limit}"

    @classmethod
    def parse(cls, text: str) -> AuditAction:
        if text.startswith("set "):
            return cls(limit=text[4:])
        kind, _, rest = text.partition(" ")
        role_id, _, removed = rest.partition(" ")
        if kind == "role" and role_id.isdigit():
            return cls(role_id=int(role_id), removed=removed == "removed")
        return cls(limit=text)  # not written by this version: shown as it is


ROLE_FIELDS = ROLE_LIMIT_NAMES  # RoleLimits' overrides, in order (the per-role ``bot.limits.LIMITS``)


@dataclass(frozen=True, slots=True)
class AuditValue:
    """A value in the audit log: a limit (``number``; None: the default) or a role's overrides
    (``role``; None: no override). The one place that knows how a value is written (``text``) and read
    back (``parse``); adapters render it in the reader's language. Text it cannot read (``raw``) is
    shown as it is."""

    number: int | None = None
    role: RoleLimits | None = None
    is_role: bool = False
    raw: str | None = None

    @classmethod
    def of_limit(cls, value: int | None) -> AuditValue:
        return cls(number=value)

    @classmethod
    def of_role(cls, role: RoleLimits | None) -> AuditValue:
        return cls(role=role, is_role=True)

    @property
    def text(self) -> str:
        if self.raw is not None:
            return self.raw
        if not self.is_role:
            return "default" if self.number is None else str(self.number)
        if self.role is None:
            return "none"
        parts = [f"{name}={getattr(self.role, name)}" for name in ROLE_FIELDS if getattr(self.role, name) is not None]
        if self.role.exempt:
            parts.append("exempt")
        return ", ".join(parts) or "no overrides"

    @classmethod
    def parse(cls, text: str | None, role_id: int = 0) -> AuditValue | None:
        if text is None:
            return None
        if text == "default":
            return cls()
        if text.isdigit():
            return cls(number=int(text))
        if text == "none":
            return cls(is_role=True)
        fields: dict[str, int] = {}
        exempt = False
        for part in text.split(", ") if text != "no overrides" else ():
            name, _, value = part.partition("=")
            if part == "exempt":
                exempt = True
            elif name in ROLE_FIELDS and value.isdigit():
                fields[name] = int(value)
            else:
                return cls(raw=text)  # not written by this version
        return cls(role=RoleLimits(role_id=role_id, exempt=exempt, **fields), is_role=True)


@dataclass(frozen=True, slots=True)
class UsageRow:
    user_id: int
    images: int  # charged images in the period
    jobs: int


@dataclass(frozen=True, slots=True)
class Session:
    """An editing session: a thread around one image. Versions are the jobs with its ``id``."""

    id: int
    guild_id: int
    channel_id: int  # the channel the thread hangs off
    thread_id: int
    owner_id: int
    root_job_id: int
    head_job_id: int
    head_index: int  # which of the head job's images is the head
    locked: bool
    owner_pays: bool
    closed: bool
    created_at: datetime
    guild_locale: str = "en-US"  # its root job's: the thread's messages are public


@dataclass(frozen=True, slots=True)
class SessionHead:
    """Move session ``session_id``'s head to image ``index`` of the job being completed."""

    session_id: int
    index: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """What finishing a job does besides its status, decided by ``bot.settlement`` and applied by the
    backend in the same transaction: charge ``charged`` images and release the rest of the
    reservation, and move a session's head if ``head`` says so."""

    charged: int
    head: SessionHead | None = None

    def __post_init__(self) -> None:
        if self.charged < 0:
            raise ValueError("a job cannot be charged a negative number of images")


@dataclass(frozen=True, slots=True)
class CleanupReport:
    jobs_removed: int
    files_removed: int


class SessionExists(InputError):
    """``create_session``: the result or the thread already has a session (whose thread is ``thread_id``)."""

    code = "session_exists"

    def __init__(self, thread_id: int) -> None:
        super().__init__(msg("session-exists", thread=Channel(thread_id)))
        self.thread_id = thread_id


@dataclass(frozen=True, slots=True)
class OpsCounts:
    """What ``/metrics`` reads from the database at scrape time: the same for every process sharing it."""

    jobs_by_status: dict[JobStatus, int]  # every status, zero included
    images_used: int  # reserved + charged since the given time (all users, all servers)


@dataclass(frozen=True, slots=True)
class Lease:
    """How ``claim_job`` claims for a process sharing the queue: ``owner`` (its ``WORKER_ID``) holds the
    job for ``seconds`` unless ``renew_leases`` extends it; with ``capacity``, the claim is refused
    (``CapacityFull``) when the images in flight of every process together would exceed it."""

    owner: str
    seconds: float
    capacity: int | None = None
    turn_keys: tuple[str, ...] = ()  # stamped with the claim time: the shared round-robin pointer

    def admit(self, requested: int, held: int) -> int:
        """The images a job asking for ``requested`` holds of the cap once claimed; ``CapacityFull``
        when ``held`` (every process's images in flight) leaves no room. A job larger than the cap
        holds all of it, and with nothing in flight any job starts, so none can stall the queue."""
        if self.capacity is None:
            return requested
        images = min(requested, self.capacity)
        if held and held + images > self.capacity:
            raise CapacityFull(f"{held} of {self.capacity} images in flight")
        return images


class CapacityFull(Exception):
    """``claim_job`` refused: the images in flight across all processes leave no room for this job."""


class TooLarge(ValueError):
    """A streamed file went past the size it was allowed (``FileStore.put_stream``)."""


class FileStore(Protocol):
    """Content-addressed image files: written once under their sha256, never modified."""

    async def put(self, data: bytes) -> str: ...
    async def put_stream(self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> str: ...
    # a temporary file outside the store (an upload to read once, then ``unstage``)
    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None) -> Path: ...
    def unstage(self, path: Path) -> None: ...
    async def get(self, sha: str) -> bytes: ...
    def exists(self, sha: str) -> bool: ...
    def path(self, sha: str) -> Path: ...  # where the file is, to read it piecewise (never written to)


class Storage(Protocol):
    files: FileStore

    async def open(self) -> None: ...
    async def close(self) -> None: ...  # lets calls already started finish first; idempotent
    async def __aenter__(self) -> Storage: ...  # open()
    async def __aexit__(self, *exc_info: object) -> None: ...  # close()
    async def ping(self) -> None: ...  # one cheap round trip (readiness); raises when unreachable
    async def ops_counts(self, since: datetime) -> OpsCounts: ...  # for /metrics (see OpsCounts)

    # Jobs: the queue. ``submit_job`` checks every limit and reserves the images in one transaction.
    async def submit_job(self, job: NewJob, limits: EffectiveLimits, now: datetime | None = None) -> Job: ...
    async def precheck(
        self, requester: Requester, payer_user_id: int | None, images: int, limits: EffectiveLimits
    ) -> None: ...  # submit_job's limit checks without reserving (raises QuotaExceeded)
    async def get_job(self, job_id: int) -> Job | None: ...
    # oldest first; ``after_id``: only newer jobs (the scheduler's "what was submitted since"); ``job_ids``: only those
    async def jobs_with_status(
        self,
        *statuses: JobStatus,
        guild_id: int | None = None,
        after_id: int | None = None,
        job_ids: Sequence[int] | None = None,
    ) -> list[Job]: ...
    # queued -> running, attempts += 1; with a lease: owned, and checked against the global image cap
    async def claim_job(self, job_id: int, lease: Lease | None = None) -> Job | None: ...
    async def renew_leases(self, owner: str, job_ids: Sequence[int], seconds: float) -> set[int]: ...  # still held
    async def release_images(self, job_id: int) -> None: ...  # the API answered: its images leave the cap
    async def images_in_flight(self) -> int: ...  # held by running jobs with a live lease, all processes
    # running jobs whose process is gone: lease expired; with ``owner`` also unleased and ``owner``'s own
    async def lost_jobs(self, owner: str | None = None) -> list[Job]: ...
    async def turns(self, keys: Sequence[str]) -> dict[str, int]: ...  # when each key was last claimed for
    async def requeue_lost(self, job_id: int, owner: str | None = None) -> Job | None: ...  # only if still lost
    async def requeue_job(self, job_id: int, *, keep_attempt: bool = True) -> Job | None: ...  # running -> queued
    # The three below apply the core's ``Settlement`` (``bot.settlement``) with the status change.
    async def complete_job(self, job_id: int, outputs: Sequence[OutputImage], settlement: Settlement) -> Job: ...
    async def fail_job(self, job_id: int, code: str, message: str, settlement: Settlement) -> Job | None: ...
    async def cancel_job(self, job_id: int, settlement: Settlement) -> Job | None: ...  # only while queued
    async def set_progress_message(self, job_id: int, channel_id: int, message_id: int) -> None: ...
    async def mark_posted(self, job_id: int, channel_id: int, message_id: int) -> bool: ...
    async def job_images(self, job_id: int) -> list[JobImage]: ...
    async def undelivered_jobs(self, since: datetime) -> list[Job]: ...  # finished since, never posted
    async def job_by_message(self, channel_id: int, message_id: int) -> Job | None: ...  # by mark_posted

    # History
    async def history(
        self,
        user_id: int,
        *,
        guild_id: int | None = None,
        search: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Job]: ...
    async def count_history(self, user_id: int, *, guild_id: int | None = None, search: str | None = None) -> int: ...
    async def delete_job(self, job_id: int) -> bool: ...
    async def delete_user_history(self, user_id: int) -> int: ...

    # Quotas and usage
    async def quota_status(
        self, requester: Requester, limits: EffectiveLimits, now: datetime | None = None
    ) -> QuotaStatus: ...
    async def usage_report(self, guild_id: int, since: datetime) -> list[UsageRow]: ...

    # Guild settings, with an audit trail
    async def guild_config(self, guild_id: int) -> GuildConfig: ...
    async def update_guild_config(self, guild_id: int, actor_id: int, **changes: int | None) -> GuildConfig: ...
    async def set_role_limits(
        self, guild_id: int, actor_id: int, role: RoleLimits | None, role_id: int
    ) -> GuildConfig: ...
    async def audit_log(self, guild_id: int, limit: int = 20) -> list[AuditEntry]: ...

    # Retention
    async def cleanup(self, older_than: datetime) -> CleanupReport: ...

    # Editing sessions (threads). ``complete_job`` moves a head when its ``Settlement`` says so.
    async def create_session(
        self, *, guild_id: int, channel_id: int, thread_id: int, owner_id: int, root_job_id: int, head_index: int
    ) -> Session: ...
    async def get_session(self, session_id: int) -> Session | None: ...
    async def session_by_thread(self, thread_id: int) -> Session | None: ...
    async def session_by_root(self, root_job_id: int) -> Session | None: ...
    async def update_session(self, session_id: int, **changes: int | bool) -> Session: ...
    async def attach_job_to_session(self, job_id: int, session_id: int) -> None: ...
    async def session_jobs(self, session_id: int) -> list[Job]: ...

    # Editor drafts (issue 12): what a "🖌️ Draw the area" link edits; single use, see ``bot.editor``.
    async def create_draft(self, draft: NewDraft) -> Draft: ...  # also forgets drafts long expired
    async def get_draft(self, draft_id: int) -> Draft | None: ...
    async def claim_draft(self, draft_id: int) -> Draft | None: ...  # open -> confirming; None if not open
    async def settle_draft(self, draft_id: int, job_id: int | None) -> None: ...  # confirmed, or open again

    # Acknowledged interactions (issue 10): recorded at the defer so a restart can still answer them.
    async def record_interaction(self, interaction: AckedInteraction) -> None: ...  # a repeat id is ignored
    async def link_interaction(self, interaction_id: int, job_id: int) -> None: ...  # once the job is saved
    async def settle_interaction(self, interaction_id: int) -> None: ...  # answered without a job
    async def open_interactions(self, since: datetime) -> list[AckedInteraction]: ...  # unsettled, since
    async def forget_interactions(self, before: datetime) -> int: ...  # retention; how many were removed


@dataclass(frozen=True, slots=True)
class AckedInteraction:
    """A deferred interaction, recorded before any download: while its token lives (15 minutes) a
    restarted process can still edit its original response. ``job_id`` is the job it became (from
    ``link_interaction``, or a job saved with the same token when a crash came before the link)."""

    interaction_id: int
    application_id: int
    user_id: int
    guild_id: int | None
    channel_id: int | None
    locale: str
    created_at: datetime
    token: str = field(repr=False)
    job_id: int | None = None
    settled: bool = False


class DraftState(StrEnum):
    OPEN = "open"
    CONFIRMING = "confirming"  # a confirm is being processed; a second one is refused
    CONFIRMED = "confirmed"


@dataclass(frozen=True, slots=True)
class NewDraft:
    """Everything needed to queue the edit later exactly as the command would have, from the web page.

    ``place`` is how the adapter names where the result will be posted (shown on the page as is)."""

    requester: Requester
    prompt: str
    options: dict[str, Any]  # EditOptions.to_json()
    image_sha: str  # the image to edit (an upload, or a result's output)
    expires_at: datetime
    role_ids: tuple[int, ...] = ()
    private: bool = False
    reply_token: str | None = field(default=None, repr=False)  # the command's interaction token
    application_id: int | None = None
    payer_user_id: int | None = None
    session_id: int | None = None
    open_thread: bool = False
    mask_sha: str | None = None  # the starting mask (re-editing a result), black = edit
    parent_job_id: int | None = None  # set: the edit is "Use as base" on that job's image ``image_index``
    image_index: int = 0
    place: str = ""


@dataclass(frozen=True, slots=True)
class Draft(NewDraft):
    id: int = 0
    state: DraftState = DraftState.OPEN
    job_id: int | None = None
    created_at: datetime | None = None
