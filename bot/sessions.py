"""Editing sessions: a thread built around one image, with a version tree and a movable head.

A session's state (owner, head, lock, who pays) lives in storage, so a restart changes nothing. Each
version is a job; its parent is the job it was made from. The head advances to every new version as
it succeeds (storage does that in the same transaction that completes the job) and can be moved back
with "Make head" or ``/session revert`` — the next edit then starts a branch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.errors import Forbidden, InputError, NotFound
from bot.jobs import JobService, Origin, Submitted
from bot.models import MaskSpec
from bot.options import EditOptions
from storage.base import ImageKind, Job, JobAction, JobStatus, Session, Storage


@dataclass(frozen=True, slots=True)
class Version:
    number: int  # v1, v2, … in the order versions were made
    job: Job
    parent: int | None  # the parent version's number


class SessionService:
    def __init__(self, storage: Storage, jobs: JobService) -> None:
        self.storage = storage
        self.jobs = jobs

    async def open(self, job: Job, *, thread_id: int, owner_id: int) -> Session:
        if job.status is not JobStatus.SUCCEEDED:
            raise InputError("Only a finished edit can start an editing session.")
        if job.requester.guild_id is None or job.requester.channel_id is None:
            raise InputError("Editing sessions need a server channel.")
        outputs = [i for i in await self.storage.job_images(job.id) if i.kind is ImageKind.OUTPUT and i.sha]
        if not outputs:
            raise InputError("That edit has no image to start a session from.")
        session = await self.storage.create_session(
            guild_id=job.requester.guild_id,
            channel_id=job.requester.channel_id,
            thread_id=thread_id,
            owner_id=owner_id,
            root_job_id=job.id,
            head_index=min(i.index for i in outputs),
        )
        await self.storage.attach_job_to_session(job.id, session.id)
        return session

    async def for_thread(self, thread_id: int | None) -> Session | None:
        return await self.storage.session_by_thread(thread_id) if thread_id is not None else None

    async def get(self, session_id: int) -> Session:
        session = await self.storage.get_session(session_id)
        if session is None:
            raise NotFound("That editing session no longer exists.")
        return session

    @staticmethod
    def check_can_edit(session: Session, user_id: int, *, can_manage_threads: bool) -> None:
        if session.closed:
            raise InputError("This editing session is closed. Start a new one from any result with 🧵.")
        if session.locked and user_id != session.owner_id and not can_manage_threads:
            raise Forbidden(f"This session is locked: only <@{session.owner_id}> can edit here right now.")

    @staticmethod
    def check_owner(session: Session, user_id: int, *, can_manage_threads: bool) -> None:
        if user_id != session.owner_id and not can_manage_threads:
            raise Forbidden(f"Only the session's owner <@{session.owner_id}> (or Manage Threads) can do that.")

    @staticmethod
    def origin_for(origin: Origin, session: Session, owner_roles: tuple[int, ...] = ()) -> Origin:
        """Jobs in a session belong to it; with "owner pays", the owner's quota is charged."""
        if session.owner_pays:
            return replace(origin, session_id=session.id, payer_user_id=session.owner_id, role_ids=owner_roles)
        return replace(origin, session_id=session.id)

    async def edit_head(
        self, session: Session, origin: Origin, prompt: str, options: EditOptions, spec: MaskSpec | None
    ) -> Submitted:
        """``/edit`` without an image in a session thread: edit the head, reusing its mask unless
        a new mask, region or box is given."""
        head = await self.storage.get_job(session.head_job_id)
        if head is None:
            raise NotFound("The session's head version was deleted; use /session revert to pick another.")
        return await self.jobs.submit_followup(
            origin,
            head,
            JobAction.USE_AS_BASE,
            prompt=prompt,
            image_index=session.head_index,
            spec=spec,
            options=options,
        )

    async def versions(self, session: Session) -> list[Version]:
        jobs = [j for j in await self.storage.session_jobs(session.id) if j.status is JobStatus.SUCCEEDED]
        numbers = {job.id: n for n, job in enumerate(sorted(jobs, key=lambda j: j.id), start=1)}
        return [
            Version(numbers[job.id], job, numbers.get(job.parent_job_id) if job.parent_job_id else None)
            for job in sorted(jobs, key=lambda j: j.id)
        ]

    async def make_head(self, session: Session, job: Job, user_id: int, *, can_manage_threads: bool) -> Session:
        self.check_can_edit(session, user_id, can_manage_threads=can_manage_threads)
        if job.session_id != session.id or job.status is not JobStatus.SUCCEEDED:
            raise InputError("Only a finished version of this session can become its head.")
        outputs = [i for i in await self.storage.job_images(job.id) if i.kind is ImageKind.OUTPUT and i.sha]
        if not outputs:
            raise InputError("That version has no image (it was withheld).")
        return await self.storage.update_session(session.id, head_job_id=job.id, head_index=outputs[0].index)

    async def revert(self, session: Session, number: int, user_id: int, *, can_manage_threads: bool) -> Version:
        versions = await self.versions(session)
        chosen = next((v for v in versions if v.number == number), None)
        if chosen is None:
            raise InputError(f"This session has versions 1 to {len(versions)}.")
        await self.make_head(session, chosen.job, user_id, can_manage_threads=can_manage_threads)
        return chosen

    async def configure(self, session: Session, user_id: int, *, can_manage_threads: bool, **changes: bool) -> Session:
        self.check_owner(session, user_id, can_manage_threads=can_manage_threads)
        allowed = {"locked", "owner_pays", "closed"}
        if not set(changes) <= allowed:
            raise ValueError(f"unknown session settings: {set(changes) - allowed}")
        return await self.storage.update_session(session.id, **changes)


def tree_lines(versions: list[Version], head_job_id: int) -> list[tuple[int, Version]]:
    """Depth-first order with depths, children in creation order: what ``/session tree`` draws."""
    children: dict[int | None, list[Version]] = {}
    for version in versions:
        children.setdefault(version.parent, []).append(version)
    ordered: list[tuple[int, Version]] = []

    def walk(parent: int | None, depth: int) -> None:
        for version in children.get(parent, []):
            ordered.append((depth, version))
            walk(version.number, depth + 1)

    walk(None, 0)
    return ordered
