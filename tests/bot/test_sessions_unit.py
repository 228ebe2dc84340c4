"""``SessionService`` and the version tree on a real ``SqliteStorage`` (no Discord, no API)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.access import Actor
from bot.errors import Forbidden, InputError, NotFound, QuotaExceeded
from bot.jobs import Origin, _for_payer
from bot.models import MaskSpec, Region
from bot.options import EditOptions
from bot.quota import Usage as QuotaUsage
from bot.quota import check_submission
from bot.sessions import SessionService, Version, head_path, image_source, tree_lines
from bot.store import Job, JobAction, Requester, Session
from cogs.sessions import tree_text
from cogs.text import render
from storage.sqlite import SqliteStorage
from tests.ids import BOB, MOD, OWNER, ROLES, THREAD
from tests.ids import MESSAGE as POSTED
from tests.storage_support import LIMITS, T0, Clock, cid, complete, fail, finish, gid, make_storage, outputs, submit


def actor(user_id: int, *, manage_threads: bool = False, thread_id: int = THREAD) -> Actor:
    """Someone in the session's thread (guild 10, channel 100: ``tests.storage_support``'s defaults)."""
    return Actor(user_id, guild_id=gid(10), channel_id=cid(100), thread_id=thread_id, manage_threads=manage_threads)


@dataclass
class RecordingJobs:
    """Stands in for ``JobService``: records what ``edit_head`` asks for."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def submit_followup(self, origin: Origin, parent: Job, action: JobAction, **kwargs: Any) -> str:
        self.calls.append((origin, parent.id, action, kwargs))
        return "submitted"


@pytest.fixture
def jobs() -> RecordingJobs:
    return RecordingJobs()


@pytest.fixture
def service(storage: SqliteStorage, jobs: RecordingJobs) -> SessionService:
    return SessionService(storage, jobs)  # type: ignore[arg-type]


async def started(storage: SqliteStorage, service: SessionService, **root: Any) -> tuple[Job, Session]:
    job = await finish(storage, await submit(storage, user=OWNER, **root))
    session = await service.open(job, thread_id=THREAD, owner_id=OWNER)
    attached = await storage.get_job(job.id)
    assert attached is not None and attached.session_id == session.id
    return attached, session


async def version(
    storage: SqliteStorage,
    session: Session,
    parent: Job | None,
    action: JobAction = JobAction.USE_AS_BASE,
    *,
    user: int = OWNER,
    delivered: int | None = None,
    withheld: int = 0,
    images: int = 1,
) -> Job:
    job = await submit(
        storage,
        user=user,
        images=images,
        action=action,
        parent_job_id=parent.id if parent else None,
        session_id=session.id,
        prompt=f"step by {user}",
    )
    return await finish(storage, job, delivered, withheld)


def shape(versions: list[Version]) -> list[tuple[int, int | None]]:
    return [(v.number, v.parent) for v in versions]


# --- opening -------------------------------------------------------------------------------------------


async def test_open_starts_at_the_first_shown_image_and_attaches_the_root(
    storage: SqliteStorage, service: SessionService
) -> None:
    root = await finish(storage, await submit(storage, user=OWNER, images=3), delivered=2, withheld=1)
    session = await service.open(root, thread_id=THREAD, owner_id=BOB)  # the owner given (the cog passes the requester)
    assert (session.owner_id, session.root_job_id, session.head_job_id, session.head_index) == (
        BOB,
        root.id,
        root.id,
        0,
    )
    assert (session.guild_id, session.channel_id, session.thread_id) == (gid(10), cid(100), THREAD)
    assert (session.locked, session.owner_pays, session.closed) == (False, False, False)
    assert (await storage.get_job(root.id)).session_id == session.id
    assert await service.for_thread(THREAD) == session and await service.for_thread(None) is None
    assert await service.get(session.id) == session
    with pytest.raises(NotFound):
        await service.get(session.id + 1)


