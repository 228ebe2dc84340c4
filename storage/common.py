"""What every backend shares: rows to records, argument checks, audit wording, times as epoch ms.

Rows are read by column name (``sqlite3.Row`` and ``asyncpg.Record`` both allow it), so one mapping
serves both backends and a new column is added in one place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from bot.errors import NotFound
from bot.i18n import msg
from bot.quota import Usage, next_midnight
from bot.store import (
    ROLE_FIELDS,
    AckedInteraction,
    Draft,
    DraftState,
    EffectiveLimits,
    ImageKind,
    Job,
    JobAction,
    JobImage,
    JobStatus,
    NewDraft,
    NewJob,
    OpsCounts,
    QuotaStatus,
    Requester,
    RoleLimits,
    Session,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GUILD_FIELDS = ("window_images", "window_minutes", "daily_images", "max_active_jobs", "guild_daily_images")
SESSION_FIELDS = {"head_job_id": int, "head_index": int, "locked": bool, "owner_pays": bool, "closed": bool}
ERROR_MESSAGE_MAX = 2000  # stored error messages are cut here (Discord shows at most 2,000 characters)


# --- times ---------------------------------------------------------------------------------------


def ms(at: datetime) -> int:
    """Epoch milliseconds; naive datetimes are refused (a local time would shift every window)."""
    if at.tzinfo is None:
        raise ValueError("storage times must be timezone-aware (UTC)")
    return (at - EPOCH) // timedelta(milliseconds=1)


def dt(value: int) -> datetime:
    return EPOCH + timedelta(milliseconds=value)


def opt_dt(value: int | None) -> datetime | None:
    return None if value is None else dt(value)


# --- rows to records ---------------------------------------------------------------------------------


def requester_from_row(row: Mapping[str, Any]) -> Requester:
    return Requester(
        row["user_id"], row["guild_id"], row["channel_id"], row["thread_id"], row["locale"], row["guild_locale"]
    )


def job_from_row(row: Mapping[str, Any]) -> Job:
    """A ``jobs`` row joined with its input and mask shas (``input_sha``, ``mask_sha``)."""
    return Job(
        id=row["id"],
        requester=requester_from_row(row),
        action=JobAction(row["action"]),
        prompt=row["prompt"],
        options=json.loads(row["options"]),
        seed=row["seed"],
        status=JobStatus(row["status"]),
        attempts=row["attempts"],
        images_requested=row["images_requested"],
        images_delivered=row["images_delivered"],
        images_withheld=row["images_withheld"],
        input_sha=row["input_sha"] or "",
        mask_sha=row["mask_sha"] or "",
        created_at=dt(row["created_at"]),
        payer_user_id=row["payer_user_id"],
        parent_job_id=row["parent_job_id"],
        session_id=row["session_id"],
        private=bool(row["private"]),
        reply_token=row["reply_token"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        started_at=opt_dt(row["started_at"]),
        finished_at=opt_dt(row["finished_at"]),
        progress_channel_id=row["progress_channel_id"],
        progress_message_id=row["progress_message_id"],
        result_channel_id=row["result_channel_id"],
        result_message_id=row["result_message_id"],
    )


def image_from_row(row: Mapping[str, Any]) -> JobImage:
    return JobImage(
        job_id=row["job_id"],
        kind=ImageKind(row["kind"]),
        index=row["idx"],
        sha=row["sha"],
        seed=row["seed"],
        is_safe=bool(row["is_safe"]),
        prompt_used=row["prompt_used"],
        resolution=row["resolution"],
        width=row["width"],
        height=row["height"],
        mime=row["mime"],
    )


def role_from_row(row: Mapping[str, Any]) -> RoleLimits:
    return RoleLimits(
        role_id=row["role_id"],
        window_images=row["window_images"],
        daily_images=row["daily_images"],
        max_active_jobs=row["max_active_jobs"],
        exempt=bool(row["exempt"]),
    )


def session_from_row(row: Mapping[str, Any]) -> Session:
    return Session(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        owner_id=row["owner_id"],
        root_job_id=row["root_job_id"],
        head_job_id=row["head_job_id"],
        head_index=row["head_index"],
        locked=bool(row["locked"]),
        owner_pays=bool(row["owner_pays"]),
        closed=bool(row["closed"]),
        created_at=dt(row["created_at"]),
        guild_locale=row["guild_locale"],
    )


# The ``jobs`` columns a submission writes, in the order of ``submitted_values`` (both backends).
SUBMITTED_COLUMNS = (
    "user_id",
    "guild_id",
    "channel_id",
    "thread_id",
    "parent_job_id",
    "session_id",
    "action",
    "prompt",
    "prompt_folded",
    "options",
    "seed",
    "images_requested",
    "payer_user_id",
    "private",
    "reply_token",
    "created_at",
    "locale",
    "guild_locale",
)


def submitted_values(job: NewJob, payer: int, options: str, created_ms: int) -> tuple[object, ...]:
    """A new job's values for ``SUBMITTED_COLUMNS``."""
    requester = job.requester
    return (
        requester.user_id,
        requester.guild_id,
        requester.channel_id,
        requester.thread_id,
        job.parent_job_id,
        job.session_id,
        str(job.action),
        job.prompt,
        job.prompt.casefold(),
        options,
        job.seed,
        job.images_requested,
        payer,
        job.private,
        job.reply_token,
        created_ms,
        requester.locale,
        requester.guild_locale,
    )


