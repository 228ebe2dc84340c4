"""Fair ordering of queued jobs: round-robin across guilds, and across users within a guild.

Stateless on purpose: the order is a pure function of the queued (and running) jobs, so the queue
positions shown to users, ``/queue`` and the scheduler always agree, and a restart changes nothing.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Container, Hashable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

J = TypeVar("J")


def guild_key_of(guild_id: int) -> tuple[str, int]:
    """A server's key: ``guild_key`` of its jobs."""
    return ("guild", guild_id)


def guild_key(job) -> tuple[str, int]:
    # A DM is its own "guild" so DM users do not share one round-robin slot.
    r = job.requester
    return guild_key_of(r.guild_id) if r.guild_id is not None else ("dm", r.user_id)


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


class FairQueue(Generic[J]):
    """The queued jobs per guild and user, oldest first, kept in memory between passes, so the next
    jobs in ``fair_order`` come from merging the users' heads instead of sorting the whole queue.

    ``order`` yields exactly ``fair_order(jobs, running, served)``, lazily: a heap of guilds keyed by
    (guild round, guild turn, oldest job id), each with a heap of its users keyed by (user round, user
    turn, oldest job id). Taking the first k jobs costs O(users + k log users), not a sort of the queue.
    Any change (``add``/``discard``/``replace``) invalidates an ``order`` in progress.
    """

    def __init__(self) -> None:
        self._jobs: dict[int, J] = {}
        self._users: dict[Hashable, dict[Hashable, list[J]]] = {}  # guild -> user -> jobs by id
        self._version = 0  # changes when a job comes or goes (not when a record is replaced)
        self._heads: tuple[object, list[Any], dict[Hashable, list[Any]], dict[Hashable, list[J]]] | None = None

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._jobs

    def __iter__(self) -> Iterator[J]:
        """Every queued job, in no particular order (``order`` merges them fairly)."""
        return iter(list(self._jobs.values()))

    def get(self, job_id: int) -> J | None:
        return self._jobs.get(job_id)

    def add(self, job: J) -> None:
        """Add a job, or replace the record of one already here (same place in the order)."""
        job_id: int = job.id  # type: ignore[attr-defined]
        users = self._users.setdefault(guild_key(job), {})
        fifo = users.setdefault(user_key(job), [])
        if job_id in self._jobs:
            fifo[bisect_left(fifo, job_id, key=_id)] = job
        else:
            insort(fifo, job, key=_id)
            self._version += 1
        self._jobs[job_id] = job

    def discard(self, job_id: int) -> J | None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return None
        guild, user = guild_key(job), user_key(job)
        users = self._users[guild]
        fifo = users[user]
        del fifo[bisect_left(fifo, job_id, key=_id)]
        self._version += 1
        if not fifo:
            del users[user]
            if not users:
                del self._users[guild]
        return job

    def keys(self) -> set[Hashable]:
        """The guild and user keys with a job queued."""
        return {*self._users, *(user for users in self._users.values() for user in users)}

    def in_guild(self, guild: Hashable) -> Iterator[J]:
        for fifo in self._users.get(guild, {}).values():
            yield from fifo

    def order(
        self,
        running: Iterable[J] = (),
        turn: Callable[[Hashable], Any] = lambda key: -1,
        *,
        skip: Container[int] = (),
        same_as: Hashable | None = None,
    ) -> Iterator[J]:
        """The jobs in ``fair_order`` (``turn(key)``: ``last_started.get(key, -1)``), without ``skip``.

        ``same_as``: a value that changes whenever ``running`` or ``turn`` would give another answer;
        while it and the queue's jobs stay the same, the heads are not rebuilt (a pass with nothing new
        costs O(guilds) and the users of the guilds it reaches, not O(users))."""
        cached = self._heads
        if same_as is not None and not skip and cached is not None and cached[0] == (same_as, self._version):
            _, guilds, users_of, queues = cached
            yield from _merge(list(guilds), users_of, queues, shared=True)
            return
        running = list(running)
        user_running = Counter(user_key(j) for j in running)
        guild_running = Counter(guild_key(j) for j in running)
        queues: dict[Hashable, list[J]] = {}
        guilds: list[tuple[Any, Any, int, Hashable]] = []
        users_of: dict[Hashable, list[tuple[Any, Any, int, Hashable]]] = {}
        for guild, users in self._users.items():
            heap = []
            for user, fifo in users.items():
                kept = [j for j in fifo if j.id not in skip] if skip else fifo  # type: ignore[attr-defined]
                if kept:
                    queues[user] = kept
                    heap.append((user_running[user], turn(user), kept[0].id, user))  # type: ignore[attr-defined]
            if heap:
                heapq.heapify(heap)
                users_of[guild] = heap
                guilds.append((guild_running[guild], turn(guild), min(h[2] for h in heap), guild))
        heapq.heapify(guilds)  # (round, turn, oldest id) is unique, so keys are never compared
        if same_as is not None and not skip:
            self._heads = (same_as, self._version), list(guilds), {g: list(h) for g, h in users_of.items()}, queues
        yield from _merge(guilds, users_of, queues)


def _merge(
    guilds: list[tuple[Any, Any, int, Hashable]],
    users_of: dict[Hashable, list[tuple[Any, Any, int, Hashable]]],
    queues: dict[Hashable, list[J]],
    *,
    shared: bool = False,
) -> Iterator[J]:
    """Pop the heads round by round (the heaps are consumed). ``shared``: ``users_of`` is kept (the
    cached heads), so a guild's heap is copied when the merge first reaches it: the first k jobs copy
    the heaps of the guilds they come from, not every user's."""
    taken: Counter[Hashable] = Counter()
    copied: dict[Hashable, list[tuple[Any, Any, int, Hashable]]] = {}
    while guilds:
        round_, turn_, rank, guild = guilds[0]
        if not shared:
            heap = users_of[guild]
        elif (heap := copied.get(guild)) is None:
            heap = copied[guild] = list(users_of[guild])
        user_round, user_turn, user_rank, user = heap[0]
        k = taken[user]
        taken[user] = k + 1
        if k + 1 < len(queues[user]):
            heapq.heapreplace(heap, (user_round + 1, user_turn, user_rank, user))
        else:
            heapq.heappop(heap)
        if heap:
            heapq.heapreplace(guilds, (round_ + 1, turn_, rank, guild))
        else:
            heapq.heappop(guilds)
        yield queues[user][k]


def _id(job: Any) -> int:
    return job.id