async def test_open_head_skips_a_withheld_first_image(storage: SqliteStorage, service: SessionService) -> None:
    job = await submit(storage, user=OWNER, images=2)
    assert await storage.claim_job(job.id)
    images = await outputs(storage, job, 2)
    images[0] = replace(images[0], sha=None, is_safe=False)  # the safety filter withheld image 1
    root = await complete(storage, job, images)
    session = await service.open(root, thread_id=THREAD, owner_id=OWNER)
    assert (session.head_job_id, session.head_index) == (root.id, 1)


async def test_open_refuses_what_cannot_start_a_session_and_writes_nothing(
    storage: SqliteStorage, service: SessionService
) -> None:
    queued = await submit(storage, user=OWNER)
    private = await finish(storage, await submit(storage, user=OWNER, private=True))
    in_dm = await finish(storage, await submit(storage, user=OWNER, guild=None))
    withheld = await finish(storage, await submit(storage, user=OWNER), delivered=0, withheld=1)
    for job, says in (
        (queued, "Only a finished edit"),
        (private, "A private edit"),
        (in_dm, "need a server channel"),
        (withheld, "no image"),
    ):
        with pytest.raises(InputError, match=says):
            await service.check_can_open(job)
        with pytest.raises(InputError, match=says):
            await service.open(job, thread_id=THREAD, owner_id=OWNER)
        assert await storage.session_by_root(job.id) is None
    assert await storage.session_by_thread(THREAD) is None

    root, session = await started(storage, service)
    child = await version(storage, session, root)
    with pytest.raises(InputError, match="already a version"):
        await service.open(child, thread_id=THREAD + 1, owner_id=OWNER)
    with pytest.raises(InputError, match="already"):  # the root itself
        await service.open(root, thread_id=THREAD + 2, owner_id=OWNER)
    stale = replace(root, session_id=None)  # as read before the session existed: storage refuses a second one
    with pytest.raises(InputError, match="already has an editing session"):
        await service.open(stale, thread_id=THREAD + 3, owner_id=OWNER)


# --- versions and the tree ---------------------------------------------------------------------------------


async def test_versions_number_finished_jobs_and_follow_the_image_lineage(
    storage: SqliteStorage, service: SessionService
) -> None:
    root, session = await started(storage, service)  # v1
    v2 = await version(storage, session, root, user=BOB)  # edits v1's image
    failed = await submit(storage, user=BOB, session_id=session.id, parent_job_id=v2.id, action=JobAction.USE_AS_BASE)
    await fail(storage, failed, refund=True)  # not a version
    v3 = await version(storage, session, v2, JobAction.REROLL)  # v2's inputs again: v1's image
    v4 = await version(storage, session, v3, JobAction.EDIT_AGAIN)  # still v1's image
    v5 = await version(storage, session, v3)  # v3's result: a child of v3
    outsider = await finish(storage, await submit(storage, user=OWNER))
    v6 = await version(storage, session, outsider)  # from a job outside the session: a new root
    v7 = await version(storage, session, root, JobAction.REROLL)  # a reroll of the root: another root

    versions = await service.versions(await service.get(session.id))
    assert [v.job.id for v in versions] == [root.id, v2.id, v3.id, v4.id, v5.id, v6.id, v7.id]
    assert shape(versions) == [(1, None), (2, 1), (3, 1), (4, 1), (5, 3), (6, None), (7, None)]
    assert versions[1].job.requester.user_id == BOB and versions[1].job.prompt == f"step by {BOB}"
    assert versions[1].job.mask_sha and versions[1].job.parent_job_id == root.id  # what was recorded
    by_id = {v.job.id: v.job for v in versions}
    assert image_source(v4, by_id) == root.id and image_source(v5, by_id) == v3.id
    assert image_source(v7, by_id) is None