def queued_job(job: NewJob, job_id: int, payer: int, options: str, created_ms: int) -> Job:
    """The record of a job ``submit_job`` just inserted, without reading it back."""
    return Job(
        id=job_id,
        requester=job.requester,
        action=job.action,
        prompt=job.prompt,
        options=json.loads(options),
        seed=job.seed,
        status=JobStatus.QUEUED,
        attempts=0,
        images_requested=job.images_requested,
        images_delivered=0,
        images_withheld=0,
        input_sha=job.input_sha,
        mask_sha=job.mask_sha,
        created_at=dt(created_ms),
        payer_user_id=payer,
        parent_job_id=job.parent_job_id,
        session_id=job.session_id,
        private=job.private,
        reply_token=job.reply_token,
    )


def quota_status(limits: EffectiveLimits, usage: Usage, oldest_in_window_ms: int | None, now: datetime) -> QuotaStatus:
    return QuotaStatus(
        limits=limits,
        window_used=usage.window_used,
        window_frees_at=None
        if oldest_in_window_ms is None
        else dt(oldest_in_window_ms) + timedelta(seconds=limits.window_seconds),
        daily_used=usage.daily_used,
        daily_resets_at=next_midnight(now),
        active_jobs=usage.active_jobs,
        guild_daily_used=usage.guild_daily_used,
        bot_daily_used=usage.bot_daily_used if limits.bot_daily_images is not None else None,
    )


# --- checking arguments (before any transaction) ------------------------------------------------------


def options_json(job: NewJob) -> str:
    if job.images_requested < 1:
        raise ValueError("images_requested must be at least 1")
    return json.dumps(job.options, separators=(",", ":"), sort_keys=True)


def check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must be ≥ 0")


def check_limit(name: str, value: int | None, *, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum} (or None for the default)")


def check_guild_changes(changes: Mapping[str, int | None]) -> None:
    for name, value in changes.items():
        if name not in GUILD_FIELDS:
            raise ValueError(f"unknown limit {name!r}; expected one of {', '.join(GUILD_FIELDS)}")
        check_limit(name, value, minimum=1 if name == "window_minutes" else 0)


def check_role(role: RoleLimits | None, role_id: int) -> None:
    if role is None:
        return
    if role.role_id != role_id:
        raise ValueError("role.role_id and role_id differ")
    for name in ROLE_FIELDS:
        check_limit(name, getattr(role, name), minimum=0)


def check_session_changes(changes: Mapping[str, int | bool]) -> None:
    for name, value in changes.items():
        kind = SESSION_FIELDS.get(name)
        if kind is None:
            raise ValueError(f"unknown session field {name!r}; expected one of {', '.join(SESSION_FIELDS)}")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{name} must be {kind.__name__}")


def check_statuses(statuses: Sequence[JobStatus]) -> list[str]:
    if not statuses:
        raise ValueError("name at least one status")
    return [str(s) for s in statuses]


