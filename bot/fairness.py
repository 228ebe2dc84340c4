"""Fair ordering of queued jobs: round-robin across guilds, and across users within a guild.

Stateless on purpose: the order is a pure function of the queued (and running) jobs, so the queue
positions shown to users, ``/queue`` and the scheduler always agree, and a restart changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

J = TypeVar("J")


def guild_key(job) -> tuple[str, int]:
    # A DM is its own "guild" so DM users do not share one round-robin slot.
    r = job.requester
    return ("guild", r.guild_id) if r.guild_id is not None else ("dm", r.user_id)


def user_key(job) -> tuple[tuple[str, int], int]:
    return guild_key(job), job.requester.user_id


def key_text(key: Hashable) -> str:
    """A guild or user key as text, for the round-robin pointer every process shares in storage."""
    if isinstance(key, tuple):
        return ":".join(key_text(part) for part in key)
    return str(key)


def fair_order(
    jobs: Iterable[J], running: Iterable[J] = (), last_started: Mapping[Hashable, Any] | None = None
) -> list[J]:
    """Interleave: a user's k-th queued job comes in round k, a guild's k-th pick in guild round k.

    Rounds already being served count: a user (or guild) with ``r`` jobs running starts at round
    ``r``, so someone with nothing running goes before someone who already has edits generating. A
    user who queues 50 jobs therefore cannot push a later user's single job back by more than one
    job per guild ahead of it.

    Within a round, whoever was served longest ago goes first (a rotating round-robin pointer):
    ``last_started`` maps ``user_key(job)`` and ``guild_key(job)`` to an increasing number stamped
    when one of their jobs started (any comparable values; the scheduler uses the claim time stored
    for every process, then its own counter to break ties); those never served come first. Then
    whoever queued first (job ids grow with time).
    """
    served = last_started or {}
    running = list(running)
    user_running = Counter(user_key(j) for j in running)
    guild_running = Counter(guild_key(j) for j in running)

    by_guild: dict[tuple[str, int], dict[tuple[tuple[str, int], int], list[J]]] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        by_guild.setdefault(guild_key(job), {}).setdefault(user_key(job), []).append(job)

    def turn(key: Hashable) -> Any:
        return served.get(key, -1)

    picks: list[tuple[int, int, int, J]] = []
    for guild_rank, (guild, users) in enumerate(by_guild.items()):  # guilds in order of their oldest job
        rounds = sorted(
            (user_running[user] + k, turn(user), user_rank, job)
            for user_rank, (user, queue) in enumerate(users.items())  # users in order of their oldest job
            for k, job in enumerate(queue)
        )  # (round, turn, user rank) is unique per job, so jobs themselves are never compared
        picks.extend(
            (guild_running[guild] + pick, turn(guild), guild_rank, job) for pick, (*_, job) in enumerate(rounds)
        )
    picks.sort(key=lambda p: p[:3])
    return [job for *_, job in picks]