async def test_tree_lines_and_head_path(storage: SqliteStorage, service: SessionService) -> None:
    root, session = await started(storage, service)
    v2 = await version(storage, session, root)
    v3 = await version(storage, session, v2)
    await service.revert(await service.get(session.id), 2, actor(OWNER))
    v4 = await version(storage, session, v2)  # a branch at v2: v3 and v4 are siblings
    v5 = await version(storage, session, root)

    session = await service.get(session.id)
    assert session.head_job_id == v5.id  # completing a version moves the head to it
    versions = await service.versions(session)
    # a first child stays in its parent's column; every further child (a branch) is indented
    assert [(indent, v.number, v.parent) for indent, v in tree_lines(versions)] == [
        (0, 1, None),
        (0, 2, 1),
        (0, 3, 2),
        (1, 4, 2),
        (1, 5, 1),
    ]
    assert [v.number for v in head_path(versions, session.head_job_id)] == [1, 5]
    assert [v.number for v in head_path(versions, v4.id)] == [1, 2, 4]
    assert [v.number for v in head_path(versions, v3.id)] == [1, 2, 3]
    assert head_path(versions, 12345) == []
    assert tree_lines([], 1) == []


async def test_tree_text_links_marks_the_head_and_fits_an_embed(
    storage: SqliteStorage, service: SessionService
) -> None:
    root, session = await started(storage, service)
    await storage.mark_posted(root.id, cid(100), POSTED + 5001)
    v2 = await version(storage, session, root, user=BOB)
    await storage.mark_posted(v2.id, THREAD, POSTED + 5002)
    session = await service.get(session.id)
    text = tree_text(session, await service.versions(session))
    first, second = text.splitlines()[:2]
    link = f"https://discord.com/channels/{gid(10)}"
    assert first == f"[v1]({link}/{cid(100)}/{POSTED + 5001}) · #{root.id} · a red bicycle — <@{OWNER}>"
    assert second == f"[v2]({link}/{THREAD}/{POSTED + 5002}) ← v1 · #{v2.id} · step by {BOB} — <@{BOB}> 📌 **head**"
    assert text.endswith("\n\nHead: v1 → v2 — the next `/edit` here builds on it.")
    assert tree_text(session, []) == "No versions yet."


async def test_a_big_tree_drops_links_then_lines_far_from_the_head(
    storage: SqliteStorage, service: SessionService
) -> None:
    root, session = await started(storage, service)
    await storage.mark_posted(root.id, cid(100), POSTED + 5000)
    branch = await version(storage, session, root)  # v2, off the head's path
    await storage.mark_posted(branch.id, THREAD, POSTED + 5001)
    parent = root
    for n in range(40):  # v3 … v42: a straight run from v1, the head at its end
        parent = await version(storage, session, parent)
        await storage.mark_posted(parent.id, THREAD, POSTED + 6000 + n)
    session = await service.get(session.id)
    versions = await service.versions(session)
    every = tree_text(session, versions, limit=10**6)
    assert every.count("](https://") == 42 and every.count("\n") == 43
    assert "Head: v1 → v3 → … → v34 → " in every and every.count("→") == 11  # a long path is shortened

    on_path = tree_text(session, versions, limit=len(every) - 1)
    assert on_path.count("](https://") == 41 and "\nv2 ← v1 · " in on_path
    link = f"https://discord.com/channels/{gid(10)}/{THREAD}"
    assert f"\n└ [v3]({link}/{POSTED + 6000}) ← v1 · " in on_path  # the branch to the head
    assert f"\n　[v4]({link}/{POSTED + 6001}) ← v3 · " in on_path  # ... goes on in its column

    bare = tree_text(session, versions, limit=len(on_path) - 1)
    assert "](https://" not in bare and bare.count("\n") == 43

    window = tree_text(session, versions, limit=1000)
    lines = window.splitlines()
    assert len(window) <= 1000 and "v42 ← v41" in window and "📌 **head**" in window
    assert re.fullmatch(r"… \d+ more versions", lines[0]) and window.endswith("builds on it.")
    assert tree_text(session, versions).count("\n") == 43  # the default limit: everything, as text


# --- head, revert, settings ---------------------------------------------------------------------------------