def like_pattern(search: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern matching ``search`` literally, casefolded, anywhere."""
    text = search.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


# --- audit wording ---------------------------------------------------------------------------------------


# --- refusals the backends raise ---------------------------------------------------------------------------


def file_missing(sha: str) -> NotFound:
    return NotFound(
        msg("file-input-gone"),
        detail=f"file {sha} is not in the file store (call files.put before submit_job)",
    )


def not_running(job_id: int) -> NotFound:
    return NotFound(msg("job-not-running"), detail=f"job {job_id} is not running")


def session_gone(session_id: int) -> NotFound:
    return NotFound(msg("session-gone"), detail=f"session {session_id} not found")


def job_gone(job_id: int) -> NotFound:
    return NotFound(msg("job-gone-short"), detail=f"job {job_id} not found")


# --- editor drafts (issue 12) ----------------------------------------------------------------------

DRAFT_COLUMNS = (
    "user_id, guild_id, channel_id, thread_id, role_ids, private, reply_token, application_id, payer_user_id,"
    " session_id, open_thread, prompt, options, image_sha, mask_sha, parent_job_id, image_index, place,"
    " created_at, expires_at, locale, guild_locale"
)
DRAFT_KEEP_MS = 24 * 3600 * 1000  # an expired draft row is forgotten a day later


def draft_values(d: NewDraft, now_ms: int) -> tuple[Any, ...]:
    """The values of ``DRAFT_COLUMNS``, in order."""
    r = d.requester
    return (
        r.user_id,
        r.guild_id,
        r.channel_id,
        r.thread_id,
        json.dumps(list(d.role_ids)),
        d.private,
        d.reply_token,
        d.application_id,
        d.payer_user_id,
        d.session_id,
        d.open_thread,
        d.prompt,
        json.dumps(d.options),
        d.image_sha,
        d.mask_sha,
        d.parent_job_id,
        d.image_index,
        d.place,
        now_ms,
        ms(d.expires_at),
        r.locale,
        r.guild_locale,
    )


def draft_from_row(row: Any) -> Draft:
    return Draft(
        id=row["id"],
        requester=requester_from_row(row),
        role_ids=tuple(json.loads(row["role_ids"])),
        private=bool(row["private"]),
        reply_token=row["reply_token"],
        application_id=row["application_id"],
        payer_user_id=row["payer_user_id"],
        session_id=row["session_id"],
        open_thread=bool(row["open_thread"]),
        prompt=row["prompt"],
        options=json.loads(row["options"]),
        image_sha=row["image_sha"],
        mask_sha=row["mask_sha"],
        parent_job_id=row["parent_job_id"],
        image_index=row["image_index"],
        place=row["place"],
        state=DraftState(row["state"]),
        job_id=row["job_id"],
        created_at=dt(row["created_at"]),
        expires_at=dt(row["expires_at"]),
    )


# --- acknowledged interactions (issue 10) -----------------------------------------------------------

INTERACTION_COLUMNS = "id, application_id, token, user_id, guild_id, channel_id, locale, created_at"
# The job an interaction became: the link, else a job saved with its token (a crash came in between).
# What /metrics and /healthz read (``ops_counts``): jobs by status, and images used since ``{since}``.
OPS_JOBS_SQL = "SELECT status, COUNT(*) FROM jobs GROUP BY status"
OPS_USED_SQL = "SELECT COALESCE(SUM(reserved + charged), 0) FROM usage_ledger WHERE created_at >= {since}"


def ops_counts(by_status: Iterable[Sequence[Any]], used: int) -> OpsCounts:
    """``OpsCounts`` from ``OPS_JOBS_SQL``'s rows (every status present, 0 when it has no job)."""
    counts = dict.fromkeys(JobStatus, 0)
    counts.update({JobStatus(status): int(count) for status, count in by_status})
    return OpsCounts(jobs_by_status=counts, images_used=int(used))


OPEN_INTERACTIONS_SQL = (
    "SELECT i.*, COALESCE(i.job_id, (SELECT MIN(j.id) FROM jobs j WHERE j.reply_token = i.token)) AS made"
    " FROM interactions i WHERE i.created_at >= {since} AND NOT i.answered ORDER BY i.created_at, i.id"
)


def interaction_values(i: AckedInteraction) -> tuple[Any, ...]:
    """The values of ``INTERACTION_COLUMNS``, in order."""
    return (
        i.interaction_id,
        i.application_id,
        i.token,
        i.user_id,
        i.guild_id,
        i.channel_id,
        i.locale,
        ms(i.created_at),
    )


def interaction_from_row(row: Any) -> AckedInteraction:
    return AckedInteraction(
        interaction_id=row["id"],
        application_id=row["application_id"],
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        locale=row["locale"],
        created_at=dt(row["created_at"]),
        token=row["token"],
        job_id=row["made"],
        settled=bool(row["answered"]),
    )


# --- migrations: numbered SQL files, one folder per backend ---------------------------------------------

_MIGRATION_FILE = re.compile(r"(\d{3})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(*folder: str) -> list[Migration]:
    """The numbered ``storage/<folder>/NNN_name.sql`` files (package data), in order."""
    found: dict[int, Migration] = {}
    for entry in resources.files("storage").joinpath(*folder).iterdir():
        match = _MIGRATION_FILE.fullmatch(entry.name)
        if match is None:
            continue
        version = int(match[1])
        if version in found:
            raise RuntimeError(f"two migrations in storage/{'/'.join(folder)} are numbered {version:03d}")
        found[version] = Migration(version, match[2], entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
)


def refuse_newer_schema(newest: int | None, migrations: Sequence[Migration]) -> None:
    """A database migrated by a newer bot is not opened by an older one (it would misread it)."""
    if newest is not None and migrations and newest > migrations[-1].version:
        raise RuntimeError(
            f"the database is at schema version {newest}, newer than this bot knows "
            f"({migrations[-1].version}); run a newer version of the bot"
        )
