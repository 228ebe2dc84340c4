"""Editing sessions: a thread built around one image, with a version tree and a movable head.

A session's state (owner, head, lock, who pays) lives in storage, so a restart changes nothing. Each
version is a job. In the tree, a version's parent is the version whose *image* it edits: for "Use as
base" and ``/edit`` in the thread that is the job it was made from; a Reroll or "Edit again" repeats
its parent's inputs, so it hangs next to that parent, under the same version. The head advances to
every new version as it succeeds (``bot.settlement`` decides it; storage applies it in the transaction
that completes the job) and can be moved back with "Make head" or ``/session revert`` — the next edit
then starts a branch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot import access
from bot.access import Actor, Decision, Reason
from bot.errors import BotError, Forbidden, InputError, NotFound
from bot.i18n import Mention, msg
from bot.jobs import JobService, Origin, Submitted
from bot.models import MaskSpec
from bot.options import EditOptions
from bot.store import ImageKind, Job, JobAction, JobStatus, Session, Storage


@dataclass(frozen=True, slots=True)
class Version:
    number: int  # v1, v2, … in the order versions were made
    job: Job
    parent: int | None  # the parent version's number


class SessionService:
    def __init__(self, storage: Storage, jobs: JobService) -> None:
        self.storage = storage
        self.jobs = jobs

    async def check_can_open(self, job: Job) -> int:
        """Refuse a job that cannot start a session (before a thread is created for it); returns the
        index of its first shown image, the session's first head."""
        if job.status is not JobStatus.SUCCEEDED:
            raise InputError(msg("session-needs-finished-edit"))
        if job.private:
            raise InputError(msg("session-not-private"))
        if job.requester.guild_id is None or job.requester.channel_id is None:
            raise InputError(msg("session-needs-server"))
        if job.session_id is not None:
            raise InputError(msg("session-already-version"))
        outputs = [i for i in await self.storage.job_images(job.id) if i.kind is ImageKind.OUTPUT and i.sha]
        if not outputs:
            raise InputError(msg("session-no-image"))
        return min(i.index for i in outputs)

    async def open(self, job: Job, *, thread_id: int, owner_id: int) -> Session:
        head_index = await self.check_can_open(job)
        assert job.requester.guild_id is not None and job.requester.channel_id is not None
        session = await self.storage.create_session(
            guild_id=job.requester.guild_id,
            channel_id=job.requester.channel_id,
            thread_id=thread_id,
            owner_id=owner_id,
            root_job_id=job.id,
            head_index=head_index,
        )
        await self.storage.attach_job_to_session(job.id, session.id)
        return session

    async def by_root(self, root_job_id: int) -> Session | None:
        return await self.storage.session_by_root(root_job_id)

    async def for_thread(self, thread_id: int | None) -> Session | None:
        return await self.storage.session_by_thread(thread_id) if thread_id is not None else None

    async def get(self, session_id: int) -> Session:
        session = await self.storage.get_session(session_id)
        if session is None:
            raise NotFound(msg("session-gone"))
        return session

    @staticmethod
    def refusal(decision: Decision, session: Session) -> BotError:
        """The error for a refused session action (``access`` decides; this only words it)."""
        match decision.reason:
            case Reason.CLOSED:
                return InputError(msg("session-closed"))
            case Reason.LOCKED:
                return Forbidden(msg("session-locked", owner=Mention(session.owner_id)))
            case Reason.OTHER_SERVER | Reason.OTHER_THREAD | Reason.CHANNEL_HIDDEN:
                return Forbidden(msg("session-other-thread"))
            case Reason.OWNER_ONLY:
                return Forbidden(msg("session-owner-pays-only", owner=Mention(session.owner_id)))
            case _:
                return Forbidden(msg("session-owner-only", owner=Mention(session.owner_id)))

    def check_can_edit(self, session: Session, actor: Actor) -> None:
        if not (decision := access.may_edit_in_session(actor, session)):
            raise self.refusal(decision, session)

    def check_can_view(self, session: Session, actor: Actor) -> None:
        if not (decision := access.may_view_session(actor, session)):
            raise self.refusal(decision, session)

    @staticmethod
    def check_can_open_as(actor: Actor, job: Job) -> None:
        """Only the result's requester (or Manage Threads) opens a session on it, in its own server."""
        decision = access.may_open_session(actor, job)
        if decision.reason is Reason.NOT_REQUESTER:
            raise Forbidden(msg("session-open-not-yours", requester=Mention(job.requester.user_id)))
        if not decision:
            raise NotFound(msg("job-gone-short"))

    @staticmethod
    def origin_for(origin: Origin, session: Session) -> Origin:
        """Jobs in a session belong to it and are posted in its thread (also when a button on the
        thread's starter message, in the parent channel, made them); with "owner pays", the owner's
        quota is charged, but the editor keeps their own roles: their own role limits, exemptions
        and active-job limit, never the owner's (an exempt owner must not exempt every editor)."""
        if origin.private:
            raise InputError(msg("session-no-private-edits"))
        requester = replace(origin.requester, channel_id=session.channel_id, thread_id=session.thread_id)
        origin = replace(origin, requester=requester, session_id=session.id, open_thread=False)
        if session.owner_pays:
            return replace(origin, payer_user_id=session.owner_id)
        return origin

    async def edit_head(
        self, session: Session, origin: Origin, prompt: str, options: EditOptions, spec: MaskSpec | None
    ) -> Submitted:
        """``/edit`` without an image in a session thread: edit the head, reusing its mask unless
        a new mask, region or box is given."""
        head = await self.storage.get_job(session.head_job_id)
        if head is None:
            raise NotFound(msg("session-head-deleted"))
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
        """The session's finished versions, numbered v1… by creation, each with its tree parent."""
        every = sorted(await self.storage.session_jobs(session.id), key=lambda j: j.id)
        by_id = {job.id: job for job in every}
        jobs = [j for j in every if j.status is JobStatus.SUCCEEDED]
        numbers = {job.id: n for n, job in enumerate(jobs, start=1)}
        return [Version(numbers[job.id], job, numbers.get(image_source(job, by_id))) for job in jobs]

    async def make_head(self, session: Session, job: Job, actor: Actor) -> Session:
        self.check_can_edit(session, actor)
        if job.session_id != session.id or job.status is not JobStatus.SUCCEEDED:
            raise InputError(msg("session-head-needs-finished"))
        outputs = [i for i in await self.storage.job_images(job.id) if i.kind is ImageKind.OUTPUT and i.sha]
        if not outputs:
            raise InputError(msg("session-version-no-image"))
        return await self.storage.update_session(session.id, head_job_id=job.id, head_index=outputs[0].index)

    async def revert(self, session: Session, number: int, actor: Actor) -> Version:
        versions = await self.versions(session)
        chosen = next((v for v in versions if v.number == number), None)
        if chosen is None:
            raise InputError(msg("session-versions-range", count=len(versions)))
        await self.make_head(session, chosen.job, actor)
        return chosen

    async def configure(self, session: Session, actor: Actor, **changes: bool) -> Session:
        allowed = {"locked", "owner_pays", "closed"}
        if not set(changes) <= allowed:
            raise ValueError(f"unknown session settings: {set(changes) - allowed}")
        switching_on = bool(changes.get("owner_pays")) and not session.owner_pays
        decision = access.may_change_session_settings(actor, session, owner_pays_on=switching_on)
        if not decision:
            raise self.refusal(decision, session)
        return await self.storage.update_session(session.id, **changes)


