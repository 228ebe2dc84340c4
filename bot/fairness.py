"""Fair ordering of queued jobs: round-robin across guilds, and across users within a guild.

Stateless on purpose: the order is a pure function of the queued jobs, so the queue positions shown to
users, ``/queue`` and the scheduler always agree, and a restart changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

J = TypeVar("J")


def _guild_key(job) -> tuple[str, int]:
    # A DM is its own "guild" so DM users do not share one round-robin slot.
    r = job.requester
    return ("guild", r.guild_id) if r.guild_id is not None else ("dm", r.user_id)


def fair_order(jobs: Iterable[J]) -> list[J]:
    """Interleave: each user's k-th job comes in round k; each guild's k-th pick in guild round k.

    A user who queues 50 jobs cannot push a later user's single job back by more than one job per
    guild ahead of it. Ties go to whoever queued first (job ids grow with time).
    """
    by_guild: dict[tuple[str, int], dict[int, list[J]]] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        by_guild.setdefault(_guild_key(job), {}).setdefault(job.requester.user_id, []).append(job)

    guild_sequences: list[list[J]] = []
    for users in by_guild.values():
        sequence: list[J] = []
        queues = list(users.values())  # users in order of their oldest queued job
        depth = max(len(q) for q in queues)
        for rank in range(depth):
            sequence.extend(q[rank] for q in queues if rank < len(q))
        guild_sequences.append(sequence)

    ordered: list[J] = []
    depth = max((len(s) for s in guild_sequences), default=0)
    for rank in range(depth):
        ordered.extend(s[rank] for s in guild_sequences if rank < len(s))
    return ordered
