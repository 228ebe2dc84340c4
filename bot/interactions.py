"""Acknowledged interactions: every deferred command is recorded before any download, so that a
restart can still give its member a final answer (issue 10: "crashes included").

The adapter records the interaction right after the defer, links it to the job once the job is
saved, and settles it when the command answered without making a job (an error, a form, a link).
On start-up the scheduler hands the notifier every unsettled record whose token may still live:
one that never became a job is told "interrupted by a restart", one that did gets its job's state.
With several gateway processes (``SHARD_IDS``) a restarting one takes only the records of the servers
its shards receive: every other record belongs to a gateway that may be alive and still downloading
(the shard is derived from the stored server id, so no column says which process acknowledged it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.delivery import TOKEN_LIFETIME
from bot.store import AckedInteraction, Storage

KEEP = timedelta(days=1)  # records are useless once the token expired; retention removes them after this


class InteractionService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def record(self, interaction: AckedInteraction) -> None:
        await self.storage.record_interaction(interaction)

    async def link(self, interaction_id: int, job_id: int) -> None:
        await self.storage.link_interaction(interaction_id, job_id)

    async def settle(self, interaction_id: int) -> None:
        await self.storage.settle_interaction(interaction_id)


def everywhere(guild_id: int | None) -> bool:
    """A gateway that receives every server's interactions (not sharded across processes)."""
    return True


async def answerable(
    storage: Storage, receives: Callable[[int | None], bool] = everywhere, now: datetime | None = None
) -> list[AckedInteraction]:
    """Unsettled records whose token may still be used (created within the last 15 minutes), of the
    servers this gateway ``receives`` (``Settings.receives``; None: DMs)."""
    records = await storage.open_interactions((now or datetime.now(UTC)) - TOKEN_LIFETIME)
    return [record for record in records if receives(record.guild_id)]


async def forget_old(storage: Storage, now: datetime | None = None) -> int:
    return await storage.forget_interactions((now or datetime.now(UTC)) - KEEP)