async def test_make_head_and_revert_move_the_head(storage: SqliteStorage, service: SessionService) -> None:
    root, session = await started(storage, service)
    v2 = await version(storage, session, root, images=2)
    session = await service.get(session.id)
    moved = await service.make_head(session, root, actor(BOB))  # open session: anyone
    assert (moved.head_job_id, moved.head_index) == (root.id, 0)

    two = await version(storage, session, v2, images=2, delivered=1, withheld=1)  # image 2 withheld
    assert (await service.get(session.id)).head_job_id == two.id
    chosen = await service.revert(await service.get(session.id), 2, actor(OWNER))
    assert chosen.job.id == v2.id and (await service.get(session.id)).head_job_id == v2.id
    with pytest.raises(InputError, match="versions 1 to 3"):
        await service.revert(await service.get(session.id), 4, actor(OWNER))

    other_root = await finish(storage, await submit(storage, user=OWNER))
    other = await service.open(other_root, thread_id=THREAD + 1, owner_id=OWNER)
    failed = await submit(storage, session_id=session.id, parent_job_id=root.id, action=JobAction.USE_AS_BASE)
    await fail(storage, failed, refund=True)
    hidden = await version(storage, session, root, delivered=0, withheld=1)
    session = await service.get(session.id)
    for job, says in (
        (other_root, "Only a finished version"),
        (failed, "Only a finished version"),
        (hidden, "withheld"),
    ):
        with pytest.raises(InputError, match=says):
            await service.make_head(session, await storage.get_job(job.id), actor(OWNER))
    assert (await service.get(session.id)).head_job_id == v2.id
    assert (await service.get(other.id)).head_job_id == other_root.id


async def test_lock_and_close_decide_who_may_edit(storage: SqliteStorage, service: SessionService) -> None:
    root, session = await started(storage, service)
    with pytest.raises(Forbidden, match="Only the session's owner"):
        await service.configure(session, actor(BOB), locked=True)
    session = await service.configure(session, actor(OWNER), locked=True)
    assert session.locked
    with pytest.raises(Forbidden, match=f"only @{OWNER} can edit") as locked:
        service.check_can_edit(session, actor(BOB))
    assert f"only <@{OWNER}> can edit" in render(locked.value.message)  # the adapter's mention
    with pytest.raises(Forbidden):
        await service.make_head(session, root, actor(BOB))
    service.check_can_edit(session, actor(OWNER))
    service.check_can_edit(session, actor(MOD, manage_threads=True))

    session = await service.configure(session, actor(MOD, manage_threads=True), locked=False, closed=True)
    for user, manage in ((OWNER, False), (BOB, False), (MOD, True)):
        with pytest.raises(InputError, match="closed"):
            service.check_can_edit(session, actor(user, manage_threads=manage))
    with pytest.raises(ValueError):
        await service.configure(session, actor(OWNER), head_job_id=1)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        await service.configure(session, actor(BOB), locked=session.locked)
    await service.configure(session, actor(BOB, manage_threads=True), locked=session.locked)


async def test_session_state_survives_reopening_the_storage(tmp_path: Path) -> None:
    clock = Clock()
    async with make_storage(tmp_path, clock) as storage:
        service = SessionService(storage, RecordingJobs())  # type: ignore[arg-type]
        root, session = await started(storage, service)
        v2 = await version(storage, session, root)
        await service.configure(session, actor(OWNER), locked=True, owner_pays=True)
        await service.revert(await service.get(session.id), 1, actor(OWNER))
    async with make_storage(tmp_path, clock) as storage:  # a restart
        service = SessionService(storage, RecordingJobs())  # type: ignore[arg-type]
        again = await service.for_thread(THREAD)
        assert again is not None and (again.locked, again.owner_pays, again.closed) == (True, True, False)
        assert again.head_job_id == root.id and again.created_at == T0
        assert shape(await service.versions(again)) == [(1, None), (2, 1)]
        assert (await service.versions(again))[1].job.id == v2.id


# --- jobs in a session -------------------------------------------------------------------------------------


