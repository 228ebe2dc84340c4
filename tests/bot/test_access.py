"""The access policy as a table: actor × target × action → allowed, or the reason it is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot import access
from bot.access import Actor, Decision, Reason
from bot.store import Job, JobAction, JobStatus, Requester, Session

GUILD_A, GUILD_B = 1083542166512746496, 1174229812345678901
CHANNEL_A, HIDDEN_A, CHANNEL_B = 1083542167028498432, 1083542167351459840, 1174229812987654321
THREAD_A, OTHER_THREAD_A = 1190203040506070809, 1190203040506070999
ALICE, BOB, MOD, ADMIN, OWNER = (
    412345678901234567,
    523456789012345678,
    634567890123456789,
    745678901234567890,
    (856789012345678901),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job(user: int = ALICE, *, guild: int | None = GUILD_A, channel: int | None = CHANNEL_A, **changes: object) -> Job:
    made = Job(
        id=18_000_000_001,
        requester=Requester(user, guild, channel, None),
        action=JobAction.EDIT,
        prompt="a red hat",
        options={},
        seed=None,
        status=JobStatus.SUCCEEDED,
        attempts=1,
        images_requested=1,
        images_delivered=1,
        images_withheld=0,
        input_sha="in",
        mask_sha="mask",
        created_at=T0,
        payer_user_id=user,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


SESSION = Session(
    id=7,
    guild_id=GUILD_A,
    channel_id=CHANNEL_A,
    thread_id=THREAD_A,
    owner_id=OWNER,
    root_job_id=18_000_000_001,
    head_job_id=18_000_000_001,
    head_index=0,
    locked=False,
    owner_pays=False,
    closed=False,
    created_at=T0,
)
LOCKED = replace(SESSION, locked=True)
CLOSED = replace(SESSION, closed=True)


def member(user: int, *, guild: int = GUILD_A, channel: int = CHANNEL_A, thread: int | None = None, **perms: bool):
    readable = frozenset({CHANNEL_A}) if guild == GUILD_A else frozenset({CHANNEL_B})
    return Actor(user, guild, channel, thread, readable_channel_ids=readable, **perms)


ALICE_A = member(ALICE)
BOB_A = member(BOB)
MOD_A = member(MOD, manage_messages=True, manage_threads=True)
MOD_B = member(MOD, guild=GUILD_B, channel=CHANNEL_B, manage_messages=True, manage_threads=True, manage_guild=True)
ALICE_B = member(ALICE, guild=GUILD_B, channel=CHANNEL_B)
ALICE_DM = Actor(ALICE)
BOB_DM = Actor(BOB)
ADMIN_A = member(ADMIN, manage_guild=True)
OWNER_THREAD = member(OWNER, thread=THREAD_A)
BOB_THREAD = member(BOB, thread=THREAD_A)
MOD_THREAD = member(MOD, thread=THREAD_A, manage_threads=True)
BOB_OTHER_THREAD = member(BOB, thread=OTHER_THREAD_A)
OWNER_CHANNEL = member(OWNER)  # the channel the session's first version was posted in
OWNER_B = member(OWNER, guild=GUILD_B, channel=CHANNEL_B)
MOD_BLIND = Actor(MOD, GUILD_A, CHANNEL_B, None, manage_messages=True)  # cannot read CHANNEL_A

HIDDEN_JOB = job(ALICE, channel=HIDDEN_A)
PRIVATE = job(private=True)
DM_JOB = job(guild=None, channel=None)
QUEUED = job(status=JobStatus.QUEUED)
RUNNING = job(status=JobStatus.RUNNING)

Row = tuple[str, Callable[[], Decision], Reason | None]
ROWS: list[Row] = [
    # re-posting (/history show)
    ("own edit, same server", lambda: access.may_repost(ALICE_A, job()), None),
    ("own edit, other server", lambda: access.may_repost(ALICE_B, job()), None),
    ("own private edit", lambda: access.may_repost(ALICE_A, PRIVATE), None),
    ("someone's edit, no permission", lambda: access.may_repost(BOB_A, job()), Reason.NOT_REQUESTER),
    ("moderator, same server", lambda: access.may_repost(MOD_A, job()), None),
    ("moderator of another server", lambda: access.may_repost(MOD_B, job()), Reason.OTHER_SERVER),
    ("moderator, someone's private edit", lambda: access.may_repost(MOD_A, PRIVATE), Reason.PRIVATE),
    ("moderator, channel they cannot read", lambda: access.may_repost(MOD_A, HIDDEN_JOB), Reason.CHANNEL_HIDDEN),
    ("moderator in DMs, someone's DM edit", lambda: access.may_repost(MOD_B, DM_JOB), Reason.OTHER_SERVER),
    # follow-ups (Reroll, Edit again, Use as base, context menu)
    ("button on the message pressed", lambda: access.may_follow_up(BOB_DM, job(), shown_here=True), None),
    ("anyone in the channel", lambda: access.may_follow_up(BOB_A, job()), None),
    ("forged: other server", lambda: access.may_follow_up(MOD_B, job()), Reason.OTHER_SERVER),
    ("forged: someone's private edit", lambda: access.may_follow_up(BOB_A, PRIVATE), Reason.PRIVATE),
    ("forged: hidden channel", lambda: access.may_follow_up(BOB_A, HIDDEN_JOB), Reason.CHANNEL_HIDDEN),
    ("forged: someone's DM edit", lambda: access.may_follow_up(BOB_DM, DM_JOB), Reason.OTHER_SERVER),
    ("own DM edit in DMs", lambda: access.may_follow_up(ALICE_DM, DM_JOB), None),
    # deleting a posted result (the message the button is on)
    ("requester deletes", lambda: access.may_delete_result(ALICE_A, ALICE), None),
    ("someone else deletes", lambda: access.may_delete_result(BOB_A, ALICE), Reason.NOT_REQUESTER),
    ("moderator deletes", lambda: access.may_delete_result(MOD_A, ALICE), None),
    (
        "no moderators in DMs",
        lambda: access.may_delete_result(replace(MOD_A, guild_id=None), ALICE),
        Reason.NOT_REQUESTER,
    ),
    # deleting from the history
    ("own finished edit", lambda: access.may_delete_history(ALICE_A, job()), None),
    ("own edit from anywhere", lambda: access.may_delete_history(ALICE_DM, job()), None),
    ("own running edit", lambda: access.may_delete_history(ALICE_A, RUNNING), Reason.ACTIVE),
    ("own queued edit", lambda: access.may_delete_history(ALICE_A, QUEUED), Reason.ACTIVE),
    ("someone's edit, even as moderator", lambda: access.may_delete_history(MOD_A, job()), Reason.NOT_REQUESTER),
    # cancelling a queued edit
    ("requester cancels here", lambda: access.may_cancel(ALICE_A, QUEUED), None),
    ("requester, from another server", lambda: access.may_cancel(ALICE_B, QUEUED), Reason.OTHER_SERVER),
    ("someone else cancels", lambda: access.may_cancel(BOB_A, QUEUED), Reason.NOT_REQUESTER),
    ("moderator cancels here", lambda: access.may_cancel(MOD_A, QUEUED), None),
    ("moderator of another server", lambda: access.may_cancel(MOD_B, QUEUED), Reason.OTHER_SERVER),
    ("moderator, hidden channel", lambda: access.may_cancel(MOD_BLIND, QUEUED), Reason.CHANNEL_HIDDEN),
    # the queue as one member sees it
    ("a public edit here", lambda: access.may_see_queue_entry(BOB_A, QUEUED), None),
    ("own private edit", lambda: access.may_see_queue_entry(ALICE_A, replace(QUEUED, private=True)), None),
    (
        "someone's private edit",
        lambda: access.may_see_queue_entry(MOD_A, replace(QUEUED, private=True)),
        Reason.PRIVATE,
    ),
    ("a channel the viewer cannot read", lambda: access.may_see_queue_entry(BOB_A, HIDDEN_JOB), Reason.CHANNEL_HIDDEN),
    ("another server's edit", lambda: access.may_see_queue_entry(MOD_B, QUEUED), Reason.OTHER_SERVER),
    # opening a session (🧵)
    ("requester opens", lambda: access.may_open_session(ALICE_A, job()), None),
    ("someone else opens", lambda: access.may_open_session(BOB_A, job()), Reason.NOT_REQUESTER),
    ("Manage Threads opens", lambda: access.may_open_session(MOD_A, job()), None),
    ("from another server", lambda: access.may_open_session(MOD_B, job()), Reason.OTHER_SERVER),
    # editing in a session (new versions, Make head)
    ("anyone in an open session", lambda: access.may_edit_in_session(BOB_THREAD, SESSION), None),
    ("v1's buttons in the channel", lambda: access.may_edit_in_session(OWNER_CHANNEL, SESSION), None),
    ("locked: someone else", lambda: access.may_edit_in_session(BOB_THREAD, LOCKED), Reason.LOCKED),
    ("locked: the owner", lambda: access.may_edit_in_session(OWNER_THREAD, LOCKED), None),
    ("locked: Manage Threads", lambda: access.may_edit_in_session(MOD_THREAD, LOCKED), None),
    ("closed: even the owner", lambda: access.may_edit_in_session(OWNER_THREAD, CLOSED), Reason.CLOSED),
    ("from another thread", lambda: access.may_edit_in_session(BOB_OTHER_THREAD, SESSION), Reason.OTHER_THREAD),
    ("from another server", lambda: access.may_edit_in_session(OWNER_B, SESSION), Reason.OTHER_SERVER),
    (
        "channel hidden",
        lambda: access.may_edit_in_session(Actor(BOB, GUILD_A, HIDDEN_A, THREAD_A), SESSION),
        Reason.CHANNEL_HIDDEN,
    ),
    ("tree from another thread", lambda: access.may_view_session(BOB_OTHER_THREAD, SESSION), Reason.OTHER_THREAD),
    ("tree in the thread", lambda: access.may_view_session(BOB_THREAD, SESSION), None),
    # session settings
    ("owner locks", lambda: access.may_change_session_settings(OWNER_THREAD, SESSION), None),
    ("someone else locks", lambda: access.may_change_session_settings(BOB_THREAD, SESSION), Reason.NOT_OWNER),
    ("Manage Threads locks", lambda: access.may_change_session_settings(MOD_THREAD, SESSION), None),
    (
        "owner switches owner pays on",
        lambda: access.may_change_session_settings(OWNER_THREAD, SESSION, owner_pays_on=True),
        None,
    ),
    (
        "Manage Threads switches owner pays on",
        lambda: access.may_change_session_settings(MOD_THREAD, SESSION, owner_pays_on=True),
        Reason.OWNER_ONLY,
    ),
    ("settings from another server", lambda: access.may_change_session_settings(OWNER_B, SESSION), Reason.OTHER_SERVER),
    ("owner closes", lambda: access.may_close_session(OWNER_THREAD, SESSION), None),
    ("someone else closes", lambda: access.may_close_session(BOB_THREAD, SESSION), Reason.NOT_OWNER),
    # limits
    ("Manage Server sets limits", lambda: access.may_set_limits(ADMIN_A), None),
    ("a member sets limits", lambda: access.may_set_limits(BOB_A), Reason.NOT_ADMIN),
    ("Manage Server in DMs", lambda: access.may_set_limits(replace(ADMIN_A, guild_id=None)), Reason.NOT_ADMIN),
]


@pytest.mark.parametrize(("case", "decide", "refused"), ROWS, ids=[row[0] for row in ROWS])
def test_policy(case: str, decide: Callable[[], Decision], refused: Reason | None) -> None:
    decision = decide()
    assert decision.reason is refused, case
    assert bool(decision) is (refused is None)


def test_an_actor_reads_where_they_ask_and_what_the_adapter_found_readable() -> None:
    assert ALICE_A.can_read(CHANNEL_A) and not ALICE_A.can_read(HIDDEN_A) and not ALICE_A.can_read(None)
    assert Actor(ALICE, GUILD_A, HIDDEN_A).can_read(HIDDEN_A)