REPEATS_PARENT_INPUTS = (JobAction.REROLL, JobAction.EDIT_AGAIN)


def image_source(job: Job, by_id: dict[int, Job]) -> int | None:
    """The job whose output image ``job`` edits (None: an uploaded image, or a job outside the session).

    Reroll and Edit again reuse their parent's input image, so their source is their parent's source."""
    seen = {job.id}
    while job.action in REPEATS_PARENT_INPUTS:
        parent = by_id.get(job.parent_job_id) if job.parent_job_id is not None else None
        if parent is None or parent.id in seen:
            return None
        seen.add(parent.id)
        job = parent
    return job.parent_job_id


def head_path(versions: list[Version], head_job_id: int) -> list[Version]:
    """The versions from a root down to the head: what the next edit builds on."""
    by_number = {v.number: v for v in versions}
    current = next((v for v in versions if v.job.id == head_job_id), None)
    path: list[Version] = []
    while current is not None and current not in path:
        path.append(current)
        current = by_number.get(current.parent) if current.parent is not None else None
    return path[::-1]


def tree_lines(versions: list[Version], head_job_id: int | None = None) -> list[tuple[int, Version]]:
    """What ``/session tree`` draws: depth-first, children in creation order, each with its indent.

    A first child stays in its parent's column, so a straight run of edits (the usual session) is a
    flat list; every further child (a branch) is indented one more than its parent."""
    children: dict[int | None, list[Version]] = {}
    for version in versions:
        children.setdefault(version.parent, []).append(version)
    ordered: list[tuple[int, Version]] = []
    stack = [(0, version) for version in reversed(children.get(None, []))]
    while stack:  # iterative: a session can be thousands of versions deep
        indent, version = stack.pop()
        ordered.append((indent, version))
        kids = children.get(version.number, [])
        stack.extend((indent + (i > 0), kid) for i, kid in reversed(list(enumerate(kids))))
    return ordered
