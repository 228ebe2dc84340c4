"""Which interrupted interactions a restarting gateway answers (issue 14): with several gateway
processes, only those of the servers its own shards receive, because another shard's process may be
alive and still downloading the image of one it acknowledged a moment ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.interactions import answerable, everywhere
from bot.settings import Settings
from bot.store import AckedInteraction
from tests.ids import APP, CHANNEL, GUILD, MESSAGE, USERS
from tests.storage_support import make_storage

ON_SHARD_0 = GUILD  # (id >> 22) % 2 == 0
ON_SHARD_1 = GUILD + (1 << 22)  # a server created one millisecond later: shard 1 of 2


def shards(ids: str) -> Settings:
    return Settings.from_mapping({"SHARD_COUNT": "2", "SHARD_IDS": ids})


async def test_a_restarting_shard_answers_only_its_own_servers_and_shard_zero_the_dms(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    storage = make_storage(tmp_path)
    await storage.open()
    try:
        for n, guild in enumerate((ON_SHARD_0, ON_SHARD_1, None)):
            await storage.record_interaction(
                AckedInteraction(
                    MESSAGE + n, APP, USERS[1], guild, CHANNEL, "en-US", now - timedelta(minutes=1), token=f"t{n}"
                )
            )

        async def answered(receives=everywhere) -> list[int | None]:
            return [i.guild_id for i in await answerable(storage, receives, now)]

        assert await answered(shards("0").receives) == [ON_SHARD_0, None]
        assert await answered(shards("1").receives) == [ON_SHARD_1]
        assert await answered(shards("0,1").receives) == [ON_SHARD_0, ON_SHARD_1, None]
        assert await answered() == [ON_SHARD_0, ON_SHARD_1, None], "one unsharded gateway answers all"
    finally:
        await storage.close()


def test_a_process_receives_only_its_shards_servers() -> None:
    assert [shards("0").receives(g) for g in (ON_SHARD_0, ON_SHARD_1, None)] == [True, False, True]
    assert [shards("1").receives(g) for g in (ON_SHARD_0, ON_SHARD_1, None)] == [False, True, False]
    four = Settings.from_mapping({"SHARD_COUNT": "4", "SHARD_IDS": "1,3"})
    assert [four.receives(GUILD + (k << 22)) for k in range(4)] == [False, True, False, True]
    for whole in (Settings.from_mapping({}), Settings.from_mapping({"SHARD_COUNT": "2"})):  # one process, all shards
        assert all(whole.receives(g) for g in (ON_SHARD_0, ON_SHARD_1, None))