def origin(user: int = BOB, *, private: bool = False, thread: int | None = None) -> Origin:
    return Origin(
        requester=Requester(user, gid(10), cid(100), thread),
        role_ids=(ROLES[77],),
        private=private,
        reply_token="t",
        open_thread=True,
    )


async def test_origin_for_posts_in_the_thread_and_charges_the_payer(
    storage: SqliteStorage, service: SessionService
) -> None:
    _, session = await started(storage, service)
    mine = service.origin_for(origin(), session)  # from a button on the starter message, in the channel
    assert mine.requester == Requester(BOB, gid(10), cid(100), THREAD) and mine.session_id == session.id
    assert (mine.payer_user_id, mine.role_ids, mine.open_thread) == (None, (ROLES[77],), False)

    paid = service.origin_for(origin(thread=THREAD), await service.configure(session, actor(OWNER), owner_pays=True))
    # the owner is charged; the editor keeps their own roles (limits, exemptions), never the owner's
    assert (paid.payer_user_id, paid.role_ids, paid.requester.user_id) == (OWNER, (ROLES[77],), BOB)
    with pytest.raises(InputError, match="private"):
        service.origin_for(origin(private=True), session)


async def test_edit_head_uses_the_head_image_and_its_mask_unless_given(
    storage: SqliteStorage, service: SessionService, jobs: RecordingJobs
) -> None:
    root, session = await started(storage, service)
    v2 = await version(storage, session, root, images=2)
    await service.make_head(await service.get(session.id), v2, actor(OWNER))
    await storage.update_session(session.id, head_index=1)  # "Use as base" image 2 made it the head
    session = await service.get(session.id)
    options = EditOptions(num_images=2, seed=7)
    assert await service.edit_head(session, origin(), "a hat", options, None) == "submitted"
    region = MaskSpec(region=Region.TOP)
    await service.edit_head(session, origin(), "sky", options, region)
    assert [(parent, action, kw["image_index"], kw["spec"], kw["prompt"]) for _, parent, action, kw in jobs.calls] == [
        (v2.id, JobAction.USE_AS_BASE, 1, None, "a hat"),  # spec None: the job service reuses the head's mask
        (v2.id, JobAction.USE_AS_BASE, 1, region, "sky"),
    ]
    assert jobs.calls[0][3]["options"] == options

    assert await storage.delete_job(v2.id)
    with pytest.raises(NotFound, match="/session revert"):
        await service.edit_head(session, origin(), "a hat", options, None)


def test_a_refusal_from_the_owners_quota_names_the_owner() -> None:
    now = T0
    daily = check_submission(LIMITS, QuotaUsage(0, 25, 0, 0), 1, now, lambda: [])
    assert isinstance(daily, QuotaExceeded) and daily.user_message.startswith("You've used 25")
    window = check_submission(LIMITS, QuotaUsage(5, 5, 0, 0), 1, now, lambda: [(now - timedelta(minutes=1), 5)])
    paid = Origin(Requester(BOB, gid(10), cid(100), THREAD), payer_user_id=OWNER)
    for refusal in (daily, window):
        named = _for_payer(refusal, paid)
        shown = render(named.message)  # as Discord shows it: the core hands over the owner's id, not markup
        assert shown.startswith(f"This session's owner <@{OWNER}> pays for its edits"), shown
        assert "You" not in shown and "your " not in shown, shown
        assert "<@" not in named.user_message
        assert (named.limit, named.retry_at) == (refusal.limit, refusal.retry_at)
    mine = Origin(Requester(BOB, gid(10), cid(100), THREAD))
    assert _for_payer(daily, mine) is daily
    assert _for_payer(daily, Origin(Requester(BOB, gid(10), cid(100), THREAD), payer_user_id=BOB)) is daily
    active = check_submission(LIMITS, QuotaUsage(0, 0, 3, 0), 1, now, lambda: [])
    assert _for_payer(active, paid) is active  # active jobs are the editor's own
