"""Who may do what to which job, result, session, queue entry or limit: the one place for permission rules.

Pure functions of an ``Actor`` (built by the adapter from the interaction) and the stored record; no
I/O. Each returns a ``Decision``: allowed, or the ``Reason`` for the refusal. Services call them and
raise; the adapter never decides. Server scoping (issue 10): a job, result, session or queue entry is
only acted on from the server it belongs to (a session from its own thread, or the channel its first
version was posted in), by someone who may view the channel it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.store import Job, Session


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, where, and with which permissions there (Discord's, resolved by the adapter)."""

    user_id: int
    guild_id: int | None = None  # None in DMs
    channel_id: int | None = None  # where asked; for a thread, its parent channel
    thread_id: int | None = None
    manage_messages: bool = False
    manage_threads: bool = False
    manage_guild: bool = False
    readable_channel_ids: frozenset[int] = field(default_factory=frozenset)  # in this server

    def can_read(self, channel_id: int | None) -> bool:
        return channel_id is not None and (channel_id == self.channel_id or channel_id in self.readable_channel_ids)


class Reason(StrEnum):
    OTHER_SERVER = "other_server"  # the target belongs to another server (or to DMs)
    OTHER_THREAD = "other_thread"  # a session's action asked outside its thread
    CHANNEL_HIDDEN = "channel_hidden"  # the actor cannot view the channel the target came from
    PRIVATE = "private"  # someone else's private edit
    NOT_REQUESTER = "not_requester"  # neither the requester nor a moderator
    NOT_OWNER = "not_owner"  # neither the session's owner nor Manage Threads
    OWNER_ONLY = "owner_only"  # only the owner themselves (switching "owner pays" on)
    LOCKED = "locked"  # a locked session: only its owner (or Manage Threads) edits
    CLOSED = "closed"
    ACTIVE = "active"  # a queued or running edit cannot be deleted
    NOT_ADMIN = "not_admin"  # Manage Server is needed


@dataclass(frozen=True, slots=True)
class Decision:
    reason: Reason | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision()


def _refuse(reason: Reason) -> Decision:
    return Decision(reason)


def _mine(actor: Actor, job: Job) -> bool:
    return job.requester.user_id == actor.user_id


def _in_scope(actor: Actor, job: Job) -> Decision:
    """The job belongs to the server where the actor asks, and the actor can see where it came from.

    The requester always sees their own edit (it was made where they could read); a DM edit is only
    ever acted on by its requester."""
    if job.requester.guild_id != actor.guild_id:
        return _refuse(Reason.OTHER_SERVER)
    if _mine(actor, job):
        return ALLOW
    if actor.guild_id is None:
        return _refuse(Reason.OTHER_SERVER)  # someone else's DM edit
    if job.private:
        return _refuse(Reason.PRIVATE)
    if not actor.can_read(job.requester.channel_id):
        return _refuse(Reason.CHANNEL_HIDDEN)
    return ALLOW


# --- jobs and results ---------------------------------------------------------------------------


def may_view_job(actor: Actor, job: Job) -> Decision:
    """See a job's prompt and state (``/queue show``, compare, a follow-up form)."""
    return _in_scope(actor, job)


def may_follow_up(actor: Actor, job: Job, *, shown_here: bool = False) -> Decision:
    """Reroll, Edit again, Use as base, the context menu on a result: anyone who is shown the result
    (``shown_here``: the button is on the message the actor pressed, which the bot only posts where
    the policy allowed), or who can see it in its own server. The actor pays (or the session's owner)."""
    return ALLOW if shown_here else _in_scope(actor, job)


def may_repost(actor: Actor, job: Job) -> Decision:
    """``/history show``: your own edit anywhere; someone else's public edit only as a moderator of
    the server it was made in, who can view its channel."""
    if _mine(actor, job):
        return ALLOW
    if job.private:
        return _refuse(Reason.PRIVATE)
    scoped = _in_scope(actor, job)
    if not scoped:
        return scoped
    return ALLOW if actor.manage_messages else _refuse(Reason.NOT_REQUESTER)


