from __future__ import annotations

from pathlib import Path

from tests.bot_harness import make_world, outside_mask_unchanged, sample_image, sample_mask


async def test_edit_happy_path(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:
        await world.start_bot()
        image = sample_image(96, 64)
        inter = await world.edit("a red hat", mask=sample_mask(96, 64), seed=7)
        ack = await world.sim.wait_for_ack(inter)
        assert ack.json["type"] == 5
        message = await world.result_message()
        assert len(message.attachments) == 1
        assert outside_mask_unchanged(image, message.attachments[0].data)