def may_delete_result(actor: Actor, requester_id: int) -> Decision:
    """The 🗑️ button removes the message it is on (in the actor's own channel): its requester, or
    someone with Manage Messages there."""
    if requester_id == actor.user_id or (actor.guild_id is not None and actor.manage_messages):
        return ALLOW
    return _refuse(Reason.NOT_REQUESTER)


def may_delete_history(actor: Actor, job: Job) -> Decision:
    """Deleting an edit from the history: only its requester, and never while it is queued or running."""
    if not _mine(actor, job):
        return _refuse(Reason.NOT_REQUESTER)
    if job.status.active:
        return _refuse(Reason.ACTIVE)
    return ALLOW


def may_cancel(actor: Actor, job: Job) -> Decision:
    """Cancelling a queued edit: only from its own server; its requester, or a moderator there who can
    view its channel."""
    if job.requester.guild_id != actor.guild_id:
        return _refuse(Reason.OTHER_SERVER)
    if _mine(actor, job):
        return ALLOW
    if actor.guild_id is None or not actor.manage_messages:
        return _refuse(Reason.NOT_REQUESTER)
    if not actor.can_read(job.requester.channel_id):
        return _refuse(Reason.CHANNEL_HIDDEN)
    return ALLOW


def may_see_queue_entry(actor: Actor, job: Job) -> Decision:
    """``/queue show`` lists this server's edits, without private ones or ones from hidden channels."""
    return _in_scope(actor, job)


# --- sessions --------------------------------------------------------------------------------------


def _session_scope(actor: Actor, session: Session) -> Decision:
    if session.guild_id != actor.guild_id:
        return _refuse(Reason.OTHER_SERVER)
    here = actor.thread_id == session.thread_id or (actor.thread_id is None and actor.channel_id == session.channel_id)
    if not here:  # its thread, or the channel its first version was posted in (v1's buttons)
        return _refuse(Reason.OTHER_THREAD)
    if not actor.can_read(session.channel_id):
        return _refuse(Reason.CHANNEL_HIDDEN)
    return ALLOW


def may_open_session(actor: Actor, job: Job) -> Decision:
    """🧵 on a result: only its requester or someone with Manage Threads; the requester owns it."""
    scoped = _in_scope(actor, job)
    if not scoped:
        return scoped
    return ALLOW if _mine(actor, job) or actor.manage_threads else _refuse(Reason.NOT_REQUESTER)


def may_edit_in_session(actor: Actor, session: Session) -> Decision:
    """New versions and Make head: anyone in the thread unless it is locked or closed."""
    scoped = _session_scope(actor, session)
    if not scoped:
        return scoped
    if session.closed:
        return _refuse(Reason.CLOSED)
    if session.locked and actor.user_id != session.owner_id and not actor.manage_threads:
        return _refuse(Reason.LOCKED)
    return ALLOW


def may_view_session(actor: Actor, session: Session) -> Decision:
    """``/session tree`` and Compare: anyone who is in the session's thread (or its channel)."""
    return _session_scope(actor, session)


def may_change_session_settings(actor: Actor, session: Session, *, owner_pays_on: bool = False) -> Decision:
    """Lock/unlock and "who pays": the owner or Manage Threads, except that only the owner may switch
    "owner pays" on (nobody else may spend the owner's quota)."""
    scoped = _session_scope(actor, session)
    if not scoped:
        return scoped
    if owner_pays_on and actor.user_id != session.owner_id:
        return _refuse(Reason.OWNER_ONLY)
    if actor.user_id != session.owner_id and not actor.manage_threads:
        return _refuse(Reason.NOT_OWNER)
    return ALLOW


def may_close_session(actor: Actor, session: Session) -> Decision:
    return may_change_session_settings(actor, session)


# --- limits ----------------------------------------------------------------------------------------


def may_set_limits(actor: Actor) -> Decision:
    """``/limits``: Manage Server in a server (default permissions hide the command; this covers
    servers that re-enabled it for others)."""
    return ALLOW if actor.guild_id is not None and actor.manage_guild else _refuse(Reason.NOT_ADMIN)
